/**
 * Mean total migration time against one sweep axis, one line per policy with its 95% CI as an
 * error bar; one panel per combination of the other axes, at most three panels a row, in
 * numeric order. The x axis is numeric in the axis's unit (log when the values span a decade),
 * ticked at the swept values. Each policy's points are shifted a few pixels sideways, and each
 * has its own colour, marker and dash, so series that coincide (e.g. random and shortest-path
 * on a star) stay each visible and error bars do not hide one another.
 */
import type { TopLevelSpec } from "vega-lite";
import { cellText, type AxisInfo } from "./axes.ts";
import { CONFIG, panelHeaderWidth, panelLayout, policiesOf, policyChannels, SCHEMA } from "./plots.ts";
import type { SummaryRow } from "./summary.ts";

export interface SweepChartOptions {
  title: string;
  axis: AxisInfo;
  /** the other sweep axes: one panel per combination of their values */
  otherAxes: readonly AxisInfo[];
  metric?: string;
}

const DODGE_PX = 4;
const EDGE_PX = 24;

/** Pixel-exact placement on a linear or log x scale of known width: domain and sideways shift. */
function placement(nums: readonly number[], log: boolean, width: number, count: number) {
  const f = log ? Math.log10 : (v: number) => v;
  const inv = log ? (v: number) => 10 ** v : (v: number) => v;
  const lo = f(Math.min(...nums));
  const hi = f(Math.max(...nums));
  const span = hi > lo ? hi - lo : 1;
  const perPx = span / (width - 2 * EDGE_PX);
  const domain = [inv(lo - EDGE_PX * perPx), inv(hi + EDGE_PX * perPx)];
  const shift = (v: number, i: number) => inv(f(v) + (i - (count - 1) / 2) * DODGE_PX * perPx);
  return { domain, shift };
}

function combinations(axes: readonly AxisInfo[]): Array<Record<string, string>> {
  let out: Array<Record<string, string>> = [{}];
  for (const a of axes) out = out.flatMap((c) => a.order.map((v) => ({ ...c, [a.path]: v })));
  return out;
}

export function sweepChart(rows: readonly SummaryRow[], opts: SweepChartOptions): TopLevelSpec {
  const metric = opts.metric ?? "total_s";
  const sel = rows.filter((r) => r.metric === metric);
  const policies = policiesOf(sel);
  const a = opts.axis;
  // names are placed at 0, 1, 2...: one numeric scale for every kind of axis
  const pos = (v: string): number => (a.kind === "name" ? a.order.indexOf(v) : a.numeric(v));
  const ticks = a.order.map(pos);
  const log = a.kind !== "name" && a.log;
  const faceted = opts.otherAxes.length > 0;
  const panels = combinations(opts.otherAxes).map((c) => cellText(opts.otherAxes, c));
  const header = panelHeaderWidth(panels);
  const width = faceted ? Math.max(210, header) : 440;
  const { domain, shift } = placement(ticks, log, width, policies.length);
  const values = sel.map((r) => {
    const ci = Number.isNaN(r.stats.ci95) ? 0 : r.stats.ci95;
    const v = r.axes[a.path] ?? "";
    return {
      policy: r.policy,
      dash: r.policy,
      x: shift(pos(v), policies.indexOf(r.policy)),
      panel: cellText(opts.otherAxes, r.axes),
      mean: r.stats.mean,
      lo: r.stats.mean - ci,
      hi: r.stats.mean + ci,
    };
  });
  const labels = Object.fromEntries(a.order.map((v) => [String(pos(v)), a.kind === "name" ? v : String(a.numeric(v))]));
  const x = {
    field: "x",
    type: "quantitative" as const,
    title: a.title,
    scale: log ? { type: "log", domain, nice: false } : { type: "linear", domain, nice: false, zero: false },
    axis: { values: ticks, labelExpr: `${JSON.stringify(labels)}[datum.value] || ''`, labelFlush: false, grid: true },
  };
  // a time is never negative: a wide CI of few runs is cut at 0 rather than stretching the axis
  const y = { field: "mean", type: "quantitative" as const, title: "total migration time (s)", scale: { zero: true, domainMin: 0 } };
  const ch = policyChannels(policies);
  const layer = [
    {
      mark: { type: "rule", strokeWidth: 1.2, opacity: 0.75, clip: true },
      encoding: { x, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" }, color: ch.color },
    },
    {
      mark: { type: "line", strokeWidth: 1.8 },
      // its own field: a legend left off one channel of a field is left off all of that field's
      encoding: { x, y, color: ch.color, strokeDash: { ...ch.strokeDash, field: "dash", legend: null } },
    },
    {
      mark: { type: "point", filled: false, size: 45, strokeWidth: 1.6, opacity: 1 },
      encoding: { x, y, color: ch.color, shape: ch.shape },
    },
  ];
  const runs = Math.min(...sel.map((r) => r.stats.n));
  const base = {
    $schema: SCHEMA,
    title: {
      text: opts.title,
      subtitle: [
        `mean of ${runs} run${runs === 1 ? "" : "s"} per point; bars: 95% confidence interval (Student t);`,
        `points of each policy shifted ${DODGE_PX} px sideways so that equal values stay visible`,
      ],
    },
    data: { values },
    config: {
      ...CONFIG,
      legend: { ...CONFIG.legend, orient: "bottom", direction: "horizontal", columns: 4, symbolStrokeWidth: 1.8, symbolSize: 60, symbolFillColor: "white" },
    },
  };
  if (!faceted) return { ...base, width, height: 260, layer } as unknown as TopLevelSpec;
  return {
    ...base,
    ...panelLayout(panels),
    spec: { width, height: 190, layer },
    resolve: { axis: { x: "independent" } },
  } as unknown as TopLevelSpec;
}
