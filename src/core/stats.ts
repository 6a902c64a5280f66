/**
 * Summary statistics of repeated runs. The 95% confidence interval of the mean is Student's t:
 * half-width = t(0.975, n-1) * s / sqrt(n), with s the sample standard deviation (n-1 divisor);
 * or, with `ci: bootstrap`, the percentile bootstrap: the 2.5% and 97.5% quantiles (type 7,
 * linear interpolation) of the means of 2,000 resamples with replacement, drawn from a stream
 * derived from the experiment seed and what is measured, so the interval is deterministic.
 *
 * n = 1: the standard deviation and the CI are undefined and reported as NaN (an empty cell in
 * summary.csv, "n/a" in summary.md), never as 0, which would claim an exact result.
 * n = 0: every statistic is NaN.
 */
import jStat from "jstat";
import { subRng } from "./random.ts";

export interface Stats {
  n: number;
  mean: number;
  /** half-width of the 95% confidence interval of the mean (Student t) */
  ci95: number;
  /** the 95% interval of the mean the report shows (Student t: mean -+ ci95, or bootstrap) */
  low: number;
  high: number;
  /** sample standard deviation (n - 1 divisor) */
  std: number;
  median: number;
  min: number;
  max: number;
}

/**
 * Quantile of Student's t distribution (jstat). jstat's inversion loses accuracy for huge degrees
 * of freedom (t(0.975, 1e9) comes out as 1.957); from 1e6 on the normal quantile is used, which
 * differs from the exact t by less than 1e-5 there.
 */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`t quantile: p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new RangeError(`t quantile: degrees of freedom must be > 0, got ${df}`);
  if (df >= 1e6) return jStat.normal.inv(p, 0, 1);
  return jStat.studentt.inv(p, df);
}

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

export function sampleStd(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) * (x - m);
  return Math.sqrt(ss / (xs.length - 1));
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * The Theil-Sen line y = a + b x (Sen 1968): b the median of the slopes between every two points
 * with different x, a the median of y - b x. Unlike least squares, a few wild points (a restore
 * that stalled for seconds) do not move it: it holds until about 29% of the points are wild.
 * With fewer than two distinct x the slope is 0 and a the median of y.
 */
export function theilSen(xs: readonly number[], ys: readonly number[]): { a: number; b: number } {
  const slopes: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    for (let j = i + 1; j < xs.length; j++) {
      if (xs[j]! !== xs[i]!) slopes.push((ys[j]! - ys[i]!) / (xs[j]! - xs[i]!));
    }
  }
  const b = slopes.length > 0 ? median(slopes) : 0;
  return { a: median(xs.map((x, i) => ys[i]! - b * x)), b };
}

/** Half-width of the `level` confidence interval of the mean (NaN for n < 2). */
export function ciHalfWidth(xs: readonly number[], level = 0.95): number {
  const n = xs.length;
  if (n < 2) return NaN;
  return (tQuantile(1 - (1 - level) / 2, n - 1) * sampleStd(xs)) / Math.sqrt(n);
}

/**
 * The exact (Clopper-Pearson) `level` interval of a proportion, k successes in n trials: the
 * beta quantiles that never undercover, so a report's "k of n" carries how little n pairs can
 * say (25 of 40 is 46-77%; the 90% target is outside it). n = 0: [NaN, NaN].
 */
export function proportionInterval(k: number, n: number, level = 0.95): [number, number] {
  if (!(n > 0)) return [NaN, NaN];
  if (!(Number.isInteger(k) && k >= 0 && k <= n)) throw new RangeError(`proportion interval: k must be an integer in [0, ${n}], got ${k}`);
  const a = (1 - level) / 2;
  return [k === 0 ? 0 : jStat.beta.inv(a, k, n - k + 1), k === n ? 1 : jStat.beta.inv(1 - a, k + 1, n - k)];
}

/** Which 95% interval of a mean the reports show (the experiment's `ci`). */
export type IntervalMethod = "t" | "bootstrap";
export const INTERVAL_METHODS = ["t", "bootstrap"] as const;
export const BOOTSTRAP_RESAMPLES = 2000;

/** How intervals are computed: the method, and the experiment seed the bootstrap draws from. */
export interface IntervalSpec {
  method: IntervalMethod;
  seed: number;
}

export const STUDENT_T: IntervalSpec = { method: "t", seed: 0 };

/** What the interval is, for a report's prose: "Student t" or "percentile bootstrap, 2000 resamples". */
export function intervalName(method: IntervalMethod): string {
  return method === "t" ? "Student t" : `percentile bootstrap, ${BOOTSTRAP_RESAMPLES} resamples`;
}

/**
 * The 95% interval of the mean of xs, [low, high]; NaN for n < 2. `key` names what xs measure
 * (cell, policy, metric): the bootstrap's resamples are drawn from a stream of (seed, key), so
 * one interval never depends on which others were computed before it.
 */
export function meanInterval(xs: readonly number[], spec: IntervalSpec, key: string): [number, number] {
  const n = xs.length;
  if (n < 2) return [NaN, NaN];
  const m = mean(xs);
  if (spec.method === "t") {
    const h = ciHalfWidth(xs);
    return [m - h, m + h];
  }
  // every resample of equal values has their mean: no draws needed (phases that are 0 throughout)
  if (xs.every((x) => x === xs[0])) return [m, m];
  const rng = subRng(spec.seed, `bootstrap:${key}`);
  const means = new Float64Array(BOOTSTRAP_RESAMPLES);
  for (let b = 0; b < BOOTSTRAP_RESAMPLES; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += xs[Math.min(n - 1, Math.floor(rng() * n))]!;
    means[b] = s / n;
  }
  // alphap = betap = 1: Hyndman and Fan's type 7, linear between order statistics
  const [low, high] = jStat.quantiles(Array.from(means), [0.025, 0.975], 1, 1);
  return [low!, high!];
}

export function describe(xs: readonly number[], interval: IntervalSpec = STUDENT_T, key = ""): Stats {
  const n = xs.length;
  if (n === 0) return { n: 0, mean: NaN, ci95: NaN, low: NaN, high: NaN, std: NaN, median: NaN, min: NaN, max: NaN };
  let min = Infinity;
  let max = -Infinity;
  for (const x of xs) {
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const [low, high] = meanInterval(xs, interval, key);
  return { n, mean: mean(xs), ci95: ciHalfWidth(xs), low, high, std: sampleStd(xs), median: median(xs), min, max };
}
