/**
 * Imports point one way: cli -> experiment level -> backends -> model, with the foundations
 * (src/core, src/formats) below everything. The model folders never import a backend, the
 * experiment level or the CLI; backends never import the experiment level or the CLI; the CLI
 * reaches backends only through the experiment level, and each experiment-level folder only
 * through its index.ts. This test reads direct imports; .dependency-cruiser.cjs checks the same
 * layers through every transitive path.
 */
import test from "ava";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = join(import.meta.dirname, "..");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") && !p.endsWith(".test.ts") ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.[^"]+)"/g)].map((m) => relative(root, resolve(dirname(file), m[1]!)));
}

const MODEL = ["src/kernel/", "src/network/", "src/migration/", "src/measurement/", "src/policies/"];
const FOUNDATIONS = ["src/core/", "src/formats/"];
const EXPERIMENT_LEVEL = ["src/load/", "src/run/", "src/outputs/", "src/reports/", "src/calibrate/", "src/validation/", "src/cluster/", "src/workload/"];
const BACKENDS = ["backends/"];
const CLI = ["src/cli/"];

/** `from` -> target pairs, for every file under the folders `from`, whose target starts with one of `banned` */
function offenders(from: string[], banned: string[]): string[] {
  const out: string[] = [];
  for (const dir of from) {
    for (const f of files(join(root, dir))) {
      for (const target of imports(f)) if (banned.some((u) => target.startsWith(u))) out.push(`${relative(root, f)} -> ${target}`);
    }
  }
  return out;
}

test("the model imports nothing above it", (t) => {
  t.deepEqual(offenders(MODEL, [...BACKENDS, ...EXPERIMENT_LEVEL, ...CLI]), []);
  // the parser sees relative imports (so an empty list above means something)
  t.true(imports(join(root, "backends/sim/backend.ts")).includes("src/network/index.ts"));
});

test("the foundations import only each other (and model types)", (t) => {
  t.deepEqual(offenders(["src/core/"], [...MODEL, ...BACKENDS, ...EXPERIMENT_LEVEL, ...CLI, "src/formats/"]), []);
  t.deepEqual(offenders(["src/formats/"], [...BACKENDS, ...EXPERIMENT_LEVEL, ...CLI]), []);
  t.true(imports(join(root, "src/core/yamlsource.ts")).includes("src/core/units.ts"), "the checker sees core's imports");
});

test("backends import neither the experiment level nor the CLI", (t) => {
  t.deepEqual(offenders(BACKENDS, [...EXPERIMENT_LEVEL, ...CLI]), []);
});

test("the experiment level does not import the CLI", (t) => {
  t.deepEqual(offenders(EXPERIMENT_LEVEL, CLI), []);
});

test("the CLI reaches backends only through the experiment level, and that through each folder's index", (t) => {
  t.deepEqual(offenders(CLI, BACKENDS), []);
  const deep: string[] = [];
  for (const f of files(join(root, "src/cli"))) {
    for (const target of imports(f)) if (EXPERIMENT_LEVEL.some((u) => target.startsWith(u)) && !target.endsWith("/index.ts")) deep.push(`${relative(root, f)} -> ${target}`);
  }
  t.deepEqual(deep, []);
  t.true(imports(join(root, "src/cli/run.ts")).includes("src/run/index.ts"), "the checker sees the CLI's imports");
});

test("outputs and reports import neither the running, loading, calibration and validation code nor the CLI", (t) => {
  t.deepEqual(offenders(["src/outputs/", "src/reports/"], ["src/load/", "src/run/", "src/calibrate/", "src/validation/", "src/cluster/", ...CLI]), []);
  t.true(files(join(root, "src/outputs")).length > 3, "the checker sees the files");
});

/** Modules that touch files, processes or the network: the callers' business, never the model's. */
const IO_MODULES = /^(node:)?(fs|fs\/promises|child_process|net|http|https|dgram|readline)$/;

test("the model folders do no I/O: files are read and written by the experiment level and the CLI", (t) => {
  const found: string[] = [];
  for (const dir of MODEL) {
    for (const f of files(join(root, dir))) {
      const text = readFileSync(f, "utf8");
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*"([^".][^"]*)"/g)) if (IO_MODULES.test(m[1]!)) found.push(`${relative(root, f)} -> ${m[1]}`);
    }
  }
  t.deepEqual(found, []);
  // the pattern matches what an I/O import looks like
  t.true(IO_MODULES.test("node:fs") && IO_MODULES.test("fs/promises") && !IO_MODULES.test("node:crypto"));
  t.true(readFileSync(join(root, "src/outputs/atomic.ts"), "utf8").includes('from "node:fs"'), "the checker would see an fs import");
});

test("every folder of src/ outside the model has an index.ts that says what it is for", (t) => {
  for (const dir of [...FOUNDATIONS, ...EXPERIMENT_LEVEL]) {
    const text = readFileSync(join(root, dir, "index.ts"), "utf8");
    t.regex(text, /^\/\*\*\n \* \S/, `${dir}index.ts opens with its comment`);
  }
});

test("no two modules of src/ share a file name", (t) => {
  const seen = new Map<string, string>();
  const twice: string[] = [];
  for (const f of files(join(root, "src"))) {
    const name = f.split("/").pop()!;
    if (name === "index.ts") continue;
    const other = seen.get(name);
    if (other) twice.push(`${relative(root, other)} ${relative(root, f)}`);
    else seen.set(name, f);
  }
  t.deepEqual(twice, []);
});
