/**
 * runs.csv and probes.csv: writing (csv-stringify, one fixed number format so that the same run
 * gives the same bytes on every machine) and reading back (csv-parse) for merge, resume and
 * summaries.
 *
 * Number format (the `cast`): integers as plain digits (`10000000`, never `1e7`); other finite
 * numbers rounded to 6 decimal places (microseconds for `_s` columns) with trailing zeros removed
 * (`0.1`, `12.5`, `0.000123`); values below 5e-7 in magnitude print as `0`; `-0` prints as `0`;
 * NaN and infinities as `NaN`, `Infinity`, `-Infinity`. Booleans as `true` / `false`.
 */
import { readFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import { stringify, type CastingContext } from "csv-stringify/sync";
import { InputError } from "../core/errors.ts";
import type { z } from "zod";
import { PROBE_COLUMNS, ProbeRowSchema, RUN_COLUMNS, RUN_EXTRA_COLUMNS, RunRecordSchema, type ProbeRecord, type RunRecord } from "../formats/records.ts";
import { AtomicFile } from "./atomic.ts";

/** decimals of runs.csv and probes.csv */
export const DECIMALS = 6;

/**
 * The one number format of every CSV migsim writes (see the module comment); replay's
 * transfers.csv keeps 9 decimals (nanoseconds), runs.csv and probes.csv 6.
 */
export function formatNumber(x: number, decimals = DECIMALS): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  if (Number.isInteger(x)) {
    if (Object.is(x, -0)) return "0";
    // toFixed switches to exponent notation from 1e21 on; BigInt prints every digit
    return Math.abs(x) < 1e21 ? x.toFixed(0) : BigInt(x).toString();
  }
  if (Math.abs(x) >= 1e21) return BigInt(Math.round(x)).toString();
  let s = x.toFixed(decimals);
  if (s.includes(".")) s = s.replace(/0+$/, "").replace(/\.$/, "");
  return s === "-0" ? "0" : s;
}

function formatBoolean(b: boolean): string {
  return b ? "true" : "false";
}

/** csv-stringify `cast` option applying the formats above. */
const CSV_CAST = {
  number: (v: number, _ctx: CastingContext) => formatNumber(v),
  boolean: (v: boolean, _ctx: CastingContext) => formatBoolean(v),
};

/** Header of runs.csv: contract columns, one per sweep axis (experiment order), then extras. */
export function runColumns(axes: readonly string[]): string[] {
  const reserved = new Set<string>([...RUN_COLUMNS, ...RUN_EXTRA_COLUMNS]);
  for (const a of axes) {
    if (reserved.has(a)) throw new InputError(`sweep axis "${a}" collides with a runs.csv column`, { field: "sweep" });
  }
  return [...RUN_COLUMNS, ...axes, ...RUN_EXTRA_COLUMNS];
}

export function probeColumns(): string[] {
  return [...PROBE_COLUMNS];
}

/** A runs.csv row: the record plus its sweep axis values (axis name -> value as written). */
export interface RunRow {
  record: RunRecord;
  axes: Record<string, string>;
}

/** The cells of a runs.csv line in header order (values still typed; the cast formats them). */
export function runRowValues(record: RunRecord, axes: Record<string, string>, axisNames: readonly string[]): unknown[] {
  const r = record as unknown as Record<string, unknown>;
  const out: unknown[] = RUN_COLUMNS.map((c) => r[c]);
  for (const a of axisNames) {
    const v = axes[a];
    if (v === undefined) throw new Error(`run ${record.cell}/${record.policy}/${record.run} has no value for axis ${a}`);
    out.push(v);
  }
  for (const c of RUN_EXTRA_COLUMNS) out.push(r[c]);
  return out;
}

export function probeRowValues(p: ProbeRecord, policy: string): unknown[] {
  const r = { ...p, policy } as unknown as Record<string, unknown>;
  return PROBE_COLUMNS.map((c) => r[c]);
}

/** Format rows (arrays of cells) as CSV text with the fixed cast. */
export function csvLines(rows: readonly (readonly unknown[])[]): string {
  if (rows.length === 0) return "";
  return stringify(rows as unknown[][], { cast: CSV_CAST, record_delimiter: "unix" });
}

const FLUSH_BYTES = 1 << 16;

/**
 * A CSV file written row by row under a temporary name and renamed into place by `close()`.
 * Rows are arrays in header order: typed values (formatted by the cast) or strings copied from
 * another migsim CSV (copied verbatim, so merging shards reproduces their bytes).
 */
export class CsvFileWriter {
  readonly columns: readonly string[];
  private readonly file: AtomicFile;
  private buffer: string[] = [];
  private bufferBytes = 0;
  private rowCount = 0;

  private constructor(file: AtomicFile, columns: readonly string[]) {
    this.file = file;
    this.columns = columns;
  }

  static async open(path: string, columns: readonly string[]): Promise<CsvFileWriter> {
    const w = new CsvFileWriter(await AtomicFile.open(path), columns);
    w.push(csvLines([columns]));
    return w;
  }

  get rows(): number {
    return this.rowCount;
  }

  private push(text: string): void {
    this.buffer.push(text);
    this.bufferBytes += text.length;
  }

  async writeRows(rows: readonly (readonly unknown[])[]): Promise<void> {
    for (const r of rows) {
      if (r.length !== this.columns.length) {
        throw new Error(`row of ${r.length} cells for ${this.columns.length} columns in ${this.file.path}`);
      }
    }
    this.push(csvLines(rows));
    this.rowCount += rows.length;
    if (this.bufferBytes >= FLUSH_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const text = this.buffer.join("");
    this.buffer = [];
    this.bufferBytes = 0;
    await this.file.write(text);
  }

  async close(): Promise<void> {
    await this.flush();
    await this.file.commit();
  }

  async abort(): Promise<void> {
    this.buffer = [];
    await this.file.abort();
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface RawCsv {
  file: string;
  header: string[];
  /** data rows, cells as written (no number parsing) */
  rows: string[][];
}

/** Parse a CSV file written by migsim; malformed input is an InputError naming file and line. */
export function readCsvRaw(file: string): RawCsv {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new InputError(`cannot read: ${(e as Error).message}`, { file });
  }
  let records: string[][];
  try {
    records = parse(text, { relax_column_count: false, skip_empty_lines: false }) as string[][];
  } catch (e) {
    const err = e as Error & { lines?: number };
    throw new InputError(`not a valid CSV file: ${err.message}`, { file, line: err.lines });
  }
  const header = records.shift();
  if (!header) throw new InputError("empty CSV file (no header line)", { file, line: 1 });
  return { file, header, rows: records };
}

const NUMBER_FIELDS = columnsOfType("number", RunRecordSchema, ProbeRowSchema);
const BOOLEAN_FIELDS = columnsOfType("boolean", RunRecordSchema, ProbeRowSchema);

/** The columns of record schemas whose values are of `type` (optional ones included). */
export function columnsOfType(type: "number" | "boolean", ...schemas: z.ZodObject[]): Set<string> {
  const out = new Set<string>();
  for (const schema of schemas) {
    for (const [name, field] of Object.entries(schema.shape)) {
      const def = (field as z.ZodType).def;
      const inner = def.type === "optional" ? (def as z.core.$ZodOptionalDef).innerType._zod.def : def;
      if (inner.type === type) out.add(name);
    }
  }
  return out;
}

/**
 * The one header check of every CSV migsim reads back: `header` must be `columns`, in order;
 * `shape` is how the message describes what was expected.
 */
export function checkHeader(header: readonly string[], columns: readonly string[], file: string, name: string, shape = columns.join(",")): void {
  if (header.length !== columns.length || !columns.every((c, i) => header[i] === c)) {
    throw new InputError(`not a ${name} header: expected ${shape}`, { file, line: 1 });
  }
}

/** Inverse of formatNumber (and of any plain decimal): refuses anything else. */
export function parseNumberCell(cell: string, loc: { file: string; line: number; field: string }): number {
  if (cell === "NaN") return NaN;
  if (cell === "Infinity") return Infinity;
  if (cell === "-Infinity") return -Infinity;
  if (!/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(cell)) {
    throw new InputError(`expected a number, got "${cell}"`, loc);
  }
  return Number(cell);
}

function typedCell(cell: string, field: string, file: string, line: number): unknown {
  if (NUMBER_FIELDS.has(field)) return parseNumberCell(cell, { file, line, field });
  if (BOOLEAN_FIELDS.has(field)) {
    if (cell === "true") return true;
    if (cell === "false") return false;
    throw new InputError(`expected true or false, got "${cell}"`, { file, line, field });
  }
  return cell;
}

/** The sweep axis columns of a runs.csv header; refuses headers that break the contract. */
export function axesOfRunsHeader(header: readonly string[], file: string): string[] {
  const axes = header.slice(RUN_COLUMNS.length, Math.max(RUN_COLUMNS.length, header.length - RUN_EXTRA_COLUMNS.length));
  checkHeader(header, [...RUN_COLUMNS, ...axes, ...RUN_EXTRA_COLUMNS], file, "runs.csv", `${RUN_COLUMNS.join(",")}, sweep axes, ${RUN_EXTRA_COLUMNS.join(",")}`);
  return axes;
}

export interface RunsCsv {
  axes: string[];
  rows: RunRow[];
}

export function parseRunsRaw(raw: RawCsv): RunsCsv {
  const axes = axesOfRunsHeader(raw.header, raw.file);
  const rows = raw.rows.map((cells, i) => {
    const line = i + 2;
    const rec: Record<string, unknown> = {};
    const ax: Record<string, string> = {};
    raw.header.forEach((col, j) => {
      const cell = cells[j]!;
      if (j >= RUN_COLUMNS.length && j < RUN_COLUMNS.length + axes.length) ax[col] = cell;
      else rec[col] = typedCell(cell, col, raw.file, line);
    });
    return { record: rec as unknown as RunRecord, axes: ax };
  });
  return { axes, rows };
}

export function readRunsCsv(file: string): RunsCsv {
  return parseRunsRaw(readCsvRaw(file));
}

export function checkProbesHeader(header: readonly string[], file: string): void {
  checkHeader(header, PROBE_COLUMNS, file, "probes.csv");
}

export function readProbesCsv(file: string): ProbeRecord[] {
  const raw = readCsvRaw(file);
  checkProbesHeader(raw.header, file);
  return raw.rows.map((cells, i) => {
    const rec: Record<string, unknown> = {};
    raw.header.forEach((col, j) => {
      rec[col] = typedCell(cells[j]!, col, file, i + 2);
    });
    return rec as unknown as ProbeRecord;
  });
}
