/**
 * Reading an experiment file (and the testbed profile and --set overrides it names) into a
 * validated Experiment: its cells, sweep axes, policies and reference values, each error located at
 * the file, line and field that caused it.
 */
export { locate, locator, type Locator } from "./locate.ts";
export { getPath, label } from "./overrides.ts";
export { type Cell, type Experiment, loadExperiment, type LoadOptions, type Reference } from "./read-experiment.ts";
export { loadProfile, PAPER_PROFILE } from "./read-profile.ts";
export { shippedExperimentsDir } from "./shipped.ts";
