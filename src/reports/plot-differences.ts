/**
 * Paired differences of the total time (differences.ts) with their 95% intervals, one row per
 * policy, a dashed line at zero: a difference whose bar does not cross the line is one the runs
 * resolve. One panel per cell (policies against the baseline) or per pair of cells (a sweep
 * value against the axis's first value), at most three panels a row.
 */
import type { TopLevelSpec } from "vega-lite";
import { fileSafe, type AxisInfo } from "./axes.ts";
import type { Difference } from "./differences.ts";
import { CONFIG, panelColumns, panelHeaderWidth, panelLayout, policiesOf, policyChannels, SCHEMA } from "./plots.ts";
import { intervalName, type IntervalMethod } from "../core/stats.ts";

export interface DifferenceChartOptions {
  title: string;
  /** what is compared with what, e.g. "each policy minus bandwidth, run by run" */
  what: string;
  /** the panel a difference is drawn in ("" for one panel) */
  panel: (d: Difference) => string;
  method: IntervalMethod;
  /** every policy of the experiment in its order: each keeps the colour and marker of the other plots */
  allPolicies: readonly string[];
}

const ROW_PX = 20;
const MIN_ROW_PX = 12;
/** the tallest figure that still fits a page (and README_WIDTH x 760 of test/plots-visual) */
const MAX_HEIGHT_PX = 700;
/** a panel row's height besides its panel: header lines, x axis labels, spacing */
const PANEL_ROW_EXTRA_PX = 80;

export function differenceChart(ds: readonly Difference[], opts: DifferenceChartOptions): TopLevelSpec {
  const sel = ds.filter((d) => d.metric === "total_s");
  const policies = policiesOf(sel);
  const panels = [...new Set(sel.map(opts.panel))];
  const values = sel.map((d) => ({
    policy: d.policy,
    panel: opts.panel(d),
    difference: d.difference,
    // no interval (one run): the point alone
    lo: Number.isNaN(d.low) ? d.difference : d.low,
    hi: Number.isNaN(d.high) ? d.difference : d.high,
  }));
  const ch = policyChannels(opts.allPolicies);
  const y = { field: "policy", type: "nominal" as const, sort: policies, title: null, axis: { grid: false } };
  // in the subtitle, not under every panel: an axis title wider than its panel would widen the
  // column and push the panel off its y axis, and each title costs a row of height
  const title = null;
  const layer = [
    { mark: { type: "rule", color: "#333", strokeDash: [5, 3], strokeWidth: 1.2 }, encoding: { x: { datum: 0, type: "quantitative", title } } },
    {
      mark: { type: "rule", strokeWidth: 1.6 },
      encoding: { y, x: { field: "lo", type: "quantitative", title }, x2: { field: "hi" }, color: { ...ch.color, legend: null } },
    },
    {
      mark: { type: "point", filled: true, size: 50 },
      encoding: { y, x: { field: "difference", type: "quantitative", title }, color: { ...ch.color, legend: null }, shape: { ...ch.shape, legend: null } },
    },
  ];
  const n = Math.min(...sel.map((d) => d.n));
  const base = {
    $schema: SCHEMA,
    title: {
      text: opts.title,
      subtitle: [opts.what, `x: mean difference (s) of ${n} paired run${n === 1 ? "" : "s"}; bars: 95% interval (${intervalName(opts.method)})`, "dashed line: no difference"],
    },
    data: { values },
    config: CONFIG,
  };
  if (panels.length <= 1) return { ...base, width: 420, height: Math.max(60, policies.length * ROW_PX), layer } as unknown as TopLevelSpec;
  const panelRows = Math.ceil(panels.length / panelColumns(panels));
  const perPolicy = Math.max(MIN_ROW_PX, Math.min(ROW_PX, Math.floor((MAX_HEIGHT_PX / panelRows - PANEL_ROW_EXTRA_PX) / policies.length)));
  const height = Math.max(40, policies.length * perPolicy);
  return {
    ...base,
    ...panelLayout(panels),
    spec: { width: Math.max(200, panelHeaderWidth(panels)), height, layer },
    resolve: { scale: { x: "independent" } },
  } as unknown as TopLevelSpec;
}

/**
 * The difference plots of a report, by file name: `differences-policies` (each policy against the
 * baseline, a panel per cell) and `differences-<axis>` (each value against the axis's first, a
 * panel per value and combination of the other axes).
 */
/** "fanout 3, checkpoint 5 MB": a panel header, one line per axis. */
function shortCellText(axes: readonly AxisInfo[], values: Readonly<Record<string, string>>): string {
  return axes.map((a) => `${a.short} ${a.format(values[a.path] ?? "")}`).join(", ");
}

export function differencePlots(
  ds: readonly Difference[],
  axes: readonly AxisInfo[],
  experiment: string,
  method: IntervalMethod,
  allPolicies: readonly string[],
): Array<{ name: string; spec: TopLevelSpec }> {
  const out: Array<{ name: string; spec: TopLevelSpec }> = [];
  const byPolicy = ds.filter((d) => d.comparison === "policy");
  if (byPolicy.length > 0) {
    const baseline = byPolicy[0]!.baseline;
    out.push({
      name: "differences-policies",
      spec: differenceChart(byPolicy, {
        title: `${experiment}: total migration time, each policy against ${baseline}`,
        what: `each policy's run minus ${baseline}'s run with the same index (the same random draws)`,
        panel: (d) => shortCellText(axes, d.axes),
        method,
        allPolicies,
      }),
    });
  }
  for (const axis of axes) {
    const bySweep = ds.filter((d) => d.comparison === "sweep" && d.axis === axis.path);
    if (bySweep.length === 0) continue;
    const others = axes.filter((a) => a !== axis);
    const first = axis.format(bySweep[0]!.baseline);
    out.push({
      name: `differences-${fileSafe(axis.short)}`,
      spec: differenceChart(bySweep, {
        title: `${experiment}: total migration time, each ${axis.label} against ${first}`,
        what: `each policy's run at the panel's ${axis.label} minus its run with the same index at ${first}`,
        panel: (d) => [`${axis.short} ${axis.format(d.axes[axis.path] ?? "")}`, shortCellText(others, d.axes)].filter((x) => x).join(", "),
        method,
        allPolicies,
      }),
    });
  }
  return out;
}
