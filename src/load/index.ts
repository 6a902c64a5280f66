/**
 * Reading an experiment file (and the testbed profile and --set overrides it names) into a
 * validated Experiment, and topology files into Topologies: its cells, sweep axes, policies and reference values, each error located at
 * the file, line and field that caused it.
 */
export { type Cell, type Experiment, loadExperiment, type LoadOptions } from "./read-experiment.ts";
export { loadTopologyFile } from "./read-topology.ts";
