/**
 * Quantities with units, as the file formats write them: `10Mbps`, `1500B`, `5MiB`, `2ms`.
 * Bare numbers are refused where a unit belongs, so a forgotten unit never silently means bits or seconds.
 * Internal units: bits per second, bytes, seconds, packets.
 */
import { InputError } from "./errors.ts";

const NUMBER = String.raw`([0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)`;

type UnitTable = Record<string, number>;

const SI: UnitTable = { "": 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
const IEC: UnitTable = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

const BIT_RATE: UnitTable = {};
const BYTE_RATE: UnitTable = {};
const BYTES: UnitTable = {};
for (const [p, f] of Object.entries(SI)) {
  BIT_RATE[`${p}bps`] = f;
  BIT_RATE[`${p}bit/s`] = f;
  BYTE_RATE[`${p}Bps`] = 8 * f;
  BYTE_RATE[`${p}B/s`] = 8 * f;
  BYTES[`${p}B`] = f;
}
for (const [p, f] of Object.entries(IEC)) {
  BIT_RATE[`${p}bps`] = f;
  BYTE_RATE[`${p}Bps`] = 8 * f;
  BYTE_RATE[`${p}B/s`] = 8 * f;
  BYTES[`${p}B`] = f;
}
const DURATION: UnitTable = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, min: 60, h: 3600 };
const PACKETS: UnitTable = { pkt: 1, pkts: 1, packets: 1 };

function parseWith(kind: string, table: UnitTable, value: unknown, examples: string): number {
  if (typeof value === "number") {
    throw new InputError(`expected ${kind} with a unit (e.g. ${examples}), got the bare number ${value}`);
  }
  if (typeof value !== "string") {
    throw new InputError(`expected ${kind} with a unit (e.g. ${examples}), got ${describe(value)}`);
  }
  const m = new RegExp(`^\\s*${NUMBER}\\s*([A-Za-zµ/]*)\\s*$`).exec(value);
  if (!m) {
    // A signed quantity has the right shape but the wrong sign: say that, not "no unit".
    if (new RegExp(`^\\s*-\\s*${NUMBER}\\s*[A-Za-zµ/]+\\s*$`).test(value)) {
      throw new InputError(`expected ${kind} of zero or more, got "${value}"`);
    }
    throw new InputError(`expected ${kind} with a unit (e.g. ${examples}), got "${value}"`);
  }
  const unit = m[2] ?? "";
  if (unit === "") throw new InputError(`expected ${kind} with a unit (e.g. ${examples}), got "${value}" without a unit`);
  const factor = table[unit];
  if (factor === undefined) {
    throw new InputError(`expected ${kind} with a unit (e.g. ${examples}), got the unknown unit "${unit}" in "${value}"`);
  }
  const result = Number(m[1]) * factor;
  if (!Number.isFinite(result)) throw new InputError(`expected ${kind} that is finite, got "${value}"`);
  return result;
}

export function describe(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `"${value}"`;
  return `${typeof value} ${String(value)}`;
}

/** A bit rate in bits per second: `10Mbps`, `1Gbps`, or a byte rate `2MBps`. */
export function parseRate(value: unknown): number {
  return parseWith("a rate", { ...BIT_RATE, ...BYTE_RATE }, value, "10Mbps, 1Gbps, 2MBps");
}
/** A size in bytes: `1500B`, `10MB` (10^6), `5MiB` (2^20). */
export function parseBytes(value: unknown): number {
  return parseWith("a size", BYTES, value, "1500B, 10MB, 5MiB");
}
/** A duration in seconds: `2ms`, `1.5s`, `10us`. */
export function parseDuration(value: unknown): number {
  return parseWith("a duration", DURATION, value, "2ms, 1.5s, 10us");
}
/** A queue size: packets (`1000pkt`) or bytes (`64KB`); returns packets, using the MTU for bytes. */
export function parseQueue(value: unknown, mtuBytes: number): number {
  if (typeof value === "string" && /^\s*[0-9.eE+-]+\s*(pkt|pkts|packets)\s*$/.test(value)) {
    return parseWith("a queue size", PACKETS, value, "1000pkt, 64KB");
  }
  return parseBytes(value) / mtuBytes;
}

export type Positivity = "positive" | "non-negative";

/** Adds a sign check to a parser, so negative or zero sizes and rates get a clear message. */
export function checked(parse: (v: unknown) => number, value: unknown, sign: Positivity): number {
  const negative = typeof value === "string" && new RegExp(`^\\s*-\\s*${NUMBER}`).test(value);
  const x = negative ? -1 : parse(value);
  if (sign === "positive" && !(x > 0)) throw new InputError(`expected a positive value, got "${String(value)}"`);
  if (sign === "non-negative" && !(x >= 0)) throw new InputError(`expected a non-negative value, got "${String(value)}"`);
  return x;
}

/** Human-readable formatting for summaries (not for CSV, which keeps base units). */
export function formatRate(bps: number): string {
  if (bps >= 1e9) return `${formatSignificant(bps / 1e9)}Gbps`;
  if (bps >= 1e6) return `${formatSignificant(bps / 1e6)}Mbps`;
  if (bps >= 1e3) return `${formatSignificant(bps / 1e3)}kbps`;
  return `${formatSignificant(bps)}bps`;
}
export function formatBytes(b: number): string {
  if (b >= 1e9) return `${formatSignificant(b / 1e9)}GB`;
  if (b >= 1e6) return `${formatSignificant(b / 1e6)}MB`;
  if (b >= 1e3) return `${formatSignificant(b / 1e3)}kB`;
  return `${formatSignificant(b)}B`;
}
export function formatDuration(s: number): string {
  if (s >= 1 || s === 0) return `${formatSignificant(s)}s`;
  if (s >= 1e-3) return `${formatSignificant(s * 1e3)}ms`;
  return `${formatSignificant(s * 1e6)}us`;
}
/** Megabits per second, 4 significant digits (`12.5Mbps`): the unit of notes and error details. */
export function formatMbps(bps: number): string {
  return `${formatSignificant(bps / 1e6)}Mbps`;
}
/** Megabytes, 4 significant digits (`0.5MB`). */
export function formatMegabytes(b: number): string {
  return `${formatSignificant(b / 1e6)}MB`;
}
/** 4 significant digits, no trailing zeros or exponent below 1e21 (`12.5`, `0.001235`): every human-readable number. */
export function formatSignificant(x: number): string {
  return String(Number(x.toPrecision(4)));
}
