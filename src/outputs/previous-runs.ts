/**
 * A used output folder is emptied of what migsim wrote there before, so a new run's outputs are
 * never mixed with an earlier run's (plots of cells that no longer exist, a shard's trace data).
 * Only migsim's own file names are removed, and only from a folder that a migsim manifest or
 * partial state marks as migsim's: anything else a user keeps there stays. The hidden temporaries
 * of a writer that died (atomic.ts) go in any case.
 */
import { existsSync, readdirSync, rmdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { removeStaleTemps } from "./atomic.ts";
import { FAILED_FILE } from "./failed.ts";

/** files migsim writes at the top of an output folder */
const TOP_FILES = ["runs.csv", "probes.csv", FAILED_FILE, "summary.csv", "summary.md", "differences.csv", "manifest.json"];
/** sub-folders and the names migsim writes in them */
const SUB_FILES: Record<string, RegExp> = {
  plots: /^(phases|sweep|trace|differences)-.*\.(svg|png)$/,
  traces: /^trace-.*\.json$/,
};

export function removePreviousOutputs(dir: string): void {
  // hidden temporaries of a writer that died (their names are migsim's alone)
  removeStaleTemps(dir, Object.keys(SUB_FILES));
  if (!existsSync(join(dir, "manifest.json")) && !existsSync(join(dir, ".migsim-partial"))) return;
  for (const f of TOP_FILES) rmSync(join(dir, f), { force: true });
  for (const [sub, pattern] of Object.entries(SUB_FILES)) {
    const d = join(dir, sub);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) if (pattern.test(f)) rmSync(join(d, f), { force: true });
    if (readdirSync(d).length === 0) rmdirSync(d);
  }
}
