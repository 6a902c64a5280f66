/**
 * Summary statistics of repeated runs. The 95% confidence interval of the mean is Student's t:
 * half-width = t(0.975, n-1) * s / sqrt(n), with s the sample standard deviation (n-1 divisor).
 *
 * n = 1: the standard deviation and the CI are undefined and reported as NaN (an empty cell in
 * summary.csv, "n/a" in summary.md), never as 0, which would claim an exact result.
 * n = 0: every statistic is NaN.
 */
import jStat from "jstat";

export interface Stats {
  n: number;
  mean: number;
  /** half-width of the 95% confidence interval of the mean (Student t) */
  ci95: number;
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
 * The p-quantile (0..1) with linear interpolation between order statistics (Hyndman-Fan type 7,
 * R's and numpy's default). jstat's `percentile` returns the smallest value for high p on short
 * samples (0.9 of two values), so it is not used.
 */
export function quantile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) * p;
  const lo = Math.floor(h);
  return lo + 1 < s.length ? s[lo]! + (h - lo) * (s[lo + 1]! - s[lo]!) : s[lo]!;
}

/** Half-width of the `level` confidence interval of the mean (NaN for n < 2). */
export function ciHalfWidth(xs: readonly number[], level = 0.95): number {
  const n = xs.length;
  if (n < 2) return NaN;
  return tQuantile(1 - (1 - level) / 2, n - 1) * sampleStd(xs) / Math.sqrt(n);
}

export function describe(xs: readonly number[]): Stats {
  const n = xs.length;
  if (n === 0) return { n: 0, mean: NaN, ci95: NaN, std: NaN, median: NaN, min: NaN, max: NaN };
  let min = Infinity;
  let max = -Infinity;
  for (const x of xs) {
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return { n, mean: mean(xs), ci95: ciHalfWidth(xs), std: sampleStd(xs), median: median(xs), min, max };
}
