/**
 * What a sweep axis means to a reader: a human label from the experiment field it sweeps
 * (`migrations.0.container.checkpoint` -> "checkpoint size"), the kind of quantity its values
 * are (sizes, rates and durations parsed with their units, bare numbers, or names), the unit a
 * plot shows them in, their numeric order, and whether a log scale suits them. Plots and plot
 * file names use this; CSV and markdown keep the values exactly as written in the file.
 */
import { formatSignificant, parseBytes, parseDuration, parseRate } from "../core/units.ts";

export type AxisKind = "size" | "rate" | "duration" | "number" | "name";

export interface AxisInfo {
  /** the experiment field, e.g. `traffic.0.rate` */
  path: string;
  /** human name without unit, e.g. "background traffic rate" */
  label: string;
  /** short name for file names and panel titles, e.g. "rate" */
  short: string;
  kind: AxisKind;
  /** display unit ("" for counts and names), e.g. "MB" */
  unit: string;
  /** axis title with unit, e.g. "checkpoint size (MB)" */
  title: string;
  /** the values as written, in numeric order (as first seen for names) */
  order: string[];
  /** a value in the display unit; NaN for names */
  numeric: (value: string) => number;
  /** a value for a title, e.g. "5 MB" */
  format: (value: string) => string;
  /** values span a decade or more (and are all positive) */
  log: boolean;
}

/** Field names (last segment of the path, after its parent when that disambiguates) -> human label. */
const LABELS: Record<string, string> = {
  "container.checkpoint": "checkpoint size",
  "container.memory": "container memory",
  "container.dirty-rate": "memory dirty rate",
  "traffic.rate": "traffic rate",
  "traffic.bytes": "traffic size",
  "traffic.start": "traffic start",
  "traffic.stop": "traffic stop",
  "trigger.at": "trigger time",
  "trigger.above": "trigger threshold",
  "trigger.for": "trigger samples",
  "probes.bytes": "probe size",
  "probes.every": "probe interval",
  "probes.at": "probe start",
  "generate.fanout": "tree fanout",
  "generate.depth": "tree depth",
  "generate.n": "hosts (n)",
  "generate.k": "fat-tree k",
  "generate.capacity": "link capacity",
  "measurement.period": "measurement period",
  "network.model": "network model",
  "network.congestion-control": "congestion control",
  "network.host-stack": "host stack",
  "network.routing": "routing",
  "network.efficiency": "link efficiency",
  "network.tcp-handshake-rtts": "TCP handshake RTTs",
  "migrations.mode": "migration mode",
  "migrations.transport": "transport",
  "migrations.source": "source host",
  "migrations.destination": "destination host",
};

/** Short names for files where the label's last word would be vague. */
const SHORT: Record<string, string> = { "generate.n": "n", "generate.k": "k", "container.checkpoint": "checkpoint" };

function fieldKey(path: string): { key: string; index: number | undefined; last: string } {
  const parts = path.split(".");
  const named = parts.filter((p) => !/^[0-9]+$/.test(p));
  const last = named[named.length - 1] ?? path;
  const parent = named[named.length - 2] ?? "";
  const firstIndex = parts.find((p) => /^[0-9]+$/.test(p));
  return { key: `${parent}.${last}`, index: firstIndex === undefined ? undefined : Number(firstIndex), last };
}

interface Scale {
  kind: AxisKind;
  base: number[];
  unit: string;
  factor: number;
}

const SIZE_UNITS: Array<[number, string]> = [
  [1e9, "GB"],
  [1e6, "MB"],
  [1e3, "kB"],
  [1, "B"],
];
const RATE_UNITS: Array<[number, string]> = [
  [1e9, "Gbit/s"],
  [1e6, "Mbit/s"],
  [1e3, "kbit/s"],
  [1, "bit/s"],
];
const TIME_UNITS: Array<[number, string]> = [
  [1, "s"],
  [1e-3, "ms"],
  [1e-6, "µs"],
];

/** The largest unit in which the smallest value is at least 1 (so ticks read 5, 20, not 0.005). */
function unitFor(values: number[], units: Array<[number, string]>): [number, string] {
  const min = Math.min(...values.filter((v) => v > 0));
  return units.find(([f]) => min >= f) ?? units[units.length - 1]!;
}

function tryAll(values: readonly string[], parse: (v: string) => number): number[] | undefined {
  try {
    const out = values.map(parse);
    return out.every(Number.isFinite) ? out : undefined;
  } catch {
    return undefined;
  }
}

function scaleOf(values: readonly string[]): Scale {
  const bare = values.every((v) => /^\s*-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?\s*$/.test(v));
  if (bare) return { kind: "number", base: values.map(Number), unit: "", factor: 1 };
  for (const [kind, parse, units] of [
    ["size", parseBytes, SIZE_UNITS],
    ["rate", parseRate, RATE_UNITS],
    ["duration", parseDuration, TIME_UNITS],
  ] as const) {
    const base = tryAll(values, parse);
    if (base) {
      const [factor, unit] = unitFor(base, units);
      return { kind, base, unit, factor };
    }
  }
  return { kind: "name", base: values.map(() => Number.NaN), unit: "", factor: 1 };
}

/** Describes the axis `path` from the values it takes (as written in runs.csv). */
export function axisInfo(path: string, values: readonly string[]): AxisInfo {
  const distinct = [...new Set(values)];
  const { key, index, last } = fieldKey(path);
  const known = LABELS[key];
  const nth = index !== undefined && index > 0 ? ` #${index + 1}` : "";
  const label = `${known ?? last.replace(/-/g, " ")}${nth}`;
  const short = `${SHORT[key] ?? last}${index !== undefined && index > 0 ? String(index + 1) : ""}`;
  const s = scaleOf(distinct);
  const byValue = new Map(distinct.map((v, i) => [v, s.base[i]! / s.factor]));
  const numeric = (v: string): number => byValue.get(v) ?? Number.NaN;
  const order = s.kind === "name" ? distinct : [...distinct].sort((a, b) => numeric(a) - numeric(b));
  const nums = order.map(numeric);
  const log = s.kind !== "name" && nums.every((x) => x > 0) && Math.max(...nums) / Math.min(...nums) >= 10;
  return {
    path,
    label,
    short,
    kind: s.kind,
    unit: s.unit,
    title: s.unit ? `${label} (${s.unit})` : label,
    order,
    numeric,
    format: (v) => (s.kind === "name" || !byValue.has(v) ? v : `${formatSignificant(numeric(v))}${s.unit ? ` ${s.unit}` : ""}`),
    log,
  };
}

/** "fanout 3, checkpoint size 5 MB": a cell's values of the given axes, for titles. */
export function cellText(axes: readonly AxisInfo[], values: Readonly<Record<string, string>>): string {
  return axes.map((a) => `${a.label} ${a.format(values[a.path] ?? "")}`).join(", ");
}

/** "fanout-3_checkpoint-5MB": a cell's values for a file name (letters, digits, . and - only). */
export function cellFileName(axes: readonly AxisInfo[], values: Readonly<Record<string, string>>): string {
  return axes.map((a) => `${fileSafe(a.short)}-${fileSafe(values[a.path] ?? "")}`).join("_");
}

export function fileSafe(s: string): string {
  return s.replace(/[^A-Za-z0-9.]+/g, "-").replace(/^[-.]+|-+$/g, "") || "x";
}

/** Every sweep axis described from the rows' values; short names made unique (the full path where two would clash). */
export function describeAxes(paths: readonly string[], rows: ReadonlyArray<{ axes: Readonly<Record<string, string>> }>): AxisInfo[] {
  const infos = paths.map((p) =>
    axisInfo(
      p,
      rows.map((r) => r.axes[p] ?? ""),
    ),
  );
  return infos.map((a) => (infos.filter((b) => b.short === a.short).length > 1 ? { ...a, short: a.path } : a));
}
