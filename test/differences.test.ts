/**
 * Paired differences (src/reports/differences.ts) against intervals computed by hand, and the
 * percentile bootstrap (src/core/stats.ts): deterministic in the seed.
 */
import test from "ava";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunRow } from "../src/outputs/csv.ts";
import { differencesCsv, pairedDifferences } from "../src/reports/differences.ts";
import { writeReport } from "../src/reports/write-report.ts";
import { meanInterval } from "../src/core/stats.ts";
import type { RunRecord } from "../src/formats/runspec.ts";

const T = { method: "t", seed: 1 } as const;

/** A runs.csv row: the total (and transfer) time of one run, every other duration 0. */
function row(cell: string, axes: Record<string, string>, policy: string, run: number, total: number): RunRow {
  const record = {
    experiment: "e",
    cell,
    backend: "sim",
    policy,
    run,
    seed: run,
    container: "app",
    source: "h1",
    destination: "h2",
    trigger_s: 1,
    decision_s: 0,
    key_retrieval_s: 0,
    checkpoint_s: 0,
    transfer_s: total,
    restore_s: 0,
    downtime_s: 0,
    total_s: total,
    checkpoint_bytes: 0,
    transferred_bytes: 0,
    path_hops: 1,
    bottleneck_bps: 1e6,
    mode: "cold",
    transport: "ssh",
    setup_s: 0,
    rounds: 1,
    converged: true,
    note: "",
    control_s: 0,
    prepare_s: 0,
    redirect_s: 0,
  } as RunRecord;
  return { record, axes };
}

const BASE = [10, 12, 11, 13];
test("policy against the baseline: mean paired difference, Student t interval, relative difference", (t) => {
  // B - A per run: 2, 3, 0, 3 -> mean 2, s^2 = (0 + 1 + 4 + 1) / 3 = 2, s = 1.414214, se = 0.707107,
  // t(0.975, 3) = 3.182446, half-width 2.250329: [-0.250329, 4.250329], crosses 0.
  // C - A per run: 2, 3, 2, 3 -> mean 2.5, s = sqrt(1/3), se = 0.288675, half-width 0.918693:
  // [1.581307, 3.418693], excludes 0.
  const rows = [
    ...BASE.map((x, r) => row("c", {}, "A", r, x)),
    // out of run order: pairing is by run index, not by position
    ...[12, 15, 11, 16].map((x, r) => row("c", {}, "B", r, x)).reverse(),
    ...[12, 15, 13, 16].map((x, r) => row("c", {}, "C", r, x)),
  ];
  const ds = pairedDifferences({ rows, axes: [], interval: T }).filter((d) => d.metric === "total_s");
  t.deepEqual(
    ds.map((d) => [d.policy, d.baseline, d.n]),
    [
      ["B", "A", 4],
      ["C", "A", 4],
    ],
  );
  const [b, c] = ds;
  t.is(b!.difference, 2);
  t.true(Math.abs(b!.low - -0.250329) < 1e-6 && Math.abs(b!.high - 4.250329) < 1e-6, `${b!.low} ${b!.high}`);
  t.false(b!.excludesZero);
  t.true(Math.abs(b!.relativePct - (100 * 2) / 11.5) < 1e-9);
  t.true(Math.abs(c!.low - 1.581307) < 1e-6 && Math.abs(c!.high - 3.418693) < 1e-6, `${c!.low} ${c!.high}`);
  t.true(c!.excludesZero);
  // phases that are 0 on both sides: a zero difference, no relative difference
  const decision = pairedDifferences({ rows, axes: [], interval: T }).find((d) => d.policy === "B" && d.metric === "decision_s")!;
  t.deepEqual([decision.difference, decision.low, decision.high, decision.excludesZero], [0, 0, 0, false]);
  t.true(Number.isNaN(decision.relativePct));
});

test("a named baseline, runs missing on one side, and sweep values against the axis's first", (t) => {
  const axes = ["m"];
  const rows = [
    ...BASE.map((x, r) => row("m=x", { m: "x" }, "A", r, x)),
    ...BASE.map((x, r) => row("m=x", { m: "x" }, "B", r, x + 1)),
    // the cell m=y: A slower by 5, 6, 7 in runs 0-2; run 3 failed (absent)
    ...[15, 18, 18].map((x, r) => row("m=y", { m: "y" }, "A", r, x)),
    ...BASE.map((x, r) => row("m=y", { m: "y" }, "B", r, x + 1)),
  ];
  const ds = pairedDifferences({ rows, axes, baseline: "B", interval: T }).filter((d) => d.metric === "total_s");
  const byPolicy = ds.filter((d) => d.comparison === "policy");
  t.deepEqual(
    byPolicy.map((d) => [d.cell, d.policy, d.baseline, d.n, d.difference]),
    [
      ["m=x", "A", "B", 4, -1],
      ["m=y", "A", "B", 3, 5],
    ],
  );
  const sweep = ds.filter((d) => d.comparison === "sweep");
  t.deepEqual(
    sweep.map((d) => [d.cell, d.baselineCell, d.axis, d.baseline, d.policy, d.n]),
    [
      ["m=y", "m=x", "m", "x", "A", 3],
      ["m=y", "m=x", "m", "x", "B", 4],
    ],
  );
  // A: 5, 6, 7 -> mean 6, s = 1, half-width t(0.975, 2) / sqrt(3) = 4.302653 / 1.732051 = 2.484138
  t.true(Math.abs(sweep[0]!.high - sweep[0]!.difference - 2.484138) < 1e-6);
  const csv = differencesCsv(ds, axes, T).split("\n");
  t.is(csv[0], "experiment,comparison,cell,m,policy,axis,baseline,baseline_cell,metric,n,baseline_mean,difference,ci_low,ci_high,relative_pct,excludes_zero,interval");
  t.is(csv[1], "e,policy,m=x,x,A,,B,m=x,total_s,4,12.5,-1,-1,-1,-8,true,t");
});

test("percentile bootstrap: deterministic in the seed and the key, within the data, equal to a constant's value", (t) => {
  const xs = [3.1, 0.2, 5.5, 2.2, 9.8, 1.1, 0.4, 4.4, 2.9, 7.3];
  const a = meanInterval(xs, { method: "bootstrap", seed: 5 }, "k");
  t.deepEqual(meanInterval(xs, { method: "bootstrap", seed: 5 }, "k"), a);
  t.notDeepEqual(meanInterval(xs, { method: "bootstrap", seed: 6 }, "k"), a);
  t.notDeepEqual(meanInterval(xs, { method: "bootstrap", seed: 5 }, "other"), a);
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  t.true(a[0] < m && m < a[1] && a[0] > Math.min(...xs) && a[1] < Math.max(...xs), `${a}`);
  // about as wide as Student t's on data this symmetric (t: 3.69 +- 2.23)
  const [lo, hi] = meanInterval(xs, T, "k");
  t.true(Math.abs(a[1] - a[0] - (hi - lo)) < 0.25 * (hi - lo), `bootstrap ${a}, t ${lo} ${hi}`);
  t.deepEqual(meanInterval([2, 2, 2], { method: "bootstrap", seed: 1 }, "k"), [2, 2]);
  t.true(meanInterval([2], { method: "bootstrap", seed: 1 }, "k").every(Number.isNaN));
});

test("the report writes differences.csv and says which interval summary.md shows", async (t) => {
  const rows = [...BASE.map((x, r) => row("c", {}, "A", r, x)), ...[12, 15, 13, 16].map((x, r) => row("c", {}, "B", r, x))];
  for (const method of ["t", "bootstrap"] as const) {
    const dir = mkdtempSync(join(tmpdir(), "migsim-diff-"));
    const { files } = await writeReport(dir, { experiment: "e", axes: [], rows, interval: { method, seed: 1 }, plots: "none" });
    t.true(files.includes("differences.csv"));
    const md = readFileSync(join(dir, "summary.md"), "utf8");
    t.true(md.includes(method === "t" ? "(Student t)" : "(percentile bootstrap, 2000 resamples)"));
    t.regex(md, /## Paired differences[\s\S]*### Each policy against A[\s\S]*\| B \| 4 \| \+2\.50 \* \| \[/);
    t.is(readFileSync(join(dir, "differences.csv"), "utf8").split("\n")[1]!.split(",").at(-1), method);
  }
});
