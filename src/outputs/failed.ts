/**
 * failed.csv: one row per run that could not finish (a testbed step that failed or hung), with the
 * cell, policy, run and the protocol phase it was in. Written beside runs.csv by backends whose
 * runs can fail (the testbed); its rows use the same number format as every migsim CSV.
 */
import { FAILURE_COLUMNS, type RunFailure } from "../formats/runspec.ts";
import { InputError } from "../core/errors.ts";
import { csvLines, parseNumberCell, readCsvRaw } from "./csv.ts";

export const FAILED_FILE = "failed.csv";

export function failedHeader(): string {
  return csvLines([[...FAILURE_COLUMNS]]);
}

export function failedRow(f: RunFailure): string {
  return csvLines([FAILURE_COLUMNS.map((c) => f[c] ?? "")]);
}

const NUMBER_COLUMNS: ReadonlySet<string> = new Set(["run", "seed", "migration"]);
/** numbers that only a censored run has: empty otherwise */
const OPTIONAL_NUMBER_COLUMNS: ReadonlySet<string> = new Set(["censored_after_s", "bytes_moved"]);

/** The failures a failed.csv lists; a file that is not one is refused with the file and line. */
export function readFailedCsv(file: string): RunFailure[] {
  const raw = readCsvRaw(file);
  if (raw.header.length !== FAILURE_COLUMNS.length || !FAILURE_COLUMNS.every((c, i) => raw.header[i] === c)) {
    throw new InputError(`not a failed.csv header: expected ${FAILURE_COLUMNS.join(",")}`, { file, line: 1 });
  }
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
