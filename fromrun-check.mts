// fromRun on the real testbed: runs 2.. of a 3-run plan, with the seeds a 3-run plan gives them
import { compareBackends } from "/work/main/src/validation/compare-backends.ts";
import { readRecords } from "/work/main/src/validation/testbed-records.ts";
import { runSeed } from "/work/main/src/core/random.ts";
import { loadExperiment } from "/work/main/src/load/read-experiment.ts";
const file = "/tmp/topup-smoke/scenarios/random-9-001.yaml";
const testbed = "ssh://root@127.0.0.1:2290";
const out = "/tmp/fromrun-check";
const exp = loadExperiment(file, { profile: "/tmp/cal-s13.yaml" });
await compareBackends({ file, profile: "/tmp/cal-s13.yaml", out, runs: 4, fromRun: 2, testbed, backendOptions: { testbed } });
for (const b of ["sim", "mininet"]) {
  const recs = readRecords(`${out}/${b}/runs.csv`);
  console.log(b, recs.map((r) => [r.run, r.seed, r.seed === runSeed(exp.seed, r.run)]));
}
