/**
 * `migsim slurm` on a real single-node Slurm cluster (scripts/slurm-up.sh; .ci/run brings it up
 * and sets MIGSIM_SLURM_REQUIRED=1 so a missing cluster fails instead of skipping): the job
 * array runs the shards, the dependent job merges them, and the merged runs.csv is byte for byte
 * what one process writes.
 */
import test from "ava";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const CLI = join(root, "bin", "migsim.js");
const TABLE3 = join(root, "experiments", "table3.yaml");

function slurmAnswers(): boolean {
  const r = spawnSync("sinfo", ["--noheader", "-o", "%T"], { encoding: "utf8", timeout: 10_000 });
  return r.status === 0 && /idle|mix|alloc/.test(r.stdout);
}

const available = slurmAnswers();
const required = process.env["MIGSIM_SLURM_REQUIRED"] === "1";
const maybe = available || required ? test : test.skip;
if (!available && !required) console.log("slurm tests skipped: no Slurm cluster answers (scripts/slurm-up.sh starts one)");

maybe("a sharded sweep as a Slurm job array plus a merge job equals one process", (t) => {
  t.true(available, "Slurm is required here (MIGSIM_SLURM_REQUIRED=1) but sinfo does not answer");
  const d = mkdtempSync(join(tmpdir(), "migsim-slurm-"));
  const out = join(d, "swept");
  const gen = spawnSync(process.execPath, [CLI, "slurm", TABLE3, "--shards", "3", "--out", out, "--runs", "4"], { encoding: "utf8" });
  t.is(gen.status, 0, gen.stderr);
  // --wait on the merge job: returns when it ended, with its exit code
  const sub = spawnSync("bash", [join(out, "slurm", "submit.sh"), "--wait"], { encoding: "utf8", timeout: 120_000 });
  t.is(sub.status, 0, `${sub.stdout}\n${sub.stderr}`);
  t.regex(sub.stdout, /shard array job \d+/);
  for (const s of [0, 1, 2]) t.true(existsSync(join(out, `shard-${s}`, "manifest.json")), `shard ${s} ran`);
  const one = spawnSync(process.execPath, [CLI, "run", TABLE3, "--runs", "4", "--out", join(d, "one"), "--quiet"], { encoding: "utf8" });
  t.is(one.status, 0, one.stderr);
  t.is(readFileSync(join(out, "runs.csv"), "utf8"), readFileSync(join(d, "one", "runs.csv"), "utf8"));
  t.is(readFileSync(join(out, "summary.csv"), "utf8"), readFileSync(join(d, "one", "summary.csv"), "utf8"));
});
