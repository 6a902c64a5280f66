/**
 * Like Fig. 4 of the policy paper: the bandwidth of the source and destination hosts over time
 * around a migration, the migration's phases shaded and labelled. The x axis spans a little
 * before the trigger to a little after SUCCESS (the minutes of steady traffic before it say
 * nothing), and the sampling interval is stated: each sample is the mean over the interval
 * before it, which is why a sample can show traffic inside a short checkpoint or restore.
 */
import type { TopLevelSpec } from "vega-lite";
import type { PhaseMarks, TraceSample } from "../formats/runspec.ts";
import { formatSignificant } from "../core/units.ts";
import { CONFIG, PALETTE, SCHEMA } from "./plots.ts";

const PHASE_SPANS: ReadonlyArray<[keyof PhaseMarks, keyof PhaseMarks, string]> = [
  ["trigger", "decided", "decision"],
  ["decided", "checkpointed", "checkpoint"],
  ["checkpointed", "transferred", "transfer"],
  ["transferred", "restored", "restore"],
  ["restored", "success", "confirm"],
];
const PHASE_COLORS: Record<string, string> = {
  decision: "#e3e3e3",
  checkpoint: "#fdd0a2",
  transfer: "#d4e4f4",
  restore: "#c7e9c0",
  confirm: "#efedf5",
};

const MIN_WIDTH = 640;
const MAX_WIDTH = 780;
const HEIGHT = 280;
const LABEL_FONT = 11;
const LANE_PX = 15;
/** vega's text width estimate (no canvas in Node), used to keep labels apart the way it measures them */
const textWidth = (s: string) => 0.8 * LABEL_FONT * s.length;

export interface BandwidthChartOptions {
  title: string;
  /** hosts in legend order (default: order of first sample) */
  hosts?: readonly string[];
  /** legend label per host, e.g. { h2: "h2 (source)" } */
  labels?: Readonly<Record<string, string>>;
}

/** The most common gap between a host's consecutive samples: the measurement period. */
export function samplingInterval(trace: readonly TraceSample[]): number | undefined {
  const last = new Map<string, number>();
  const counts = new Map<string, number>();
  for (const s of trace) {
    const prev = last.get(s.host);
    if (prev !== undefined && s.t > prev) {
      const gap = Number((s.t - prev).toPrecision(6));
      counts.set(String(gap), (counts.get(String(gap)) ?? 0) + 1);
    }
    last.set(s.host, s.t);
  }
  let best: [string, number] | undefined;
  for (const e of counts) if (!best || e[1] > best[1]) best = e;
  return best ? Number(best[0]) : undefined;
}

function formatSeconds(s: number): string {
  return s >= 1 ? `${formatSignificant(s)} s` : `${formatSignificant(s * 1e3)} ms`;
}

interface Label {
  t: number;
  text: string;
}

/** Labels above the plot, each centred on its time, moved up a lane while it would overlap one to its left. */
function lanes(labels: readonly Label[], domain: readonly [number, number], width: number): Array<Label & { lane: number }> {
  const px = (t: number) => ((t - domain[0]) / (domain[1] - domain[0])) * width;
  const laneEnds: number[] = [];
  return [...labels]
    .sort((a, b) => a.t - b.t)
    .map((l) => {
      const w = textWidth(l.text);
      const left = Math.max(0, Math.min(width - w, px(l.t) - w / 2));
      let lane = laneEnds.findIndex((end) => left > end + 6);
      if (lane < 0) lane = laneEnds.length;
      laneEnds[lane] = left + w;
      return { ...l, lane, t: domain[0] + ((left + w / 2) / width) * (domain[1] - domain[0]) };
    });
}

export function bandwidthChart(trace: readonly TraceSample[], marks: readonly PhaseMarks[], opts: BandwidthChartOptions): TopLevelSpec {
  const hosts = opts.hosts ? [...opts.hosts] : [...new Set(trace.map((s) => s.host))];
  const label = (h: string) => opts.labels?.[h] ?? h;
  const interval = samplingInterval(trace);
  const start = Math.min(...marks.map((m) => m.trigger));
  const end = Math.max(...marks.map((m) => m.success));
  const margin = Math.max(2 * (interval ?? 0), 0.15 * (end - start), 0.5);
  // a run's trace ends with the run: past its last sample there is nothing to show
  const lastSample = Math.max(0, ...trace.map((s) => s.t));
  const domain: [number, number] = marks.length ? [Math.max(0, start - margin), Math.min(end + margin, Math.max(end + 0.05 * (end - start), lastSample))] : [0, Math.max(1, lastSample)];
  // one sample past each edge so the steps reach the frame; the rest is outside the window
  const samples = trace
    .filter((s) => hosts.includes(s.host) && s.t >= domain[0] - (interval ?? 0) && s.t <= domain[1] + (interval ?? 0))
    .map((s) => ({ t: s.t, host: label(s.host), mbps: s.bps / 1e6 }));
  const many = marks.length > 1;
  const spans = marks.flatMap((m) => PHASE_SPANS.map(([a, b, name]) => ({ start: m[a] as number, end: m[b] as number, phase: name, container: m.container })).filter((s) => s.end > s.start));
  const prefix = (m: PhaseMarks) => (many ? `${m.container}: ` : "");
  const events = marks.flatMap((m) => [
    { t: m.trigger, text: `${prefix(m)}trigger` },
    { t: m.success, text: `${prefix(m)}success` },
  ]);
  // "confirm" (restored -> SUCCESS) is a few ms: the success rule stands for it
  const phaseLabels = spans.filter((s) => s.phase !== "confirm").map((s) => ({ t: (s.start + s.end) / 2, text: s.phase }));
  // as wide as the title is long (within bounds): the plot, not white space, fills the figure
  const width = Math.round(Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, 0.8 * CONFIG.title.fontSize * opts.title.length - 70)));
  const placed = lanes([...events, ...phaseLabels], domain, width);
  const laneCount = Math.max(1, ...placed.map((p) => p.lane + 1));
  const every = interval === undefined ? "" : `, sampled every ${formatSeconds(interval)}`;

  const x = {
    field: "t",
    type: "quantitative" as const,
    title: `time (s${every})`,
    scale: { domain, nice: false, zero: false },
    axis: { format: "~g", tickCount: Math.round(width / 55) },
  };
  const hostLabels = hosts.map(label);
  return {
    $schema: SCHEMA,
    title: {
      text: opts.title,
      subtitle:
        interval === undefined
          ? "sent + received at each host; shaded: migration phases"
          : `sent + received at each host, each point the mean over the ${formatSeconds(interval)} before it; shaded: migration phases`,
    },
    width,
    height: HEIGHT,
    layer: [
      {
        data: { values: spans },
        mark: { type: "rect", clip: true },
        encoding: {
          x: { field: "start", type: "quantitative", title: x.title, scale: x.scale },
          x2: { field: "end" },
          fill: { field: "phase", type: "nominal", legend: null, scale: { domain: Object.keys(PHASE_COLORS), range: Object.values(PHASE_COLORS) } },
        },
      },
      {
        data: { values: events },
        mark: { type: "rule", strokeDash: [4, 3], color: "#555", clip: true },
        encoding: { x: { field: "t", type: "quantitative" } },
      },
      // one text layer per lane: a lane is a fixed height above the plot
      ...Array.from({ length: laneCount }, (_, lane) => ({
        data: { values: placed.filter((p) => p.lane === lane) },
        mark: { type: "text", align: "center", baseline: "bottom", fontSize: LABEL_FONT, color: "#333" },
        encoding: { x: { field: "t", type: "quantitative" }, y: { value: -4 - LANE_PX * lane }, text: { field: "text" } },
      })),
      {
        data: { values: samples },
        mark: { type: "line", strokeWidth: 2, interpolate: "step-before", clip: true, point: { size: 14, filled: true } },
        encoding: {
          x,
          // padded so a line at 0 or at the top does not run along the frame; the padding below 0
          // gets no tick, label or grid line: a bandwidth is never negative
          y: {
            field: "mbps",
            type: "quantitative",
            title: "bandwidth (Mbit/s)",
            scale: { padding: 8 },
            axis: {
              labelExpr: "datum.value < 0 ? '' : datum.label",
              tickOpacity: { condition: { test: "datum.value < 0", value: 0 }, value: 1 },
              gridOpacity: { condition: { test: "datum.value < 0", value: 0 }, value: 1 },
            },
          },
          color: {
            field: "host",
            type: "nominal",
            title: "host",
            sort: hostLabels,
            scale: { domain: hostLabels, range: ["#d62728", "#1f77b4", ...PALETTE] },
            legend: { orient: "bottom", direction: "horizontal", symbolType: "stroke", symbolStrokeWidth: 2.5 },
          },
        },
      },
    ],
    resolve: { scale: { color: "independent", fill: "independent" } },
    config: { ...CONFIG, view: { stroke: null }, axis: { ...CONFIG.axis, domain: false } },
  } as unknown as TopLevelSpec;
}
