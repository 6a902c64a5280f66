/**
 * What people read from the outputs: summaries and paper tables, paired differences, orderings, the
 * plots (phases, sweeps, traces, validation) and topology drawings.
 */
export { drawTopology } from "./draw-topology.ts";
export { type Ordering, paperOrderings } from "./orderings.ts";
export { validationChart } from "./plot-validation.ts";
export { CONFIG, PALETTE, renderSvg, SCHEMA, slug, svgToPng } from "./plots.ts";
export { mdTable, orderingsTable, type PaperRow, paperTable, type ReferenceBlock, withinTolerance } from "./summary.ts";
export { type PlotFormats, type TraceData, writeReport, writeTraceData, writeTracePlot } from "./write-report.ts";
