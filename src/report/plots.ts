/**
 * Plots as Vega-Lite specs rendered to SVG in Node (vega View with renderer "none", no browser,
 * no canvas: text widths are estimated, so the same data gives byte-identical SVG everywhere) and
 * to PNG with resvg, using the DejaVu fonts loaded explicitly (no system font lookup, so a PNG
 * does not change with the fonts a machine happens to have).
 *
 *  (a) phaseChart: per cell, mean time of every phase and the total per policy, 95% CI error bars
 *  (b) sweepChart: per sweep axis, mean total time against the axis value, CI band, one line per policy
 *  (c) bandwidthChart: like Fig. 4 of the policy paper, bandwidth of the source and destination
 *      hosts over time around a migration, with the migration phases shaded
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import type { PhaseMarks, TraceSample } from "../runspec.ts";
import { DURATION_COLUMNS, phaseLabel, type SummaryRow } from "./summary.ts";

const FONT_FAMILY = "DejaVu Sans";
const DEFAULT_FONT_DIR = "/usr/share/fonts/truetype/dejavu";
const FONT_FILES = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"];

/** Fonts missing: an environment problem with one fix, said in one line. */
class MissingFontError extends Error {
  constructor(dir: string, missing: string[]) {
    super(
      `PNG plots need the DejaVu fonts: ${missing.join(", ")} not found in ${dir} ` +
        "(install Debian's fonts-dejavu-core, or set MIGSIM_FONT_DIR to a folder holding them)",
    );
    this.name = "MissingFontError";
  }
}

function fontFiles(dir = process.env["MIGSIM_FONT_DIR"] ?? DEFAULT_FONT_DIR): string[] {
  const files = FONT_FILES.map((f) => join(dir, f));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0) throw new MissingFontError(dir, missing.map((m) => m.slice(dir.length + 1)));
  return files;
}

const CONFIG = {
  font: FONT_FAMILY,
  background: "white",
  title: { fontSize: 15, subtitleFontSize: 11, subtitleColor: "#555", anchor: "start" as const, offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: "#e6e6e6" },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  view: { stroke: "#bbb" },
};

/** Categorical palette (Tableau 10); fixed so colours never depend on the vega defaults. */
const PALETTE = ["#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac"];

/*
 * vega, vega-lite and resvg are loaded on first use: they take about 0.3 s to load, which every
 * CLI command would otherwise pay at start-up whether it plots or not.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, { compile }] = await Promise.all([import("vega"), import("vega-lite")]);
  const vgSpec = compile(spec).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: "none" });
  try {
    const svg = await view.toSVG();
    return svg.endsWith("\n") ? svg : `${svg}\n`;
  } finally {
    view.finalize();
  }
}

/** PNG of an SVG at `scale` times its size (2: sharp on high-density screens and in papers). */
export function svgToPng(svg: string, scale = 2): Buffer {
  const { Resvg } = createRequire(import.meta.url)("@resvg/resvg-js") as typeof import("@resvg/resvg-js");
  const r = new Resvg(svg, {
    font: { fontFiles: fontFiles(), loadSystemFonts: false, defaultFontFamily: FONT_FAMILY },
    fitTo: { mode: "zoom", value: scale },
    background: "white",
  });
  return r.render().asPng();
}

/** A file-name-safe slug of a cell id or axis name. */
export function slug(s: string, max = 60): string {
  const t = s.toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/-+/g, "-").replace(/^[-.]+|-+$/g, "");
  return (t || "x").slice(0, max);
}

// ---------------------------------------------------------------------------------------------
// (a) phases per policy, one chart per cell

export function phaseChart(rows: readonly SummaryRow[], opts: { title: string; subtitle?: string }): TopLevelSpec {
  const policies: string[] = [];
  for (const r of rows) if (!policies.includes(r.policy)) policies.push(r.policy);
  const phases = DURATION_COLUMNS.map(phaseLabel);
  const values = rows.map((r) => {
    const ci = Number.isNaN(r.stats.ci95) ? 0 : r.stats.ci95;
    return {
      policy: r.policy,
      phase: phaseLabel(r.metric),
      mean: r.stats.mean,
      lo: r.stats.mean - ci,
      hi: r.stats.mean + ci,
      n: r.stats.n,
    };
  });
  const x = { field: "phase", type: "nominal" as const, sort: phases, title: "phase", axis: { labelAngle: 0 } };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: opts.title, subtitle: opts.subtitle ?? "mean over runs; error bars: 95% confidence interval (Student t)" },
    width: 90 * phases.length,
    height: 280,
    data: { values },
    encoding: { x, xOffset: { field: "policy", type: "nominal", sort: policies } },
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          y: { field: "mean", type: "quantitative", title: "time (s)" },
          color: { field: "policy", type: "nominal", sort: policies, scale: { range: PALETTE }, title: "policy" },
        },
      },
      {
        mark: { type: "errorbar", ticks: true, color: "#222" },
        encoding: { y: { field: "lo", type: "quantitative", title: "time (s)" }, y2: { field: "hi" } },
      },
    ],
    config: CONFIG,
  } as TopLevelSpec;
}

// ---------------------------------------------------------------------------------------------
// (b) total time against one sweep axis

export function sweepChart(
  rows: readonly SummaryRow[],
  opts: { title: string; axis: string; otherAxes: readonly string[]; metric?: string },
): TopLevelSpec {
  const metric = opts.metric ?? "total_s";
  const sel = rows.filter((r) => r.metric === metric);
  const policies: string[] = [];
  const xs: string[] = [];
  for (const r of sel) {
    if (!policies.includes(r.policy)) policies.push(r.policy);
    const v = r.axes[opts.axis] ?? "";
    if (!xs.includes(v)) xs.push(v);
  }
  const values = sel.map((r) => {
    const ci = Number.isNaN(r.stats.ci95) ? 0 : r.stats.ci95;
    return {
      policy: r.policy,
      x: r.axes[opts.axis] ?? "",
      others: opts.otherAxes.map((a) => `${a}=${r.axes[a] ?? ""}`).join(", "),
      mean: r.stats.mean,
      lo: r.stats.mean - ci,
      hi: r.stats.mean + ci,
    };
  });
  const x = { field: "x", type: "ordinal" as const, sort: xs, title: opts.axis, axis: { labelAngle: 0 } };
  const color = { field: "policy", type: "nominal" as const, sort: policies, scale: { range: PALETTE }, title: "policy" };
  const layer = [
    {
      mark: { type: "area", opacity: 0.18 },
      encoding: { x, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" }, color },
    },
    {
      mark: { type: "line", point: true, strokeWidth: 2 },
      encoding: { x, y: { field: "mean", type: "quantitative", title: "total migration time (s)" }, color },
    },
  ];
  const base = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: opts.title, subtitle: "mean over runs; band: 95% confidence interval (Student t)" },
    data: { values },
    config: CONFIG,
  };
  if (opts.otherAxes.length === 0) {
    return { ...base, width: Math.max(320, 70 * xs.length), height: 280, layer } as TopLevelSpec;
  }
  return {
    ...base,
    facet: { column: { field: "others", type: "nominal", title: null, sort: null } },
    spec: { width: Math.max(240, 60 * xs.length), height: 260, layer },
  } as unknown as TopLevelSpec;
}

// ---------------------------------------------------------------------------------------------
// (c) bandwidth of source and destination around a migration (Fig. 4)

const PHASE_SPANS: ReadonlyArray<[keyof PhaseMarks, keyof PhaseMarks, string]> = [
  ["trigger", "decided", "decision"],
  ["decided", "checkpointed", "checkpoint"],
  ["checkpointed", "transferred", "transfer"],
  ["transferred", "restored", "restore"],
  ["restored", "success", "confirm"],
];
const PHASE_COLORS = ["#d9d9d9", "#fdd0a2", "#c6dbef", "#c7e9c0", "#efedf5"];

export interface BandwidthChartOptions {
  title: string;
  /** hosts in legend order (default: order of first sample) */
  hosts?: readonly string[];
  /** legend label per host, e.g. { h2: "h2 (source)" } */
  labels?: Readonly<Record<string, string>>;
}

export function bandwidthChart(trace: readonly TraceSample[], marks: readonly PhaseMarks[], opts: BandwidthChartOptions): TopLevelSpec {
  const hosts = opts.hosts ? [...opts.hosts] : [];
  if (!opts.hosts) for (const s of trace) if (!hosts.includes(s.host)) hosts.push(s.host);
  const label = (h: string) => opts.labels?.[h] ?? h;
  const samples = trace
    .filter((s) => hosts.includes(s.host))
    .map((s) => ({ t: s.t, host: label(s.host), mbps: s.bps / 1e6 }));
  const many = marks.length > 1;
  const spans = marks.flatMap((m) =>
    PHASE_SPANS.map(([a, b, name]) => ({ start: m[a] as number, end: m[b] as number, phase: name, container: m.container }))
      .filter((s) => s.end > s.start));
  const events = marks.flatMap((m) => [
    { t: m.trigger, text: many ? `${m.container}: trigger` : "trigger" },
    { t: m.success, text: many ? `${m.container}: success` : "success" },
  ]);
  const x = { field: "t", type: "quantitative" as const, title: "time (s)" };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: opts.title, subtitle: "sent + received at each host; shaded: migration phases" },
    width: 600,
    height: 300,
    layer: [
      {
        data: { values: spans },
        mark: { type: "rect", opacity: 0.6 },
        encoding: {
          x: { field: "start", type: "quantitative", title: "time (s)" },
          x2: { field: "end" },
          fill: {
            field: "phase", type: "nominal", title: "phase",
            scale: { domain: PHASE_SPANS.map((p) => p[2]), range: PHASE_COLORS },
          },
        },
      },
      {
        data: { values: events },
        mark: { type: "rule", strokeDash: [4, 3], color: "#444" },
        encoding: { x: { field: "t", type: "quantitative" } },
      },
      {
        data: { values: events },
        mark: { type: "text", align: "left", baseline: "top", dx: 3, dy: 3, fontSize: 10, color: "#333" },
        encoding: { x: { field: "t", type: "quantitative" }, y: { value: 0 }, text: { field: "text" } },
      },
      {
        data: { values: samples },
        mark: { type: "line", strokeWidth: 2, interpolate: "step-before" },
        encoding: {
          x,
          y: { field: "mbps", type: "quantitative", title: "bandwidth (Mbit/s)" },
          color: {
            field: "host", type: "nominal", title: "host",
            sort: hosts.map(label), scale: { domain: hosts.map(label), range: ["#d62728", "#1f77b4", ...PALETTE] },
          },
        },
      },
    ],
    resolve: { scale: { color: "independent", fill: "independent" } },
    config: CONFIG,
  } as TopLevelSpec;
}
