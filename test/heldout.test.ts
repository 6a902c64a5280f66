/** The held-out validation's verdicts (src/validation/heldout.ts): which errors meet which target. */
import test from "ava";
import { relativeErrorPct, type ComparisonRow, type ProbeComparison } from "../src/validation/compare-backends.ts";
import { HAND_WRITTEN_MARK, judge, TARGETS, withHandWrittenNotes } from "../src/validation/heldout.ts";
import { describe as stats } from "../src/core/stats.ts";

function row(metric: string, sim: number, emu: number, policy = "bandwidth"): ComparisonRow {
  return { cell: "default", policy, metric, sim: stats([sim]), emu: stats([emu]), errorPct: emu === 0 ? Number.NaN : (100 * (sim - emu)) / emu };
}

test("total within 15% and each phase within 25% is met; one quantity beyond its target is a miss naming it", (t) => {
  const met = judge("x", [row("total_s", 11.4, 10), row("checkpoint_s", 1.2, 1), row("transfer_s", 7.6, 10), row("restore_s", 0.8, 1)], []);
  t.is(met.length, 1);
  t.deepEqual(met[0]!.misses, []);
  t.true(Math.abs(met[0]!.errors.total_s! - 0.14) < 1e-12);
  const miss = judge("x", [row("total_s", 11.6, 10), row("checkpoint_s", 1.3, 1), row("decision_s", 5, 1)], []);
  t.deepEqual(miss[0]!.misses, ["total_s +16.0%", "checkpoint_s +30.0%"]);
  t.true(Math.abs(miss[0]!.errors.checkpoint_s! - 0.3) < 1e-12);
  t.false("decision_s" in miss[0]!.errors, "only the targeted quantities are judged");
});

test("a phase the testbed does not have (emulated 0) is not judged; probes are judged against their own target", (t) => {
  const probe: ProbeComparison = { cell: "default", from: "h1", to: "h2", sim: stats([0.13]), emu: stats([0.1]) };
  const v = judge("x", [row("total_s", 10, 10), row("transfer_s", 0, 0)], [probe]);
  t.deepEqual(v[0]!.misses, ["probe RTT h1->h2 +30.0%"]);
  t.true(TARGETS.probe_rtt === 0.25 && TARGETS.total_s === 0.15);
});

test("validate --doc keeps the hand-written part after the mark and rewrites the generated part", (t) => {
  const notes = `${HAND_WRITTEN_MARK}\n\nWhy the miss: measured.\n`;
  const previous = `# old report\n\n| old | rows |\n\n${notes}`;
  const out = withHandWrittenNotes("# new report\n\n| new | rows |\n", previous);
  t.is(out, `# new report\n\n| new | rows |\n\n${notes}`);
  t.false(out.includes("old report"));
  // a file without the mark (or no file) is replaced whole
  t.is(withHandWrittenNotes("# new\n", "# old\n"), "# new\n");
  t.is(withHandWrittenNotes("# new\n", undefined), "# new\n");
});

test("compare's relative error: n/a where both sides are below a millisecond (no -100% for a 60 us decision simulated as 0)", (t) => {
  t.true(Number.isNaN(relativeErrorPct(0, 0.00006)));
  t.true(Number.isNaN(relativeErrorPct(1, 0)));
  t.is(relativeErrorPct(0, 0.002), -100);
  t.is(relativeErrorPct(11, 10), 10);
});
