/**
 * The published package, as a user gets it: `npm pack` of the build (npm test builds before ava
 * runs), installed by npm into a fresh project (`npm ci --offline` from the npm cache that
 * `npm ci` in this checkout filled, pinned to this checkout's package-lock.json, so no network),
 * then `import("migsim")` there, and the README's plugin example, which imports its types from
 * "migsim", type-checked with tsc and run on a packed topology.
 */
import test from "ava";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");

function readmePlugin(): string {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Writing your own policy"));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error("README: no ts block under 'Writing your own policy'");
  return m[1]!;
}

interface LockEntry {
  dev?: boolean;
}

/**
 * A user project depending on the tarball, with a lockfile pinning migsim's dependencies to the
 * versions and integrities of this checkout's lockfile (its runtime part): npm then installs
 * from its cache alone, where a fresh resolution would have to ask the registry.
 */
function userProject(project: string, tarball: string): void {
  const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> };
  const manifest = JSON.parse(execFileSync("tar", ["-xOzf", tarball, "package/package.json"], { encoding: "utf8" })) as {
    version: string;
    license: string;
    dependencies: Record<string, string>;
    bin: Record<string, string>;
    engines: Record<string, string>;
  };
  const spec = `file:${tarball}`;
  const packages: Record<string, unknown> = {
    "": { name: "user-project", dependencies: { migsim: spec } },
    "node_modules/migsim": {
      version: manifest.version,
      resolved: spec,
      license: manifest.license,
      dependencies: manifest.dependencies,
      bin: manifest.bin,
      engines: manifest.engines,
      integrity: `sha512-${createHash("sha512").update(readFileSync(tarball)).digest("base64")}`,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) if (path !== "" && !entry.dev) packages[path] = entry;
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "user-project", private: true, type: "module", dependencies: { migsim: spec } }));
  writeFileSync(join(project, "package-lock.json"), JSON.stringify({ name: "user-project", lockfileVersion: 3, requires: true, packages }));
}

test('the packed tarball installs offline, imports as "migsim", and a plugin typed against it checks and runs', (t) => {
  const tmp = mkdtempSync(join(tmpdir(), "migsim-pack-"));
  const packed = execFileSync("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", tmp], { cwd: root, encoding: "utf8" }).trim().split("\n").pop()!;
  const project = join(tmp, "project");
  userProject(project, join(tmp, packed));
  try {
    execFileSync("npm", ["ci", "--offline", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: project, encoding: "utf8", stdio: "pipe" });
  } catch (e) {
    const err = e as { stderr?: string };
    t.fail(`npm ci --offline of the packed tarball failed (run npm ci in the checkout first: it fills the npm cache):\n${err.stderr ?? String(e)}`);
    return;
  }
  // installed by npm, not linked: migsim and its dependencies are real folders of the project
  t.true(lstatSync(join(project, "node_modules", "migsim")).isDirectory());
  t.false(lstatSync(join(project, "node_modules", "yaml")).isSymbolicLink());
  t.true(existsSync(join(project, "node_modules", "migsim", "dist", "src", "index.d.ts")));

  const exported = execFileSync(process.execPath, ["-e", 'import("migsim").then((m) => console.log(Object.keys(m).sort().join(" ")))'], { cwd: project, encoding: "utf8" });
  for (const name of ["loadExperiment", "loadTopologyFile", "SimBackend", "MODEL_NAMES", "toGraph", "kShortestPaths"]) t.true(exported.split(" ").includes(name), name);

  const plugin = readmePlugin();
  t.regex(plugin, /^import type \{[^}]+\} from "migsim";/m, "the README's plugin takes its types from the package name");
  writeFileSync(join(project, "plugin.ts"), plugin);
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noUncheckedIndexedAccess: true, skipLibCheck: true, outDir: "out" },
      files: ["plugin.ts"],
    }),
  );
  // the plugin type-checks against the installed package's declarations (and compiles to JS)
  execFileSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], { cwd: project, encoding: "utf8" });
  // a wrong field type is a type error: the check is real
  writeFileSync(join(project, "bad.ts"), 'import type { PolicyPlan } from "migsim";\nexport const p: PolicyPlan = { destination: 1, keyRequests: [], setup: [], computeSeconds: 0 };\n');
  writeFileSync(join(project, "tsconfig.bad.json"), JSON.stringify({ extends: "./tsconfig.json", files: ["bad.ts"] }));
  const bad = t.throws(() =>
    execFileSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.bad.json", "--noEmit"], { cwd: project, encoding: "utf8", stdio: "pipe" }),
  );
  t.regex(String((bad as { stdout?: string }).stdout), /bad\.ts.*number.*string/);

  // and it runs: the compiled plugin decides on a topology the package ships, seen through migsim's static view
  const run = `
    import { loadTopologyFile, staticView } from "migsim";
    import * as plugin from "./out/plugin.js";
    const topo = loadTopologyFile("node_modules/migsim/topologies/tree.yaml");
    const plan = plugin.decide({
      view: staticView(topo), rng: () => 0.5, source: "h1", candidates: ["h2", "h5", "h9"],
      container: { name: "app", checkpoint: 1e6, memory: 1e7 }, params: {}, manager: "h1",
    });
    console.log(plugin.name, plan.destination);
  `;
  writeFileSync(join(project, "run.mjs"), run);
  const out = execFileSync(process.execPath, ["run.mjs"], { cwd: project, encoding: "utf8" }).trim();
  // tree.yaml: h2 shares h1's edge switch (1 switch on the path), h5 and h9 are 3 switches away
  t.is(out, "least-hops-then-capacity h2");
});

/** Relative link targets of a markdown text (inline links and images; web and in-page links left out). */
function relativeLinks(markdown: string): string[] {
  const out: string[] = [];
  for (const m of markdown.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1]!.split("#")[0]!;
    if (target && !/^[a-z]+:/i.test(target)) out.push(target);
  }
  return out;
}

test("the packed package holds the docs, and every relative link of its README and docs leads to a packed file", (t) => {
  const [packed] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts", "--silent"], { cwd: root, encoding: "utf8" })) as Array<{ files: Array<{ path: string }> }>;
  const files = new Set(packed!.files.map((f) => f.path));
  const folders = new Set(
    [...files].flatMap((f) =>
      f
        .split("/")
        .slice(0, -1)
        .map((_, i, parts) => parts.slice(0, i + 1).join("/")),
    ),
  );
  const docs = [...files].filter((f) => f === "README.md" || (f.startsWith("docs/") && f.endsWith(".md")));
  t.true(docs.includes("docs/reproduction.md") && docs.includes("docs/figures.md"), "the docs are packed");
  const dead: string[] = [];
  for (const doc of docs) {
    for (const link of relativeLinks(readFileSync(join(root, doc), "utf8"))) {
      const target = posix.normalize(posix.join(dirname(doc), link)).replace(/\/$/, "");
      if (!files.has(target) && !folders.has(target)) dead.push(`${doc}: ${link}`);
    }
  }
  t.deepEqual(dead, []);
});
