/**
 * The analysis half of `migsim run`'s output: summary (via src/report), the Fig. 4-style traces
 * the backend recorded, and manifest.json (which also indexes the rows of every plan position,
 * so `migsim merge` can interleave shards into exactly what one process writes).
 */
import { join } from "node:path";
import { readRunsCsv } from "../outputs/csv.ts";
import { buildManifest, writeManifest, type RunIndexEntry } from "../outputs/write-manifest.ts";
import { writeReport, writeTraceData, writeTracePlot, type TraceData } from "../reports/write-report.ts";
import type { ReferenceBlock } from "../reports/summary.ts";
import type { PhaseMarks, RunRecord, TraceSample } from "../formats/runspec.ts";
import type { Experiment, Reference } from "../load/read-experiment.ts";
import type { Shard } from "../outputs/shards.ts";

export interface TraceToPlot {
  record: RunRecord;
  trace: TraceSample[];
  marks: PhaseMarks[];
}

export interface ReportInputs {
  experiment: Experiment;
  outDir: string;
  shard: Shard | undefined;
  backend: string;
  traces: TraceToPlot[];
  argv: readonly string[];
  index: RunIndexEntry[];
  started: Date;
  /** write plots (SVG + PNG); without, no plot file at all */
  plots: boolean;
}

/** The experiment's `reference` block (policy -> metric -> published value), as the summary takes it. */
function referenceBlock(ref: Reference | undefined): ReferenceBlock | undefined {
  if (!ref) return undefined;
  const block: ReferenceBlock = { source: ref.source };
  for (const [policy, metrics] of Object.entries(ref.values)) {
    block[policy] = Object.fromEntries(Object.entries(metrics).map(([m, v]) => [m, { mean: v.mean, ci: v.ci ?? 0 }]));
  }
  return block;
}

export async function writeReports(i: ReportInputs): Promise<void> {
  const exp = i.experiment;
  const reference = referenceBlock(exp.reference);
  const traces = i.traces.map((t): TraceData => {
    const r = t.record;
    const axes = exp.cells.find((c) => c.id === r.cell)?.axes ?? {};
    return {
      run: { axes, cell: r.cell, policy: r.policy, run: r.run },
      trace: t.trace,
      marks: t.marks,
      options: {
        title: `${exp.name}: bandwidth of ${r.source} and ${r.destination} around the migration (${r.policy}, run ${r.run})`,
        hosts: [r.source, r.destination],
        labels: { [r.source]: `${r.source} (source)`, [r.destination]: `${r.destination} (destination)` },
      },
    };
  });
  if (i.shard) {
    // A shard's summary and plots would show part of the data as if it were all: a shard writes
    // its rows and traces only, and `migsim merge` writes the summary and draws every plot.
    for (const t of traces) writeTraceData(i.outDir, t);
  } else {
    const { rows, axes } = readRunsCsv(join(i.outDir, "runs.csv"));
    await writeReport(i.outDir, {
      experiment: exp.name,
      axes,
      rows,
      reference,
      baseline: exp.baseline,
      interval: { method: exp.ci, seed: exp.seed },
      plots: i.plots ? "svg+png" : "none",
    });
    if (i.plots) for (const t of traces) await writeTracePlot(i.outDir, t.run, t.trace, t.marks, t.options);
  }
  writeManifest(
    i.outDir,
    buildManifest({
      experiment: exp.name,
      backend: i.backend,
      command: [...i.argv],
      inputFiles: [exp.file, ...exp.inputFiles],
      resolved: exp.document,
      seed: exp.seed,
      profile: exp.profile,
      reference,
      plan: {
        cells: exp.cells.map((c) => c.id),
        axes: exp.axes.map((a) => a.path),
        policies: exp.policies.map((p) => p.name),
        runsPerCell: exp.runs,
        totalRuns: exp.cells.length * exp.policies.length * exp.runs,
      },
      shard: i.shard ?? null,
      runs: i.index,
      completedCells: exp.cells.map((c) => c.id),
      started: i.started,
      finished: new Date(),
    }),
  );
}
