/**
 * Every plot kind rendered from fixtures (test/fixtures/plots: runs.csv of a 3-axis sweep of
 * experiments/scale/policies-tree.yaml with 3 runs per policy, and two Fig. 4 traces recorded by
 * the sim backend from table1.yaml and table3.yaml), checked the way a reader looks at them:
 * image size, the label texts, and that no two labels overlap. Overlaps are found in vega's own
 * scenegraph (the item bounds it lays the SVG out from), not by parsing the SVG.
 */
import test from "ava";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { axisInfo, describeAxes } from "../src/reports/axes.ts";
import { readRunsCsv } from "../src/outputs/csv.ts";
import { phaseChart } from "../src/reports/plot-phases.ts";
import { sweepChart } from "../src/reports/plot-sweep.ts";
import { bandwidthChart, samplingInterval } from "../src/reports/plot-trace.ts";
import { validationChart } from "../src/reports/plot-validation.ts";
import { renderSvg, svgToPng } from "../src/reports/plots.ts";
import { writeReport, writeTracePlot } from "../src/reports/write-report.ts";
import { summarize, type SummaryRow } from "../src/reports/summary.ts";
import type { PhaseMarks, TraceSample } from "../src/formats/runspec.ts";

/** vega's text measure (exported by vega, absent from its typings): what the SVG layout uses. */
const textWidth = (vega as unknown as { textMetrics: { width(item: object, text: string): number } }).textMetrics.width;

const FIXTURES = join(import.meta.dirname, "fixtures", "plots");
const { rows: RUNS, axes: AXES } = readRunsCsv(join(FIXTURES, "sweep-runs.csv"));
const SUMMARY = summarize({ rows: RUNS, axes: AXES });
const INFOS = describeAxes(AXES, SUMMARY);

interface TraceFixture {
  experiment: string;
  policy: string;
  run: number;
  source: string;
  destination: string;
  marks: PhaseMarks[];
  trace: TraceSample[];
}
const traceFixture = (name: string): TraceFixture => JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), "utf8")) as TraceFixture;

function traceSpec(f: TraceFixture): TopLevelSpec {
  return bandwidthChart(f.trace, f.marks, {
    title: `${f.experiment}: bandwidth of ${f.source} and ${f.destination} around the migration (${f.policy}, run ${f.run})`,
    hosts: [f.source, f.destination],
    labels: { [f.source]: `${f.source} (source)`, [f.destination]: `${f.destination} (destination)` },
  });
}

interface TextBox {
  text: string;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

interface Laid {
  view: vega.View;
  texts: TextBox[];
  width: number;
  height: number;
}

/** Lays a spec out as the SVG renderer does and collects every visible text with its absolute box. */
async function layout(spec: TopLevelSpec): Promise<Laid> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  await view.runAsync();
  const texts: TextBox[] = [];
  type Item = { x?: number; y?: number; text?: unknown; limit?: number; opacity?: number; fillOpacity?: number; bounds: { x1: number; y1: number; x2: number; y2: number }; items?: Mark[] };
  type Mark = { marktype: string; items: Item[] };
  const walk = (mark: Mark, dx: number, dy: number): void => {
    for (const item of mark.items) {
      if (mark.marktype === "group") {
        for (const m of item.items ?? []) walk(m, dx + (item.x ?? 0), dy + (item.y ?? 0));
      } else if (mark.marktype === "text") {
        const text = Array.isArray(item.text) ? item.text.join(" / ") : String(item.text ?? "");
        if (text.trim() === "" || item.opacity === 0 || item.fillOpacity === 0) continue;
        const b = item.bounds;
        // the renderer cuts a text wider than its limit (vega measures it the same way)
        // (its width() applies the limit itself, hence the item measured without one)
        const cut = (item.limit ?? 0) > 0 && textWidth({ ...item, limit: 0 }, text) > item.limit!;
        texts.push({ text: cut ? `${text}…` : text, x1: b.x1 + dx, y1: b.y1 + dy, x2: b.x2 + dx, y2: b.y2 + dy });
      }
    }
  };
  walk((view.scenegraph() as unknown as { root: Mark }).root, 0, 0);
  const out = { view, texts, width: view.width(), height: view.height() };
  // the size of the file written: vega's layout cut to what is drawn
  const svg = await renderSvg(spec);
  const m = /width="([0-9.]+)" height="([0-9.]+)"/.exec(svg)!;
  out.width = Number(m[1]);
  out.height = Number(m[2]);
  view.finalize();
  return out;
}

/** Pairs of texts whose boxes intersect by more than a pixel each way (touching is fine). */
function overlaps(texts: readonly TextBox[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < texts.length; i++) {
    for (let j = i + 1; j < texts.length; j++) {
      const a = texts[i]!;
      const b = texts[j]!;
      const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
      const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
      if (w > 1 && h > 1) out.push(`"${a.text}" overlaps "${b.text}"`);
    }
  }
  return out;
}

/** What a reader must never see: a field path of the experiment file, or a label cut short. */
function unreadable(texts: readonly TextBox[]): string[] {
  return texts.map((t) => t.text).filter((s) => /[a-z]\.[0-9]+\.[a-z]/.test(s) || /topology\.generate|[=&]/.test(s) || s.includes("…"));
}

/** README width: at most ~900 px of SVG (the PNG is twice that), and not a thumbnail. */
const README_WIDTH = 900;

function checkReadable(t: import("ava").ExecutionContext, laid: Laid, expected: readonly string[], maxHeight = 700): void {
  t.true(laid.width <= README_WIDTH && laid.width >= 400, `width ${laid.width}`);
  t.true(laid.height <= maxHeight && laid.height >= 250, `height ${laid.height}`);
  t.deepEqual(overlaps(laid.texts), []);
  t.deepEqual(unreadable(laid.texts), []);
  const all = laid.texts.map((x) => x.text);
  for (const e of expected)
    t.true(
      all.some((s) => s.includes(e)),
      `"${e}" shown`,
    );
}

const POLICIES = ["random", "bandwidth", "shortest-path", "available-bandwidth", "mtd-shamir", "mtd-fountain", "mtd-random"];

test("axes: human labels with units, numeric order, log scale from a decade up", (t) => {
  const c = axisInfo("migrations.0.container.checkpoint", ["200MB", "5MB", "20MB", "5MB"]);
  t.is(c.title, "checkpoint size (MB)");
  t.deepEqual(c.order, ["5MB", "20MB", "200MB"]);
  t.true(c.log);
  t.is(c.format("20MB"), "20 MB");
  const r = axisInfo("traffic.0.rate", ["8Mbps", "1Mbps"]);
  t.is(r.title, "traffic rate (Mbit/s)");
  t.deepEqual(r.order, ["1Mbps", "8Mbps"]);
  t.false(r.log);
  t.is(axisInfo("topology.generate.fanout", ["10", "3", "5"]).order.join(","), "3,5,10");
  t.is(axisInfo("measurement.period", ["500ms", "2s"]).title, "measurement period (ms)");
  t.is(axisInfo("network.model", ["tcp-fluid", "max-min"]).kind, "name");
  t.is(axisInfo("traffic.1.rate", ["1Mbps"]).label, "traffic rate #2");
});

test("phases: one readable chart per cell, phases in protocol order", async (t) => {
  const cell = SUMMARY.filter((r) => r.cell === SUMMARY[0]!.cell);
  const laid = await layout(phaseChart(cell, { title: "policies-tree: migration time by phase", cell: "tree fanout 3, checkpoint size 5 MB, traffic rate 1 Mbit/s" }));
  checkReadable(t, laid, [...POLICIES, "checkpoint size 5 MB", "transfer", "retrieval", "time (s)"]);
  // one panel per phase, read in protocol order (rows, then columns), each its own y scale
  const order = ["decision", "key retrieval", "checkpoint", "transfer", "restore", "downtime", "total"].map((p) => `${p} (s)`);
  const headers = laid.texts.filter((x) => order.includes(x.text));
  const read = [...headers].sort((a, b) => Math.round(a.y1 / 20) - Math.round(b.y1 / 20) || a.x1 - b.x1).map((h) => h.text);
  t.deepEqual(read, order);
  // the decision panel (under a second) is ticked in hundredths: it has its own scale, not the transfer's
  t.true(
    laid.texts.some((x) => /^0\.0[1-9]$/.test(x.text)),
    laid.texts.map((x) => x.text).join(" "),
  );
});

for (const axis of INFOS) {
  test(`sweep against ${axis.path}: numeric x with unit, panels wrapped and in numeric order`, async (t) => {
    const others = INFOS.filter((a) => a !== axis);
    const laid = await layout(sweepChart(SUMMARY, { title: `policies-tree: total migration time vs ${axis.label}`, axis, otherAxes: others }));
    checkReadable(t, laid, [...POLICIES, axis.title, "total migration time (s)"], 760);
    const x = laid.view.scale("x") as unknown as { type: string };
    t.true(["linear", "log"].includes(x.type), `x scale ${x.type}`);
    // at most three panels a row: the headers' distinct centres
    const headers = laid.texts.filter((s) => others.some((o) => s.text.startsWith(o.label)));
    t.is(
      headers.length,
      others.reduce((n, o) => n * o.order.length, 1),
    );
    const rows = new Map<number, number>();
    for (const h of headers) rows.set(Math.round(h.y1), (rows.get(Math.round(h.y1)) ?? 0) + 1);
    t.true(Math.max(...rows.values()) <= 3, JSON.stringify([...rows]));
    // reading order (rows, then columns) follows the numeric order of the first other axis
    const first = others[0]!;
    const read = [...headers].sort((a, b) => a.y1 - b.y1 || a.x1 - b.x1).map((h) => first.order.find((v) => h.text.startsWith(`${first.label} ${first.format(v)} /`)));
    const ranks = read.map((v) => first.order.indexOf(v!));
    t.deepEqual(
      ranks,
      [...ranks].sort((a, b) => a - b),
    );
  });
}

test("sweep over a decade of checkpoint sizes: log x axis ticked at the swept values", async (t) => {
  const map: Record<string, string> = { "5MB": "5MB", "20MB": "200MB" };
  const rows: SummaryRow[] = SUMMARY.map((r) => ({ ...r, axes: { ...r.axes, "migrations.0.container.checkpoint": map[r.axes["migrations.0.container.checkpoint"]!]! } }));
  const infos = describeAxes(AXES, rows);
  const axis = infos.find((a) => a.short === "checkpoint")!;
  t.true(axis.log);
  const laid = await layout(sweepChart(rows, { title: "log", axis, otherAxes: infos.filter((a) => a !== axis) }));
  t.is((laid.view.scale("x") as unknown as { type: string }).type, "log");
  t.true(laid.texts.some((s) => s.text === "200") && laid.texts.some((s) => s.text === "5"));
  t.deepEqual(overlaps(laid.texts), []);
});

for (const name of ["trace-table1", "trace-table3"]) {
  test(`Fig. 4 (${name}): zoomed on the migration, sampling stated, phases labelled clear of everything`, async (t) => {
    const f = traceFixture(name);
    const laid = await layout(traceSpec(f));
    const m = f.marks[0]!;
    const labels = ["trigger", "checkpoint", "transfer", "restore", "success", ...(m.decided > m.trigger ? ["decision"] : [])];
    checkReadable(t, laid, [...labels, "sampled every 1 s", `${f.source} (source)`, `${f.destination} (destination)`, "bandwidth (Mbit/s)"]);
    t.is(samplingInterval(f.trace), 1);
    const [lo, hi] = (laid.view.scale("x") as unknown as { domain(): number[] }).domain() as [number, number];
    const span = m.success - m.trigger;
    t.true(lo < m.trigger && lo >= m.trigger - Math.max(2, 0.2 * span), `x from ${lo} (trigger ${m.trigger})`);
    t.true(hi > m.success && hi <= m.success + Math.max(2, 0.2 * span), `x to ${hi} (success ${m.success})`);
    // no line along the frame: the y scale reaches below 0 (the idle destination's line)
    t.true((laid.view.scale("y") as unknown as { domain(): number[] }).domain()[0]! < 0);
  });
}

test("validation chart (compare): readable", async (t) => {
  const total = SUMMARY.filter((r) => r.metric === "total_s" || r.metric === "transfer_s");
  const cell = total[0]!.cell;
  const other = total.filter((r) => r.cell !== cell);
  // layout only: the "testbed" side is another cell of the fixture
  const rows = total.filter((r) => r.cell === cell).map((r, i) => ({ cell, policy: r.policy, metric: r.metric, sim: r.stats, emu: other[i]!.stats }));
  checkReadable(t, await layout(validationChart("policies-tree", rows)), ["simulator", "testbed", "available-bandwidth, total", "time (s)"]);
});

test("written plots: SVG and PNG of the same size, file names carrying the swept values", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "migsim-plots-"));
  await writeReport(dir, { experiment: "policies-tree", axes: AXES, rows: RUNS });
  const f = traceFixture("trace-table1");
  await writeTracePlot(dir, { axes: { "migrations.0.container.checkpoint": "20MB" }, cell: "x", policy: f.policy, run: 0 }, f.trace, f.marks, { title: "t" });
  const files = readdirSync(join(dir, "plots")).sort();
  t.true(files.includes("phases-01-fanout-3_checkpoint-5MB_rate-1Mbps.png"), files.join(" "));
  t.true(files.includes("phases-12-fanout-5_checkpoint-20MB_rate-8Mbps.svg"));
  t.true(files.includes("sweep-checkpoint-5MB-20MB.png"));
  t.true(files.includes("sweep-fanout-3-4-5.svg"));
  t.true(files.includes("sweep-rate-1Mbps-8Mbps.png"));
  t.true(files.includes("trace-checkpoint-20MB-bandwidth-run0.png"));
  // paired differences: policies against the baseline, and each axis's values against its first
  for (const name of ["differences-policies", "differences-fanout", "differences-checkpoint", "differences-rate"]) t.true(files.includes(`${name}.png`), name);
  for (const png of files.filter((n) => n.endsWith(".png"))) {
    const buf = readFileSync(join(dir, "plots", png));
    const [w, h] = [buf.readUInt32BE(16), buf.readUInt32BE(20)];
    const svg = readFileSync(join(dir, "plots", png.replace(/png$/, "svg")), "utf8");
    const m = /width="([0-9.]+)" height="([0-9.]+)"/.exec(svg)!;
    // the PNG is the written SVG's, byte for byte
    t.true(Buffer.compare(buf, svgToPng(svg)) === 0, png);
    t.is(w, Math.round(2 * Number(m[1])), png);
    t.is(h, Math.round(2 * Number(m[2])), png);
    t.true(w <= 2 * README_WIDTH && h <= 2 * 760, `${png}: ${w}x${h}`);
  }
});

/** Statistics with the given mean and a symmetric interval of half-width `half` (as Student t gives). */
function interval(stats: SummaryRow["stats"], mean: number, half: number): SummaryRow["stats"] {
  return { ...stats, mean, ci95: half, low: mean - half, high: mean + half };
}

/** The fixture's summary with one policy's total made bimodal: a mean of 10 s whose Student-t interval reaches -20 s. */
function bimodal(rows: readonly SummaryRow[]): SummaryRow[] {
  return rows.map((r) => (r.policy === "random" && (r.metric === "total_s" || r.metric === "transfer_s") ? { ...r, stats: interval(r.stats, 10, 30) } : r));
}

/** Tick labels a reader would read as negative times (vega writes a minus sign, U+2212). */
const negative = (laid: Laid): string[] => laid.texts.map((x) => x.text).filter((s) => /^[-\u2212][0-9]/.test(s));

test("no plot draws an interval below 0 s, and the caption says which were cut", async (t) => {
  const rows = bimodal(SUMMARY);
  const axis = INFOS[0]!;
  const sweep = sweepChart(rows, { title: "sweep", axis, otherAxes: INFOS.filter((a) => a !== axis) });
  const cell = rows.filter((r) => r.cell === rows[0]!.cell);
  const phases = phaseChart(cell, { title: "phases" });
  const total = cell.filter((r) => r.metric === "total_s" || r.metric === "transfer_s");
  const validation = validationChart(
    "v",
    total.map((r) => ({ cell: r.cell, policy: r.policy, metric: r.metric, sim: r.stats, emu: r.stats })),
  );
  for (const [name, spec] of [
    ["sweep", sweep],
    ["phases", phases],
    ["validation", validation],
  ] as const) {
    const laid = await layout(spec);
    t.deepEqual(negative(laid), [], name);
    const data = JSON.stringify(spec);
    t.false(/"lo":-/.test(data), `${name}: an interval drawn from below 0`);
    t.true(
      laid.texts.some((x) => /intervals? reach(es)? below 0 s and (is|are) drawn from 0 \(a time is never negative\)/.test(x.text)),
      `${name}: caption`,
    );
  }
  // and no such caption where nothing was cut
  const narrow = SUMMARY.filter((r) => r.cell === SUMMARY[0]!.cell).map((r) => ({ ...r, stats: interval(r.stats, r.stats.mean, r.stats.mean / 10) }));
  const plain = await layout(phaseChart(narrow, { title: "phases" }));
  t.false(plain.texts.some((x) => x.text.includes("below 0 s")));
});

test("a categorical sweep axis (network model) shows points, not lines between models; a numeric one joins them", async (t) => {
  const model = ["max-min", "tcp-fluid"];
  const rows: SummaryRow[] = SUMMARY.flatMap((r) => model.map((m, i) => ({ ...r, axes: { ...r.axes, "network.model": m }, stats: { ...r.stats, mean: r.stats.mean * (1 + i / 10) } })));
  const infos = describeAxes([...AXES, "network.model"], rows);
  const axis = infos.find((a) => a.path === "network.model")!;
  t.is(axis.kind, "name");
  const marks = (spec: TopLevelSpec): string[] => [...JSON.stringify(spec).matchAll(/"mark":\{"type":"([a-z]+)"/g)].map((m) => m[1]!);
  const categorical = sweepChart(rows, { title: "model", axis, otherAxes: [] });
  t.deepEqual(marks(categorical), ["rule", "point"]);
  const numeric = infos.find((a) => a.short === "checkpoint")!;
  t.deepEqual(marks(sweepChart(rows, { title: "checkpoint", axis: numeric, otherAxes: [] })), ["rule", "line", "point"]);
  checkReadable(t, await layout(categorical), ["max-min", "tcp-fluid", "network model"]);
});

test("sweep panels of different magnitudes each get their own y scale", async (t) => {
  const axis = INFOS.find((a) => a.short === "rate")!;
  const others = INFOS.filter((a) => a !== axis);
  // one panel a hundred times faster than the rest: ticked in its own range, not flattened at 0
  const small = SUMMARY[0]!.axes;
  const rows = SUMMARY.map((r) => (others.every((o) => r.axes[o.path] === small[o.path]) ? { ...r, stats: interval(r.stats, r.stats.mean / 100, r.stats.ci95 / 100) } : r));
  const laid = await layout(sweepChart(rows, { title: "rate", axis, otherAxes: others }));
  const ticks = laid.texts.map((x) => Number(x.text)).filter((v) => Number.isFinite(v) && v > 0 && v < 1);
  t.true(ticks.length >= 2, "the small panel has tick labels below 1 s");
});

test("the written figure has no empty band: what is drawn reaches within a few pixels of every edge", async (t) => {
  const { Resvg } = await import("@resvg/resvg-js");
  const axis = INFOS[0]!;
  // one panel under a long title and subtitle (vega's estimate of their width left 30% of it empty)
  const svg = await renderSvg(
    sweepChart(
      SUMMARY.filter((r) => r.cell === SUMMARY[0]!.cell || r.axes[INFOS[1]!.path] === SUMMARY[0]!.axes[INFOS[1]!.path]),
      { title: "policies-tree: total migration time vs tree fanout", axis, otherAxes: [] },
    ),
  );
  const img = new Resvg(svg, { font: { fontFiles: ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"], loadSystemFonts: false } }).render();
  const { width, height, pixels } = img;
  let [x1, y1, x2, y2] = [width, height, -1, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = 4 * (y * width + x);
      if (pixels[i]! < 240 || pixels[i + 1]! < 240 || pixels[i + 2]! < 240) [x1, y1, x2, y2] = [Math.min(x1, x), Math.min(y1, y), Math.max(x2, x), Math.max(y2, y)];
    }
  }
  const margins = [x1, y1, width - 1 - x2, height - 1 - y2];
  t.true(
    margins.every((m) => m <= 16),
    `margins ${margins.join(", ")} px of ${width}x${height}`,
  );
});

test("a sweep whose panel spans two decades gets a log y axis, said in its title; one with an interval at 0 cannot", async (t) => {
  const path = "migrations.0.container.checkpoint";
  const axis = INFOS.find((a) => a.path === path)!;
  const others = INFOS.filter((a) => a !== axis);
  const spread = (r: SummaryRow, lowAtZero: boolean): SummaryRow => {
    const mean = r.axes[path] === "20MB" ? r.stats.mean * 100 : r.stats.mean;
    return { ...r, stats: interval(r.stats, mean, lowAtZero ? mean : mean / 10) };
  };
  const log = await layout(
    sweepChart(
      SUMMARY.map((r) => spread(r, false)),
      { title: "log y", axis, otherAxes: others },
    ),
  );
  t.true(log.texts.some((x) => x.text === "total migration time (s, log scale)"));
  t.deepEqual(negative(log), []);
  const linear = await layout(
    sweepChart(
      SUMMARY.map((r) => spread(r, true)),
      { title: "linear y", axis, otherAxes: others },
    ),
  );
  t.true(linear.texts.some((x) => x.text === "total migration time (s)"));
});
