/**
 * manifest.json: how an output folder came to be. Everything machine- or time-dependent (wall
 * time, host name, paths of the machine) lives here and never in runs.csv, which stays a pure
 * function of the inputs and seeds. `migsim merge` and `--resume` rely on `plan`, `runs` and
 * `completedCells`; the rest is provenance for people.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { cpus, hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { InputError } from "../core/errors.ts";
import { writeFileAtomic } from "./atomic.ts";
import { parseJsonInput } from "../core/json-input.ts";
import type { ReferenceBlock } from "../reports/summary.ts";
import { MANIFEST_FORMAT, ManifestSchema, type InputFile, type Manifest, type PlanSummary, type ProfileEntry, type RunIndexEntry, type Shard } from "../formats/manifest.ts";

export type { Manifest, RunIndexEntry } from "../formats/manifest.ts";

/** Root of the migsim package (the folder holding its package.json), from this module's path. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, "package.json");
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, "utf8")) as { name?: string }).name === "migsim") return dir;
      } catch {
        // not ours; keep climbing
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find the migsim package root");
    dir = up;
  }
}

/** Versions of migsim, node and every runtime dependency as installed. */
export function versions(): Manifest["versions"] {
  const root = packageRoot();
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    version: string;
    dependencies?: Record<string, string>;
  };
  const dependencies: Record<string, string> = {};
  for (const name of Object.keys(pkg.dependencies ?? {}).sort()) {
    try {
      const dep = JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as { version: string };
      dependencies[name] = dep.version;
    } catch {
      dependencies[name] = "missing";
    }
  }
  return { migsim: pkg.version, node: process.version, dependencies };
}

function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function inputFile(path: string): InputFile {
  const abs = resolve(path);
  return { path: abs, sha256: sha256File(abs) };
}

export interface ManifestInput {
  experiment: string;
  backend: string;
  command: string[];
  /** paths (hashed now) or entries already hashed (merge keeps the shards' hashes) */
  inputFiles: ReadonlyArray<string | InputFile>;
  resolved?: unknown;
  seed: number;
  /** the testbed profile under the experiment's network and costs */
  profile?: ProfileEntry | undefined;
  reference?: ReferenceBlock | undefined;
  plan: PlanSummary;
  shard?: Shard | null | undefined;
  runs: RunIndexEntry[];
  completedCells: string[];
  started: Date;
  finished: Date;
  mergedFrom?: string[] | undefined;
}

export function buildManifest(m: ManifestInput): Manifest {
  return {
    format: MANIFEST_FORMAT,
    tool: "migsim",
    experiment: m.experiment,
    backend: m.backend,
    versions: versions(),
    command: [...m.command],
    cwd: process.cwd(),
    inputs: { files: m.inputFiles.map((f) => (typeof f === "string" ? inputFile(f) : { ...f })), ...(m.resolved === undefined ? {} : { resolved: m.resolved }) },
    seed: m.seed,
    ...(m.profile === undefined ? {} : { profile: { ...m.profile } }),
    ...(m.reference === undefined ? {} : { reference: m.reference }),
    plan: { ...m.plan, shard: m.shard ?? null },
    runs: m.runs,
    completedCells: [...m.completedCells],
    startedAt: m.started.toISOString(),
    finishedAt: m.finished.toISOString(),
    wallSeconds: (m.finished.getTime() - m.started.getTime()) / 1000,
    host: { hostname: hostname(), platform: process.platform, arch: process.arch, cpus: cpus().length },
    ...(m.mergedFrom === undefined ? {} : { mergedFrom: m.mergedFrom }),
  };
}

export function writeManifest(dir: string, m: Manifest): void {
  writeFileAtomic(join(dir, "manifest.json"), `${JSON.stringify(m, null, 2)}\n`);
}

/** Read and check `dir/manifest.json`; anything wrong is an InputError naming the file. */
export function readManifest(dir: string): Manifest {
  const file = join(dir, "manifest.json");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new InputError("no manifest.json: not a migsim output folder (or the run did not finish)", { file });
  }
  return parseJsonInput(text, ManifestSchema, file, "not a migsim manifest");
}
