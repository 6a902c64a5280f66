/**
 * The analysis half of an output folder, regenerated from runs.csv alone: summary.csv,
 * summary.md, differences.csv and the summary plots. `migsim run` calls it after the runs; `migsim merge` after
 * joining shards; both therefore produce the same files from the same rows.
 */
import { join } from "node:path";
import type { PhaseMarks, TraceSample } from "../formats/runspec.ts";
import { writeFileAtomic } from "../outputs/atomic.ts";
import type { RunRow } from "../outputs/csv.ts";
import { cellFileName, cellText, describeAxes, fileSafe } from "./axes.ts";
import { phaseChart } from "./plot-phases.ts";
import { sweepChart } from "./plot-sweep.ts";
import { bandwidthChart, type BandwidthChartOptions } from "./plot-trace.ts";
import { policiesOf, renderPlot, slug } from "./plots.ts";
import { summarize, summaryCsv, summaryMarkdown, type ReferenceBlock, type SummaryRow } from "./summary.ts";
import { differencesCsv, pairedDifferences } from "./differences.ts";
import { differencesMarkdown } from "./differences-md.ts";
import { differencePlots } from "./plot-differences.ts";
import { STUDENT_T, type IntervalSpec } from "../core/stats.ts";

export interface ReportInput {
  experiment: string;
  /** sweep axis names in experiment order */
  axes: readonly string[];
  rows: readonly RunRow[];
  reference?: ReferenceBlock | undefined;
  /** the policy the others are compared with (default the first) */
  baseline?: string | undefined;
  /** the interval of means and differences (default Student t) */
  interval?: IntervalSpec | undefined;
  /** which plot files to write (default both formats) */
  plots?: PlotFormats;
}

/** Plot files to write: SVG and PNG, SVG alone (faster), or none (the tables only). */
export type PlotFormats = "svg+png" | "svg" | "none";

export interface ReportResult {
  summary: SummaryRow[];
  /** written files, relative to the output folder, in writing order */
  files: string[];
}

async function writePlot(dir: string, name: string, spec: Parameters<typeof renderPlot>[0], formats: PlotFormats, files: string[]): Promise<void> {
  if (formats === "none") return;
  const { svg, png } = await renderPlot(spec, formats === "svg+png");
  writeFileAtomic(join(dir, "plots", `${name}.svg`), svg);
  files.push(`plots/${name}.svg`);
  if (png) {
    writeFileAtomic(join(dir, "plots", `${name}.png`), png);
    files.push(`plots/${name}.png`);
  }
}

export async function writeReport(dir: string, input: ReportInput): Promise<ReportResult> {
  const files: string[] = [];
  const interval = input.interval ?? STUDENT_T;
  const summary = summarize({ rows: input.rows, axes: input.axes, reference: input.reference, interval });
  writeFileAtomic(join(dir, "summary.csv"), summaryCsv(summary, input.axes));
  files.push("summary.csv");
  const differences = pairedDifferences({ rows: input.rows, axes: input.axes, baseline: input.baseline, interval });
  writeFileAtomic(
    join(dir, "summary.md"),
    summaryMarkdown(summary, { experiment: input.experiment, axes: input.axes, reference: input.reference, interval: interval.method }) + differencesMarkdown(differences, input.axes, interval.method),
  );
  files.push("summary.md");
  writeFileAtomic(join(dir, "differences.csv"), differencesCsv(differences, input.axes, interval));
  files.push("differences.csv");

  const formats = input.plots ?? "svg+png";
  if (formats === "none") return { summary, files };
  const axes = describeAxes(input.axes, summary);
  const cells: string[] = [];
  for (const r of summary) if (!cells.includes(r.cell)) cells.push(r.cell);
  const width = String(cells.length).length;
  for (const [i, cell] of cells.entries()) {
    const rows = summary.filter((r) => r.cell === cell);
    const name = axes.length > 0 ? cellFileName(axes, rows[0]!.axes) : slug(cell);
    const spec = phaseChart(rows, {
      title: `${input.experiment}: migration time by phase`,
      cell: axes.length > 0 ? cellText(axes, rows[0]!.axes) : undefined,
      interval: interval.method,
    });
    await writePlot(dir, `phases-${String(i + 1).padStart(width, "0")}-${name}`, spec, formats, files);
  }
  for (const axis of axes) {
    if (axis.order.length < 2) continue;
    const spec = sweepChart(summary, {
      title: `${input.experiment}: total migration time vs ${axis.label}`,
      axis,
      otherAxes: axes.filter((a) => a !== axis),
      interval: interval.method,
    });
    await writePlot(dir, `sweep-${fileSafe(axis.short)}-${sweptValues(axis.order)}`, spec, formats, files);
  }
  for (const p of differencePlots(differences, axes, input.experiment, interval.method, policiesOf(summary))) await writePlot(dir, p.name, p.spec, formats, files);
  return { summary, files };
}

/** "5MB-20MB", or "5MB-to-200MB" for more than four values: what a sweep plot's file spans. */
function sweptValues(order: readonly string[]): string {
  const vs = order.length > 4 ? [order[0]!, "to", order[order.length - 1]!] : order;
  return vs.map(fileSafe).join("-");
}

export interface TracePlotRun {
  /** the run's cell: its sweep values by axis (empty without a sweep) */
  axes: Readonly<Record<string, string>>;
  cell: string;
  policy: string;
  run: number;
}

/** What a Fig. 4-style plot is drawn from: a shard stores it (traces/), merge draws it. */
export interface TraceData {
  run: TracePlotRun;
  trace: TraceSample[];
  marks: PhaseMarks[];
  options: BandwidthChartOptions;
}

export function writeTraceData(dir: string, t: TraceData): void {
  const name = `${t.run.cell}-${t.run.policy}-run${t.run.run}`;
  writeFileAtomic(join(dir, "traces", `trace-${slug(name)}.json`), `${JSON.stringify(t)}\n`);
}

/**
 * Fig. 4-style plot of one run's host bandwidth trace, written as
 * plots/trace-<sweep values or cell>-<policy>-run<N>.{svg,png}.
 */
export async function writeTracePlot(
  dir: string,
  run: TracePlotRun,
  trace: readonly TraceSample[],
  marks: readonly PhaseMarks[],
  opts: BandwidthChartOptions & { plots?: PlotFormats },
): Promise<string[]> {
  const files: string[] = [];
  const paths = Object.keys(run.axes);
  const cell = paths.length > 0 ? cellFileName(describeAxes(paths, [run]), run.axes) : slug(run.cell);
  const name = `trace-${cell}-${fileSafe(run.policy)}-run${run.run}`;
  await writePlot(dir, name, bandwidthChart(trace, marks, opts), opts.plots ?? "svg+png", files);
  return files;
}
