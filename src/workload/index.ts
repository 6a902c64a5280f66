/**
 * Flow workloads for `migsim replay`: a two-level tree and Poisson transfers drawn
 * deterministically by seed, and reading a workload file.
 */
export { generateWorkload, loadWorkloadFile, TREE } from "./generate.ts";
