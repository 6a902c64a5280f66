/**
 * Paired differences (differences.csv): run r of one side against run r of the other, which drew
 * the same random numbers (common random numbers, src/core/random.ts), so draw noise cancels in the
 * difference. Two kinds of comparison, on total_s and every phase:
 * - `policy`: in each cell, each policy against the baseline policy;
 * - `sweep`: for each sweep axis, each cell whose value of the axis is not the axis's first
 *   value against the cell that differs from it only there, policy by policy.
 * The unit of pairing is the run: a run with several migrations counts with the mean of its
 * migrations, so n counts runs present on both sides (a run that failed on a testbed drops out).
 */
import { csvLines, formatNumber, type RunRow } from "../outputs/csv.ts";
import { mean, meanInterval, type IntervalSpec } from "../core/stats.ts";
import { DURATION_COLUMNS, type DurationColumn } from "./summary.ts";

export type ComparisonKind = "policy" | "sweep";

export interface Difference {
  experiment: string;
  comparison: ComparisonKind;
  /** the cell of the compared runs */
  cell: string;
  /** its sweep values by axis */
  axes: Record<string, string>;
  policy: string;
  /** the swept axis (sweep comparisons), "" for policy comparisons */
  axis: string;
  /** the baseline policy (policy comparisons) or the axis's first value (sweep comparisons) */
  baseline: string;
  /** the cell of the baseline runs */
  baselineCell: string;
  metric: DurationColumn;
  /** runs paired */
  n: number;
  /** mean of the baseline side over the paired runs */
  baselineMean: number;
  /** mean of the per-run differences (compared - baseline) */
  difference: number;
  /** its 95% interval */
  low: number;
  high: number;
  /** difference / baseline mean, percent; NaN when the baseline mean is 0 */
  relativePct: number;
  /** the interval excludes 0; undefined when there is no interval (n < 2) */
  excludesZero: boolean | undefined;
}

export interface DifferencesInput {
  rows: readonly RunRow[];
  /** sweep axis names, experiment order */
  axes: readonly string[];
  /** the baseline policy (default: the first policy of the rows, which is the experiment's first) */
  baseline?: string | undefined;
  interval: IntervalSpec;
}

/** per run index: the sum of each duration column over the run's migrations, and their count */
type Runs = Map<number, { sums: Float64Array; count: number }>;

interface Layout {
  experiment: string;
  /** cell -> its axis values, plan order */
  cells: Map<string, Record<string, string>>;
  policies: string[];
  /** `${cell}\0${policy}` -> runs */
  runs: Map<string, Runs>;
}

function layout(rows: readonly RunRow[]): Layout {
  const cells = new Map<string, Record<string, string>>();
  const policies: string[] = [];
  const runs = new Map<string, Runs>();
  for (const { record: r, axes } of rows) {
    if (!cells.has(r.cell)) cells.set(r.cell, axes);
    if (!policies.includes(r.policy)) policies.push(r.policy);
    const key = `${r.cell}\u0000${r.policy}`;
    let byRun = runs.get(key);
    if (!byRun) runs.set(key, (byRun = new Map()));
    let run = byRun.get(r.run);
    if (!run) byRun.set(r.run, (run = { sums: new Float64Array(DURATION_COLUMNS.length), count: 0 }));
    DURATION_COLUMNS.forEach((m, i) => (run.sums[i]! += r[m]));
    run.count++;
  }
  return { experiment: rows[0]?.record.experiment ?? "", cells, policies, runs };
}

/** The per-run values of both sides over the runs they share, in run order, for each metric. */
function paired(a: Runs, b: Runs): Array<{ x: number[]; base: number[] }> {
  const shared = [...a.keys()].filter((r) => b.has(r)).sort((p, q) => p - q);
  return DURATION_COLUMNS.map((_, i) => ({
    x: shared.map((r) => a.get(r)!.sums[i]! / a.get(r)!.count),
    base: shared.map((r) => b.get(r)!.sums[i]! / b.get(r)!.count),
  }));
}

type Side = Pick<Difference, "comparison" | "cell" | "axes" | "policy" | "axis" | "baseline" | "baselineCell">;

function compare(l: Layout, side: Side, a: Runs, b: Runs, interval: IntervalSpec): Difference[] {
  return paired(a, b).map(({ x, base }, i) => {
    const metric = DURATION_COLUMNS[i]!;
    const d = x.map((v, j) => v - base[j]!);
    const key = [side.comparison, side.cell, side.policy, side.axis, side.baseline, metric].join("\u001f");
    const [low, high] = meanInterval(d, interval, key);
    const baselineMean = mean(base);
    const difference = mean(d);
    return {
      experiment: l.experiment,
      ...side,
      metric,
      n: d.length,
      baselineMean,
      difference,
      low,
      high,
      relativePct: baselineMean === 0 ? NaN : (100 * difference) / baselineMean,
      excludesZero: Number.isNaN(low) ? undefined : low > 0 || high < 0,
    };
  });
}

export function pairedDifferences(input: DifferencesInput): Difference[] {
  const l = layout(input.rows);
  const out: Difference[] = [];
  const baseline = input.baseline ?? l.policies[0];
  for (const [cell, axes] of l.cells) {
    const b = baseline === undefined ? undefined : l.runs.get(`${cell}\u0000${baseline}`);
    if (!b) continue;
    for (const policy of l.policies) {
      const a = l.runs.get(`${cell}\u0000${policy}`);
      if (policy === baseline || !a) continue;
      out.push(...compare(l, { comparison: "policy", cell, axes, policy, axis: "", baseline: baseline!, baselineCell: cell }, a, b, input.interval));
    }
  }
  // a cell by its values: the partner of a cell on an axis differs from it there only
  const cellOf = new Map<string, string>();
  const valuesKey = (v: Record<string, string>): string => JSON.stringify(input.axes.map((a) => v[a] ?? ""));
  for (const [cell, axes] of l.cells) cellOf.set(valuesKey(axes), cell);
  for (const axis of input.axes) {
    const first = l.cells.values().next().value?.[axis];
    if (first === undefined) continue;
    for (const [cell, axes] of l.cells) {
      if (axes[axis] === first) continue;
      const baselineCell = cellOf.get(valuesKey({ ...axes, [axis]: first }));
      if (baselineCell === undefined) continue;
      for (const policy of l.policies) {
        const a = l.runs.get(`${cell}\u0000${policy}`);
        const b = l.runs.get(`${baselineCell}\u0000${policy}`);
        if (!a || !b) continue;
        out.push(...compare(l, { comparison: "sweep", cell, axes, policy, axis, baseline: first, baselineCell }, a, b, input.interval));
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// differences.csv (columns: docs/outputs.md)

export function differenceColumns(axes: readonly string[]): string[] {
  return [
    "experiment",
    "comparison",
    "cell",
    ...axes,
    "policy",
    "axis",
    "baseline",
    "baseline_cell",
    "metric",
    "n",
    "baseline_mean",
    "difference",
    "ci_low",
    "ci_high",
    "relative_pct",
    "excludes_zero",
    "interval",
  ];
}

/** NaN (undefined statistic) -> empty cell. */
function num(x: number): string {
  return Number.isNaN(x) ? "" : formatNumber(x);
}

export function differencesCsv(ds: readonly Difference[], axes: readonly string[], interval: IntervalSpec): string {
  const lines: string[][] = [differenceColumns(axes)];
  for (const d of ds) {
    lines.push([
      d.experiment,
      d.comparison,
      d.cell,
      ...axes.map((a) => d.axes[a] ?? ""),
      d.policy,
      d.axis,
      d.baseline,
      d.baselineCell,
      d.metric,
      String(d.n),
      num(d.baselineMean),
      num(d.difference),
      num(d.low),
      num(d.high),
      num(d.relativePct),
      d.excludesZero === undefined ? "" : String(d.excludesZero),
      interval.method,
    ]);
  }
  return csvLines(lines);
}
