/**
 * Running an experiment: the plan of runs (cell x policy x run), the backends by name, the pre-run
 * policy and mode checks, executing runs in order or on worker threads, turning results into rows
 * and writing the outputs; `migsim reproduce` (the paper's tables) is a run of shipped experiments.
 */
export { BACKEND_NAMES, type BackendOptions, checkTestbedAddress } from "./backend-registry.ts";
export { planSize, specAt } from "./plan.ts";
export { reproduce } from "./reproduce-paper.ts";
export { type ProgressReporter, runExperiment, type RunOptions, type RunOutcome } from "./run-experiment.ts";
export { validatePolicies } from "./validate-policies.ts";
