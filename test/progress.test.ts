/**
 * Progress of long work: the reporter's plain lines and bar, and how far a run in flight has come,
 * from this thread and from workers (a data-center run with tcp-fluid takes minutes).
 */
import test from "ava";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { progressReporter } from "../src/cli/progress.ts";
import type { ProgressReporter } from "../src/run/run-experiment.ts";
import type { RunProgress } from "../src/formats/runspec.ts";

/** a stream that keeps what is written to it */
function capture(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let text = "";
  const stream = { isTTY, columns: 200, write: (s: string) => ((text += s), true), on: () => stream, removeListener: () => stream } as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
}

const at = (simulated: number, migrationsDone: number): RunProgress => ({ simulated, horizon: 600, migrationsDone, migrations: 1000 });

test("plain lines: a run in flight is reported at most every 30 s, after the run lines' own pacing", (t) => {
  let now = 0;
  const { stream, text } = capture(false);
  const r = progressReporter("run", stream, "runs", () => now);
  r.start(36, 0);
  now = 10_000;
  r.inRun!(at(3.2, 40));
  now = 31_000;
  r.inRun!(at(12.34, 420));
  now = 40_000;
  r.inRun!(at(14, 500));
  r.inRun!(undefined);
  now = 62_000;
  r.tick(4);
  now = 80_000;
  r.inRun!(at(2, 0));
  now = 93_000;
  r.inRun!(at(5, 10));
  t.is(
    text(),
    "run: 36 runs\n" +
      "run: run in flight: 12.3 s simulated, 420/1000 migrations done, 31.0 s\n" +
      "run: 4/36 runs (10%), 62.0 s\n" +
      "run: run in flight: 5.0 s simulated, 10/1000 migrations done, 93.0 s\n",
  );
});

test("the pre-run check is reported only once it has taken 2 s, then every 5 s, and never when done", (t) => {
  let now = 0;
  const { stream, text } = capture(false);
  const r = progressReporter("run", stream, "runs", () => now);
  now = 1_500;
  r.checking!(10, 6000);
  now = 2_100;
  r.checking!(400, 6000);
  now = 4_000;
  r.checking!(900, 6000);
  now = 7_200;
  r.checking!(2000, 6000);
  now = 12_000;
  r.checking!(6000, 6000);
  t.is(text(), "run: checking the policies before the runs: 400/6000 trial decisions, 2.1 s\n" + "run: checking the policies before the runs: 2000/6000 trial decisions, 7.2 s\n");
});

test("the bar shows the run in flight until the next run completes", (t) => {
  const { stream, text } = capture(true);
  const r = progressReporter("run", stream);
  r.start(36, 0);
  r.inRun!(at(12.34, 420));
  r.stop();
  t.regex(text(), /0\/36 runs .*\| run in flight: 12\.3 s simulated, 420\/1000 migrations done/);
  const second = capture(true);
  const s = progressReporter("run", second.stream);
  s.start(36, 0);
  s.inRun!(at(12.34, 420));
  s.tick(1);
  s.stop();
  t.regex(second.text(), /1\/36 runs/);
  t.notRegex(second.text().slice(second.text().lastIndexOf("1/36 runs")), /in flight/);
});

/** an experiment of two runs of a second or more each on this machine: 200,000 probes every 10 ms */
function longExperiment(): string {
  const dir = mkdtempSync(join(tmpdir(), "migsim-progress-"));
  copyFileSync(join(import.meta.dirname, "fixtures", "fuzz", "net.yaml"), join(dir, "net.yaml"));
  const file = join(dir, "long.yaml");
  writeFileSync(
    file,
    "name: long\ntopology: net.yaml\nruns: 2\nhorizon: 100000s\nnetwork: { model: max-min }\n" +
      "migrations:\n  - { container: { name: app, checkpoint: 2MB }, source: h2, candidates: [h4], trigger: { at: 1s } }\n" +
      "probes:\n  - { from: h2, to: h4, at: 0s, bytes: 100B, every: 0.01s, count: 200000 }\npolicies: [random]\n",
  );
  return file;
}

for (const jobs of [1, 2]) {
  test(`runExperiment with --jobs ${jobs}: the reporter learns how far each run has come, and when it ended`, async (t) => {
    // (the compiled code that `migsim run` executes, built by npm test: worker threads start from dist/)
    const { runExperiment } = (await import(join(import.meta.dirname, "..", "dist", "src", "run", "run-experiment.js"))) as typeof import("../src/run/run-experiment.ts");
    const file = longExperiment();
    const seen: Array<RunProgress | undefined | "tick"> = [];
    const progress: ProgressReporter = { start: () => undefined, tick: () => seen.push("tick"), inRun: (p) => seen.push(p), stop: () => undefined };
    const out = join(file, "..", `out-${jobs}`);
    const outcome = await runExperiment({ file, out, jobs, plots: false, progress });
    t.true(outcome.completed);
    t.is(readFileSync(join(out, "runs.csv"), "utf8").trim().split("\n").length, 3);
    const reports = seen.filter((p): p is RunProgress => typeof p === "object");
    t.true(reports.length >= 2, `${reports.length} reports in ${JSON.stringify(seen.slice(0, 20))}`);
    for (const p of reports) {
      t.is(p.migrations, 1);
      t.true(p.simulated > 0 && p.simulated <= 2100);
    }
    // each run that reported is cleared when it ends: the last word before the last tick is "none in flight"
    t.is(seen.at(-1), "tick");
    t.is(seen.filter((p) => p !== "tick").at(-1), undefined);
    t.true(seen.filter((p) => p === undefined).length >= 1);
  });
}

test("after the runs, a line says what is being written, on the bar's terminal and in plain output", (t) => {
  for (const tty of [true, false]) {
    const { stream, text } = capture(tty);
    const r = progressReporter("run", stream);
    r.start(2, 0);
    r.tick(2);
    r.stop();
    r.writing!("writing summary, plots and manifest");
    t.true(text().endsWith("run: writing summary, plots and manifest\n"), JSON.stringify(text().slice(-120)));
  }
});

test("runExperiment says it is writing after the last run and before the summary and plots exist", async (t) => {
  const { runExperiment } = await import("../src/run/run-experiment.ts");
  const file = join(import.meta.dirname, "..", "experiments", "table3.yaml");
  const out = mkdtempSync(join(tmpdir(), "migsim-writing-"));
  const seen: string[] = [];
  const progress: ProgressReporter = {
    start: () => undefined,
    tick: (done) => seen.push(`tick ${done}`),
    stop: () => seen.push("stop"),
    writing: (what) => seen.push(`${what}; summary.md ${existsSync(join(out, "summary.md")) ? "exists" : "not yet"}`),
  };
  await runExperiment({ file, out, runs: 1, progress });
  t.deepEqual(seen.slice(-3), ["tick 3", "stop", "writing summary, plots and manifest; summary.md not yet"]);
  t.true(existsSync(join(out, "plots")));
});
