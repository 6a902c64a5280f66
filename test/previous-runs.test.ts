/**
 * A rerun without --resume on a folder holding the finished runs of an interrupted run of the
 * same plan is refused (`migsim run`), saying how to continue or start over; the runs of another
 * plan, which --resume could not continue, are discarded with a notice. docs/outputs.md.
 */
import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InputError } from "../src/core/errors.ts";
import { runExperiment } from "../src/run/run-experiment.ts";

const dir = mkdtempSync(join(tmpdir(), "migsim-prev-"));
writeFileSync(
  join(dir, "net.yaml"),
  "name: net\ndefaults: { capacity: 10Mbps, latency: 1ms }\nswitches: [s1]\nhosts: [h1, h2, h3, h4]\nlinks:\n" +
    "  - { a: h1, b: s1 }\n  - { a: h2, b: s1 }\n  - { a: h3, b: s1 }\n  - { a: h4, b: s1 }\n",
);
const FILE = join(dir, "e.yaml");
writeFileSync(
  FILE,
  "name: e\ntopology: net.yaml\nruns: 50\nmigrations:\n  - container: { name: app, checkpoint: 1MB }\n    source: h2\n    candidates: [h3, h4]\n" +
    "    trigger: { at: 1s }\npolicies: [random, bandwidth]\n",
);

/** Runs until `after` runs are done, then stops as Ctrl-C would: the folder holds resumable state. */
async function interrupted(out: string, after: number): Promise<number> {
  const flag = { value: false };
  const progress = { start: () => undefined, tick: (done: number) => void (done >= after && (flag.value = true)), stop: () => undefined };
  await runExperiment({ file: FILE, out, interrupted: flag, progress, plots: false });
  return (JSON.parse(readFileSync(join(out, ".migsim-partial", "progress.json"), "utf8")) as { done: number }).done;
}

test("the same plan's finished runs are not thrown away: refused, with --resume and how to start over; nothing touched", async (t) => {
  const out = join(dir, "same");
  const done = await interrupted(out, 10);
  t.true(done >= 10 && done < 100, `done ${done}`);
  const state = readFileSync(join(out, ".migsim-partial", "progress.json"), "utf8");
  const e = await t.throwsAsync(runExperiment({ file: FILE, out, previousRuns: "refuse", plots: false }), { instanceOf: InputError });
  t.is(
    e!.message,
    `${out} holds ${done} finished runs of this same experiment, from a run that was interrupted or failed: add --resume to continue them, or delete ${join(out, ".migsim-partial")} to start over`,
  );
  t.is(readFileSync(join(out, ".migsim-partial", "progress.json"), "utf8"), state);
  // through the CLI: exit 2, one line
  const r = spawnSync(process.execPath, ["bin/migsim.js", "run", FILE, "--out", out, "--quiet", "--no-plots"], { encoding: "utf8" });
  t.is(r.status, 2);
  t.regex(r.stderr, /^migsim: .* holds \d+ finished runs of this same experiment, .*add --resume to continue them/);
  t.is(r.stderr.trimEnd().split("\n").length, 1);
  t.is(readFileSync(join(out, ".migsim-partial", "progress.json"), "utf8"), state);
});

test("another plan's finished runs (which --resume could not continue) are discarded with a notice", async (t) => {
  const out = join(dir, "other");
  const done = await interrupted(out, 10);
  const notices: string[] = [];
  const r = await runExperiment({ file: FILE, out, runs: 3, previousRuns: "refuse", plots: false, notice: (s) => notices.push(s) });
  t.true(r.completed);
  t.deepEqual(notices, [`discarded the ${done} finished runs of an earlier, unfinished run in ${out} (runs.csv, summary and plots of a completed run are replaced only when this one completes)`]);
});

test("a completed folder is rerun without refusal or notice (its outputs are replaced when the rerun completes)", async (t) => {
  const out = join(dir, "completed");
  await runExperiment({ file: FILE, out, runs: 2, plots: false });
  const notices: string[] = [];
  await t.notThrowsAsync(runExperiment({ file: FILE, out, runs: 2, previousRuns: "refuse", plots: false, notice: (s) => notices.push(s) }));
  t.deepEqual(notices, []);
});
