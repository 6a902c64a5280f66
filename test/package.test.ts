/**
 * The published package, as a user gets it: `npm pack` of the build (npm test builds before ava
 * runs), unpacked into a fresh project's node_modules with its dependencies linked from this
 * checkout (no network), then `import("migsim")` there, and the README's plugin example, which
 * imports its types from "migsim", type-checked with tsc and run on a packed topology.
 */
import test from "ava";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");

function readmePlugin(): string {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Writing your own policy"));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error("README: no ts block under 'Writing your own policy'");
  return m[1]!;
}

test('the packed tarball installs offline, imports as "migsim", and a plugin typed against it checks and runs', (t) => {
  const tmp = mkdtempSync(join(tmpdir(), "migsim-pack-"));
  const tarball = execFileSync("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", tmp], { cwd: root, encoding: "utf8" }).trim().split("\n").pop()!;
  const project = join(tmp, "project");
  const pkgDir = join(project, "node_modules", "migsim");
  mkdirSync(pkgDir, { recursive: true });
  execFileSync("tar", ["-xzf", join(tmp, tarball), "-C", pkgDir, "--strip-components=1"]);
  // the package's own dependencies, from this checkout (what `npm install` would fetch)
  const manifest = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  for (const dep of Object.keys(manifest.dependencies)) {
    mkdirSync(join(project, "node_modules", dep, ".."), { recursive: true });
    symlinkSync(join(root, "node_modules", dep), join(project, "node_modules", dep), "dir");
  }
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "user-project", private: true, type: "module" }));

  const exported = execFileSync(process.execPath, ["-e", 'import("migsim").then((m) => console.log(Object.keys(m).sort().join(" ")))'], { cwd: project, encoding: "utf8" });
  for (const name of ["loadExperiment", "loadTopologyFile", "SimBackend", "MODEL_NAMES", "toGraph", "kShortestPaths"]) t.true(exported.split(" ").includes(name), name);

  writeFileSync(join(project, "plugin.ts"), readmePlugin());
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
