/**
 * failed.csv: one row per run that could not finish (a testbed step that failed or hung), with the
 * cell, policy, run and the protocol phase it was in. Written beside runs.csv by backends whose
 * runs can fail (the testbed); its rows use the same number format as every migsim CSV.
 */
import { FAILURE_COLUMNS, type RunFailure } from "../runspec.ts";
import { csvLines, readCsvRaw } from "./csv.ts";

export const FAILED_FILE = "failed.csv";

export function failedHeader(): string {
  return csvLines([[...FAILURE_COLUMNS]]);
}

export function failedRow(f: RunFailure): string {
  return csvLines([FAILURE_COLUMNS.map((c) => f[c])]);
}

/** The failures a folder's failed.csv lists (none when there is no such file). */
export function readFailedCsv(file: string): RunFailure[] {
  const raw = readCsvRaw(file);
  return raw.rows.map((cells) => {
    const rec: Record<string, string | number> = {};
    raw.header.forEach((col, j) => {
      const cell = cells[j] ?? "";
      rec[col] = col === "run" || col === "seed" || col === "migration" ? Number(cell) : cell;
    });
    return rec as unknown as RunFailure;
  });
}
