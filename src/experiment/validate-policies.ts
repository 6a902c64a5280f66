/**
 * Checks, before the first run, everything the loader cannot see alone: each policy resolves
 * (plugins import), accepts its parameters for every cell (e.g. K <= hosts), and every cell's
 * RunSpec passes the migration model's parameter checks, and one trial decision per policy and
 * migration succeeds. Bad input then fails with nothing written.
 */
import { InputError } from "../errors.ts";
import { validateRunSpec } from "../migration/validate.ts";
import { policyInput, validationContext } from "../policies/input.ts";
import { resolvePolicy } from "../policies/registry.ts";
import { staticView } from "../policies/static-view.ts";
import { subRng } from "../random.ts";
import type { Policy } from "../policies/types.ts";
import type { PolicySpec } from "../runspec.ts";
import type { FieldPath } from "../yamlsource.ts";
import type { Experiment } from "./load.ts";
import { locate, locator, type Locator } from "./locate.ts";
import { specAt } from "./plan.ts";

export async function validatePolicies(exp: Experiment): Promise<void> {
  const perCell = exp.policies.length * exp.runs;
  const where = locator(exp.file);
  for (const cell of exp.cells) {
    const spec = specAt(exp, cell.index * perCell);
    located(where, () => validateRunSpec(spec), []);
    const view = staticView(spec.topology, spec.network.routing);
    for (const [p, ps] of exp.policies.entries()) {
      // a policy names its own parameter (`mtd-shamir.k`): below its entry `policies.N`
      const at: FieldPath = ["policies", p];
      const policy = await locatedPlugin(where, ps, p);
      const withPolicy = { ...spec, policy: ps };
      if (policy.validate) located(where, () => policy.validate!(ps.params, validationContext(withPolicy)), at);
      // A trial decision on the topology alone: what a policy can only find out while deciding
      // (too few reachable key holders, a plugin returning the source) fails here, before any run.
      spec.migrations.forEach((_, i) => {
        located(where, () => policy.decide(policyInput(withPolicy, i, view, subRng(spec.seed, `validate:${i}`))), at);
      });
    }
  }
}

/**
 * A plugin that cannot be loaded (missing, not parsing, wrong exports) is a mistake in the
 * experiment's `plugin:` field as much as in the module: the error points at that field and
 * names the module.
 */
async function locatedPlugin(where: Locator, ps: PolicySpec, i: number): Promise<Policy> {
  try {
    return await resolvePolicy(ps);
  } catch (e) {
    if (e instanceof InputError && ps.plugin !== undefined && e.location.file === ps.plugin) {
      throw new InputError(`${e.detail} (${ps.plugin})`, where(["policies", i, ps.name, "plugin"]));
    }
    throw e;
  }
}

function located(where: Locator, fn: () => void, base: FieldPath): void {
  try {
    fn();
  } catch (e) {
    throw locate(where, e, base);
  }
}
