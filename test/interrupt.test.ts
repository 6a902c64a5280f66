/**
 * Interruption and resumption through the real CLI, beyond test/run.test.ts (one Ctrl-C on Table
 * III, one resume): a crash (SIGKILL, no handler runs) during a multi-cell sweep on two worker
 * threads, then a Ctrl-C during the resumed run, then a resume on a changed plan (refused, state
 * untouched), then the final resume: the output folder only ever holds the resumable state until
 * the end, and the final outputs are byte-identical to an uninterrupted run's.
 */
import test from "ava";
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const FUZZ = "test/fixtures/fuzz";
const dir = mkdtempSync(join(tmpdir(), "migsim-int-"));
for (const f of ["experiment.yaml", "net.yaml", "nearest.mjs"]) copyFileSync(join(FUZZ, f), join(dir, f));
const EXPERIMENT = join(dir, "experiment.yaml");
// 2 cells x 3 policies x 400 runs = 2400 runs: a few seconds
const RUNS = "400";
const TOTAL = 2 * 3 * 400;

interface Progress {
  done: number;
  bytes: Record<string, number>;
}

// as a user starts it with node (not through npx, which the test runner may have been started with)
const NODE_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "npm_command"));

function start(out: string, extra: string[]): { child: ChildProcess; exit: Promise<{ code: number | null; signal: string | null; stderr: string }> } {
  const child = spawn(process.execPath, ["bin/migsim.js", "run", EXPERIMENT, "--runs", RUNS, "--out", out, "--no-plots", ...extra], { stdio: ["ignore", "ignore", "pipe"], env: NODE_ENV });
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  const exit = new Promise<{ code: number | null; signal: string | null; stderr: string }>((done) => child.on("close", (code, signal) => done({ code, signal, stderr })));
  return { child, exit };
}

function progress(out: string): Progress | undefined {
  try {
    return JSON.parse(readFileSync(join(out, ".migsim-partial", "progress.json"), "utf8")) as Progress;
  } catch {
    return undefined; // not written yet
  }
}

/** Waits until more than `after` runs are committed; false if the run ended first. */
async function committed(out: string, after: number, exit: Promise<unknown>): Promise<boolean> {
  let ended = false;
  void exit.then(() => (ended = true));
  const deadline = Date.now() + 30_000;
  while (!ended && Date.now() < deadline) {
    if ((progress(out)?.done ?? 0) > after) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

/** Only the resumable state, consistent: every file at least as long as its recorded progress. */
function onlyResumableState(t: import("ava").ExecutionContext, out: string): Progress {
  t.deepEqual(readdirSync(out), [".migsim-partial"]);
  const p = progress(out)!;
  t.true(p.done > 0 && p.done < TOTAL, `done ${p.done}`);
  for (const [name, bytes] of Object.entries(p.bytes)) t.true(statSync(join(out, ".migsim-partial", name)).size >= bytes, name);
  return p;
}

test("crash, Ctrl-C, a refused resume of another plan, then resume: the rows of an uninterrupted run", async (t) => {
  const out = join(dir, "interrupted");

  // 1. a crash on two worker threads: no handler runs, so files may end in a torn row
  const first = start(out, ["--jobs", "2", "--quiet"]);
  t.true(await committed(out, 0, first.exit), "the run ended before any commit: make it longer");
  first.child.kill("SIGKILL");
  t.is((await first.exit).signal, "SIGKILL");
  const afterCrash = onlyResumableState(t, out);

  // 2. resumed in one thread, then Ctrl-C: it finishes the run in flight and says how to go on
  const second = start(out, ["--resume"]);
  t.true(await committed(out, afterCrash.done, second.exit), "the resumed run ended before a commit");
  second.child.kill("SIGINT");
  const stopped = await second.exit;
  t.is(stopped.code, 130, stopped.stderr);
  // the command to go on, runnable as printed: started as this one was (node bin/migsim.js), not as a `migsim` PATH lacks
  t.true(stopped.stderr.includes(`continue with: node bin/migsim.js run ${EXPERIMENT} --runs ${RUNS} --out ${out} --no-plots --resume\n`), stopped.stderr);
  const afterInt = onlyResumableState(t, out);
  t.true(afterInt.done > afterCrash.done);

  // 3. --resume with another plan (one more run per cell) is refused and touches nothing
  const state = readFileSync(join(out, ".migsim-partial", "progress.json"), "utf8");
  const other = spawn(process.execPath, ["bin/migsim.js", "run", EXPERIMENT, "--runs", "401", "--out", out, "--resume", "--quiet", "--no-plots"], { stdio: ["ignore", "ignore", "pipe"] });
  let otherErr = "";
  other.stderr!.on("data", (b: Buffer) => (otherErr += b.toString()));
  const otherCode = await new Promise<number | null>((done) => other.on("close", done));
  t.is(otherCode, 2, otherErr);
  t.regex(otherErr, /different plan/);
  t.is(otherErr.trimEnd().split("\n").length, 1);
  t.is(readFileSync(join(out, ".migsim-partial", "progress.json"), "utf8"), state);

  // 4. the final resume, on two threads again
  const last = start(out, ["--resume", "--jobs", "2", "--quiet"]);
  const finished = await last.exit;
  t.is(finished.code, 0, finished.stderr);
  t.false(existsSync(join(out, ".migsim-partial")));

  // 5. the same outputs as a run never interrupted
  const whole = join(dir, "whole");
  const ref = await start(whole, ["--quiet"]).exit;
  t.is(ref.code, 0, ref.stderr);
  for (const f of ["runs.csv", "probes.csv", "summary.csv", "summary.md"]) {
    t.is(readFileSync(join(out, f), "utf8"), readFileSync(join(whole, f), "utf8"), f);
  }
  const rows = readFileSync(join(out, "runs.csv"), "utf8").trim().split("\n");
  t.is(rows.length, 1 + TOTAL * 2, "one row per migration of every run: none lost, none twice");
  t.is(new Set(rows).size, rows.length);
});

test("a second Ctrl-C aborts at once, also in the middle of one long run", async (t) => {
  // one run of a million probes: about 10 s on the project's machine, with nothing committed
  // before it ends; the simulator hands the event loop a turn every 100 ms, so the handler runs
  const long = join(dir, "long.yaml");
  writeFileSync(
    long,
    "name: long\ntopology: net.yaml\nruns: 1\nhorizon: 100000s\nnetwork: { model: max-min }\n" +
      "traffic:\n  - { from: h1, to: h2, kind: tcp }\n" +
      "probes:\n  - { from: h2, to: h4, at: 0s, bytes: 100B, every: 0.01s, count: 1000000 }\npolicies: [random]\n",
  );
  // (a deadline: whatever an assertion below says, the child does not outlive the test by long)
  const child = spawn(process.execPath, ["bin/migsim.js", "run", long, "--out", join(dir, "long"), "--no-plots"], { stdio: ["ignore", "ignore", "pipe"], timeout: 60_000, killSignal: "SIGKILL" });
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  const exit = new Promise<number | null>((done) => child.on("close", done));
  // the progress line printed when the runs start, then a second into the run
  const deadline = Date.now() + 30_000;
  while (!/run: 1 runs/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.regex(stderr, /run: 1 runs/, "the run never started");
  await new Promise((r) => setTimeout(r, 1000));
  child.kill("SIGINT");
  await new Promise((r) => setTimeout(r, 300));
  const second = Date.now();
  child.kill("SIGINT");
  const code = await exit;
  const after = Date.now() - second;
  t.is(code, 130, stderr);
  t.regex(stderr, /Ctrl-C again to abort/);
  t.false(/1\/1 runs/.test(stderr), "the run ended before the second Ctrl-C: make it longer");
  t.true(after < 4000, `exited ${after} ms after the second Ctrl-C`);
});
