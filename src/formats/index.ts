/**
 * Every file and record format migsim reads or writes, as zod schemas and the types inferred from
 * them: the experiment and profile files (experiment.ts), topologies and their generators
 * (topology.ts), replay workloads (workload.ts), the RunSpec a backend runs (runspec.ts), the
 * migration modes and transports (modes.ts), the runs, probes and failed records (records.ts),
 * manifest.json (manifest.ts) and the testbed driver's plan and output lines (driver.ts).
 * docs/format.md, docs/outputs.md and the driver's JSON Schemas are generated from them.
 */
export * from "./driver.ts";
export * from "./experiment.ts";
export * from "./manifest.ts";
export * from "./modes.ts";
export * from "./quantity.ts";
export * from "./records.ts";
export * from "./runspec.ts";
export * from "./topology.ts";
export * from "./replay-workload.ts";
