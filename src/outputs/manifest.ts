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
import { z } from "zod";
import { InputError } from "../core/errors.ts";
import { writeFileAtomic } from "./atomic.ts";
import { parseJsonInput } from "../core/json-input.ts";
import type { PlanSummary, Shard } from "./shards.ts";
import type { ReferenceBlock } from "../reports/summary.ts";

const MANIFEST_FORMAT = 1;

/**
 * One complete plan position as written: [plan index, runs.csv rows, probes.csv rows]. The
 * manifest lists them in plan order, so `migsim merge` can interleave shards exactly and
 * `--resume` knows what is complete.
 */
export type RunIndexEntry = [number, number, number];

export interface InputFile {
  /** absolute path */
  path: string;
  sha256: string;
}

export interface Manifest {
  format: number;
  tool: "migsim";
  experiment: string;
  backend: string;
  versions: { migsim: string; node: string; dependencies: Record<string, string> };
  /** the command line (argv after `node`), as typed */
  command: string[];
  cwd: string;
  inputs: {
    files: InputFile[];
    /** the resolved experiment as the planner saw it (caller-defined, JSON) */
    resolved?: unknown;
  };
  /** experiment seed (run seeds are derived from it and the run index) */
  seed: number;
  /** the testbed profile applied (absent in manifests written before profiles existed) */
  profile?: ProfileEntry | undefined;
  /** the experiment's reference block, kept so that merge can rebuild summary.md */
  reference?: ReferenceBlock | undefined;
  plan: PlanSummary & { shard: Shard | null };
  /** [plan index, runs.csv rows, probes.csv rows] of every run in this folder, plan order */
  runs: RunIndexEntry[];
  /** cells whose runs (of this shard) are all in runs.csv: --resume skips them */
  completedCells: string[];
  startedAt: string;
  finishedAt: string;
  wallSeconds: number;
  host: { hostname: string; platform: string; arch: string; cpus: number };
  /** set by merge: the shard folders joined, in shard order */
  mergedFrom?: string[] | undefined;
}

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

/** A profile as recorded: name, file (null for a built-in) and the hash of what was applied. */
export interface ProfileEntry {
  name: string;
  file: string | null;
  sha256: string;
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

const refValue = z.object({ mean: z.number(), ci: z.number() });
const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  tool: z.literal("migsim"),
  experiment: z.string(),
  backend: z.string(),
  versions: z.object({ migsim: z.string(), node: z.string(), dependencies: z.record(z.string(), z.string()) }),
  command: z.array(z.string()),
  cwd: z.string(),
  inputs: z.object({ files: z.array(z.object({ path: z.string(), sha256: z.string() })), resolved: z.unknown().optional() }),
  seed: z.number(),
  profile: z.object({ name: z.string(), file: z.string().nullable(), sha256: z.string() }).optional(),
  reference: z.record(z.string(), z.union([z.string(), refValue, z.record(z.string(), refValue)])).optional(),
  plan: z.object({
    cells: z.array(z.string()),
    axes: z.array(z.string()),
    policies: z.array(z.string()),
    runsPerCell: z.number().int().nonnegative(),
    totalRuns: z.number().int().nonnegative(),
    shard: z.object({ index: z.number().int().positive(), count: z.number().int().positive() }).nullable(),
  }),
  runs: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative(), z.number().int().nonnegative()])),
  completedCells: z.array(z.string()),
  startedAt: z.string(),
  finishedAt: z.string(),
  wallSeconds: z.number(),
  host: z.object({ hostname: z.string(), platform: z.string(), arch: z.string(), cpus: z.number() }),
  mergedFrom: z.array(z.string()).optional(),
});

/** Read and check `dir/manifest.json`; anything wrong is an InputError naming the file. */
export function readManifest(dir: string): Manifest {
  const file = join(dir, "manifest.json");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new InputError("no manifest.json: not a migsim output folder (or the run did not finish)", { file });
  }
  return parseJsonInput(text, manifestSchema, file, "not a migsim manifest") as Manifest;
}
