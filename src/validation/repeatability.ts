/**
 * How close any model could come to these testbed means: the testbed's own run-to-run spread.
 * A prediction is judged against the mean of a pair's few testbed runs, and that mean is itself
 * noisy; a reviewer needs to know how much of the misses the testbed alone would produce.
 *
 * Two figures, over the pairs with two or more finished runs and no censored one:
 * - runs agree: every run of the pair, taken as a prediction of the mean of its other runs,
 *   meets the same targets (total 15%, each phase 25%) as the model must;
 * - ceiling(R): the expected share of pairs in which a predictor exactly at each pair's true mean
 *   would meet the targets against the mean of R runs, if a run's value is normal around that
 *   mean with the standard deviation its runs show: per quantity P(|mean of R - mu| <= t mu) =
 *   2 Phi(t mu sqrt(R) / sigma) - 1, with sigma the sample standard deviation over c4(n) (its
 *   small-sample bias: with 2 runs the sample deviation averages 0.80 sigma), and the quantities
 *   of a pair taken as independent (they are not: a slow total and a slow phase go together, so
 *   the product leans low).
 */
import jStat from "jstat";
import { mean, sampleStd } from "../core/stats.ts";
import { type PairResult, QUANTITIES, targetOf } from "./pairs.ts";

export interface Repeatability {
  /** pairs with two or more finished testbed runs and none censored */
  pairs: number;
  /** of those, pairs whose every run predicts the mean of the others within the targets */
  runsAgree: number;
  /** the runs a pair had here (the most any had: failed runs make fewer) */
  runs: number;
  /** the fewest runs a pair had (below `runs` when failed runs or a top-up made the counts differ) */
  fewestRuns: number;
  /** expected share of pairs a predictor at the true means meets, per number of runs */
  ceiling: ReadonlyArray<{ runs: number; share: number }>;
  /** the same against the mean of the runs each pair had here */
  ceilingAsRun: number;
}

/** c4(n): E[s] = c4(n) sigma for the sample standard deviation of n normal values */
export function c4(n: number): number {
  return Math.sqrt(2 / (n - 1)) * Math.exp(jStat.gammaln(n / 2) - jStat.gammaln((n - 1) / 2));
}

/** the quantities judged for this pair (its errors are finite) with their finished runs' values */
function judged(p: PairResult): Array<{ q: string; xs: number[] }> {
  return QUANTITIES.filter((q) => Number.isFinite(p.errors[q])).map((q) => ({ q, xs: p.testbedValues[q] }));
}

function agrees(p: PairResult): boolean {
  return judged(p).every(({ q, xs }) =>
    xs.every((x, i) => {
      const others = mean(xs.filter((_, j) => j !== i));
      return others > 0 && Math.abs(x - others) / others <= targetOf(q);
    }),
  );
}

/** P(all judged quantities of p within target) for a predictor at the true mean, against the mean of `runs` runs */
export function pairCeiling(p: PairResult, runs: number): number {
  let share = 1;
  for (const { q, xs } of judged(p)) {
    const mu = mean(xs);
    const sigma = sampleStd(xs) / c4(xs.length);
    if (!(sigma > 0) || !(mu > 0)) continue;
    const z = (targetOf(q) * mu * Math.sqrt(runs)) / sigma;
    share *= 2 * jStat.normal.cdf(z, 0, 1) - 1;
  }
  return share;
}

/**
 * The share of its pairs' testbed means that a top-up (validate --max-runs) asks the runs for:
 * enough that a predictor exactly at a pair's true mean would meet the targets with this
 * probability (pairCeiling), by the spread of the pair's first runs.
 */
export const TOP_UP_LEVEL = 0.95;

/**
 * How many testbed runs in all a pair needs for its mean to judge a model by (TOP_UP_LEVEL), up to
 * `maxRuns`; never fewer than it has. A pair with fewer than two finished runs or a censored one
 * has no spread to go by: it keeps what it has.
 */
export function runsFor(p: PairResult, maxRuns: number): number {
  const have = p.testbedRuns;
  const finished = p.testbedValues.total_s.length;
  if (p.censored || finished < 2) return have;
  let runs = have;
  // the failed runs count among those run, not among those that narrow the mean
  while (runs < maxRuns && pairCeiling(p, finished + (runs - have)) < TOP_UP_LEVEL) runs++;
  return runs;
}

export function repeatability(pairs: readonly PairResult[], runCounts: readonly number[] = [4, 8]): Repeatability {
  const usable = pairs.filter((p) => !p.censored && p.testbedValues.total_s.length >= 2);
  const runs = Math.max(0, ...usable.map((p) => p.testbedValues.total_s.length));
  const ceiling = [...new Set([runs, ...runCounts])]
    .filter((r) => r >= 2)
    .sort((a, b) => a - b)
    .map((r) => ({ runs: r, share: usable.length ? mean(usable.map((p) => pairCeiling(p, r))) : Number.NaN }));
  const fewestRuns = usable.length ? Math.min(...usable.map((p) => p.testbedValues.total_s.length)) : 0;
  const ceilingAsRun = usable.length ? mean(usable.map((p) => pairCeiling(p, p.testbedValues.total_s.length))) : Number.NaN;
  return { pairs: usable.length, runsAgree: usable.filter(agrees).length, runs, fewestRuns, ceiling, ceilingAsRun };
}
