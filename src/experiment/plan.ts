/**
 * Planning: an experiment expands into RunSpecs in plan order (cell, then policy, then run). Each
 * run's seed is derived from (experiment seed, cell id, run index) by hashing, so every policy of
 * a cell sees the same random workload (common random numbers) and no result depends on
 * execution order, --jobs or sharding.
 */
import { deriveSeed } from "../random.ts";
import { shardIndices, type Shard } from "../report/plan.ts";
import type { RunSpec } from "../runspec.ts";
import type { Experiment } from "./load.ts";

export function planSize(exp: Experiment): number {
  return exp.cells.length * exp.policies.length * exp.runs;
}

/** The cell of plan position k. */
export function cellAt(exp: Experiment, k: number): Experiment["cells"][number] {
  return exp.cells[Math.floor(k / (exp.policies.length * exp.runs))]!;
}

/** The RunSpec at plan position k. */
export function specAt(exp: Experiment, k: number): RunSpec {
  const perCell = exp.policies.length * exp.runs;
  const cell = cellAt(exp, k);
  const rest = k % perCell;
  const policy = exp.policies[Math.floor(rest / exp.runs)]!;
  const run = rest % exp.runs;
  return { ...cell.base, policy, run, seed: deriveSeed(exp.seed, cell.id, run) };
}

/** Plan positions this shard runs (the shard rule is report/plan.ts's, which merge checks). */
export function shardPositions(exp: Experiment, shard: Shard | undefined): number[] {
  return shardIndices(planSize(exp), shard);
}

/** The (cell, policy) group of a plan position: the unit --resume skips when complete. */
export function groupOf(exp: Experiment, k: number): number {
  return Math.floor(k / exp.runs);
}
