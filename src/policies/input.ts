/**
 * The one place a policy's input is built from a RunSpec, so that the simulator, the testbed's
 * before-the-run decisions and the pre-run validation hand a policy exactly the same facts.
 */
import { runStream } from "../core/random.ts";
import type { MigrationSpec, RunSpec } from "../formats/runspec.ts";
import type { NetworkView, PolicyInput } from "./policy-types.ts";

/**
 * The input of migration `i`'s decision, seen through `view`, drawing from the run's `decision`
 * and `keys` streams of that migration (src/core/random.ts): every policy and every cell of a run
 * index gets the same draws.
 */
export function policyInput(spec: RunSpec, i: number, view: NetworkView): PolicyInput {
  const m = spec.migrations[i]!;
  return {
    view,
    rng: runStream(spec.seed, "decision", i),
    keyRng: runStream(spec.seed, "keys", i),
    source: m.source,
    candidates: candidatesOf(m),
    container: { name: m.container.name, checkpoint: m.container.checkpoint, memory: m.container.memory },
    params: spec.policy.params,
    manager: spec.manager,
    fixedDestination: m.destination,
  };
}

/** What `Policy.validate` is told about a run: hosts, and the fewest candidates any migration offers. */
export function validationContext(spec: RunSpec): { hosts: number; candidates: number } {
  // (the lists the decisions read: a data center's run would otherwise copy 10^6-10^7 names again)
  const counts = spec.migrations.map((m) => candidatesOf(m).length);
  return { hosts: spec.topology.hosts.length, candidates: counts.length ? Math.min(...counts) : 0 };
}

const candidateLists = new WeakMap<MigrationSpec, string[]>();

/**
 * The candidates other than the source, one array per migration of a cell: every run and policy
 * deciding for it passes the same array, so the policies' candidate lists (and what they cache
 * per list) are shared too.
 */
function candidatesOf(m: MigrationSpec): string[] {
  let c = candidateLists.get(m);
  if (!c) candidateLists.set(m, (c = m.candidates.filter((h) => h !== m.source)));
  return c;
}
