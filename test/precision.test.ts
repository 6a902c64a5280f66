/**
 * Numbers in summary.md and tables.md carry the precision their interval allows: the half-width
 * to 2 significant digits, the mean rounded to the same place; means without an interval to 3
 * significant digits.
 */
import test from "ava";
import { describe } from "../src/core/stats.ts";
import { formatMean, meanCi, paperTable, summaryMarkdown, type SummaryRow } from "../src/reports/summary.ts";

test("a mean and its interval: 2 significant digits on the half-width, the mean rounded to match", (t) => {
  t.is(meanCi({ mean: 127.7, ci95: 49.906 }), "128 ± 50");
  t.is(meanCi({ mean: 17.1, ci: 0.16 }), "17.10 ± 0.16");
  t.is(meanCi({ mean: 18.6, ci: 0.91 }), "18.60 ± 0.91");
  t.is(meanCi({ mean: 9.017, ci95: 3.594 }), "9.0 ± 3.6");
  t.is(meanCi({ mean: 1234.5, ci95: 127 }), "1230 ± 130");
  // rounding the half-width up to the next power keeps 2 significant digits of the rounded value
  t.is(meanCi({ mean: 5.87123, ci95: 0.0996 }), "5.87 ± 0.10");
  t.is(meanCi({ mean: 17.14372, ci95: 0.00096 }), "17.14372 ± 0.00096");
  t.is(meanCi({ mean: 36.49, ci95: 0 }), "36.5 ± 0");
  t.is(meanCi({ mean: 3.2, ci95: Number.NaN }), "3.20 ± n/a");
});

test("a mean alone: 3 significant digits, never fewer than its integer digits", (t) => {
  t.is(formatMean(0.06712), "0.0671");
  t.is(formatMean(9.6504), "9.65");
  t.is(formatMean(1234.56), "1235");
  t.is(formatMean(0), "0");
  t.is(formatMean(Number.NaN), "n/a");
});

test("summary.md and tables.md use it throughout: no `127.7 ± 49.906`", (t) => {
  const stats = describe([60, 180, 143.1]);
  const rows: SummaryRow[] = ["total_s", "decision_s", "key_retrieval_s", "checkpoint_s", "transfer_s", "restore_s", "downtime_s"].map((metric) => ({
    experiment: "e",
    cell: "default",
    axes: {},
    policy: "random",
    metric: metric as SummaryRow["metric"],
    stats,
    ...(metric === "total_s" ? { reference: { mean: 127.7, ci: 0.5 }, error_pct: 0 } : {}),
  }));
  const md = summaryMarkdown(rows, { experiment: "e", axes: [], reference: { source: "T" } });
  t.true(md.includes("| random | 3 | 130 ± 150 | 127.70 ± 0.50 | +0.0% | 128 | 128 |"), md);
  const table = paperTable("T", [{ policy: "random", simulated: describe([17.1, 17.1, 17.1]), paper: { mean: 17.1, ci: 0.16 } }]);
  t.true(table.includes("| random | 17.1 ± 0 | 17.10 ± 0.16 |"), table);
});

test("a half-width finer than runs.csv's 6 decimals (floating-point noise of equal runs) is no spread", (t) => {
  t.is(meanCi({ mean: 9.285963000000002, ci95: 8.5e-16 }), "9.29 ± 0");
  t.is(meanCi({ mean: 17.14437, ci95: 0.00076 }), "17.14437 ± 0.00076");
});
