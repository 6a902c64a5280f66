/**
 * The paper's orderings (its 95% intervals apart) and whether a simulation holds them: apart in
 * the same direction by at least the least difference the paper's intervals leave.
 */
import test from "ava";
import { paperOrderings } from "../src/reports/orderings.ts";
import type { Stats } from "../src/core/stats.ts";
import type { PaperRow } from "../src/reports/summary.ts";

const sim = (mean: number, ci95: number): Stats => ({ n: 20, mean, ci95, low: mean - ci95, high: mean + ci95, std: 0, median: mean, min: mean, max: mean });
const row = (policy: string, mean: number, ci95: number, paperMean: number, paperCi: number): PaperRow => ({ policy, simulated: sim(mean, ci95), paper: { mean: paperMean, ci: paperCi } });

test("Table II as the paper has it: shortest path below both; bandwidth and random not ordered", (t) => {
  const rows = [row("bandwidth", 18.5, 0.9, 18.6, 0.91), row("shortest-path", 17.1, 0.1, 17.1, 0.16), row("random", 18.6, 0.9, 18.7, 0.91)];
  const o = paperOrderings(rows);
  t.deepEqual(
    o.map((x) => `${x.faster.policy}<${x.slower.policy}:${x.status}`),
    ["shortest-path<bandwidth:held", "shortest-path<random:held"],
  );
  t.is(Math.round(o[0]!.paperGap * 100) / 100, 0.43);
});

test("the right sign by a millisecond is not the paper's ordering; apart the other way is reversed; overlapping is undecided", (t) => {
  const tiny = paperOrderings([row("bandwidth", 17.1444, 0.0008, 18.6, 0.91), row("shortest-path", 17.1428, 0, 17.1, 0.16)]);
  t.is(tiny[0]!.status, "too small");
  const reversed = paperOrderings([row("a", 20, 0.1, 10, 0.5), row("b", 15, 0.1, 20, 0.5)]);
  t.is(reversed[0]!.status, "reversed");
  const overlap = paperOrderings([row("a", 20, 5, 10, 0.5), row("b", 22, 5, 20, 0.5)]);
  t.is(overlap[0]!.status, "overlap");
});

test("an ordering the text states but the paper's intervals do not separate is listed only when stated, and marked", (t) => {
  const rows = [row("mtd-fountain", 37.7, 1.7, 36.6, 5.2), row("mtd-shamir", 36.5, 0, 40.1, 6.6)];
  t.deepEqual(paperOrderings(rows), []);
  const o = paperOrderings(rows, [["mtd-fountain", "mtd-shamir"]]);
  t.is(o.length, 1);
  t.false(o[0]!.significant);
  t.is(o[0]!.status, "overlap");
});
