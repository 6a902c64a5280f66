/**
 * Checks, before the first run, everything the loader cannot see alone: each policy resolves
 * (plugins import), accepts its parameters for every cell (e.g. K <= hosts), and every cell's
 * RunSpec passes the migration model's parameter checks. Bad input then fails with nothing written.
 */
import { InputError } from "../errors.ts";
import { validateRunSpec } from "../migration/validate.ts";
import { resolvePolicy } from "../policies/registry.ts";
import type { Experiment } from "./load.ts";
import { specAt } from "./plan.ts";

export async function validatePolicies(exp: Experiment): Promise<void> {
  const perCell = exp.policies.length * exp.runs;
  for (const cell of exp.cells) {
    const spec = specAt(exp, cell.index * perCell);
    located(exp, () => validateRunSpec(spec));
    for (const ps of exp.policies) {
      const policy = await resolvePolicy(ps);
      if (!policy.validate) continue;
      const candidates = Math.min(...spec.migrations.map((m) => m.candidates.length));
      located(exp, () => policy.validate!(ps.params, { hosts: spec.topology.hosts.length, candidates: Number.isFinite(candidates) ? candidates : 0 }), `policies.${ps.name}`);
    }
  }
}

function located(exp: Experiment, fn: () => void, field?: string): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError && !e.location.file) throw e.withLocation({ file: exp.file, field });
    throw e;
  }
}
