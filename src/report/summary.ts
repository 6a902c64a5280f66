/**
 * summary.csv and summary.md: per cell and policy, the statistics (stats.ts) of every duration
 * column of runs.csv, and the published reference beside total_s. Cells and policies appear in
 * the order of their first row in runs.csv, which is plan order.
 */
import { describe, intervalName, STUDENT_T, type IntervalSpec, type Stats } from "./stats.ts";
import { csvLines, formatNumber } from "./csv.ts";
import type { RunRow } from "./csv.ts";

export const DURATION_COLUMNS = [
  "decision_s", "key_retrieval_s", "checkpoint_s", "transfer_s", "restore_s", "downtime_s", "total_s",
] as const;
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
  return [...byKey.values()].map((g, i) => ({ g, i }))
    .sort((a, b) => cellOrder.get(a.g.cell)! - cellOrder.get(b.g.cell)! || a.i - b.i)
    .map((x) => x.g);
}

export function summarize(input: SummaryInput): SummaryRow[] {
  const out: SummaryRow[] = [];
  for (const g of groups(input.rows)) {
    for (const metric of DURATION_COLUMNS) {
      const stats = describe(g.rows.map((r) => r.record[metric]), input.interval ?? STUDENT_T, [g.cell, g.policy, metric].join("\u001f"));
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
  return [
    "experiment", "cell", ...axes, "policy", "metric", "n", "mean", "ci95", "std", "median", "min", "max",
    "reference", "reference_ci", "error_pct", "ci_low", "ci_high",
  ];
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
      r.experiment, r.cell, ...axes.map((a) => r.axes[a] ?? ""), r.policy, r.metric,
      String(s.n), num(s.mean), num(s.ci95), num(s.std), num(s.median), num(s.min), num(s.max),
      num(r.reference?.mean), num(r.reference?.ci), num(r.error_pct), num(s.low), num(s.high),
    ]);
  }
  return csvLines(lines);
}

// ---------------------------------------------------------------------------------------------
// Markdown

/** A number for a markdown table: 3 decimals below 100, 1 above; "n/a" for undefined. */
export function fmt(x: number | undefined, digits?: number): string {
  if (x === undefined || Number.isNaN(x)) return "n/a";
  const d = digits ?? (Math.abs(x) >= 100 ? 1 : 3);
  const s = x.toFixed(d);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

function meanCi(s: { mean: number; ci95?: number; ci?: number }, digits?: number): string {
  const ci = s.ci95 ?? s.ci;
  return ci === undefined || Number.isNaN(ci) ? `${fmt(s.mean, digits)} ± n/a` : `${fmt(s.mean, digits)} ± ${fmt(ci, digits)}`;
}

/** "12.3 [10.1, 15.0]": the mean and the interval the report shows. */
function meanInterval(s: Stats): string {
  return Number.isNaN(s.low) ? `${fmt(s.mean)} [n/a]` : `${fmt(s.mean)} [${fmt(s.low)}, ${fmt(s.high)}]`;
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, "\\|");
}

function mdTable(header: string[], rows: string[][], align?: string[]): string {
  const a = align ?? header.map((_, i) => (i === 0 ? ":--" : "--:"));
  return [
    `| ${header.map(mdEscape).join(" | ")} |`,
    `| ${a.join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(mdEscape).join(" | ")} |`),
  ].join("\n");
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
      "n/a where n < 2. Phases are means; total runs from the trigger to SUCCESS.",
  );
  const hasRef = opts.reference !== undefined && rows.some((r) => r.reference);
  if (hasRef) {
    out.push("");
    out.push(
      `Reference: ${opts.reference?.source ?? "published values"} (total time); error = (simulated - reference) / reference.`,
    );
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
      for (const m of DURATION_COLUMNS) if (m !== "total_s") line.push(fmt(by(m).stats.mean));
      return line;
    });
    out.push("", mdTable(header, body));
    const phaseRefs = cellRows.filter((r) => r.reference && r.metric !== REFERENCE_METRIC);
    if (phaseRefs.length) {
      out.push("", "Other published values:", "", mdTable(["policy", "metric", "simulated (s)", "reference (s)", "error"],
        phaseRefs.map((r) => [r.policy, PHASE_LABEL[r.metric], meanCi(r.stats), meanCi(r.reference!), `${r.error_pct! >= 0 ? "+" : ""}${fmt(r.error_pct!, 1)}%`])));
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
    return [
      r.policy,
      meanCi(r.simulated, 2),
      meanCi(r.paper, 2),
      `${err >= 0 ? "+" : ""}${fmt(err, 1)}%`,
      ok ? "yes" : "no",
    ];
  });
  return [
    `### ${title}`,
    "",
    mdTable(["policy", "simulated mean ± CI (s)", "paper mean ± CI (s)", "error %", "within tolerance"], body,
      [":--", "--:", "--:", "--:", ":-:"]),
    "",
    "Within tolerance: |simulated - paper| <= max(paper CI, 10% of the paper mean).",
    "",
  ].join("\n");
}
