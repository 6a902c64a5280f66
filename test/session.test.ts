/**
 * A backend session shared across experiments (calibrate and validate run many experiments on one
 * testbed connection): every run goes through it, runExperiment leaves it open for the caller,
 * and the rows are those of the experiment run on its own.
 */
import test from "ava";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBackend } from "../src/run/backend-registry.ts";
import { runExperiment } from "../src/run/run-experiment.ts";
import type { Backend, RunSpec } from "../src/formats/runspec.ts";

const TABLE3 = join(import.meta.dirname, "..", "experiments", "table3.yaml");

test("runs on a caller's session go through it, leave it open and give the same rows", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "migsim-session-"));
  const sim = createBackend("sim", {});
  let executed = 0;
  let closed = 0;
  const session: Backend = {
    name: "sim",
    execute: (spec: RunSpec) => {
      executed++;
      return sim.execute(spec);
    },
    close: async () => {
      closed++;
    },
  };
  for (const out of ["a", "b"]) await runExperiment({ file: TABLE3, runs: 3, out: join(dir, out), plots: false, session });
  t.is(executed, 2 * 3 * 3, "two experiments of 3 policies x 3 runs, all on the session");
  t.is(closed, 0, "the caller closes its session");
  await runExperiment({ file: TABLE3, runs: 3, out: join(dir, "alone"), plots: false });
  t.is(readFileSync(join(dir, "a", "runs.csv"), "utf8"), readFileSync(join(dir, "alone", "runs.csv"), "utf8"));
});

test("a session of another backend than the run asks for is refused", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "migsim-session-"));
  const session: Backend = { name: "mininet", execute: () => Promise.reject(new Error("not reached")) };
  await t.throwsAsync(runExperiment({ file: TABLE3, runs: 1, out: join(dir, "x"), plots: false, session }), { message: /session is a mininet backend, the run asks for sim/ });
});

test("a backend whose runs can fail gets failed.csv, one that cannot does not: a property of the backend, not of its name", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "migsim-session-"));
  const sim = createBackend("sim", {});
  const fallible: Backend = { name: "sim", runsCanFail: true, execute: (spec: RunSpec) => sim.execute(spec) };
  await runExperiment({ file: TABLE3, runs: 1, out: join(dir, "fallible"), plots: false, session: fallible });
  await runExperiment({ file: TABLE3, runs: 1, out: join(dir, "plain"), plots: false });
  t.true(existsSync(join(dir, "fallible", "failed.csv")));
  t.false(existsSync(join(dir, "plain", "failed.csv")));
});

test("a backend whose runs share one machine executes them one at a time in this thread, whatever --jobs says", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "migsim-session-"));
  const sim = createBackend("sim", {});
  let executed = 0;
  // --jobs 2 on any other backend sends the runs to worker threads (test/run.test.ts), which never reach this object
  const serial: Backend = { name: "sim", oneRunAtATime: true, execute: (spec: RunSpec) => (executed++, sim.execute(spec)) };
  await runExperiment({ file: TABLE3, runs: 2, jobs: 2, out: join(dir, "serial"), plots: false, session: serial });
  t.is(executed, 3 * 2, "every run on the session itself");
  await runExperiment({ file: TABLE3, runs: 2, out: join(dir, "one"), plots: false });
  t.is(readFileSync(join(dir, "serial", "runs.csv"), "utf8"), readFileSync(join(dir, "one", "runs.csv"), "utf8"));
});
