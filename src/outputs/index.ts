/**
 * The files a run leaves in its output folder and how they are written: runs.csv, probes.csv and
 * failed.csv rows, manifest.json, the partial state of an interrupted run, the shard rule and
 * merging shards, and the atomic writer every output goes through.
 */
export { writeFileAtomic } from "./atomic.ts";
export { csvLines, DECIMALS, formatNumber, probeColumns, probeRowValues, readProbesCsv, readRunsCsv, runColumns, type RunRow, runRowValues } from "./csv.ts";
export { FAILED_FILE, failedHeader, failedRow, readFailedCsv } from "./failed.ts";
export { buildManifest, packageRoot, readManifest, type RunIndexEntry, writeManifest } from "./manifest.ts";
export { mergeShards } from "./merge-shards.ts";
export { PartialOutput, type PreviousRuns } from "./partial.ts";
export { removePreviousOutputs } from "./previous-runs.ts";
export { parseShard, type Shard, shardIndices } from "./shards.ts";
export { writeTransfersCsv } from "./transfers.ts";
