/**
 * Checks, before the first run, everything the loader cannot see alone: each policy resolves
 * (plugins import), accepts its parameters for every cell (e.g. K <= hosts), and every cell's
 * RunSpec passes the migration model's parameter checks, and one trial decision per policy and
 * migration succeeds (once for cells whose decisions see the same inputs; a policy's `check`
 * where it has one). Bad input then fails
 * with nothing written.
 */
import { InputError } from "../core/errors.ts";
import { validateRunSpec } from "../migration/validate.ts";
import { policyInput, validationContext } from "../policies/input.ts";
import { resolvePolicy } from "../policies/registry.ts";
import { staticView } from "../policies/static-view.ts";
import type { Policy } from "../policies/policy-types.ts";
import type { PolicySpec, RunSpec } from "../formats/runspec.ts";
import type { FieldPath } from "../core/yamlsource.ts";
import type { Experiment } from "../load/read-experiment.ts";
import { locate, locator, type Locator } from "../load/locate.ts";
import { specAt } from "./plan.ts";

/** how far the check has come: trial decisions made of all it will make */
export type CheckProgress = (done: number, total: number) => void;

/** wall-clock milliseconds between two turns the check hands Node's event loop (Ctrl-C, progress) */
const TURN_MS = 100;

export async function validatePolicies(exp: Experiment, onProgress?: CheckProgress): Promise<void> {
  const perCell = exp.policies.length * exp.runs;
  const where = locator(exp.file);
  const specs = exp.cells.map((cell) => specAt(exp, cell.index * perCell));
  // A cell whose decisions see what an earlier cell's saw (a sweep over the network model, the
  // costs, the traffic) would repeat its trial decisions but for their random draws, thousands of
  // them in a large data center: they run once for each group of such cells.
  const deciding: RunSpec[] = [];
  const decides = specs.map((spec) => {
    if (deciding.some((earlier) => sameDecisions(earlier, spec))) return false;
    deciding.push(spec);
    return true;
  });
  const total = specs.reduce((n, spec, c) => n + (decides[c] ? exp.policies.length * spec.migrations.length : 0), 0);
  let done = 0;
  let lastTurn = performance.now();
  // a k=32 data center's check takes seconds: signals and the progress line get their turns
  const turn = async (): Promise<void> => {
    if (performance.now() - lastTurn < TURN_MS) return;
    onProgress?.(done, total);
    await new Promise((resolve) => setImmediate(resolve));
    lastTurn = performance.now();
  };
  for (const [c, spec] of specs.entries()) {
    located(where, () => validateRunSpec(spec), []);
    // (cells of one topology share its route tables through topology/shared.ts, and with them
    // what the policies cache per table)
    const view = staticView(spec.topology, spec.network.routing);
    const context = validationContext(spec);
    const policies: Array<{ policy: Policy; withPolicy: RunSpec; at: FieldPath }> = [];
    for (const [p, ps] of exp.policies.entries()) {
      // a policy names its own parameter (`mtd-shamir.k`): below its entry `policies.N`
      const at: FieldPath = ["policies", p];
      const policy = await locatedPlugin(where, ps, p);
      if (policy.validate) located(where, () => policy.validate!(ps.params, context), at);
      policies.push({ policy, withPolicy: { ...spec, policy: ps }, at });
    }
    if (!decides[c]) continue;
    // A trial decision on the topology alone: what a policy can only find out while deciding
    // (too few reachable key holders, a plugin returning the source) fails here, before any run.
    // Every policy decides for a migration before the next migration: they read the same source's
    // route table, which a router of a data center with thousands of sources may not keep long.
    for (let i = 0; i < spec.migrations.length; i++) {
      for (const { policy, withPolicy, at } of policies) {
        // (a policy's `check` says what its trial decision would, without its set-up's draws)
        located(
          where,
          () => {
            const input = policyInput(withPolicy, i, view);
            return policy.check ? policy.check(input) : policy.decide(input);
          },
          at,
        );
        done++;
        await turn();
      }
    }
  }
  onProgress?.(done, total);
}

/**
 * Whether the policies' inputs (policyInput, on a static view) are the same in two cells, their
 * random draws aside: topology, routing, manager, and each migration's source, destination,
 * container and candidates. (The policies and their parameters are the experiment's, the same
 * in every cell.)
 */
function sameDecisions(a: RunSpec, b: RunSpec): boolean {
  if (a.topology !== b.topology || a.network.routing !== b.network.routing || a.manager !== b.manager) return false;
  if (a.migrations.length !== b.migrations.length) return false;
  return a.migrations.every((m, i) => {
    const n = b.migrations[i]!;
    return (
      m.source === n.source &&
      m.destination === n.destination &&
      m.container.name === n.container.name &&
      m.container.checkpoint === n.container.checkpoint &&
      m.container.memory === n.container.memory &&
      m.candidates.length === n.candidates.length &&
      m.candidates.every((c, j) => c === n.candidates[j])
    );
  });
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
