/**
 * Plots as Vega-Lite specs rendered to SVG in Node (vega View with renderer "none", no browser,
 * no canvas: text widths are estimated, so the same data gives byte-identical SVG everywhere) and
 * to PNG with resvg from that same SVG, using the DejaVu fonts loaded explicitly (no system font
 * lookup, so a PNG does not change with the fonts a machine happens to have).
 *
 * This module holds the rendering and the shared style; the charts are in plot-phases.ts (time
 * by phase per cell), plot-sweep.ts (total time against a sweep axis), plot-trace.ts (Fig. 4:
 * bandwidth around a migration) and plot-validation.ts (simulator against testbed).
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { TopLevelSpec } from "vega-lite";

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

export const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/**
 * Shared style. Legend and header labels are never cut (limit 0): a truncated policy name
 * ("available-bandwid...") is unreadable. Text widths are vega's estimate (0.8 x font size per
 * character, wider than DejaVu's), so layouts leave room rather than overlap.
 */
export const CONFIG = {
  font: FONT_FAMILY,
  background: "white",
  title: { fontSize: 15, subtitleFontSize: 11, subtitleColor: "#555", anchor: "start" as const, offset: 10, limit: 0 },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: "#e6e6e6", labelLimit: 0, titleLimit: 0 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 0, titleLimit: 0 },
  header: { labelFontSize: 11, titleFontSize: 12, labelLimit: 0, titleLimit: 0 },
  view: { stroke: "#bbb" },
};

/** Categorical palette (Tableau's category10): strong enough for thin lines on white. */
export const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
/** Marker shape and dash per policy, so series that coincide stay each visible. */
const SHAPES = ["circle", "square", "triangle-up", "diamond", "cross", "triangle-down", "triangle-right", "triangle-left", "wedge", "arrow"];
const DASHES = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3], [4, 4], [10, 4], [1, 4], [6, 2, 1, 2], [12, 3], [3, 6]];

function cycle<T>(xs: readonly T[], n: number): T[] {
  return Array.from({ length: n }, (_, i) => xs[i % xs.length]!);
}

/** Colour, marker and dash channels for the `policy` field, one merged legend, in policy order. */
export function policyChannels(policies: readonly string[]) {
  const common = { field: "policy", type: "nominal" as const, sort: [...policies], title: "policy" };
  const domain = [...policies];
  return {
    color: { ...common, scale: { domain, range: cycle(PALETTE, policies.length) } },
    shape: { ...common, scale: { domain, range: cycle(SHAPES, policies.length) } },
    strokeDash: { ...common, scale: { domain, range: cycle(DASHES, policies.length) } },
  };
}

const PANELS_PER_ROW = 3;
const HEADER_FONT = 11;

/**
 * The widest line of the panel headers (one line per ", "-separated part), in pixels as vega
 * estimates text: a panel narrower than its header would widen the column and push the panel
 * off its y axis.
 */
export function panelHeaderWidth(panels: readonly string[]): number {
  return Math.max(0, ...panels.flatMap((p) => p.split(", ")).map((l) => Math.ceil(0.8 * HEADER_FONT * l.length)));
}

/** A panel per value of the `panel` field in the given order, at most three a row (2 x 2 rather than 3 + 1). */
export function panelLayout(panels: readonly string[]) {
  return {
    facet: {
      field: "panel",
      type: "nominal" as const,
      sort: [...panels],
      title: null,
      header: { labelExpr: "split(datum.label, ', ')", labelFontSize: HEADER_FONT, labelPadding: 4 },
    },
    columns: panelColumns(panels),
    spacing: { row: 18, column: 14 },
  };
}

export function panelColumns(panels: readonly string[]): number {
  return panels.length === 4 ? 2 : Math.min(PANELS_PER_ROW, panels.length);
}

/** One value per policy in order of first appearance. */
export function policiesOf(rows: ReadonlyArray<{ policy: string }>): string[] {
  return [...new Set(rows.map((r) => r.policy))];
}

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

