/**
 * Imports point one way: cli -> experiment / report -> backends -> model. The model folders never
 * import a backend, the experiment layer, the report layer or the CLI; backends never import
 * the experiment layer or the CLI.
 */
import test from "ava";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, dirname } from "node:path";

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

const MODEL = ["src/kernel", "src/network", "src/migration", "src/measurement", "src/policies"];
const UPPER_FOR_MODEL = ["backends/", "src/experiment/", "src/report/", "src/cli/"];
const UPPER_FOR_BACKENDS = ["src/experiment/", "src/cli/", "src/report/"];

test("the model imports nothing above it", (t) => {
  const offenders: string[] = [];
  for (const dir of MODEL) {
    for (const f of files(join(root, dir))) {
      for (const target of imports(f)) if (UPPER_FOR_MODEL.some((u) => target.startsWith(u))) offenders.push(`${relative(root, f)} -> ${target}`);
    }
  }
  t.deepEqual(offenders, []);
  // the parser sees relative imports (so an empty list above means something)
  t.true(imports(join(root, "backends/sim/backend.ts")).includes("src/network/index.ts"));
});

test("backends import neither the experiment layer nor the CLI", (t) => {
  const offenders: string[] = [];
  for (const f of files(join(root, "backends"))) {
    for (const target of imports(f)) if (UPPER_FOR_BACKENDS.some((u) => target.startsWith(u))) offenders.push(`${relative(root, f)} -> ${target}`);
  }
  t.deepEqual(offenders, []);
});

test("the CLI reaches backends only through the experiment layer", (t) => {
  const offenders: string[] = [];
  for (const f of files(join(root, "src/cli"))) {
    for (const target of imports(f)) if (target.startsWith("backends/")) offenders.push(`${relative(root, f)} -> ${target}`);
  }
  t.deepEqual(offenders, []);
  t.true(
    imports(join(root, "src/cli/run.ts")).some((x) => x.startsWith("src/experiment/")),
    "the checker sees the CLI's imports",
  );
});

/** Modules that touch files, processes or the network: the callers' business, never the model's. */
const IO_MODULES = /^(node:)?(fs|fs\/promises|child_process|net|http|https|dgram|readline)$/;

test("the model folders do no I/O: files are read and written by the experiment, report and CLI layers", (t) => {
  const offenders: string[] = [];
  for (const dir of ["src/kernel", "src/network", "src/migration", "src/measurement", "src/policies"]) {
    for (const f of files(join(root, dir))) {
      const text = readFileSync(f, "utf8");
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*"([^".][^"]*)"/g)) if (IO_MODULES.test(m[1]!)) offenders.push(`${relative(root, f)} -> ${m[1]}`);
    }
  }
  t.deepEqual(offenders, []);
  // the pattern matches what an I/O import looks like
  t.true(IO_MODULES.test("node:fs") && IO_MODULES.test("fs/promises") && !IO_MODULES.test("node:crypto"));
  t.true(readFileSync(join(root, "src/report/atomic.ts"), "utf8").includes('from "node:fs"'), "the checker would see an fs import");
});

test("the report layer does not import the experiment layer or the CLI", (t) => {
  const offenders: string[] = [];
  for (const f of files(join(root, "src/report"))) {
    for (const target of imports(f)) if (target.startsWith("src/experiment/") || target.startsWith("src/cli/")) offenders.push(`${relative(root, f)} -> ${target}`);
  }
  t.deepEqual(offenders, []);
  t.true(files(join(root, "src/report")).length > 3, "the checker sees the files");
});
