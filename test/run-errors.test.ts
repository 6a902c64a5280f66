/**
 * Errors found while running (issue #16): they name the experiment entry's position, the cell
 * with its sweep values, the policy and the run, and say what to change, the same on one thread
 * and on worker threads; the finished runs stay resumable.
 */
import test from "ava";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InputError } from "../src/core/errors.ts";
import { runExperiment } from "../src/run/run-experiment.ts";

const dir = mkdtempSync(join(tmpdir(), "migsim-runerr-"));

function experiment(name: string, body: string): string {
  const d = join(dir, name);
  mkdirSync(d);
  writeFileSync(
    join(d, "net.yaml"),
    "name: net\ndefaults: { capacity: 10Mbps, latency: 1ms }\nswitches: [s1]\nhosts: [h1, h2, h3, h4]\nlinks:\n" +
      "  - { a: h1, b: s1 }\n  - { a: h2, b: s1 }\n  - { a: h3, b: s1 }\n  - { a: h4, b: s1 }\n",
  );
  writeFileSync(join(d, "e.yaml"), `name: ${name}\ntopology: net.yaml\n${body}`);
  return join(d, "e.yaml");
}

// the second checkpoint size cannot finish by the 100 s horizon: 2 of 4 runs of the first cell
// complete before the sweep reaches it
const SWEEP =
  "runs: 2\nhorizon: 100s\nmigrations:\n  - container: { name: app, checkpoint: 1MB }\n    source: h2\n    candidates: [h3, h4]\n" +
  "    trigger: { at: 1s }\npolicies: [random, bandwidth]\nsweep:\n  migrations.0.container.checkpoint: [1MB, 1GB]\n";

for (const jobs of ["1", "2"]) {
  test(`a run that cannot finish names the migration, cell, policy and run, and how to raise horizon (--jobs ${jobs})`, (t) => {
    // through the CLI on the build: worker threads run dist/
    const file = experiment(`horizon${jobs}`, SWEEP);
    const r = spawnSync(process.execPath, ["bin/migsim.js", "run", file, "--out", join(dir, `out-h${jobs}`), "--jobs", jobs, "--quiet"], { encoding: "utf8" });
    t.is(r.status, 2);
    const lines = r.stderr.trimEnd().split("\n");
    t.is(lines.length, 1, r.stderr);
    t.is(lines[0]!.split(": in run")[0], `migsim: ${file}:6:5: migrations.0`, "the position of the migration entry");
    t.regex(r.stderr, /in run 0 of policy random of the cell migrations\.0\.container\.checkpoint=1GB: migration 0 \(app from h2, cold\) unfinished at the horizon 100s/);
    t.regex(r.stderr, /horizon is the simulated time after which a run is given up \(default 3600s\); raise it in the experiment file \(horizon: 1000s\) or with --set horizon=1000s/);
  });
}

const MIGRATION = "migrations:\n  - container: { name: app, checkpoint: 1MB }\n    source: h2\n    candidates: [h3]\n    trigger: { at: 1s }\npolicies: [mtd-random]\n";

test("a udp flow filling a link is refused at load, naming the traffic entry and the rate to stay below; nothing is written", async (t) => {
  const file = experiment("udp", `runs: 1\nnetwork: { model: max-min }\ntraffic:\n  - { from: h1, to: h4, kind: udp, rate: 25Mbps }\n${MIGRATION}`);
  const out = join(dir, "out-udp");
  const e = await t.throwsAsync(runExperiment({ file, out }), { instanceOf: InputError });
  t.is(e!.message, `${file}:6:42: traffic.0.rate: the udp traffic traffic.0 sends 25Mbps over link h1->s1, which carries 10Mbps: nothing else could cross it (expected a total below 10Mbps)`);
  t.false(existsSync(out));
});

test("udp flows sending at the same time add up on a shared link; flows at different times do not", async (t) => {
  const together = experiment("udp-together", `runs: 1\ntraffic:\n  - { from: h1, to: h4, kind: udp, rate: 6Mbps }\n  - { from: h3, to: h4, kind: udp, rate: 4Mbps, start: 5s }\n${MIGRATION}`);
  const e = await t.throwsAsync(runExperiment({ file: together, out: join(dir, "out-together") }), { instanceOf: InputError });
  t.regex(e!.message, /:6:\d+: traffic\.1\.rate: the udp traffic traffic\.0 \(6Mbps\) and traffic\.1 \(4Mbps\) send 10Mbps in all over link s1->h4, which carries 10Mbps/);
  const apart = experiment("udp-apart", `runs: 1\ntraffic:\n  - { from: h1, to: h4, kind: udp, rate: 6Mbps, stop: 5s }\n  - { from: h3, to: h4, kind: udp, rate: 4Mbps, start: 5s }\n${MIGRATION}`);
  await t.notThrowsAsync(runExperiment({ file: apart, out: join(dir, "out-apart") }));
});

test("a sweep value that makes a udp rate fill a link is named, through the CLI: exit 2, one line, no output folder, no partial state", (t) => {
  const file = experiment("udp-sweep", `runs: 1\ntraffic:\n  - { from: h1, to: h4, kind: udp, rate: 1Mbps }\n${MIGRATION}sweep:\n  traffic.0.rate: [1Mbps, 12Mbps]\n`);
  const out = join(dir, "out-udp-sweep");
  const r = spawnSync(process.execPath, ["bin/migsim.js", "run", file, "--out", out, "--quiet"], { encoding: "utf8" });
  t.is(r.status, 2);
  t.is(
    r.stderr,
    `migsim: ${file}:13:27: sweep.traffic.0.rate.1: the udp traffic traffic.0 sends 12Mbps over link h1->s1, which carries 10Mbps: nothing else could cross it (expected a total below 10Mbps)\n`,
  );
  t.false(existsSync(out));
  t.false(existsSync(join(out, ".migsim-partial")));
});

test("the runs finished before an error stay resumable: --resume continues after them", async (t) => {
  const file = experiment("resumable", SWEEP);
  const out = join(dir, "out-resumable");
  await t.throwsAsync(runExperiment({ file, out }), { instanceOf: InputError });
  const saved = JSON.parse(readFileSync(join(out, ".migsim-partial", "progress.json"), "utf8")) as { done: number };
  t.is(saved.done, 4, "the first cell's 2 policies x 2 runs are kept");
  const starts: Array<[number, number]> = [];
  const progress = { start: (total: number, done: number) => starts.push([total, done]), tick: () => undefined, stop: () => undefined };
  // the same command resumes where the error stopped it (and meets the same error)
  await t.throwsAsync(runExperiment({ file, out, resume: true, progress }), { instanceOf: InputError, message: /checkpoint=1GB/ });
  t.deepEqual(starts, [[8, 4]]);
  t.false(existsSync(join(out, "runs.csv")), "no final output from an unfinished plan");
});
