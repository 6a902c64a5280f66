/**
 * summary.csv and summary.md: per cell and policy, the statistics (stats.ts) of every duration
 * column of runs.csv, and the published reference beside total_s. Cells and policies appear in
 * the order of their first row in runs.csv, which is plan order.
 */
import { describe, intervalName, STUDENT_T, type IntervalSpec, type Stats } from "../core/stats.ts";
import { csvLines, DECIMALS as CSV_DECIMALS, formatNumber } from "../outputs/csv.ts";
import type { RunRow } from "../outputs/csv.ts";
import type { Ordering } from "./orderings.ts";

export const DURATION_COLUMNS = ["decision_s", "key_retrieval_s", "checkpoint_s", "transfer_s", "restore_s", "downtime_s", "total_s"] as const;
export type DurationColumn = (typeof DURATION_COLUMNS)[number];

/** The metric a reference value is compared with (the papers' tables give total migration time). */
const REFERENCE_METRIC: DurationColumn = "total_s";

export interface ReferenceValue {
  mean: number;
  ci: number;
}

/**
 * The experiment's `reference` block: `{ source: "Table I", bandwidth: { mean: 9.1, ci: 0.15 } }`
 * (the total time), or per metric: `{ fixed: { downtime_s: {...}, total_s: {...} } }`.
 */
export type ReferenceBlock = { source?: string } & {
  [policy: string]: ReferenceValue | Partial<Record<DurationColumn, ReferenceValue>> | string | undefined;
};

function referenceFor(ref: ReferenceBlock | undefined, policy: string, metric: DurationColumn = REFERENCE_METRIC): ReferenceValue | undefined {
  const v = ref?.[policy];
  if (typeof v !== "object" || v === null) return undefined;
  if ("mean" in v && typeof v.mean === "number") return metric === REFERENCE_METRIC ? (v as ReferenceValue) : undefined;
  return (v as Partial<Record<DurationColumn, ReferenceValue>>)[metric];
}

/** Signed relative error of the simulated mean against the reference mean, percent. */
export function errorPct(simulated: number, reference: number): number {
  return ((simulated - reference) / reference) * 100;
}

export interface SummaryRow {
  experiment: string;
  cell: string;
  axes: Record<string, string>;
  policy: string;
  metric: DurationColumn;
  stats: Stats;
  reference?: ReferenceValue | undefined;
  error_pct?: number | undefined;
}

export interface SummaryInput {
  rows: readonly RunRow[];
  /** sweep axis names, experiment order */
  axes: readonly string[];
  reference?: ReferenceBlock | undefined;
  /** the interval of the means (default Student t) */
  interval?: IntervalSpec | undefined;
}

interface Group {
  experiment: string;
  cell: string;
  axes: Record<string, string>;
  policy: string;
  rows: RunRow[];
}

/** Rows grouped by (cell, policy), groups in order of first appearance. */
function groups(rows: readonly RunRow[]): Group[] {
  const byKey = new Map<string, Group>();
  for (const r of rows) {
    const key = JSON.stringify([r.record.cell, r.record.policy]);
    let g = byKey.get(key);
    if (!g) {
      g = { experiment: r.record.experiment, cell: r.record.cell, axes: r.axes, policy: r.record.policy, rows: [] };
      byKey.set(key, g);
    }
    g.rows.push(r);
  }
  // group cells together even if a cell's policies were interleaved with another cell's rows
  const cellOrder = new Map<string, number>();
  for (const g of byKey.values()) if (!cellOrder.has(g.cell)) cellOrder.set(g.cell, cellOrder.size);
  return [...byKey.values()]
    .map((g, i) => ({ g, i }))
    .sort((a, b) => cellOrder.get(a.g.cell)! - cellOrder.get(b.g.cell)! || a.i - b.i)
    .map((x) => x.g);
}

export function summarize(input: SummaryInput): SummaryRow[] {
  const out: SummaryRow[] = [];
  for (const g of groups(input.rows)) {
    for (const metric of DURATION_COLUMNS) {
      const stats = describe(
        g.rows.map((r) => r.record[metric]),
        input.interval ?? STUDENT_T,
        [g.cell, g.policy, metric].join("\u001f"),
      );
      const row: SummaryRow = { experiment: g.experiment, cell: g.cell, axes: g.axes, policy: g.policy, metric, stats };
      const ref = referenceFor(input.reference, g.policy, metric);
      if (ref) {
        row.reference = ref;
        row.error_pct = errorPct(stats.mean, ref.mean);
      }
      out.push(row);
    }
  }
  return out;
}

function summaryColumns(axes: readonly string[]): string[] {
  return ["experiment", "cell", ...axes, "policy", "metric", "n", "mean", "ci95", "std", "median", "min", "max", "reference", "reference_ci", "error_pct", "ci_low", "ci_high"];
}

/** NaN (undefined statistic) -> empty cell. */
function num(x: number | undefined): string {
  return x === undefined || Number.isNaN(x) ? "" : formatNumber(x);
}

export function summaryCsv(rows: readonly SummaryRow[], axes: readonly string[]): string {
  const lines: string[][] = [summaryColumns(axes)];
  for (const r of rows) {
    const s = r.stats;
    lines.push([
      r.experiment,
      r.cell,
      ...axes.map((a) => r.axes[a] ?? ""),
      r.policy,
      r.metric,
      String(s.n),
      num(s.mean),
      num(s.ci95),
      num(s.std),
      num(s.median),
      num(s.min),
      num(s.max),
      num(r.reference?.mean),
      num(r.reference?.ci),
      num(r.error_pct),
      num(s.low),
      num(s.high),
    ]);
  }
  return csvLines(lines);
}

// ---------------------------------------------------------------------------------------------
// Markdown

/** A number with a fixed number of decimals (a percentage); "n/a" for undefined. */
export function fmt(x: number | undefined, digits: number): string {
  if (x === undefined || Number.isNaN(x)) return "n/a";
  return noNegativeZero(x.toFixed(digits));
}

function noNegativeZero(s: string): string {
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

/** significant digits of a confidence interval's half-width in summary.md and tables.md */
const CI_DIGITS = 2;
/** significant digits of a mean shown without an interval (the phases), never fewer than its integer digits */
const MEAN_DIGITS = 3;

/** Decimals that show `x` to `digits` significant digits (negative: rounded to tens, hundreds...). */
function decimalsFor(x: number, digits: number): number {
  return x === 0 ? 0 : digits - 1 - Math.floor(Math.log10(Math.abs(x)));
}

/** `x` rounded to `decimals` places (negative: to tens, hundreds...), as text. */
function roundTo(x: number, decimals: number): string {
  if (decimals >= 0) return noNegativeZero(x.toFixed(decimals));
  const unit = 10 ** -decimals;
  return noNegativeZero(String(Math.round(x / unit) * unit));
}

/** A mean without its interval: 3 significant digits (0.0670, 9.65, 127), "n/a" for undefined. */
export function formatMean(x: number | undefined): string {
  if (x === undefined || Number.isNaN(x)) return "n/a";
  return roundTo(x, Math.max(0, decimalsFor(x, MEAN_DIGITS)));
}

/**
 * "mean ± half-width": the half-width to 2 significant digits and the mean rounded to the same
 * place, so no digit is shown that the interval says is noise (`128 ± 50`, not `127.7 ± 49.906`;
 * `17.10 ± 0.16`). An undefined interval (n < 2) is "n/a", an exact one (every run the same) "0".
 */
export function meanCi(s: { mean: number; ci95?: number; ci?: number }): string {
  const ci = s.ci95 ?? s.ci;
  if (ci === undefined || Number.isNaN(ci)) return `${formatMean(s.mean)} ± n/a`;
  const rounded = Number(ci.toPrecision(CI_DIGITS));
  const decimals = decimalsFor(rounded, CI_DIGITS);
  // finer than runs.csv holds (floating-point noise of equal runs): no spread at all
  if (ci === 0 || decimals > CSV_DECIMALS) return `${formatMean(s.mean)} ± 0`;
  return `${roundTo(s.mean, decimals)} ± ${roundTo(rounded, decimals)}`;
}

/**
 * "12.3 [10.1, 15.0]": the mean and the interval the report shows (a bootstrap's need not be
 * symmetric), rounded as `meanCi` rounds: to 2 significant digits of the half-width.
 */
function meanInterval(s: Stats): string {
  if (Number.isNaN(s.low)) return `${formatMean(s.mean)} [n/a]`;
  const d = intervalDecimals(s.low, s.high);
  return `${roundedTo(s.mean, d)} [${roundedTo(s.low, d)}, ${roundedTo(s.high, d)}]`;
}

/**
 * The decimals that show an interval [low, high] and its mean to 2 significant digits of the
 * half-width (`meanCi`'s rule); undefined when there is no interval or no spread runs.csv holds.
 */
export function intervalDecimals(low: number, high: number): number | undefined {
  if (Number.isNaN(low) || Number.isNaN(high)) return undefined;
  const half = Number(((high - low) / 2).toPrecision(CI_DIGITS));
  const decimals = decimalsFor(half, CI_DIGITS);
  return half === 0 || decimals > CSV_DECIMALS ? undefined : decimals;
}

/** `x` to `decimals` places (`intervalDecimals`), or to 3 significant digits when undefined. */
export function roundedTo(x: number, decimals: number | undefined): string {
  return decimals === undefined ? formatMean(x) : roundTo(x, decimals);
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, "\\|");
}

export function mdTable(header: string[], rows: string[][], align?: string[]): string {
  const a = align ?? header.map((_, i) => (i === 0 ? ":--" : "--:"));
  return [`| ${header.map(mdEscape).join(" | ")} |`, `| ${a.join(" | ")} |`, ...rows.map((r) => `| ${r.map(mdEscape).join(" | ")} |`)].join("\n");
}

const PHASE_LABEL: Record<DurationColumn, string> = {
  decision_s: "decision",
  key_retrieval_s: "key retrieval",
  checkpoint_s: "checkpoint",
  transfer_s: "transfer",
  restore_s: "restore",
  downtime_s: "downtime",
  total_s: "total",
};

export function phaseLabel(m: DurationColumn): string {
  return PHASE_LABEL[m];
}

export interface SummaryMdOptions {
  experiment: string;
  axes: readonly string[];
  reference?: ReferenceBlock | undefined;
  /** the interval the tables show (default Student t) */
  interval?: IntervalSpec["method"] | undefined;
}

/** summary.md: one table per cell, rows = policies: total mean ± CI, reference, error, phases. */
export function summaryMarkdown(rows: readonly SummaryRow[], opts: SummaryMdOptions): string {
  const out: string[] = [`# ${opts.experiment}: summary`, ""];
  const bootstrap = opts.interval === "bootstrap";
  out.push(
    (bootstrap
      ? `Times in seconds: mean [95% confidence interval (${intervalName("bootstrap")})], over n runs; `
      : `Times in seconds: mean ± half-width of the 95% confidence interval (${intervalName("t")}), over n runs; `) +
      "n/a where n < 2. The interval has 2 significant digits (of its half-width) and the mean is rounded to the same place; " +
      "phases are means to 3 significant digits; total runs from the trigger to SUCCESS.",
  );
  const hasRef = opts.reference !== undefined && rows.some((r) => r.reference);
  if (hasRef) {
    out.push("");
    out.push(`Reference: ${opts.reference?.source ?? "published values"} (total time); error = (simulated - reference) / reference.`);
  }
  const cells: string[] = [];
  for (const r of rows) if (!cells.includes(r.cell)) cells.push(r.cell);
  for (const cell of cells) {
    const cellRows = rows.filter((r) => r.cell === cell);
    const first = cellRows[0]!;
    out.push("");
    const axisText = opts.axes.map((a) => `${a} = ${first.axes[a] ?? ""}`).join(", ");
    out.push(`## ${cell}`);
    if (axisText) out.push("", axisText);
    const header = ["policy", "n", "total (s)"];
    if (hasRef) header.push("reference (s)", "error");
    for (const m of DURATION_COLUMNS) if (m !== "total_s") header.push(`${PHASE_LABEL[m]} (s)`);
    const policies: string[] = [];
    for (const r of cellRows) if (!policies.includes(r.policy)) policies.push(r.policy);
    const body = policies.map((p) => {
      const by = (m: DurationColumn) => cellRows.find((r) => r.policy === p && r.metric === m)!;
      const total = by("total_s");
      const line = [p, String(total.stats.n), bootstrap ? meanInterval(total.stats) : meanCi(total.stats)];
      if (hasRef) {
        line.push(total.reference ? meanCi(total.reference) : "");
        line.push(total.error_pct === undefined ? "" : `${total.error_pct >= 0 ? "+" : ""}${fmt(total.error_pct, 1)}%`);
      }
      for (const m of DURATION_COLUMNS) if (m !== "total_s") line.push(formatMean(by(m).stats.mean));
      return line;
    });
    out.push("", mdTable(header, body));
    const phaseRefs = cellRows.filter((r) => r.reference && r.metric !== REFERENCE_METRIC);
    if (phaseRefs.length) {
      out.push(
        "",
        "Other published values:",
        "",
        mdTable(
          ["policy", "metric", "simulated (s)", "reference (s)", "error"],
          phaseRefs.map((r) => [r.policy, PHASE_LABEL[r.metric], meanCi(r.stats), meanCi(r.reference!), `${r.error_pct! >= 0 ? "+" : ""}${fmt(r.error_pct!, 1)}%`]),
        ),
      );
    }
  }
  return `${out.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// Paper comparison (migsim reproduce: tables.md)

export interface PaperRow {
  policy: string;
  simulated: Stats;
  paper: ReferenceValue;
  /** the parameters fitted on this row's published value (empty: the row is a check of the model) */
  fitted?: readonly string[] | undefined;
}

/** Agreement rule: |simulated mean - paper mean| <= max(paper CI, 10% of paper mean). */
export function withinTolerance(simulatedMean: number, paper: ReferenceValue): boolean {
  const tol = Math.max(paper.ci, 0.1 * Math.abs(paper.mean));
  return Math.abs(simulatedMean - paper.mean) <= tol;
}

export function paperTable(title: string, rows: readonly PaperRow[]): string {
  const body = rows.map((r) => {
    const ok = withinTolerance(r.simulated.mean, r.paper);
    const err = errorPct(r.simulated.mean, r.paper.mean);
    return [r.policy, meanCi(r.simulated), meanCi(r.paper), `${err >= 0 ? "+" : ""}${fmt(err, 1)}%`, ok ? "yes" : "no", r.fitted?.length ? `yes: ${r.fitted.join(", ")}` : "no: a check"];
  });
  return [
    `### ${title}`,
    "",
    mdTable(["policy", "simulated mean ± CI (s)", "paper mean ± CI (s)", "error %", "within tolerance", "fitted on this value"], body, [":--", "--:", "--:", "--:", ":-:", ":--"]),
    "",
    "Within tolerance: |simulated - paper| <= max(paper CI, 10% of the paper mean). A value with " + "parameters fitted on it agrees by construction; the checks of the model are the others.",
    "",
  ].join("\n");
}

function whyNot(o: Ordering): string {
  if (o.status === "reversed") return "reversed";
  if (o.status === "overlap") return "the simulated intervals overlap";
  return `the simulated difference, ${formatMean(o.simulatedGap)} s, is below the ${formatMean(o.paperGap)} s the paper's intervals keep apart`;
}

/**
 * The paper's orderings of one table and whether the simulation keeps them; a "not held" gets
 * its one-line reason from `explain` (what the model lacks, with the docs section).
 */
export function orderingsTable(orderings: readonly Ordering[], explain: (o: Ordering) => string | undefined): string {
  if (orderings.length === 0) return "No two policies of this table are ordered by the paper's intervals (they all overlap).\n";
  const held = orderings.filter((o) => o.significant && o.status === "held").length;
  const significant = orderings.filter((o) => o.significant).length;
  const body = orderings.map((o) => {
    const state = o.status === "held" ? "held" : `not held (${whyNot(o)}): ${explain(o) ?? "not explained yet (docs/reproduction.md)"}`;
    return [
      `${o.faster.policy} < ${o.slower.policy}${o.significant ? "" : " (stated in the paper's text; its intervals overlap)"}`,
      `${meanCi(o.faster.paper)} < ${meanCi(o.slower.paper)}`,
      `${meanCi(o.faster.simulated)} vs ${meanCi(o.slower.simulated)}`,
      state,
    ];
  });
  return [`Orderings: ${held} of ${significant} significant in the paper held.`, "", mdTable(["ordering", "paper (s)", "simulated (s)", "held"], body, [":--", "--:", "--:", ":--"]), ""].join("\n");
}
