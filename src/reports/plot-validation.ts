/**
 * Simulator against testbed (`migsim compare`): mean total and transfer time with 95% CI, per
 * policy. Intervals are drawn from 0 where they would reach below it, and the caption says so.
 */
import type { TopLevelSpec } from "vega-lite";
import { CONFIG, cutNote, intervalCaption, PALETTE, SCHEMA, timeInterval } from "./plots.ts";
import type { Stats } from "../core/stats.ts";
import { phaseLabel, type DurationColumn } from "./summary.ts";

export interface ValidationChartRow {
  cell: string;
  policy: string;
  metric: string;
  sim: Stats;
  emu: Stats;
}

const SHOWN: readonly string[] = ["total_s", "transfer_s"];

export function validationChart(name: string, rows: readonly ValidationChartRow[]): TopLevelSpec {
  const manyCells = new Set(rows.map((r) => r.cell)).size > 1;
  const shown = rows.filter((r) => SHOWN.includes(r.metric));
  const group = (r: ValidationChartRow) => `${manyCells ? `${r.cell}: ` : ""}${r.policy}, ${phaseLabel(r.metric as DurationColumn)}`;
  const bar = (r: ValidationChartRow, backend: string, s: Stats) => ({ group: group(r), backend, mean: s.mean, ...timeInterval(s) });
  const data = shown.flatMap((r) => [bar(r, "simulator", r.sim), bar(r, "testbed", r.emu)]);
  const groups = [...new Set(data.map((d) => d.group))];
  const y = { field: "group", type: "nominal" as const, sort: groups, title: null };
  const yOffset = { field: "backend", type: "nominal" as const, sort: ["simulator", "testbed"] };
  return {
    $schema: SCHEMA,
    title: { text: `${name}: simulator vs testbed`, subtitle: [`mean time with ${intervalCaption()}`, ...(cutNote(data) ? [cutNote(data)] : [])] },
    data: { values: data },
    width: 420,
    height: Math.max(120, 34 * groups.length),
    layer: [
      {
        mark: "bar",
        encoding: {
          y,
          yOffset,
          x: { field: "mean", type: "quantitative", title: "time (s)", scale: { zero: true } },
          color: {
            field: "backend",
            type: "nominal",
            title: null,
            sort: ["simulator", "testbed"],
            scale: { range: [PALETTE[0], PALETTE[1]] },
            legend: { orient: "bottom", direction: "horizontal" },
          },
        },
      },
      { mark: { type: "rule", color: "#222" }, encoding: { y, yOffset, x: { field: "lo", type: "quantitative" }, x2: { field: "hi" } } },
    ],
    config: CONFIG,
  } as unknown as TopLevelSpec;
}
