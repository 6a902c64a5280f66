/**
 * Data-center scale (issue 31): the workload of bench/datacenter-workload.ts with the MTD
 * policies' default semantics (a fresh secret and table before every migration, sent to every
 * key holder one after the other), one run of each of the six policies per network model, timed
 * as a user waits for it: a whole `migsim run FILE --runs N --no-plots` process (Node's start,
 * loading, the pre-run check, the runs, the tables), its wall time divided by its runs, its CPU
 * time and its peak memory.
 *
 *   npm run bench -- datacenter            k=16 (1,024 hosts, 300 flows, 200 migrations), both models
 *   npm run bench -- datacenter --large    also k=32 (8,192 hosts, 1,000 flows, 1,000 migrations):
 *                                          under a minute with max-min, far longer with tcp-fluid, where every
 *                                          MTD migration first re-keys 8,191 holders over the queues
 *                                          (docs/benchmarks.md)
 *   --runs=N                               runs per policy (default 1)
 *   --profile                              also where the time of each k=16 case goes: the same
 *                                          runs in-process under V8's sampling profiler, by phase
 *   --model=max-min|tcp-fluid              one network model only (k=32 tcp-fluid takes far longer
 *                                          than max-min)
 *
 * Targets: k=16 under 0.3 s a run with max-min and under 1 s a run with tcp-fluid, peak under
 * 500 MB; k=32 under 5 s a run with max-min and under 30 s a run with tcp-fluid, peak under 2 GB.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { datacenterYaml } from "./datacenter-workload.ts";

const ROOT = resolve(fileURLToPath(import.meta.url), "..", "..");
const SELF = fileURLToPath(import.meta.url);
const CLI = join(ROOT, "bin", "migsim.js");
/** deadlines of one case's process: a k=16 case takes well under a minute, k=32 tens of minutes */
const K16_DEADLINE_S = 20 * 60;
const K32_DEADLINE_S = 3 * 60 * 60;

interface CaseReport {
  label: string;
  model: string;
  hosts: number;
  migrations: number;
  loadS: number;
  runs: Array<{ policy: string; seconds: number; rows: number }>;
  peakMiB: number;
  phases: Record<string, number>;
}

const PHASES = ["load", "compile", "routing", "policy decisions", "kernel", "network model", "migration + measurement", "records", "gc", "other"] as const;

/** Which phase a profiled function belongs to, from its source file (undefined: inherit the caller's). */
function phaseOf(url: string, fn: string): string | undefined {
  if (fn === "(garbage collector)") return "gc";
  if (!url || url.startsWith("node:")) return undefined;
  const p = url.replace(/^file:\/\//, "");
  if (p.includes("/node_modules/")) {
    if (/\/node_modules\/(yaml|zod)\//.test(p)) return "load";
    if (p.includes("/csv-stringify/")) return "records";
    return undefined;
  }
  // (the topology modules live in src/network/topology/ since the network split: matched there,
  // or compile and routing fall into "network model"; .ts through tsx, .js from dist/)
  if (/\/src\/(load\/|formats\/|core\/(yamlsource|units)\.)|\/src\/network\/topology\/(load|generators)\.[jt]s/.test(p)) return "load";
  if (p.includes("/src/network/topology/compile")) return "compile";
  if (p.includes("/src/network/topology/routing")) return "routing";
  if (p.includes("/src/policies/")) return "policy decisions";
  if (p.includes("/src/kernel/")) return "kernel";
  if (p.includes("/src/network/")) return "network model";
  if (/\/src\/(migration|measurement)\/|\/backends\/sim\//.test(p)) return "migration + measurement";
  if (p.includes("/src/outputs/") || p.includes("/src/reports/")) return "records";
  return undefined;
}

interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function phaseSeconds(profile: Profile): Record<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const phase = new Map<number, string>();
  const resolvePhase = (id: number): string => {
    const hit = phase.get(id);
    if (hit) return hit;
    const n = byId.get(id)!;
    const own = phaseOf(n.callFrame.url, n.callFrame.functionName);
    const up = parent.get(id);
    const p = own ?? (up === undefined ? "other" : resolvePhase(up));
    phase.set(id, p);
    return p;
  };
  const out: Record<string, number> = {};
  profile.samples.forEach((id, i) => {
    const p = resolvePhase(id);
    out[p] = (out[p] ?? 0) + (profile.timeDeltas[i] ?? 0) / 1e6;
  });
  return out;
}

async function child(file: string, model: string, runs: number, label: string, profiled: boolean, set: string[]): Promise<void> {
  const session = new Session();
  if (profiled) {
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.start");
  }
  // imported here so the profile sees module loading as part of "load"; the compiled dist/ that
  // `migsim run` executes (npm run bench builds it first), not the sources through tsx, whose
  // transpiled modules and loader thread added 80-240 MiB to the peak and slowed the first run
  const t0 = performance.now();
  const { loadExperiment } = await import("../dist/src/load/read-experiment.js");
  const { specAt } = await import("../dist/src/run/plan.js");
  const { csvLines, runColumns, runRowValues } = await import("../dist/src/outputs/csv.js");
  const { SimBackend } = await import("../dist/backends/sim/backend.js");
  const exp = loadExperiment(file, { runs, set });
  const cell = exp.cells.find((c) => c.base.network.model === model);
  if (!cell) throw new Error(`no cell with model ${model} in ${file}`);
  const loadS = (performance.now() - t0) / 1000;
  const backend = new SimBackend();
  const axes = exp.axes.map((a) => a.path);
  let text = csvLines([runColumns(axes)]);
  const report: CaseReport = {
    label,
    model,
    hosts: cell.base.topology.hosts.length,
    migrations: cell.base.migrations.length,
    loadS,
    runs: [],
    peakMiB: 0,
    phases: {},
  };
  const perCell = exp.policies.length * exp.runs;
  for (let k = cell.index * perCell; k < (cell.index + 1) * perCell; k++) {
    const spec = specAt(exp, k);
    const t = performance.now();
    const result = await backend.execute(spec);
    text += csvLines(result.records.map((r) => runRowValues(r, cell.axes, axes)));
    report.runs.push({ policy: spec.policy.name, seconds: (performance.now() - t) / 1000, rows: result.records.length });
  }
  if (text.length === 0) throw new Error("no rows");
  if (profiled) {
    const { profile } = (await session.post("Profiler.stop")) as { profile: Profile };
    report.phases = phaseSeconds(profile);
  }
  report.peakMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

function spawnCase(file: string, model: string, runs: number, label: string, profiled: boolean, set: string[], deadlineS: number): CaseReport {
  const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", SELF, "--child", file, model, String(runs), label, String(profiled), ...set], {
    encoding: "utf8",
    maxBuffer: 1 << 26,
    stdio: ["ignore", "pipe", "inherit"],
    // (the child is one Node process with no children of its own: killing it leaves nothing behind)
    timeout: deadlineS * 1000,
  });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ETIMEDOUT") throw new Error(`${label} ${model} did not finish within ${deadlineS} s; stopped`);
  if (r.status !== 0) throw new Error(`${label} ${model} failed (${r.status ?? r.signal})`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as CaseReport;
}

/** where a profiled case's time went, by phase */
function printProfile(c: CaseReport): void {
  const total = Object.values(c.phases).reduce((a, b) => a + b, 0);
  const parts = PHASES.filter((p) => (c.phases[p] ?? 0) > 0).map((p) => `${p} ${c.phases[p]!.toFixed(2)} s (${((100 * c.phases[p]!) / total).toFixed(0)}%)`);
  console.log(`  ${c.label}, profile (self time, ${total.toFixed(2)} s): ${parts.join(", ")}`);
  console.log(`  per run (profiled): ${c.runs.map((r) => `${r.policy} ${r.seconds.toFixed(3)}`).join(", ")}`);
}

/** a whole `migsim run` of `file`: wall seconds, CPU seconds and peak RSS of the process, its runs */
function wholeRun(file: string, runs: number, deadlineS: number): { seconds: number; cpuS: number; peakMiB: number; runs: number } {
  const out = mkdtempSync(join(tmpdir(), "migsim-bench-dc-out-"));
  try {
    // (the preload reports the process's own peak and CPU time as it exits: no external `time`)
    const report = "process.on('exit',()=>{const u=process.resourceUsage();process.stderr.write(`\\nbench-usage ${u.maxRSS} ${u.userCPUTime+u.systemCPUTime}\\n`)})";
    const args = ["--import", `data:text/javascript,${encodeURIComponent(report)}`, CLI, "run", file, "--runs", String(runs), "--no-plots", "--quiet", "--out", out];
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 26, timeout: deadlineS * 1000 });
    const seconds = (performance.now() - t0) / 1000;
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ETIMEDOUT") throw new Error(`migsim run ${file} did not finish within ${deadlineS} s; stopped`);
    if (r.status !== 0) throw new Error(`migsim run ${file} failed (${r.status ?? r.signal}): ${r.stderr}`);
    const usage = /bench-usage (\d+) (\d+)/.exec(r.stderr);
    const done = /(\d+) runs in /.exec(r.stdout);
    if (!usage || !done) throw new Error(`migsim run ${file}: no usage or run count in its output`);
    return { seconds, cpuS: Number(usage[2]) / 1e6, peakMiB: Number(usage[1]) / 1024, runs: Number(done[1]) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function verdict(ok: boolean): string {
  return ok ? "met" : "MISSED";
}

const argv = process.argv.slice(2);
if (argv[0] === "--child") {
  await child(argv[1]!, argv[2]!, Number(argv[3]), argv[4]!, argv[5] === "true", argv.slice(6));
} else {
  // (`--runs=N` and `--model=M` in one word: bench/run.ts takes a word without `--` for a bench's name)
  const runs = Number(argv.find((a) => a.startsWith("--runs="))?.slice("--runs=".length) ?? 1);
  if (!(Number.isInteger(runs) && runs >= 1)) throw new Error("--runs=N: a whole number >= 1");
  const only = argv.find((a) => a.startsWith("--model="))?.slice("--model=".length);
  const models = (["max-min", "tcp-fluid"] as const).filter((m) => only === undefined || only === m);
  if (models.length === 0) throw new Error(`--model=${only}: max-min or tcp-fluid`);
  const targets: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), "migsim-bench-dc-"));
  const sizes = [
    { k: 16, flows: 300, migrations: 200, aims: { "max-min": 0.3, "tcp-fluid": 1 }, peakMiB: 500, deadlineS: K16_DEADLINE_S },
    ...(argv.includes("--large") ? [{ k: 32, flows: 1000, migrations: 1000, aims: { "max-min": 5, "tcp-fluid": 30 }, peakMiB: 2048, deadlineS: K32_DEADLINE_S }] : []),
  ];
  try {
    console.log(`whole \`migsim run --runs ${runs} --no-plots\` processes, six policies, MTD re-keying before every migration (one holder after the other)`);
    for (const size of sizes) {
      for (const model of models) {
        const file = join(dir, `datacenter-k${size.k}-${model}.yaml`);
        writeFileSync(file, datacenterYaml({ k: size.k, flows: size.flows, migrations: size.migrations, window: 10, runs, rekey: "per-migration", model }));
        const w = wholeRun(file, runs, size.deadlineS);
        const perRun = w.seconds / w.runs;
        console.log(
          `k=${size.k} ${model}: ${size.k ** 3 / 4} hosts, ${size.flows} flows, ${size.migrations} migrations; ${w.runs} runs in ${w.seconds.toFixed(2)} s wall` +
            ` (${perRun.toFixed(3)} s/run), ${w.cpuS.toFixed(2)} s CPU, peak ${w.peakMiB.toFixed(0)} MiB`,
        );
        targets.push(`k=${size.k} ${model}: ${perRun.toFixed(3)} s/run (aim < ${size.aims[model]} s) ${verdict(perRun < size.aims[model])}`);
        targets.push(`k=${size.k} ${model}: peak ${w.peakMiB.toFixed(0)} MiB (aim < ${size.peakMiB} MiB) ${verdict(w.peakMiB < size.peakMiB)}`);
        if (argv.includes("--profile") && size.k === 16) printProfile(spawnCase(file, model, runs, `k=16 ${model} in-process`, true, [], K16_DEADLINE_S));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log("targets:");
  for (const t of targets) console.log(`  ${t}`);
}
