/**
 * Planning: an experiment expands into RunSpecs in plan order (cell, then policy, then run). A
 * run's seed is derived from (experiment seed, run index) alone (src/core/random.ts runSeed), so run r
 * of every policy in every cell draws the same numbers for the same purpose (common random
 * numbers across the whole experiment), and no result depends on execution order, --jobs or
 * sharding.
 */
import { InputError } from "../core/errors.ts";
import { runSeed } from "../core/random.ts";
import { shardIndices, type Shard } from "../outputs/shards.ts";
import type { RunSpec } from "../formats/runspec.ts";
import type { Experiment } from "../load/read-experiment.ts";

export function planSize(exp: Experiment): number {
  return exp.cells.length * exp.policies.length * exp.runs;
}

/** The cell of plan position k. */
export function cellAt(exp: Experiment, k: number): Experiment["cells"][number] {
  return exp.cells[Math.floor(k / (exp.policies.length * exp.runs))]!;
}

/** The policy of plan position k. */
export function policyAt(exp: Experiment, k: number): Experiment["policies"][number] {
  return exp.policies[Math.floor((k % (exp.policies.length * exp.runs)) / exp.runs)]!;
}

/** The RunSpec at plan position k. */
export function specAt(exp: Experiment, k: number): RunSpec {
  const cell = cellAt(exp, k);
  const run = k % exp.runs;
  return { ...cell.base, policy: policyAt(exp, k), run, seed: runSeed(exp.seed, run) };
}

/** Which run plan position k is, as an error message names it: cell (sweep values), policy, run. */
function describeRun(exp: Experiment, k: number): string {
  const cell = cellAt(exp, k);
  const where = exp.axes.length === 0 ? "" : ` of the cell ${exp.axes.map((a) => `${a.path}=${cell.axes[a.path]}`).join(", ")}`;
  return `run ${k % exp.runs} of policy ${policyAt(exp, k).name}${where}`;
}

/** `e` (an error of the run at plan position k) naming that run; other errors unchanged. */
export function inRun(exp: Experiment, k: number, e: unknown): unknown {
  if (!(e instanceof InputError)) return e;
  // the same kind of error (an unreachable result stays one), now naming the run
  const Kind = e.constructor as typeof InputError;
  return new Kind(`in ${describeRun(exp, k)}: ${e.detail}`, e.location);
}

/**
 * Plan positions this shard runs (the shard rule is outputs/shards.ts's, which merge checks);
 * with `fromRun`, only the runs of that index and above of each (cell, policy): runs added to
 * ones another folder holds (validate's top-up runs), with the seeds they have in the whole plan.
 */
export function shardPositions(exp: Experiment, shard: Shard | undefined, fromRun = 0): number[] {
  return shardIndices(planSize(exp), shard).filter((k) => k % exp.runs >= fromRun);
}

/** The (cell, policy) group of a plan position: the unit --resume skips when complete. */
export function groupOf(exp: Experiment, k: number): number {
  return Math.floor(k / exp.runs);
}
