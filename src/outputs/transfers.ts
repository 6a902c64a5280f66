/** replay's output: DIR/transfers.csv, one row per transfer with its simulated end time. */
import { join } from "node:path";
import { stringify } from "csv-stringify/sync";
import type { ReplayResult, Workload } from "../network/replay.ts";
import { writeFileAtomic } from "./atomic.ts";
import { formatNumber } from "./csv.ts";

/** Nanoseconds: transfers of a few bytes on fast links end within a microsecond of each other. */
const DECIMALS = 9;

/** An unfinished transfer (end NaN) has an empty end cell. */
export function formatTransferNumber(v: number): string {
  return Number.isNaN(v) ? "" : formatNumber(v, DECIMALS);
}

/** Writes DIR/transfers.csv (id, src, dst, bytes, start, end) atomically; returns its path. */
export function writeTransfersCsv(dir: string, w: Workload, r: ReplayResult): string {
  const rows: Array<[number, number, number, number, number, number]> = new Array(w.ids.length);
  for (let i = 0; i < w.ids.length; i++) rows[i] = [w.ids[i]!, w.src[i]!, w.dst[i]!, w.bytes[i]!, w.start[i]!, r.end[i]!];
  const text = stringify(rows, {
    header: true,
    columns: ["id", "src", "dst", "bytes", "start", "end"],
    cast: { number: formatTransferNumber },
  });
  const file = join(dir, "transfers.csv");
  writeFileAtomic(file, text);
  return file;
}
