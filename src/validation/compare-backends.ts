/**
 * `migsim compare`: the same experiment on the simulator and on a Mininet testbed, each with its
 * full output folder, then a validation report of the simulator's error, cell by cell and phase
 * by phase: simulated mean vs emulated mean and the relative error (sim - emu) / emu.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../outputs/atomic.ts";
import { csvLines, readProbesCsv, readRunsCsv } from "../outputs/csv.ts";
import { FAILED_FILE, readFailedCsv } from "../outputs/failed.ts";
import { validationChart } from "../reports/plot-validation.ts";
import { renderSvg, svgToPng } from "../reports/plots.ts";
import { describe as stats, type Stats } from "../core/stats.ts";
import type { RunFailure, RunRecord } from "../formats/runspec.ts";
import { InputError } from "../core/errors.ts";
import { type BACKEND_NAMES, createBackend } from "../run/backend-registry.ts";
import { loadExperiment, type Experiment } from "../load/read-experiment.ts";
import { checkModes, type SkippedCell } from "../run/backend-modes.ts";
import { runExperiment, type RunOptions, type RunOutcome } from "../run/run-experiment.ts";

/** Phases compared, in protocol order. */
const COMPARED = ["decision_s", "key_retrieval_s", "checkpoint_s", "transfer_s", "restore_s", "downtime_s", "total_s"] as const;

/**
 * Below a millisecond on both sides a phase is not there (a decision the testbed's driver takes in
 * 60 us, simulated as 0): a relative error of such means says -100% and nothing else, so it is n/a.
 */
const NEGLIGIBLE_S = 1e-3;

/** A backend's records of a comparison: the run folder `compare` writes under its own, one per backend. */
export const backendOut = (outDir: string, backend: (typeof BACKEND_NAMES)[number]): string => join(outDir, backend);

export function relativeErrorPct(sim: number, emu: number): number {
  if (emu === 0 || (Math.abs(sim) < NEGLIGIBLE_S && Math.abs(emu) < NEGLIGIBLE_S)) return Number.NaN;
  return (100 * (sim - emu)) / emu;
}

export interface ComparisonRow {
  cell: string;
  policy: string;
  metric: string;
  sim: Stats;
  emu: Stats;
  /** (sim mean - emu mean) / emu mean, percent (relativeErrorPct): NaN when the emulated mean is 0 or both are below 1 ms */
  errorPct: number;
}

export interface CompareOptions extends Omit<RunOptions, "backend" | "out" | "shard" | "skipModes"> {
  out?: string | undefined;
  testbed?: string | undefined;
  /** run the other modes when the testbed cannot run pre-copy, its cells reported as skipped (otherwise refused) */
  skipPrecopy?: boolean | undefined;
}

export interface CompareOutcome {
  /** the experiment as loaded (under its profile and --set) */
  experiment: Experiment;
  outDir: string;
  rows: ComparisonRow[];
  /** testbed runs that failed or overran (left out of the comparison, listed in the report) */
  failed: RunFailure[];
  /** testbed runs executed */
  emulatedRuns: number;
  /** probe round trips, simulated vs emulated, per (cell, from, to) */
  probes: ProbeComparison[];
  /** cells the testbed could not run (--skip-precopy) */
  skipped: SkippedCell[];
}

export async function compareBackends(opts: CompareOptions): Promise<CompareOutcome> {
  const base = { ...opts };
  const experiment = loadExperiment(opts.file, opts);
  // Comparing a testbed with the paper's fit measures the paper's testbed against this one, not
  // the simulator: the comparison must say which profile it trusts.
  if (!experiment.profileChosen) {
    throw new InputError(
      "compare needs a testbed profile: run `migsim calibrate --testbed URL --out testbed.yaml`, then `migsim compare FILE --profile testbed.yaml` " +
        "(or `--profile paper` to compare with the paper's fit on purpose)",
      { file: opts.file, field: "profile" },
    );
  }
  const name = experiment.name;
  const outDir = resolve(opts.out ?? join("out", `${name}-compare`));
  const backendOptions = { ...opts.backendOptions, testbed: opts.testbed ?? opts.backendOptions?.testbed };
  const skipModes = opts.skipPrecopy ? ["pre-copy"] : [];
  // the testbed's preflight first: a mode it cannot run is refused before the simulator's runs too
  const testbed = opts.session ?? createBackend("mininet", backendOptions);
  let sim: RunOutcome;
  let emu: RunOutcome;
  try {
    await checkModes(experiment, testbed, skipModes);
    sim = await runExperiment({ ...base, backend: "sim", session: undefined, out: backendOut(outDir, "sim") });
    emu = await runExperiment({ ...base, backend: "mininet", session: testbed, skipModes, out: backendOut(outDir, "mininet"), backendOptions });
  } finally {
    if (!opts.session) await testbed.close?.();
  }
  const { skipped } = emu;
  if (!emu.completed) return { experiment, outDir, rows: [], failed: [], emulatedRuns: emu.runsExecuted, probes: [], skipped };
  const failedFile = join(backendOut(outDir, "mininet"), FAILED_FILE);
  const failed = existsSync(failedFile) ? readFailedCsv(failedFile) : [];
  const simRows = readRunsCsv(join(backendOut(outDir, "sim"), "runs.csv")).rows.map((r) => r.record);
  const emuRows = readRunsCsv(join(backendOut(outDir, "mininet"), "runs.csv")).rows.map((r) => r.record);
  const rows = compareRecords(simRows, emuRows);
  const probes = compareProbes(join(backendOut(outDir, "sim"), "probes.csv"), join(backendOut(outDir, "mininet"), "probes.csv"));
  writeFileAtomic(join(outDir, "validation.csv"), validationCsv(rows));
  writeFileAtomic(join(outDir, "validation.md"), validationMarkdown(sim.experiment.name, rows, probes, failed, skipped));
  const svg = await renderSvg(validationChart(sim.experiment.name, rows));
  writeFileAtomic(join(outDir, "validation.svg"), svg);
  writeFileAtomic(join(outDir, "validation.png"), svgToPng(svg));
  return { experiment, outDir, rows, failed, emulatedRuns: emu.runsExecuted, probes, skipped };
}

function compareRecords(sim: readonly RunRecord[], emu: readonly RunRecord[]): ComparisonRow[] {
  const groups = new Map<string, { cell: string; policy: string; sim: RunRecord[]; emu: RunRecord[] }>();
  const key = (r: RunRecord): string => `${r.cell}\u0000${r.policy}`;
  for (const [side, list] of [
    ["sim", sim],
    ["emu", emu],
  ] as const) {
    for (const r of list) {
      let g = groups.get(key(r));
      if (!g) groups.set(key(r), (g = { cell: r.cell, policy: r.policy, sim: [], emu: [] }));
      g[side].push(r);
    }
  }
  const rows: ComparisonRow[] = [];
  for (const g of groups.values()) {
    if (g.sim.length === 0 || g.emu.length === 0) continue;
    for (const metric of COMPARED) {
      const s = stats(g.sim.map((r) => r[metric]));
      const e = stats(g.emu.map((r) => r[metric]));
      rows.push({ cell: g.cell, policy: g.policy, metric, sim: s, emu: e, errorPct: relativeErrorPct(s.mean, e.mean) });
    }
  }
  return rows;
}

export interface ProbeComparison {
  cell: string;
  from: string;
  to: string;
  sim: Stats;
  emu: Stats;
}

function compareProbes(simFile: string, emuFile: string): ProbeComparison[] {
  const group = (file: string): Map<string, number[]> => {
    const m = new Map<string, number[]>();
    for (const p of readProbesCsv(file)) {
      const k = `${p.cell}\u0000${p.from}\u0000${p.to}`;
      (m.get(k) ?? m.set(k, []).get(k)!).push(p.rtt_s);
    }
    return m;
  };
  const s = group(simFile);
  const e = group(emuFile);
  const out: ProbeComparison[] = [];
  for (const [k, xs] of s) {
    const ys = e.get(k);
    if (!ys) continue;
    const [cell, from, to] = k.split("\u0000") as [string, string, string];
    out.push({ cell, from, to, sim: stats(xs), emu: stats(ys) });
  }
  return out;
}

const f = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : "n/a");

function validationCsv(rows: readonly ComparisonRow[]): string {
  return csvLines([
    ["cell", "policy", "metric", "sim_n", "sim_mean", "sim_ci95", "emu_n", "emu_mean", "emu_ci95", "error_pct"],
    ...rows.map((r) => [r.cell, r.policy, r.metric, r.sim.n, r.sim.mean, r.sim.ci95, r.emu.n, r.emu.mean, r.emu.ci95, r.errorPct]),
  ]);
}

function validationMarkdown(name: string, rows: readonly ComparisonRow[], probes: readonly ProbeComparison[], failed: readonly RunFailure[] = [], skipped: readonly SkippedCell[] = []): string {
  const lines = [`# Validation of the simulator against the testbed: ${name}`, "", "Simulated and emulated means with 95% CI half-widths (Student t); error = (sim - emu) / emu.", ""];
  const cells = [...new Set(rows.map((r) => r.cell))];
  for (const cell of cells) {
    lines.push(`## cell ${cell}`, "", "| policy | metric | simulated (s) | emulated (s) | error |", "|---|---|---:|---:|---:|");
    for (const r of rows.filter((x) => x.cell === cell)) {
      lines.push(
        `| ${r.policy} | ${r.metric} | ${f(r.sim.mean)} ± ${f(r.sim.ci95)} (n=${r.sim.n}) | ${f(r.emu.mean)} ± ${f(r.emu.ci95)} (n=${r.emu.n}) | ${Number.isFinite(r.errorPct) ? `${r.errorPct.toFixed(1)}%` : "n/a"} |`,
      );
    }
    lines.push("");
  }
  if (probes.length) {
    lines.push("## probes (round-trip times)", "", "| cell | from | to | simulated (s) | emulated (s) |", "|---|---|---|---:|---:|");
    for (const p of probes) lines.push(`| ${p.cell} | ${p.from} | ${p.to} | ${f(p.sim.mean, 4)} ± ${f(p.sim.ci95, 4)} | ${f(p.emu.mean, 4)} ± ${f(p.emu.ci95, 4)} |`);
    lines.push("");
  }
  if (failed.length) {
    lines.push(
      "## testbed runs that failed",
      "",
      "Left out of the means above (n counts only the runs that finished).",
      "",
      "| cell | policy | run | migration | phase | error |",
      "|---|---|--:|--:|---|---|",
    );
    for (const x of failed) {
      lines.push(`| ${x.cell} | ${x.policy} | ${x.run} | ${x.migration < 0 ? "-" : x.migration} | ${x.phase} | ${x.message.replace(/\|/g, "\\|")} |`);
    }
    lines.push("");
  }
  if (skipped.length) {
    lines.push("## cells skipped on the testbed", "", "Run by the simulator only: the testbed cannot run their mode (`--skip-precopy`).", "", "| cell | mode | why |", "|---|---|---|");
    for (const x of skipped) lines.push(`| ${x.cell} | ${x.mode} | ${x.reason.replace(/\|/g, "\\|")} |`);
    lines.push("");
  }
  return `${lines.join("\n")}\n`;
}
