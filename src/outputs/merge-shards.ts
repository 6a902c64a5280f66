/**
 * `migsim merge`: join the output folders of the shards of one plan into the folder one process
 * would have written. Rows are copied verbatim (no number re-formatting) and interleaved by plan
 * index using each shard's manifest (`runs`: plan index -> row counts), so runs.csv and
 * probes.csv come out byte-identical to a single-process run; summary and plots are then
 * regenerated from the merged rows. Shards of different experiments, seeds, inputs or plans,
 * shards given twice, missing or incomplete shards are refused with an InputError.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import { InputError } from "../core/errors.ts";
import { CsvFileWriter, checkProbesHeader, parseRunsRaw, readCsvRaw, axesOfRunsHeader, type RawCsv } from "./csv.ts";
import { buildManifest, readManifest, writeManifest, type Manifest, type RunIndexEntry } from "./write-manifest.ts";
import { formatShard, shardIndices, shardOf } from "./shards.ts";
import { removePreviousOutputs } from "./previous-runs.ts";
import { resumeCommand } from "./partial.ts";
import { quote } from "../core/shell.ts";
import type { IntervalSpec } from "../core/stats.ts";
import { writeReport, writeTracePlot, type PlotFormats, type TraceData } from "../reports/write-report.ts";

export interface MergeOptions {
  /** command line recorded in the merged manifest */
  command: string[];
  /** plot files to write (default SVG and PNG) */
  plots?: PlotFormats;
}

export interface MergeResult {
  runs: number;
  runRows: number;
  probeRows: number;
  files: string[];
  /** differences that do not change results but deserve a look (e.g. node versions) */
  warnings: string[];
}

interface ShardInput {
  dir: string;
  manifest: Manifest;
  runs: RawCsv;
  probes: RawCsv;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function realOrResolved(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

function loadShard(dir: string): ShardInput {
  const manifest = readManifest(dir);
  const runs = readCsvRaw(join(dir, "runs.csv"));
  axesOfRunsHeader(runs.header, runs.file);
  const probes = readCsvRaw(join(dir, "probes.csv"));
  checkProbesHeader(probes.header, probes.file);
  const wantRuns = manifest.runs.reduce((s, e) => s + e[1], 0);
  const wantProbes = manifest.runs.reduce((s, e) => s + e[2], 0);
  if (runs.rows.length !== wantRuns) {
    throw new InputError(`has ${runs.rows.length} rows but its manifest.json lists ${wantRuns}`, { file: runs.file });
  }
  if (probes.rows.length !== wantProbes) {
    throw new InputError(`has ${probes.rows.length} rows but its manifest.json lists ${wantProbes}`, { file: probes.file });
  }
  return { dir, manifest, runs, probes };
}

/** Check that the shards belong together and cover the plan exactly once; shards in shard order. */
function checkShards(shards: ShardInput[]): { ordered: ShardInput[]; warnings: string[] } {
  const warnings: string[] = [];
  const first = shards[0]!;
  const m0 = first.manifest;
  const count = m0.plan.shard?.count ?? 1;
  for (const s of shards) {
    const m = s.manifest;
    const file = join(s.dir, "manifest.json");
    const differ = (what: string, a: unknown, b: unknown) =>
      new InputError(`${what} differs from ${join(first.dir, "manifest.json")} (${JSON.stringify(b)} vs ${JSON.stringify(a)}): shards of different runs cannot be merged`, { file });
    if (m.experiment !== m0.experiment) throw differ("experiment", m.experiment, m0.experiment);
    if (m.seed !== m0.seed) throw differ("seed", m.seed, m0.seed);
    if (m.backend !== m0.backend) throw differ("backend", m.backend, m0.backend);
    const { shard: _a, ...plan } = m.plan;
    const { shard: _b, ...plan0 } = m0.plan;
    if (!same(plan, plan0)) throw differ("plan", plan, plan0);
    const sums = m.inputs.files.map((f) => f.sha256);
    const sums0 = m0.inputs.files.map((f) => f.sha256);
    if (!same(sums, sums0)) throw differ("input files (sha256)", sums, sums0);
    if (!same(m.inputs.resolved, m0.inputs.resolved)) throw differ("resolved experiment", "(this shard's)", "(the first shard's)");
    if ((m.plan.shard?.count ?? 1) !== count) throw differ("shard count", m.plan.shard?.count ?? 1, count);
    if (m.versions.migsim !== m0.versions.migsim) {
      throw differ("migsim version", m.versions.migsim, m0.versions.migsim);
    }
    if (!same(m.versions, m0.versions)) warnings.push(`${file}: node or dependency versions differ from the first shard`);
    if (!same(s.runs.header, first.runs.header)) {
      throw new InputError("runs.csv header differs between shards", { file: s.runs.file, line: 1 });
    }
  }
  const byIndex = new Map<number, ShardInput>();
  for (const s of shards) {
    const i = s.manifest.plan.shard?.index ?? 1;
    const prev = byIndex.get(i);
    if (prev) {
      throw new InputError(`shard ${i}/${count} given twice: ${prev.dir} and ${s.dir}`, { file: join(s.dir, "manifest.json") });
    }
    byIndex.set(i, s);
  }
  const missing: string[] = [];
  for (let i = 1; i <= count; i++) if (!byIndex.has(i)) missing.push(`${i}/${count}`);
  if (missing.length > 0) {
    throw new InputError(`missing shard${missing.length > 1 ? "s" : ""} ${missing.join(", ")} of ${m0.experiment} (got ${shards.length} of ${count})`);
  }
  const ordered = Array.from({ length: count }, (_, i) => byIndex.get(i + 1)!);
  for (const s of ordered) {
    const shard = s.manifest.plan.shard ?? { index: 1, count: 1 };
    const want = shardIndices(m0.plan.totalRuns, shard);
    const got = s.manifest.runs.map((e) => e[0]);
    if (!same(got, want)) {
      const have = new Set(got);
      const stray = got.find((k) => shardOf(k, shard.count) !== shard.index);
      const detail =
        stray !== undefined
          ? `holds plan index ${stray}, which belongs to shard ${shardOf(stray, shard.count)}/${shard.count}`
          : `is incomplete: ${want.filter((k) => have.has(k)).length} of ${want.length} runs (finish it in ${quote(s.manifest.cwd)} with: ${resumeCommand(s.manifest.command, ["migsim"])})`;
      throw new InputError(`shard ${formatShard(shard)} ${detail}`, { file: join(s.dir, "manifest.json") });
    }
  }
  return { ordered, warnings };
}

/** The experiment's `baseline` and `ci` as the shards' resolved document holds them (checked when it was loaded). */
function analysisOf(resolved: unknown, seed: number): { baseline?: string; interval: IntervalSpec } {
  const doc = (resolved ?? {}) as { baseline?: unknown; ci?: unknown };
  return {
    ...(typeof doc.baseline === "string" ? { baseline: doc.baseline } : {}),
    interval: { method: doc.ci === "bootstrap" ? "bootstrap" : "t", seed },
  };
}

export async function mergeShards(dirs: readonly string[], outDir: string, opts: MergeOptions): Promise<MergeResult> {
  const started = new Date();
  if (dirs.length === 0) throw new InputError("no shard folders given");
  const out = realOrResolved(outDir);
  for (const d of dirs) {
    if (realOrResolved(d) === out) throw new InputError(`--out ${outDir} is one of the shard folders; write the merge elsewhere`);
  }
  const shards = dirs.map(loadShard);
  const { ordered, warnings } = checkShards(shards);
  const m0 = ordered[0]!.manifest;

  // interleave: plan index k comes from shard (k mod N) + 1, whose rows for k are its next ones
  const cursors = ordered.map(() => ({ entry: 0, run: 0, probe: 0 }));
  const runRows: string[][] = [];
  const probeRows: string[][] = [];
  const index: RunIndexEntry[] = [];
  for (let k = 0; k < m0.plan.totalRuns; k++) {
    const si = k % ordered.length;
    const s = ordered[si]!;
    const c = cursors[si]!;
    const e = s.manifest.runs[c.entry++]!;
    runRows.push(...s.runs.rows.slice(c.run, c.run + e[1]));
    probeRows.push(...s.probes.rows.slice(c.probe, c.probe + e[2]));
    c.run += e[1];
    c.probe += e[2];
    index.push([k, e[1], e[2]]);
  }

  mkdirSync(out, { recursive: true });
  removePreviousOutputs(out);
  const runsW = await CsvFileWriter.open(join(out, "runs.csv"), ordered[0]!.runs.header);
  const probesW = await CsvFileWriter.open(join(out, "probes.csv"), ordered[0]!.probes.header);
  try {
    await runsW.writeRows(runRows);
    await probesW.writeRows(probeRows);
  } catch (e) {
    await runsW.abort();
    await probesW.abort();
    throw e;
  }
  await runsW.close();
  await probesW.close();

  const parsed = parseRunsRaw({ file: join(out, "runs.csv"), header: ordered[0]!.runs.header, rows: runRows });
  const report = await writeReport(out, {
    experiment: m0.experiment,
    axes: parsed.axes,
    rows: parsed.rows,
    reference: m0.reference,
    ...analysisOf(m0.inputs.resolved, m0.seed),
    plots: opts.plots ?? "svg+png",
  });
  const files = ["runs.csv", "probes.csv", ...report.files];

  // trace plots (Fig. 4) are drawn from the run traces the shard that ran them stored
  for (const s of ordered) {
    const traces = join(s.dir, "traces");
    if (!existsSync(traces)) continue;
    for (const name of readdirSync(traces).sort()) {
      if (!/^trace-.*\.json$/.test(name)) continue;
      const t = JSON.parse(readFileSync(join(traces, name), "utf8")) as TraceData;
      files.push(...(await writeTracePlot(out, t.run, t.trace, t.marks, { ...t.options, plots: opts.plots ?? "svg+png" })));
    }
  }

  writeManifest(
    out,
    buildManifest({
      experiment: m0.experiment,
      backend: m0.backend,
      command: opts.command,
      inputFiles: m0.inputs.files,
      resolved: m0.inputs.resolved,
      seed: m0.seed,
      profile: m0.profile,
      reference: m0.reference,
      plan: { cells: m0.plan.cells, axes: m0.plan.axes, policies: m0.plan.policies, runsPerCell: m0.plan.runsPerCell, totalRuns: m0.plan.totalRuns },
      shard: null,
      runs: index,
      // every shard was checked complete above, so every cell is
      completedCells: m0.plan.cells,
      started,
      finished: new Date(),
      mergedFrom: ordered.map((s) => realOrResolved(s.dir)),
    }),
  );
  files.push("manifest.json");
  return { runs: m0.plan.totalRuns, runRows: runRows.length, probeRows: probeRows.length, files, warnings };
}
