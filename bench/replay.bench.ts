/**
 * Replay benchmark: the flow-level scaling workload of `migsim workload` (src/workload/generate.ts: two-level
 * tree, N hosts, M Poisson transfers) through `replay` on every available network model, each case
 * in its own child process so its peak RSS is its own.
 *
 *   node --import tsx bench/replay.bench.ts            all sizes (N = 1,000 and 10,000; M = 1e3, 1e4, 1e5)
 *   node --import tsx bench/replay.bench.ts --quick    N = 1,000 only, M up to 10,000
 *   node --import tsx bench/replay.bench.ts --all      no time budget (see BUDGET_S)
 *
 * Workloads are generated once (seed 42) and cached under out/bench/workloads/. Prints one line
 * per case and checks the max-min targets: faster than SimGrid 3.32 at each size measured on this
 * machine, N=10,000 M=100,000 under 60 s and 1 GiB, cost close to linear in M.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { generateWorkload } from "../src/workload/generate.ts";

const ROOT = resolve(fileURLToPath(import.meta.url), "..", "..");
const CACHE = join(ROOT, "out", "bench", "workloads");
const SEED = 42;
const REPEATS = 3;
/**
 * A model/N whose case took longer than this skips the larger M (a guard for slow machines: on
 * the reference machine every case runs, the slowest, tcp-fluid at N=10,000 M=100,000, in about
 * 14 s); `--all` lifts it.
 */
const BUDGET_S = process.argv.includes("--all") ? Infinity : 5;

/**
 * SimGrid 3.32 (Debian python3-simgrid, default LV08 model), same workloads: in-process seconds
 * (total_s: load + platform + simulate) of bench/simgrid/replay_simgrid.py, measured 2026-11-29
 * on the machine of docs/network.md's table (2 vCPU AMD EPYC, idle). On another machine
 * re-measure with bench/simgrid/compare.py: SimGrid's times moved by 0.5x-2x between the two
 * machines this project has run on.
 */
const SIMGRID_SECONDS: Record<string, number> = {
  "1000x1000": 0.35,
  "1000x10000": 3.3,
  "1000x100000": 32.8,
  "10000x1000": 1.34,
  "10000x10000": 34.2,
  "10000x100000": 391,
};

interface ChildReport {
  model: string;
  hosts: number;
  transfers: number;
  loadS: number;
  simulateS: number;
  writeS: number;
  totalS: number;
  events: number;
  peakRssMiB: number;
  unfinished: number;
}

function workload(hosts: number, transfers: number): string {
  const file = join(CACHE, `wl_N${hosts}_M${transfers}_s${SEED}.json`);
  if (!existsSync(file)) {
    mkdirSync(CACHE, { recursive: true });
    writeFileSync(file, JSON.stringify(generateWorkload({ hosts, transfers, seed: SEED })));
  }
  return file;
}

/** Child: one replay, measured in-process; prints a JSON report on stdout. */
async function child(file: string, model: string, out: string): Promise<void> {
  const { replayWorkload } = await import("../src/network/replay.ts");
  const { loadWorkloadFile } = await import("../src/workload/generate.ts");
  const { writeTransfersCsv } = await import("../src/outputs/transfers.ts");
  const t0 = performance.now();
  const w = loadWorkloadFile(file);
  const t1 = performance.now();
  const r = replayWorkload(w, model as "max-min");
  const t2 = performance.now();
  writeTransfersCsv(out, w, r);
  const t3 = performance.now();
  let unfinished = 0;
  for (const e of r.end) if (Number.isNaN(e)) unfinished++;
  const report: ChildReport = {
    model,
    hosts: w.hostNames.length,
    transfers: w.ids.length,
    loadS: (t1 - t0) / 1000,
    simulateS: (t2 - t1) / 1000,
    writeS: (t3 - t2) / 1000,
    totalS: (t3 - t0) / 1000,
    events: r.events,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    unfinished,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

async function parent(quick: boolean): Promise<void> {
  const { MODEL_NAMES: AVAILABLE_MODELS } = await import("../src/network/network-model.ts");
  const sizes: Array<[number, number]> = [];
  for (const n of quick ? [1000] : [1000, 10000]) for (const m of quick ? [1000, 10000] : [1000, 10000, 100000]) sizes.push([n, m]);
  const results: ChildReport[] = [];
  const faster: boolean[] = [];
  console.log(`replay benchmark on ${process.version}, models: ${AVAILABLE_MODELS.join(", ")}`);
  // process_s: whole child process (node + tsx start-up included); replay_s: load + simulate + write CSV,
  // the counterpart of SimGrid's in-process time; transfers/s over replay_s.
  console.log("hosts   transfers model     process_s  replay_s  simulate_s  peak_MiB  transfers/s  SimGrid_s");
  const tooSlow = new Set<string>();
  for (const [n, m] of sizes) {
    const file = workload(n, m);
    for (const model of AVAILABLE_MODELS) {
      if (tooSlow.has(`${model}/${n}`)) {
        console.log(`${String(n).padEnd(7)} ${String(m).padEnd(9)} ${model.padEnd(9)}   skipped: a smaller M took over ${BUDGET_S} s (--all runs it)`);
        continue;
      }
      const out = join(ROOT, "out", "bench", `replay_${model}_N${n}_M${m}`);
      // Best of a few runs for short cases (other jobs share the machine); one run for long ones.
      let best: { r: ChildReport; wall: number } | undefined;
      for (let rep = 0; rep < REPEATS; rep++) {
        const t0 = performance.now();
        const stdout = execFileSync(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--child", file, model, out], {
          cwd: ROOT,
          encoding: "utf8",
          maxBuffer: 1 << 20,
        });
        const wall = (performance.now() - t0) / 1000;
        const r = JSON.parse(stdout.trim().split("\n").pop()!) as ChildReport;
        if (!best || r.totalS < best.r.totalS) best = { r, wall };
        if (wall > 5) break;
      }
      const { r, wall } = best!;
      if (wall > BUDGET_S) tooSlow.add(`${model}/${n}`);
      results.push(r);
      const sg = SIMGRID_SECONDS[`${n}x${m}`];
      if (sg !== undefined && model === "max-min") faster.push(r.totalS < sg);
      console.log(
        `${String(n).padEnd(7)} ${String(m).padEnd(9)} ${model.padEnd(9)} ${wall.toFixed(2).padStart(9)} ${r.totalS.toFixed(2).padStart(9)} ` +
          `${r.simulateS.toFixed(2).padStart(11)} ${r.peakRssMiB.toFixed(0).padStart(9)} ${Math.round(m / r.totalS)
            .toString()
            .padStart(12)} ` +
          `${sg === undefined ? "-" : String(sg)}`.padStart(10) +
          (r.unfinished ? `  (${r.unfinished} unfinished!)` : ""),
      );
    }
  }
  // Targets for max-min.
  if (faster.length) console.log(`target faster than SimGrid (replay_s vs SimGrid in-process): ${faster.filter(Boolean).length}/${faster.length} sizes`);
  const mm = (n: number, m: number): ChildReport | undefined => results.find((r) => r.model === "max-min" && r.hosts === n && r.transfers === m);
  const big = mm(10000, 100000);
  if (big) {
    console.log(
      `target N=10,000 M=100,000: replay ${big.totalS.toFixed(1)} s (< 60 s: ${big.totalS < 60 ? "met" : "MISSED"}), ` +
        `peak ${big.peakRssMiB.toFixed(0)} MiB (< 1024: ${big.peakRssMiB < 1024 ? "met" : "MISSED"})`,
    );
  }
  for (const n of [1000, 10000]) {
    const a = mm(n, 10000);
    const b = mm(n, 100000);
    if (a && b) console.log(`growth N=${n}: simulate(M=100,000) / simulate(M=10,000) = ${(b.simulateS / a.simulateS).toFixed(1)} (linear: 10)`);
  }
  // Target for tcp-fluid: at most 10x the max-min time, on replay_s (load + simulate + write).
  for (const r of results) {
    if (r.model !== "tcp-fluid") continue;
    const base = mm(r.hosts, r.transfers);
    if (!base) continue;
    const ratio = r.totalS / base.totalS;
    console.log(
      `target tcp-fluid <= 10x max-min, N=${r.hosts} M=${r.transfers}: replay ${ratio.toFixed(1)}x ` + `(simulate ${(r.simulateS / base.simulateS).toFixed(1)}x): ${ratio <= 10 ? "met" : "MISSED"}`,
    );
  }
}

const args = process.argv.slice(2);
if (args[0] === "--child") await child(args[1]!, args[2]!, args[3]!);
else await parent(args.includes("--quick"));
