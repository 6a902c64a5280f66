import test from "ava";
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimBackend } from "../backends/sim/backend.ts";
import { loadExperiment } from "../src/load/read-experiment.ts";
import { specAt } from "../src/run/plan.ts";
import { resolvePolicy } from "../src/policies/registry.ts";
import type { RunProgress } from "../src/formats/runspec.ts";

test("execute, which hands the event loop a turn in long runs, gives what the synchronous run gives", async (t) => {
  const exp = loadExperiment("experiments/scale/policies-fat-tree.yaml", { runs: 1 });
  const yielding = new SimBackend();
  const sync = new SimBackend();
  let checked = 0;
  for (let k = 0; k < exp.cells.length * exp.policies.length; k += 3) {
    const spec = specAt(exp, k);
    const a = await yielding.execute(spec);
    const b = sync.run(spec, await resolvePolicy(spec.policy));
    t.deepEqual(a, b, `${spec.cell} ${spec.policy.name}`);
    t.true(a.records.length > 0);
    checked++;
  }
  t.true(checked >= 4);
});

test("execute reports how far a long run has come: simulated time and migrations done, never backwards, and the same result", async (t) => {
  // three migrations at 1, 5 and 9 s among probes every 10 ms: a few thousand events
  const dir = mkdtempSync(join(tmpdir(), "migsim-progress-"));
  copyFileSync("test/fixtures/fuzz/net.yaml", join(dir, "net.yaml"));
  writeFileSync(
    join(dir, "progress.yaml"),
    "name: progress\ntopology: net.yaml\nruns: 1\nnetwork: { model: max-min }\n" +
      "migrations:\n" +
      [1, 5, 9].map((at, i) => `  - { container: { name: c${i}, checkpoint: 2MB }, source: ${["h1", "h2", "h4"][i]}, candidates: [h5], trigger: { at: ${at}s } }\n`).join("") +
      "probes:\n  - { from: h2, to: h4, at: 0s, bytes: 100B, every: 0.01s, count: 2000 }\npolicies: [random]\n",
  );
  const spec = specAt(loadExperiment(join(dir, "progress.yaml")), 0);
  // a turn (and a report) every 256 events instead of every 100 ms, so that a short run reports
  const backend = new SimBackend({ yieldEveryMs: 0 });
  const reports: RunProgress[] = [];
  const result = await backend.execute(spec, (p) => reports.push(p));
  t.deepEqual(result, new SimBackend().run(spec, await resolvePolicy(spec.policy)));
  t.true(reports.length >= 5, `${reports.length} reports`);
  for (const [i, p] of reports.entries()) {
    t.is(p.migrations, 3);
    t.is(p.horizon, spec.horizon);
    t.true(p.simulated <= 0.01 * 2000);
    if (i > 0) {
      t.true(p.simulated >= reports[i - 1]!.simulated);
      t.true(p.migrationsDone >= reports[i - 1]!.migrationsDone);
    }
  }
  // the migrations end while the probes go on: the reports see them done one by one
  t.deepEqual([...new Set(reports.map((p) => p.migrationsDone))], [0, 1, 2, 3]);
  // no report when no turn is due: the default 100 ms is longer than this run
  const quiet: RunProgress[] = [];
  await new SimBackend().execute(spec, (p) => quiet.push(p));
  t.is(quiet.length, 0);
});
