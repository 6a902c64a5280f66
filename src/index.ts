/**
 * migsim as a library: what `import ... from "migsim"` gives. Load and validate topologies and
 * experiments, expand an experiment into RunSpecs and run them on the simulator backend (or run a
 * whole experiment into an output folder as `migsim run` does), ask path questions on the
 * topology graph, and write policy plugins against the types below. The file formats are
 * described in docs/format.md, the outputs in docs/outputs.md.
 */

// Errors: bad input is an InputError (file, line, field, what was expected).
export { InputError, UnreachableResultError, type InputLocation } from "./core/index.ts";

// Topologies
export { loadTopologyText } from "./network/topology/load.ts";
export { loadTopologyFile } from "./load/index.ts";
export { compileTopology } from "./network/topology/compile.ts";
export {
  allShortestPaths,
  kShortestPaths,
  pathAlong,
  toGraph,
  type EdgeAttributes,
  type NodeAttributes,
  type TopologyGraph,
} from "./network/topology/graph.ts";
export type { CompiledTopology, LinkSpec, Path, Topology } from "./network/topology/topology-types.ts";

// Network models
export {
  DEFAULT_NETWORK_PARAMS,
  MODEL_NAMES,
  type CongestionControl,
  type HostStack,
  type ModelName,
  type NetworkParams,
  type RoutingMetric,
} from "./network/network-model.ts";

// Experiments: load (validated), expand into RunSpecs, check policies, run
export { loadExperiment, type Cell, type Experiment, type LoadOptions } from "./load/index.ts";
export { planSize, specAt } from "./run/index.ts";
export { validatePolicies } from "./run/index.ts";
export { runExperiment, type RunOptions, type RunOutcome } from "./run/index.ts";
export { SimBackend, type SimBackendOptions } from "../backends/sim/backend.ts";

// Run specs and records (runs.csv / probes.csv rows)
export type {
  Backend,
  ContainerSpec,
  CostParams,
  MeasurementParams,
  MigrationMode,
  MigrationSpec,
  PhaseMarks,
  PolicySpec,
  ProbeRecord,
  ProbeSpec,
  RunProgress,
  RunRecord,
  RunResult,
  RunSpec,
  TraceSample,
  TrafficSpec,
  Transport,
  TriggerSpec,
} from "./formats/index.ts";

// Policy plugins: export `name` and `decide(input)`, optionally `validate(params, context)`
export type {
  KeyRequest,
  MtdSummary,
  NetworkView,
  Policy,
  PolicyInput,
  PolicyPlan,
  Rng,
  SetupMessage,
} from "./policies/policy-types.ts";
export type { VibReader } from "./measurement/vib.ts";
export { staticView } from "./policies/static-view.ts";
