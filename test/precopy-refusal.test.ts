/**
 * A mode the backend cannot run (pre-copy on a testbed whose kernel lacks soft-dirty tracking) is
 * refused before the first run, with the backend's one line, and nothing written; compare's
 * --skip-precopy (skipModes) runs the other cells and lists the pre-copy ones as skipped. The
 * backend here is the simulator behind a fake preflight answer (the testbed case is in
 * test/emulation.test.ts).
 */
import test from "ava";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InputError } from "../src/core/errors.ts";
import { compareBackends } from "../src/validation/compare-backends.ts";
import { runExperiment } from "../src/run/run-experiment.ts";
import { simBackend } from "../src/run/sim-backend.ts";
import type { Backend, RunSpec } from "../src/formats/runspec.ts";

const REASON =
  "pre-copy needs CRIU's memory dirty tracking, which this kernel lacks (`criu check --feature mem_dirty_track`: " +
  "Dirty tracking is OFF. Memory snapshot will not work.; the kernel needs CONFIG_MEM_SOFT_DIRTY, without it CRIU's pre-dump aborts)";

const dir = mkdtempSync(join(tmpdir(), "migsim-precopy-refusal-"));
mkdirSync(join(dir, "e"));
writeFileSync(
  join(dir, "e", "net.yaml"),
  "name: net\ndefaults: { capacity: 100Mbps, latency: 1ms }\nswitches: [s1]\nhosts: [h1, h2, h3]\nlinks:\n" + "  - { a: h1, b: s1 }\n  - { a: h2, b: s1 }\n  - { a: h3, b: s1 }\n",
);
const FILE = join(dir, "e", "modes.yaml");
writeFileSync(
  FILE,
  "name: modes\ntopology: net.yaml\nruns: 2\nmigrations:\n  - container: { name: app, checkpoint: 2MB, memory: 2MB, dirty-rate: 100kBps }\n" +
    "    source: h1\n    candidates: [h2, h3]\n    trigger: { at: 1s }\npolicies: [random]\n" +
    "sweep:\n  migrations.0.mode: [cold, pre-copy, post-copy]\n",
);

/** The simulator named as the testbed, whose preflight says it cannot run pre-copy. */
function fakeTestbed(): Backend & { executed: RunSpec[]; closed: number } {
  const sim = simBackend({});
  const fake = {
    name: "mininet",
    runsCanFail: true,
    oneRunAtATime: true,
    executed: [] as RunSpec[],
    closed: 0,
    execute(spec: RunSpec) {
      fake.executed.push(spec);
      return sim.execute(spec);
    },
    unavailableModes: async () => new Map([["pre-copy", REASON]]),
    close: async () => {
      fake.closed++;
    },
  };
  return fake;
}

test("an experiment with a pre-copy cell is refused before any run, with the preflight's line", async (t) => {
  const fake = fakeTestbed();
  const out = join(dir, "refused");
  const e = await t.throwsAsync(runExperiment({ file: FILE, backend: "mininet", session: fake, out }), { instanceOf: InputError });
  t.is(fake.executed.length, 0);
  t.false(existsSync(out), "nothing written");
  t.false(e!.message.includes("\n"));
  t.regex(e!.message, /migrations\.0\.mode: the mininet backend cannot run mode pre-copy \(1 of 3 cells use it; refused before any run\): .*CONFIG_MEM_SOFT_DIRTY/);
  t.true(e!.message.startsWith(FILE));
});

test("skipModes runs the other cells and lists the pre-copy cells as skipped", async (t) => {
  const fake = fakeTestbed();
  const r = await runExperiment({ file: FILE, backend: "mininet", session: fake, out: join(dir, "skipped"), skipModes: ["pre-copy"], plots: false });
  t.true(r.completed);
  t.deepEqual([...new Set(fake.executed.map((s) => s.migrations[0]!.mode))], ["cold", "post-copy"]);
  t.is(fake.executed.length, 4);
  t.deepEqual(
    r.skipped.map((c) => [c.mode, c.reason]),
    [["pre-copy", REASON]],
  );
  const runs = readFileSync(join(dir, "skipped", "runs.csv"), "utf8");
  t.false(runs.includes("pre-copy"));
});

test("a backend that can run every mode runs every cell", async (t) => {
  const r = await runExperiment({ file: FILE, out: join(dir, "sim"), plots: false });
  t.is(r.runsExecuted, 6);
  t.deepEqual(r.skipped, []);
});

test("compare refuses before the simulator's runs too, and --skip-precopy reports the skipped cells", async (t) => {
  const refused = fakeTestbed();
  const out = join(dir, "cmp-refused");
  await t.throwsAsync(compareBackends({ file: FILE, profile: "paper", out, session: refused }), { instanceOf: InputError, message: /CONFIG_MEM_SOFT_DIRTY/ });
  t.false(existsSync(join(out, "sim")), "the simulator did not run");
  t.is(refused.executed.length, 0);

  const fake = fakeTestbed();
  const r = await compareBackends({ file: FILE, profile: "paper", out: join(dir, "cmp"), session: fake, skipPrecopy: true });
  t.is(r.skipped.length, 1);
  t.is(fake.executed.length, 4);
  const md = readFileSync(join(dir, "cmp", "validation.md"), "utf8");
  t.regex(md, /## cells skipped on the testbed/);
  t.regex(md, /\| migrations\.0\.mode=pre-copy \| pre-copy \| pre-copy needs CRIU's memory dirty tracking.*CONFIG_MEM_SOFT_DIRTY/);
  // the cells it ran are compared
  t.true(r.rows.some((row) => row.cell.includes("cold")));
});
