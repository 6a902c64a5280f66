/**
 * Checks, before the first run, everything the loader cannot see alone: each policy resolves
 * (plugins import), accepts its parameters for every cell (e.g. K <= hosts), and every cell's
 * RunSpec passes the migration model's parameter checks, and one trial decision per policy and
 * migration succeeds. Bad input then fails with nothing written.
 */
import { InputError, type InputLocation } from "../errors.ts";
import { validateRunSpec } from "../migration/validate.ts";
import { resolvePolicy } from "../policies/registry.ts";
import { staticView } from "../policies/static-view.ts";
import { subRng } from "../random.ts";
import type { Experiment } from "./load.ts";
import { specAt } from "./plan.ts";

export async function validatePolicies(exp: Experiment): Promise<void> {
  const perCell = exp.policies.length * exp.runs;
  for (const cell of exp.cells) {
    const spec = specAt(exp, cell.index * perCell);
    located(exp, () => validateRunSpec(spec), { file: exp.file });
    const view = staticView(spec.topology, spec.network.routing);
    for (const [p, ps] of exp.policies.entries()) {
      const at = exp.policyLocations[p] ?? { file: exp.file, field: "policies" };
      const policy = await resolvePolicy(ps);
      if (policy.validate) {
        const candidates = Math.min(...spec.migrations.map((m) => m.candidates.length));
        located(exp, () => policy.validate!(ps.params, { hosts: spec.topology.hosts.length, candidates: Number.isFinite(candidates) ? candidates : 0 }), at);
      }
      // A trial decision on the topology alone: what a policy can only find out while deciding
      // (too few reachable key holders, a plugin returning the source) fails here, before any run.
      spec.migrations.forEach((m, i) => {
        located(exp, () => {
          policy.decide({
            view,
            rng: subRng(spec.seed, `validate:${i}`),
            source: m.source,
            candidates: m.candidates.filter((c) => c !== m.source),
            container: { name: m.container.name, checkpoint: m.container.checkpoint, memory: m.container.memory },
            params: ps.params,
            manager: spec.manager,
            fixedDestination: m.destination,
          });
        }, at);
      });
    }
  }
}

function located(exp: Experiment, fn: () => void, at: InputLocation): void {
  try {
    fn();
  } catch (e) {
    // a policy names its own parameter (`mtd-shamir.k`); the location adds file, line, `policies.N`
    if (e instanceof InputError && !e.location.file) throw e.withLocation({ ...at, file: at.file ?? exp.file });
    throw e;
  }
}
