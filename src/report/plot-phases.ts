/** Mean time of every phase and of the total, one bar per policy, 95% CI error bars: one chart per cell. */
import type { TopLevelSpec } from "vega-lite";
import { CONFIG, PALETTE, policiesOf, SCHEMA } from "./plots.ts";
import { DURATION_COLUMNS, phaseLabel, type SummaryRow } from "./summary.ts";

export interface PhaseChartOptions {
  title: string;
  /** what the cell is, e.g. "tree fanout 3, checkpoint size 5 MB" (a line of its own) */
  cell?: string | undefined;
}

const BAR_WIDTH = 11;

export function phaseChart(rows: readonly SummaryRow[], opts: PhaseChartOptions): TopLevelSpec {
  const policies = policiesOf(rows);
  const phases = DURATION_COLUMNS.map(phaseLabel);
  const values = rows.map((r) => {
    const ci = Number.isNaN(r.stats.ci95) ? 0 : r.stats.ci95;
    return { policy: r.policy, phase: phaseLabel(r.metric), mean: r.stats.mean, lo: r.stats.mean - ci, hi: r.stats.mean + ci };
  });
  const n = Math.min(...rows.map((r) => r.stats.n));
  const note = `mean of ${n} run${n === 1 ? "" : "s"} per policy; error bars: 95% confidence interval (Student t)`;
  const x = { field: "phase", type: "nominal" as const, sort: phases, title: "phase", axis: { labelAngle: 0, grid: false, labelExpr: "split(datum.label, ' ')" } };
  const color = {
    field: "policy",
    type: "nominal" as const,
    sort: policies,
    title: "policy",
    scale: { domain: policies, range: policies.map((_, i) => PALETTE[i % PALETTE.length]!) },
  };
  return {
    $schema: SCHEMA,
    title: { text: opts.title, subtitle: opts.cell ? [opts.cell, note] : note },
    // wide enough for every bar of a phase side by side (and for "retrieval" under one phase)
    width: phases.length * Math.max(policies.length * BAR_WIDTH + 12, 80),
    height: 260,
    data: { values },
    encoding: { x, xOffset: { field: "policy", type: "nominal", sort: policies } },
    layer: [
      { mark: { type: "bar" }, encoding: { y: { field: "mean", type: "quantitative", title: "time (s)" }, color } },
      {
        mark: { type: "errorbar", ticks: true, color: "#222" },
        encoding: { y: { field: "lo", type: "quantitative", title: "time (s)" }, y2: { field: "hi" } },
      },
    ],
    config: CONFIG,
  } as TopLevelSpec;
}
