/**
 * What people read from the outputs: summaries and paper tables, paired differences, orderings, the
 * plots (phases, sweeps, traces, validation) and topology drawings.
 */
export { drawTopology } from "./draw-topology.ts";
export { svgToPng } from "./plots.ts";
