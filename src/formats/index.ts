/**
 * Every file and record format migsim reads or writes, as schemas and the types inferred from them:
 * the experiment and profile files, the RunSpec a backend runs and the records it returns.
 * docs/format.md and docs/outputs.md are generated from these definitions.
 */
export * from "./experiment.ts";
export * from "./runspec.ts";
