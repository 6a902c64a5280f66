/**
 * Sweep throughput: 10,002 runs of the Table I scenario (3 policies x 3,334 runs) through the
 * real CLI (`node bin/migsim.js run`, compiled dist/), at --jobs 1 and --jobs 2, and the wall
 * time of `migsim reproduce` including Node's start. Aims: >= 2,000 runs/s with two workers,
 * two workers at least 1.6x one in the run loop (issue 17); reproduce under 3 s.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const cli = join(root, "bin", "migsim.js");
const table1 = join(root, "experiments", "table1.yaml");
const REPEATS = 3;

function wall(args: string[]): { seconds: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`migsim ${args.join(" ")} failed: ${r.stderr}`);
  return { seconds, stdout: r.stdout };
}

const dir = mkdtempSync(join(tmpdir(), "migsim-bench-sweep-"));
try {
  console.log("sweep of the Table I scenario, 3 policies x 3334 runs = 10002 runs, best of 3 (wall time of the whole command)");
  const loop: number[] = [];
  for (const jobs of [1, 2]) {
    let best = Infinity;
    let inner = Infinity;
    for (let i = 0; i < REPEATS; i++) {
      const r = wall(["run", table1, "--runs", "3334", "--jobs", String(jobs), "--out", join(dir, `j${jobs}-${i}`), "--quiet"]);
      best = Math.min(best, r.seconds);
      const m = / in ([0-9.]+) s/.exec(r.stdout);
      if (m) inner = Math.min(inner, Number(m[1]));
    }
    loop.push(inner);
    console.log(`  --jobs ${jobs}: ${(10002 / best).toFixed(0)} runs/s over the whole command (${best.toFixed(2)} s), ${(10002 / inner).toFixed(0)} runs/s in the run loop (${inner.toFixed(2)} s)${jobs === 2 ? "   aim >= 2000 runs/s" : ""}`);
  }
  const speedup = loop[0]! / loop[1]!;
  console.log(`  --jobs 2 / --jobs 1 in the run loop: ${speedup.toFixed(2)}x   aim >= 1.6x ${speedup >= 1.6 ? "met" : "MISSED"}`);
  let best = Infinity;
  for (let i = 0; i < REPEATS; i++) best = Math.min(best, wall(["reproduce", "--out", join(dir, `reproduce-${i}`)]).seconds);
  console.log(`migsim reproduce (Tables I-III, 180 runs, with Node's start): ${best.toFixed(2)} s wall   aim < 3 s`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
