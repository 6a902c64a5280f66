/**
 * The analysis half of an output folder, regenerated from runs.csv alone: summary.csv,
 * summary.md and the summary plots. `migsim run` calls it after the runs; `migsim merge` after
 * joining shards; both therefore produce the same files from the same rows.
 */
import { join } from "node:path";
import type { PhaseMarks, TraceSample } from "../runspec.ts";
import { writeFileAtomic } from "./atomic.ts";
import type { RunRow } from "./csv.ts";
import { bandwidthChart, phaseChart, renderSvg, slug, svgToPng, sweepChart, type BandwidthChartOptions } from "./plots.ts";
import { summarize, summaryCsv, summaryMarkdown, type ReferenceBlock, type SummaryRow } from "./summary.ts";

export interface ReportInput {
  experiment: string;
  /** sweep axis names in experiment order */
  axes: readonly string[];
  rows: readonly RunRow[];
  reference?: ReferenceBlock | undefined;
  /** skip PNG rendering (SVG only) */
  svgOnly?: boolean;
}

export interface ReportResult {
  summary: SummaryRow[];
  /** written files, relative to the output folder, in writing order */
  files: string[];
}

async function writePlot(dir: string, name: string, spec: Parameters<typeof renderSvg>[0], svgOnly: boolean, files: string[]): Promise<void> {
  const svg = await renderSvg(spec);
  writeFileAtomic(join(dir, "plots", `${name}.svg`), svg);
  files.push(`plots/${name}.svg`);
  if (!svgOnly) {
    writeFileAtomic(join(dir, "plots", `${name}.png`), svgToPng(svg));
    files.push(`plots/${name}.png`);
  }
}

export async function writeReport(dir: string, input: ReportInput): Promise<ReportResult> {
  const files: string[] = [];
  const summary = summarize({ rows: input.rows, axes: input.axes, reference: input.reference });
  writeFileAtomic(join(dir, "summary.csv"), summaryCsv(summary, input.axes));
  files.push("summary.csv");
  writeFileAtomic(join(dir, "summary.md"),
    summaryMarkdown(summary, { experiment: input.experiment, axes: input.axes, reference: input.reference }));
  files.push("summary.md");

  const svgOnly = input.svgOnly ?? false;
  const cells: string[] = [];
  for (const r of summary) if (!cells.includes(r.cell)) cells.push(r.cell);
  const width = String(cells.length).length;
  for (const [i, cell] of cells.entries()) {
    const rows = summary.filter((r) => r.cell === cell);
    const axisText = input.axes.map((a) => `${a}=${rows[0]!.axes[a] ?? ""}`).join(", ");
    const title = `${input.experiment}: migration time by phase${cells.length > 1 ? ` (${axisText || cell})` : ""}`;
    await writePlot(dir, `phases-${String(i + 1).padStart(width, "0")}-${slug(cell)}`, phaseChart(rows, { title }), svgOnly, files);
  }
  for (const axis of input.axes) {
    const values = new Set(summary.map((r) => r.axes[axis]));
    if (values.size < 2) continue;
    const spec = sweepChart(summary, {
      title: `${input.experiment}: total migration time vs ${axis}`,
      axis,
      otherAxes: input.axes.filter((a) => a !== axis),
    });
    await writePlot(dir, `sweep-${slug(axis)}`, spec, svgOnly, files);
  }
  return { summary, files };
}

/** What a Fig. 4-style plot is drawn from: a shard stores it (traces/), merge draws it. */
export interface TraceData {
  name: string;
  trace: TraceSample[];
  marks: PhaseMarks[];
  options: BandwidthChartOptions;
}

export function writeTraceData(dir: string, t: TraceData): void {
  writeFileAtomic(join(dir, "traces", `trace-${slug(t.name)}.json`), `${JSON.stringify(t)}\n`);
}

/** Fig. 4-style plot of one run's host bandwidth trace, written as plots/trace-<name>.{svg,png}. */
export async function writeTracePlot(
  dir: string,
  name: string,
  trace: readonly TraceSample[],
  marks: readonly PhaseMarks[],
  opts: BandwidthChartOptions & { svgOnly?: boolean },
): Promise<string[]> {
  const files: string[] = [];
  await writePlot(dir, `trace-${slug(name)}`, bandwidthChart(trace, marks, opts), opts.svgOnly ?? false, files);
  return files;
}
