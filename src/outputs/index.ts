/**
 * The files a run leaves in its output folder and how they are written: runs.csv, probes.csv and
 * failed.csv rows, manifest.json, the partial state of an interrupted run, the shard rule and
 * merging shards, and the atomic writer every output goes through.
 */
export { writeFileAtomic } from "./atomic.ts";
export { mergeShards } from "./merge-shards.ts";
export { resumeCommand } from "./partial.ts";
export { parseShard } from "./shards.ts";
export { writeTransfersCsv } from "./transfers.ts";
