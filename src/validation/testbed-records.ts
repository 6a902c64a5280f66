/**
 * Where a random validation keeps each scenario's records, in its --out folder and in a folder its
 * --doc published alike: the comparison's own runs (NAME/sim, NAME/mininet), and the runs a top-up
 * added when the testbed's first runs spread too much to judge the pair (NAME/top-up/sim,
 * NAME/top-up/mininet; validate --max-runs). The top-up's runs continue the run indices, with the
 * seeds they have in a plan of that many runs, so the two folders together hold exactly the runs
 * of one experiment of that many runs on each backend.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { RunFailure, RunRecord } from "../formats/runspec.ts";
import { FAILED_FILE, readFailedCsv } from "../outputs/failed.ts";
import { readRunsCsv } from "../outputs/csv.ts";
import { backendOut } from "./compare-backends.ts";

/** a scenario's comparison folder, under a validation's --out folder or a published one */
export const scenarioDir = (folder: string, scenario: string): string => join(folder, scenario);
/** the comparison folder of a scenario's top-up runs */
export const topUpDir = (folder: string, scenario: string): string => join(scenarioDir(folder, scenario), "top-up");
/** the folders whose records are a scenario's: its comparison's, then its top-up's */
export const recordFolders = (folder: string, scenario: string): string[] => [scenarioDir(folder, scenario), topUpDir(folder, scenario)];
/** where a scenario's testbed records are */
export const testbedRecordsDir = (folder: string, scenario: string): string => backendOut(scenarioDir(folder, scenario), "mininet");

/** The records of a runs.csv; none where the run folder has none (its runs never started). */
export function readRecords(file: string): RunRecord[] {
  return existsSync(file) ? readRunsCsv(file).rows.map((r) => r.record) : [];
}

/** The runs of a failed.csv; none where there is none. */
export function readFailures(file: string): RunFailure[] {
  return existsSync(file) ? readFailedCsv(file) : [];
}

/** One backend's records and failures of a scenario, over its comparison and its top-up. */
export function scenarioRecords(folder: string, scenario: string, backend: "sim" | "mininet"): { records: RunRecord[]; failed: RunFailure[] } {
  const dirs = recordFolders(folder, scenario).map((d) => backendOut(d, backend));
  return {
    records: dirs.flatMap((d) => readRecords(join(d, "runs.csv"))),
    failed: dirs.flatMap((d) => readFailures(join(d, FAILED_FILE))),
  };
}

/** How many runs a scenario's testbed ran, its top-up included: the highest run index seen, plus one. */
export function runsRun(records: readonly RunRecord[], failed: readonly RunFailure[]): number {
  return Math.max(0, ...records.map((r) => r.run + 1), ...failed.map((f) => f.run + 1));
}
