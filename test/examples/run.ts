/**
 * Runs one example case through the public CLI (bin/migsim.js, the compiled dist/: `npm run build`
 * first) from the repository root, and returns what it wrote for each of its expected files.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Case, ROOT } from "./cases.ts";

/** Bound on one CLI call; the slowest case takes about 15 s on an idle 2-core machine. */
const TIMEOUT_MS = 5 * 60_000;

function migsim(args: string[]): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(ROOT, "bin", "migsim.js"), ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
    child.on("error", (e) => {
      clearTimeout(timer);
      fail(e);
    });
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      if (status === 0) done(stdout);
      else fail(new Error(`migsim ${args.join(" ")}: ${signal ? `killed by ${signal} after ${TIMEOUT_MS / 1000} s` : `exit ${status}`}\n${stderr}`));
    });
  });
}

/** Newest modification time (ms) of the files under `dir` whose names pass `keep`; 0 when none. */
function newest(dir: string, keep: (name: string) => boolean): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(path, keep));
    else if (keep(e.name)) t = Math.max(t, statSync(path).mtimeMs);
  }
  return t;
}

/**
 * Why the CLI's compiled code may not be what src/ and backends/ say, or undefined: the examples
 * run dist/, so against a stale build they would check old code, and could pass.
 */
export function staleBuild(): string | undefined {
  const source = (name: string): boolean => name.endsWith(".ts") && !name.endsWith(".test.ts");
  const built = newest(join(ROOT, "dist"), (name) => name.endsWith(".js"));
  const edited = Math.max(newest(join(ROOT, "src"), source), newest(join(ROOT, "backends"), source));
  return built < edited ? "dist/ is older than src/ or backends/: run npm run build first" : undefined;
}

/** The topology's summary and every shortest path between the two ends of its diameter. */
async function topology(file: string): Promise<string> {
  const summary = JSON.parse(await migsim(["topo", file, "--json"])) as { diameter: { from: string; to: string } };
  return migsim(["topo", file, "--paths", `${summary.diameter.from},${summary.diameter.to}`]);
}

/** Expected file (relative to test/expected/) -> what the case wrote for it. */
export async function runExample(c: Case): Promise<Map<string, string>> {
  const got = new Map<string, string>();
  if (c.kind === "topology") {
    const text = await topology(c.args[0]!);
    for (const expected of Object.keys(c.outputs)) got.set(expected, text);
    return got;
  }
  const out = mkdtempSync(join(tmpdir(), "migsim-example-"));
  try {
    await migsim(c.args.map((a) => (a === "{out}" ? out : a)));
    for (const [expected, file] of Object.entries(c.outputs)) got.set(expected, readFileSync(join(out, file), "utf8"));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  return got;
}

/** Runs `work` on every item, at most `limit` at a time, results in the items' order. */
export async function inTurns<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
