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
import { intervalName, type IntervalMethod, type Stats } from "../core/stats.ts";

const FONT_FAMILY = "DejaVu Sans";
const DEFAULT_FONT_DIR = "/usr/share/fonts/truetype/dejavu";
const FONT_FILES = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"];

/** Fonts missing: an environment problem with one fix, said in one line. */
class MissingFontError extends Error {
  constructor(dir: string, missing: string[]) {
    super(`PNG plots need the DejaVu fonts: ${missing.join(", ")} not found in ${dir} ` + "(install Debian's fonts-dejavu-core, or set MIGSIM_FONT_DIR to a folder holding them)");
    this.name = "MissingFontError";
  }
}

function fontFiles(dir = process.env["MIGSIM_FONT_DIR"] ?? DEFAULT_FONT_DIR): string[] {
  const files = FONT_FILES.map((f) => join(dir, f));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0)
    throw new MissingFontError(
      dir,
      missing.map((m) => m.slice(dir.length + 1)),
    );
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
const DASHES = [
  [1, 0],
  [6, 3],
  [2, 2],
  [8, 3, 2, 3],
  [4, 4],
  [10, 4],
  [1, 4],
  [6, 2, 1, 2],
  [12, 3],
  [3, 6],
];

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

/** What the error bars of every plot show (one wording, in every caption). */
export function intervalCaption(method: IntervalMethod = "t"): string {
  return `95% confidence interval (${intervalName(method)})`;
}

/** An interval as drawn: never below the physical minimum of the quantity. */
export interface DrawnInterval {
  lo: number;
  hi: number;
  /** the interval reached below the minimum and is drawn from it */
  cut: boolean;
}

/**
 * The 95% interval of a mean time (the one the report shows: Student t or bootstrap) as a plot
 * draws it. A time is never negative, but a symmetric Student-t interval of skewed or bimodal
 * run times can reach below 0 (a y axis down to -20 s): the drawn interval starts at 0 then, and
 * the caption says so (`cutNote`). Undefined (n < 2): no bar, the mean alone.
 */
export function timeInterval(s: Pick<Stats, "mean" | "low" | "high">, minimum = 0): DrawnInterval {
  const lo = Number.isNaN(s.low) ? s.mean : s.low;
  const hi = Number.isNaN(s.high) ? s.mean : s.high;
  return { lo: Math.max(minimum, lo), hi, cut: lo < minimum };
}

/** The caption's word on intervals cut at 0, or nothing when none is. */
export function cutNote(intervals: ReadonlyArray<{ cut: boolean }>): string {
  const n = intervals.filter((i) => i.cut).length;
  if (n === 0) return "";
  return `${n === 1 ? "1 interval reaches" : `${n} intervals reach`} below 0 s and ${n === 1 ? "is" : "are"} drawn from 0 (a time is never negative)`;
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
  return (await renderPlot(spec, false)).svg;
}

/** PNG scale: twice the SVG's size, sharp on high-density screens and in papers */
const PNG_SCALE = 2;

/**
 * The figure as SVG and, with `png`, as PNG drawn from that same SVG. One resvg parse serves both
 * (the parse, fonts and text layout, is most of a figure's cost): it finds what is drawn
 * (`fitToContent`), and the PNG is that render cut to the same box, byte for byte what rendering
 * the cut SVG anew gives.
 */
export async function renderPlot(spec: TopLevelSpec, png: boolean): Promise<{ svg: string; png?: Buffer }> {
  const [vega, { compile }] = await Promise.all([import("vega"), import("vega-lite")]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  let raw: string;
  try {
    raw = await view.toSVG();
  } finally {
    view.finalize();
  }
  const fitted = fitToContent(raw, png);
  const svg = fitted.svg.endsWith("\n") ? fitted.svg : `${fitted.svg}\n`;
  return fitted.png ? { svg, png: fitted.png } : { svg };
}

function resvg(): typeof import("@resvg/resvg-js") {
  return createRequire(import.meta.url)("@resvg/resvg-js") as typeof import("@resvg/resvg-js");
}

/** white space kept around the drawing, px */
const FIT_PAD = 8;
const ROOT = /^<svg ([^>]*)width="([0-9.]+)" height="([0-9.]+)" viewBox="0 0 [0-9.]+ [0-9.]+">(?:<rect width="[0-9.]+" height="[0-9.]+" fill="white"\/>)?/;

/**
 * The SVG cut to what is drawn, plus a small pad (and with `png` the PNG of the cut SVG). vega
 * lays a chart out by estimated text widths (no canvas in Node: 0.8 x font size per character,
 * wider than DejaVu's), so a long title or subtitle leaves a band of empty space at the right of
 * the figure (30% of a one-panel PNG). What is drawn is found in pixels, the figure rendered by
 * resvg with the real fonts on white (geometry boxes would count vega's invisible group
 * backgrounds and lines cut by a plot's clip). Without the fonts the SVG stays as vega made it
 * (and a PNG is refused, MissingFontError).
 */
function fitToContent(raw: string, png: boolean): { svg: string; png?: Buffer } {
  const root = ROOT.exec(raw);
  let files: string[];
  try {
    files = fontFiles();
  } catch (e) {
    if (png) throw e;
    return { svg: raw };
  }
  if (!root) return png ? { svg: raw, png: svgToPng(raw) } : { svg: raw };
  const body = raw.slice(root[0].length);
  const [width, height] = [Number(root[2]), Number(root[3])];
  const r = new (resvg().Resvg)(`<svg ${root[1]}width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${body}`, {
    font: { fontFiles: files, loadSystemFonts: false, defaultFontFamily: FONT_FAMILY },
    fitTo: { mode: "zoom", value: PNG_SCALE },
    background: "white",
  });
  const drawn = inkBox(r.render());
  if (!drawn) return png ? { svg: raw, png: svgToPng(raw) } : { svg: raw };
  // (pixels of the render at PNG scale, back in SVG units, rounded outwards)
  const x = Math.floor(drawn.x1 / PNG_SCALE) - FIT_PAD;
  const y = Math.floor(drawn.y1 / PNG_SCALE) - FIT_PAD;
  const w = Math.ceil((drawn.x2 + 1) / PNG_SCALE) + FIT_PAD - x;
  const h = Math.ceil((drawn.y2 + 1) / PNG_SCALE) + FIT_PAD - y;
  const svg = `<svg ${root[1]}width="${w}" height="${h}" viewBox="${x} ${y} ${w} ${h}"><rect x="${x}" y="${y}" width="${w}" height="${h}" fill="white"/>${body}`;
  if (!png) return { svg };
  const box = r.getBBox();
  if (!box) return { svg, png: svgToPng(svg) };
  Object.assign(box, { x, y, width: w, height: h });
  r.cropByBBox(box);
  return { svg, png: r.render().asPng() };
}

/** The box of the pixels that are not white (undefined: nothing is drawn). */
function inkBox(img: { width: number; height: number; pixels: Buffer }): { x1: number; y1: number; x2: number; y2: number } | undefined {
  const { width, height, pixels } = img;
  let [x1, y1, x2, y2] = [width, height, -1, -1];
  for (let y = 0; y < height; y++) {
    const row = 4 * y * width;
    for (let x = 0; x < width; x++) {
      const i = row + 4 * x;
      if (pixels[i] === 255 && pixels[i + 1] === 255 && pixels[i + 2] === 255) continue;
      if (x < x1) x1 = x;
      if (x > x2) x2 = x;
      if (y < y1) y1 = y;
      y2 = y;
    }
  }
  return x2 < 0 ? undefined : { x1, y1, x2, y2 };
}

/** PNG of an SVG at `scale` times its size. */
export function svgToPng(svg: string, scale = PNG_SCALE): Buffer {
  const r = new (resvg().Resvg)(svg, {
    font: { fontFiles: fontFiles(), loadSystemFonts: false, defaultFontFamily: FONT_FAMILY },
    fitTo: { mode: "zoom", value: scale },
    background: "white",
  });
  return r.render().asPng();
}

/** A file-name-safe slug of a cell id or axis name. */
export function slug(s: string, max = 60): string {
  const t = s
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^[-.]+|-+$/g, "");
  return (t || "x").slice(0, max);
}
