/**
 * Benchmark runner: `npm run bench` runs every bench/*.bench.ts in name order; `npm run bench --
 * kernel` only those whose file name contains "kernel"; arguments that start with `--` (such as
 * `--large`) are passed on to every bench that runs. Each bench file is a module whose top
 * level does the work and prints its own lines; it runs in a fresh Node process so one bench's
 * heap and JIT state do not colour the next.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const options = process.argv.slice(2).filter((a) => a.startsWith("--"));
const files = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  process.stderr.write(`no bench/*.bench.ts matches ${filters.join(", ") || "(none exist)"}\n`);
  process.exit(2);
}
const cpu = os.cpus()[0]?.model ?? "unknown CPU";
process.stdout.write(`# node ${process.version}, ${os.cpus().length} x ${cpu}, ${os.platform()} ${os.release()}\n`);
let failed = 0;
for (const f of files) {
  process.stdout.write(`\n## ${f}\n`);
  const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", join(here, f), ...options], { stdio: "inherit" });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`!! ${f} exited with ${r.status ?? r.signal}\n`);
  }
}
process.exit(failed ? 1 : 0);
