/**
 * A run's rows as CSV text, formatted where the run executed: in a worker thread with --jobs N,
 * so the main thread only appends text and the workers share the formatting.
 */
import { csvLines, probeRowValues, runRowValues } from "../outputs/csv.ts";
import { failedRow } from "../outputs/failed.ts";
import type { RunResult } from "../formats/runspec.ts";
import type { Experiment } from "../load/read-experiment.ts";
import { cellAt, policyAt } from "./plan.ts";
import type { TraceToPlot } from "./write-outputs.ts";

export interface RunRows {
  /** runs.csv and probes.csv lines of the run */
  runs: string;
  probes: string;
  runCount: number;
  probeCount: number;
  /** the failed.csv line of a run that failed (testbed), else empty */
  failed: string;
  /** the Fig. 4 trace of the first run of a (cell, policy), when traces are collected */
  trace?: TraceToPlot | undefined;
}

export function runRows(exp: Experiment, k: number, result: RunResult): RunRows {
  const cell = cellAt(exp, k);
  const axisNames = exp.axes.map((a) => a.path);
  const rows: RunRows = {
    runs: csvLines(result.records.map((r) => runRowValues(r, cell.axes, axisNames))),
    probes: csvLines(result.probes.map((p) => probeRowValues(p, policyAt(exp, k).name))),
    runCount: result.records.length,
    probeCount: result.probes.length,
    failed: result.failure ? failedRow(result.failure) : "",
  };
  if (result.trace && result.marks && result.records[0] && k % exp.runs === 0) {
    rows.trace = { record: result.records[0], trace: result.trace, marks: result.marks };
  }
  return rows;
}
