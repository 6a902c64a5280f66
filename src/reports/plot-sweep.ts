/**
 * Mean total migration time against one sweep axis, one series per policy with its 95% CI as an
 * error bar; one panel per combination of the other axes, at most three panels a row, in
 * numeric order, each panel with its own y scale (a 5 MB panel's times are not flattened by a
 * 200 MB panel's), or one log y scale for all when a panel spans two decades. A numeric x axis
 * is in the axis's unit (log when the values span a decade), ticked at the swept values, and a
 * policy's points are joined by a line; a categorical axis (network model, transport) shows
 * points only: a line between two models would draw values that do not exist. Each policy's
 * points are shifted sideways, and each has its own colour, marker and dash, so series that
 * coincide (random and shortest-path on a star) stay each visible and error bars do not hide one
 * another. Intervals are drawn from 0 where they would reach below it (plots.ts timeInterval).
 */
import type { TopLevelSpec } from "vega-lite";
import type { IntervalMethod } from "../core/stats.ts";
import { cellText, type AxisInfo } from "./axes.ts";
import { CONFIG, cutNote, intervalCaption, panelHeaderWidth, panelLayout, policiesOf, policyChannels, SCHEMA, timeInterval } from "./plots.ts";
import type { SummaryRow } from "./summary.ts";

export interface SweepChartOptions {
  /** the interval the report shows (default Student t) */
  interval?: IntervalMethod | undefined;
  title: string;
  axis: AxisInfo;
  /** the other sweep axes: one panel per combination of their values */
  otherAxes: readonly AxisInfo[];
  metric?: string;
}

/** sideways shift between policies: small on a numeric axis (the x value matters), wider between categories */
const DODGE_PX = 4;
const CATEGORY_DODGE_PX = 9;
const EDGE_PX = 24;
/** a panel whose intervals span this ratio (highest top / lowest bottom) gets a log y axis */
const LOG_Y_RATIO = 100;

/** Pixel-exact placement on a linear or log x scale of known width: domain and sideways shift. */
function placement(nums: readonly number[], log: boolean, width: number, count: number, dodge: number) {
  const f = log ? Math.log10 : (v: number) => v;
  const inv = log ? (v: number) => 10 ** v : (v: number) => v;
  const lo = f(Math.min(...nums));
  const hi = f(Math.max(...nums));
  const edge = Math.max(EDGE_PX, ((count - 1) / 2) * dodge + 12);
  const span = hi > lo ? hi - lo : 1;
  const perPx = span / (width - 2 * edge);
  const domain = [inv(lo - edge * perPx), inv(hi + edge * perPx)];
  const shift = (v: number, i: number) => inv(f(v) + (i - (count - 1) / 2) * dodge * perPx);
  return { domain, shift };
}

/** Log y when some panel spans two decades and nothing drawn is at 0 (log has no 0). */
function logY(values: ReadonlyArray<{ panel: string; lo: number; hi: number }>): boolean {
  if (values.some((v) => !(v.lo > 0))) return false;
  const panels = new Map<string, { lo: number; hi: number }>();
  for (const v of values) {
    const p = panels.get(v.panel) ?? { lo: Infinity, hi: 0 };
    panels.set(v.panel, { lo: Math.min(p.lo, v.lo), hi: Math.max(p.hi, v.hi) });
  }
  return [...panels.values()].some((p) => p.hi / p.lo >= LOG_Y_RATIO);
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
  const categorical = a.kind === "name";
  // categories need room for their points side by side, not the span of a numeric axis
  const wanted = categorical ? Math.min(440, a.order.length * (policies.length * CATEGORY_DODGE_PX + 90)) : 440;
  const width = faceted ? Math.max(210, header) : wanted;
  const dodge = categorical ? CATEGORY_DODGE_PX : DODGE_PX;
  const { domain, shift } = placement(ticks, log, width, policies.length, dodge);
  const values = sel.map((r) => {
    const v = r.axes[a.path] ?? "";
    return {
      policy: r.policy,
      dash: r.policy,
      x: shift(pos(v), policies.indexOf(r.policy)),
      panel: cellText(opts.otherAxes, r.axes),
      mean: r.stats.mean,
      ...timeInterval(r.stats),
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
  const yLog = logY(values);
  const y = {
    field: "mean",
    type: "quantitative" as const,
    title: `total migration time (s${yLog ? ", log scale" : ""})`,
    // points and intervals need no zero baseline (bars would): the differences fill the panel
    scale: yLog ? { type: "log" } : { zero: false },
  };
  const ch = policyChannels(policies);
  const layer = [
    {
      mark: { type: "rule", strokeWidth: 1.2, opacity: 0.75 },
      encoding: { x, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" }, color: ch.color },
    },
    // a line joins a policy's values along a numeric axis only
    ...(categorical
      ? []
      : [
          {
            mark: { type: "line", strokeWidth: 1.8 },
            // its own field: a legend left off one channel of a field is left off all of that field's
            encoding: { x, y, color: ch.color, strokeDash: { ...ch.strokeDash, field: "dash", legend: null } },
          },
        ]),
    {
      mark: { type: "point", filled: false, size: 45, strokeWidth: 1.6, opacity: 1 },
      encoding: { x, y, color: ch.color, shape: ch.shape },
    },
  ];
  // (a run of several migrations gives several: the mean is over migrations)
  const n = Math.min(...sel.map((r) => r.stats.n));
  const cut = cutNote(values);
  const base = {
    $schema: SCHEMA,
    title: {
      text: opts.title,
      subtitle: [
        `mean of ${n} migration${n === 1 ? "" : "s"} per point; bars: ${intervalCaption(opts.interval)}${faceted ? "; each panel its own y scale" : ""};`,
        `points of each policy shifted ${dodge} px sideways so that equal values stay visible${cut ? ";" : ""}`,
        ...(cut ? [cut] : []),
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
    // log: one scale type for all panels, each its own domain
    resolve: { axis: { x: "independent", y: "independent" }, scale: { y: "independent" } },
  } as unknown as TopLevelSpec;
}
