/**
 * failed.csv: one row per run that could not finish (a testbed step that failed or hung), with the
 * cell, policy, run and the protocol phase it was in. Written beside runs.csv by backends whose
 * runs can fail (the testbed); its rows use the same number format as every migsim CSV.
 */
import { FAILURE_COLUMNS, RunFailureSchema, type RunFailure } from "../formats/records.ts";
import { checkHeader, columnsOfType, csvLines, parseNumberCell, readCsvRaw } from "./csv.ts";

export const FAILED_FILE = "failed.csv";

export function failedHeader(): string {
  return csvLines([[...FAILURE_COLUMNS]]);
}

export function failedRow(f: RunFailure): string {
  return csvLines([FAILURE_COLUMNS.map((c) => f[c] ?? "")]);
}

const NUMBER_COLUMNS = columnsOfType("number", RunFailureSchema);
/** numbers that only a censored run has: empty otherwise */
const OPTIONAL_NUMBER_COLUMNS = new Set(FAILURE_COLUMNS.filter((c) => RunFailureSchema.shape[c].safeParse(undefined).success));

/** The failures a failed.csv lists; a file that is not one is refused with the file and line. */
export function readFailedCsv(file: string): RunFailure[] {
  const raw = readCsvRaw(file);
  checkHeader(raw.header, FAILURE_COLUMNS, file, FAILED_FILE);
  return raw.rows.map((cells, i) => {
    const rec: Record<string, string | number> = {};
    FAILURE_COLUMNS.forEach((col, j) => {
      const cell = cells[j] ?? "";
      if (OPTIONAL_NUMBER_COLUMNS.has(col)) {
        if (cell !== "") rec[col] = parseNumberCell(cell, { file, line: i + 2, field: col });
      } else rec[col] = NUMBER_COLUMNS.has(col) ? parseNumberCell(cell, { file, line: i + 2, field: col }) : cell;
    });
    return rec as unknown as RunFailure;
  });
}
