/** Student-t intervals and summary statistics against known values. */
import test from "ava";
import { ciHalfWidth, describe, median, proportionInterval, sampleStd, theilSen, tQuantile } from "../src/core/stats.ts";
import { withinTolerance } from "../src/reports/summary.ts";

const close = (t: import("ava").ExecutionContext, a: number, b: number, eps: number, what: string) => t.true(Math.abs(a - b) <= eps, `${what}: ${a} != ${b}`);

test("t quantiles match the tables", (t) => {
  // two-sided 95%: t(0.975, df)
  close(t, tQuantile(0.975, 1), 12.7062, 1e-3, "df 1");
  close(t, tQuantile(0.975, 4), 2.7764, 1e-4, "df 4");
  close(t, tQuantile(0.975, 9), 2.2622, 1e-4, "df 9");
  close(t, tQuantile(0.975, 19), 2.093, 1e-4, "df 19");
  close(t, tQuantile(0.975, 1e7), 1.95996, 1e-4, "df -> infinity");
  t.throws(() => tQuantile(1.5, 3), { instanceOf: RangeError });
});

test("a 95% CI half-width by hand", (t) => {
  // x = 1..5: mean 3, s = sqrt(2.5), half-width = 2.7764 * s / sqrt(5)
  const xs = [1, 2, 3, 4, 5];
  close(t, sampleStd(xs), Math.sqrt(2.5), 1e-12, "std");
  close(t, ciHalfWidth(xs), (2.776445 * Math.sqrt(2.5)) / Math.sqrt(5), 1e-5, "ci");
  const d = describe([4, 1, 3, 2]);
  t.is(d.n, 4);
  t.is(d.mean, 2.5);
  t.is(d.median, 2.5);
  t.is(d.min, 1);
  t.is(d.max, 4);
  t.is(median([5, 1, 3]), 3);
});

test("undefined spread for one run is NaN, never a claimed zero", (t) => {
  const d = describe([7]);
  t.is(d.mean, 7);
  t.true(Number.isNaN(d.ci95));
  t.true(Number.isNaN(d.std));
});

test("the paper tolerance: max(CI, 10% of the mean)", (t) => {
  t.true(withinTolerance(9.9, { mean: 9.1, ci: 0.15 })); // 10% of 9.1 = 0.91
  t.false(withinTolerance(10.1, { mean: 9.1, ci: 0.15 }));
  t.true(withinTolerance(30.0, { mean: 23.6, ci: 7.12 })); // the CI is wider than 10%
  t.false(withinTolerance(30.8, { mean: 23.6, ci: 7.12 }));
});

test("Theil-Sen: an exact line is recovered, one wild point does not move it, a single x gives the median", (t) => {
  const xs = [1, 1, 1, 4, 4, 12, 32];
  const ys = xs.map((x) => 0.4 + x / 60);
  const exact = theilSen(xs, ys);
  close(t, exact.a, 0.4, 1e-12, "intercept");
  close(t, exact.b, 1 / 60, 1e-12, "slope");
  const wild = theilSen(
    xs,
    ys.map((y, i) => (i === 3 ? y + 6.5 : y)),
  );
  close(t, wild.a, 0.4, 1e-12, "intercept beside a wild point");
  close(t, wild.b, 1 / 60, 1e-12, "slope beside a wild point");
  t.deepEqual(theilSen([2, 2, 2], [1, 5, 3]), { a: 3, b: 0 });
});

/** P(X >= k) for X ~ Binomial(n, p), summed term by term (independent of jstat's beta quantiles) */
function upperTail(k: number, n: number, p: number): number {
  let sum = 0;
  let choose = 1;
  for (let i = 0; i <= n; i++) {
    if (i > 0) choose = (choose * (n - i + 1)) / i;
    if (i >= k) sum += choose * p ** i * (1 - p) ** (n - i);
  }
  return sum;
}

test("the exact (Clopper-Pearson) interval of a proportion: its bounds leave 2.5% in each binomial tail", (t) => {
  const [lo, hi] = proportionInterval(25, 40);
  t.is(upperTail(25, 40, lo).toFixed(6), "0.025000", "at the lower bound 25 or more of 40 has probability 2.5%");
  t.is((1 - upperTail(26, 40, hi)).toFixed(6), "0.025000", "at the upper bound 25 or fewer has probability 2.5%");
  t.true(lo < 25 / 40 && 25 / 40 < hi && hi < 0.9, "25 of 40 cannot be a 90% share");
  // all or none: the closed forms (alpha/2)^(1/n)
  t.is(proportionInterval(40, 40)[0].toFixed(6), (0.025 ** (1 / 40)).toFixed(6));
  t.is(proportionInterval(40, 40)[1], 1);
  t.is(proportionInterval(0, 40)[0], 0);
  t.is(proportionInterval(0, 40)[1].toFixed(6), (1 - 0.025 ** (1 / 40)).toFixed(6));
  t.deepEqual(proportionInterval(0, 0), [NaN, NaN]);
  t.throws(() => proportionInterval(41, 40), { instanceOf: RangeError });
});
