/**
 * tcp-fluid at k=32 (issue 31: under 30 s a run, peak under 2 GB), one policy at a time: the
 * bench's k=32 workload (bench/datacenter-workload.ts `32 1000 1000`, MTD re-keying before every
 * migration) as one file per policy, each timed as a whole `migsim run FILE --runs 1 --no-plots`
 * process (Node's start, loading, the pre-run check, the run, the tables): wall time, CPU time,
 * peak memory, and the run alone as the CLI reports it. `npm run bench -- datacenter --large`
 * times both models and all six policies in one process each; this isolates each policy's run.
 *
 *   npm run build && node --import tsx bench/fluid-k32.ts [POLICY...]   (default: all six)
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { datacenterYaml } from "./datacenter-workload.ts";

const ROOT = resolve(fileURLToPath(import.meta.url), "..", "..");
const CLI = join(ROOT, "bin", "migsim.js");
const DEADLINE_S = 60 * 60;
const AIM_S = 30;
const AIM_MIB = 2048;

const yaml = datacenterYaml({ k: 32, flows: 1000, migrations: 1000, window: 10, runs: 1, rekey: "per-migration", model: "tcp-fluid" });
const [head, policyBlock] = yaml.split("policies:\n") as [string, string];
const lines = policyBlock.trim().split("\n");
const named = process.argv.slice(2);
const chosen = lines.filter((l) => named.length === 0 || named.includes(l.replace(/^ *- /, "").split(":")[0]!));
if (chosen.length === 0) {
  process.stderr.write(`no policy ${named.join(", ")} in the workload (${lines.map((l) => l.trim()).join("; ")})\n`);
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), "migsim-bench-fluid-k32-"));
try {
  console.log("k=32 tcp-fluid (8192 hosts, 1000 flows, 1000 migrations), one whole `migsim run --runs 1 --no-plots` process per policy");
  for (const line of chosen) {
    const policy = line.replace(/^ *- /, "").split(":")[0]!;
    const file = join(dir, `k32-${policy}.yaml`);
    writeFileSync(file, `${head}policies:\n${line}\n`);
    // (the preload reports the process's own peak and CPU time as it exits)
    const report = "process.on('exit',()=>{const u=process.resourceUsage();process.stderr.write(`\\nbench-usage ${u.maxRSS} ${u.userCPUTime+u.systemCPUTime}\\n`)})";
    const out = join(dir, `out-${policy}`);
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(report)}`, CLI, "run", file, "--runs", "1", "--no-plots", "--quiet", "--out", out], {
      encoding: "utf8",
      timeout: DEADLINE_S * 1000,
    });
    const wall = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`${policy}: migsim run failed (${r.status ?? r.signal}): ${r.stderr}`);
    const usage = /bench-usage (\d+) (\d+)/.exec(r.stderr);
    const run = /1 runs in ([\d.]+) s/.exec(r.stdout);
    if (!usage || !run) throw new Error(`${policy}: no usage or run time in the output`);
    const peak = Number(usage[1]) / 1024;
    console.log(
      `${policy}: ${wall.toFixed(1)} s wall (the run ${run[1]} s), ${(Number(usage[2]) / 1e6).toFixed(1)} s CPU, peak ${peak.toFixed(0)} MiB;` +
        ` aim < ${AIM_S} s ${wall < AIM_S ? "met" : "MISSED"}, < ${AIM_MIB} MiB ${peak < AIM_MIB ? "met" : "MISSED"}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
