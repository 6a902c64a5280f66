/**
 * Mean time of every phase and of the total, one bar per policy with its 95% CI: one chart per
 * cell, one panel per phase in protocol order, each with its own y scale, so a 0.2 s decision
 * or key retrieval is as readable beside a 60 s transfer as the transfer itself. Phases that
 * take 0 s for every policy (key retrieval of load-balancing policies) are left out, and the
 * caption says which. Intervals are drawn from 0 where they would reach below it.
 */
import type { TopLevelSpec } from "vega-lite";
import type { IntervalMethod } from "../core/stats.ts";
import { CONFIG, cutNote, intervalCaption, PALETTE, policiesOf, SCHEMA, timeInterval } from "./plots.ts";
import { DURATION_COLUMNS, phaseLabel, type SummaryRow } from "./summary.ts";

export interface PhaseChartOptions {
  /** the interval the report shows (default Student t) */
  interval?: IntervalMethod | undefined;
  title: string;
  /** what the cell is, e.g. "tree fanout 3, checkpoint size 5 MB" (a line of its own) */
  cell?: string | undefined;
}

const BAR_WIDTH = 13;
/** the rows of bars (the others only raise each panel's y scale) */
const BARS = { filter: "isValid(datum.policy)" };

export function phaseChart(rows: readonly SummaryRow[], opts: PhaseChartOptions): TopLevelSpec {
  const policies = policiesOf(rows);
  const zero = DURATION_COLUMNS.filter((m) => rows.filter((r) => r.metric === m).every((r) => r.stats.mean === 0 && !(r.stats.ci95 > 0)));
  const shown = DURATION_COLUMNS.filter((m) => !zero.includes(m));
  const phases = shown.map(phaseLabel);
  const values = rows.filter((r) => shown.includes(r.metric)).map((r) => ({ policy: r.policy, phase: phaseLabel(r.metric), mean: r.stats.mean, ...timeInterval(r.stats) }));
  // headroom above the highest bar or interval of each panel, so that none runs into the frame
  const top = new Map<string, number>();
  for (const v of values) top.set(v.phase, Math.max(top.get(v.phase) ?? 0, v.hi, v.mean));
  const headroom = [...top].map(([phase, hi]) => ({ phase, top: hi * 1.08 }));
  const n = Math.min(...rows.map((r) => r.stats.n));
  const notes = [
    `mean of ${n} migration${n === 1 ? "" : "s"} per policy; error bars: ${intervalCaption(opts.interval)}; each panel its own y scale`,
    ...(zero.length ? [`0 s for every policy, not shown: ${zero.map(phaseLabel).join(", ")}`] : []),
    ...(cutNote(values) ? [cutNote(values)] : []),
  ];
  const color = {
    field: "policy",
    type: "nominal" as const,
    sort: policies,
    title: "policy",
    scale: { domain: policies, range: policies.map((_, i) => PALETTE[i % PALETTE.length]!) },
    legend: { orient: "bottom" as const, direction: "horizontal" as const, columns: 4 },
  };
  const x = { field: "policy", type: "nominal" as const, sort: policies, axis: null, scale: { paddingInner: 0.15, paddingOuter: 0.3 } };
  return {
    $schema: SCHEMA,
    title: { text: opts.title, subtitle: opts.cell ? [opts.cell, ...notes] : notes },
    data: { values: [...values, ...headroom] },
    facet: { field: "phase", type: "nominal", sort: phases, title: null, header: { labelFontSize: 12, labelPadding: 4, labelExpr: "(datum.label) + ' (s)'" } },
    // one row up to five panels, else two rows as even as can be (no row of one)
    columns: phases.length <= 5 ? phases.length : Math.ceil(phases.length / 2),
    spacing: { row: 16, column: 12 },
    spec: {
      width: Math.max(policies.length * BAR_WIDTH + 16, 90),
      height: 150,
      layer: [
        { transform: [BARS], mark: { type: "bar" }, encoding: { x, y: { field: "mean", type: "quantitative", title: null, scale: { zero: true } }, color } },
        { transform: [BARS], mark: { type: "rule", color: "#222" }, encoding: { x, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } } },
        { transform: [{ filter: "isValid(datum.top)" }], mark: { type: "point", opacity: 0 }, encoding: { y: { field: "top", type: "quantitative" } } },
      ],
    },
    resolve: { scale: { y: "independent" }, axis: { y: "independent" } },
    config: CONFIG,
  } as unknown as TopLevelSpec;
}
