/**
 * Outputs that cannot mislead (issue #16): a used output folder holds only the new run's files
 * (and the user's own), probes.csv tells policies apart, and the timing line separates the runs
 * from writing the outputs.
 */
import test from "ava";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CLI = join(import.meta.dirname, "..", "bin", "migsim.js");
const dir = mkdtempSync(join(tmpdir(), "migsim-outputs-"));
writeFileSync(
  join(dir, "net.yaml"),
  "name: net\ndefaults: { capacity: 10Mbps, latency: 1ms }\nswitches: [s1]\nhosts: [h1, h2, h3, h4]\nlinks:\n" +
    "  - { a: h1, b: s1 }\n  - { a: h2, b: s1 }\n  - { a: h3, b: s1 }\n  - { a: h4, b: s1 }\n",
);
const experiment = (sizes: string): string =>
  "name: e\ntopology: net.yaml\nruns: 2\nmigrations:\n  - container: { name: app, checkpoint: 1MB }\n    source: h2\n    candidates: [h3, h4]\n" +
  `    trigger: { at: 1s }\nprobes:\n  - { from: h1, to: h3, at: 0.5s }\npolicies: [random, bandwidth]\nsweep:\n  migrations.0.container.checkpoint: [${sizes}]\n`;

function migsim(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test("re-running into a used folder removes the previous run's files, never the user's", (t) => {
  const out = join(dir, "out");
  writeFileSync(join(dir, "e.yaml"), experiment("1MB, 2MB, 3MB"));
  t.is(migsim("run", join(dir, "e.yaml"), "--out", out, "--quiet").code, 0);
  const before = readdirSync(join(out, "plots"));
  t.true(
    before.some((f) => f.startsWith("phases-3-")),
    before.join(" "),
  );
  writeFileSync(join(out, "notes.txt"), "mine");
  mkdirSync(join(out, "plots", "keep"));
  writeFileSync(join(out, "plots", "my-figure.svg"), "<svg/>");
  // what a writer killed half-way leaves: hidden temporaries named after a process that is gone
  const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
  writeFileSync(join(out, `.summary.md.tmp-${dead}-1`), "half");
  writeFileSync(join(out, "plots", `.sweep-x.svg.tmp-${dead}-2`), "half");

  writeFileSync(join(dir, "e.yaml"), experiment("5MB, 6MB"));
  t.is(migsim("run", join(dir, "e.yaml"), "--out", out, "--quiet").code, 0);
  const after = readdirSync(join(out, "plots"));
  t.false(
    after.some((f) => f.startsWith("phases-3-")),
    "no plot of a cell the new run does not have",
  );
  t.true(after.includes("my-figure.svg") && after.includes("keep"), "the user's files stay");
  t.false(
    after.some((f) => f.includes(".tmp-")),
    "a dead writer's temporaries go",
  );
  t.false(readdirSync(out).some((f) => f.includes(".tmp-")));
  t.is(readFileSync(join(out, "notes.txt"), "utf8"), "mine");
  t.false(readFileSync(join(out, "runs.csv"), "utf8").includes("=1MB"));
});

test("--no-plots writes no plot file, and its completion line says so", (t) => {
  const out = join(dir, "no-plots");
  writeFileSync(join(dir, "np.yaml"), experiment("1MB, 2MB"));
  t.is(migsim("run", join(dir, "np.yaml"), "--out", out, "--quiet").code, 0);
  t.true(
    readdirSync(join(out, "plots")).some((f) => f.endsWith(".svg")),
    "the same run with plots draws some",
  );
  const r = migsim("run", join(dir, "np.yaml"), "--out", out, "--trace", "--no-plots");
  t.is(r.code, 0, r.stderr);
  // the earlier run's plots went with its other outputs, and none were drawn
  t.false(existsSync(join(out, "plots")));
  t.deepEqual(readdirSync(out).sort(), ["differences.csv", "manifest.json", "probes.csv", "runs.csv", "summary.csv", "summary.md"]);
  t.regex(r.stdout, /, summary and manifest in /);
});

test("probes.csv has a policy column, so the policies' probe rows differ", (t) => {
  const out = join(dir, "probes");
  writeFileSync(join(dir, "p.yaml"), experiment("1MB"));
  t.is(migsim("run", join(dir, "p.yaml"), "--out", out, "--quiet", "--no-plots").code, 0);
  const [header, ...rows] = readFileSync(join(out, "probes.csv"), "utf8").trim().split("\n");
  t.is(header, "experiment,cell,backend,policy,run,from,to,sent_s,rtt_s");
  t.deepEqual(
    rows.map((r) => r.split(",").slice(3, 5).join(" ")),
    ["random 0", "random 1", "bandwidth 0", "bandwidth 1"],
  );
  t.is(new Set(rows).size, rows.length, "no two identical rows");
});

test("the completion line reports run time, writing time and the total separately", (t) => {
  writeFileSync(join(dir, "tm.yaml"), experiment("1MB, 2MB"));
  const r = migsim("run", join(dir, "tm.yaml"), "--out", join(dir, "timing"));
  t.is(r.code, 0, r.stderr);
  const m = /^e: 8 runs in ([0-9.]+) s, summary, plots and manifest in ([0-9.]+) s, ([0-9.]+) s in all -> /.exec(r.stdout);
  t.truthy(m, r.stdout);
  const [run, write, total] = m!.slice(1).map(Number);
  t.true(run! + write! <= total!, r.stdout);
});

test("--set or a sweep that changes a paper experiment drops its reference columns, saying why", (t) => {
  const table2 = join(import.meta.dirname, "..", "experiments", "table2.yaml");
  const changed = migsim("run", table2, "--runs", "3", "--set", "migrations.0.container.checkpoint=20MB", "--out", join(dir, "t2-set"), "--quiet", "--no-plots");
  t.is(changed.code, 0, changed.stderr);
  t.regex(changed.stderr, /note: --set migrations\.0\.container\.checkpoint changes the scenario of the reference \(Table II\); its values are not compared/);
  const [header, ...rows] = readFileSync(join(dir, "t2-set", "summary.csv"), "utf8")
    .trim()
    .split("\n");
  const ref = header!.split(",").indexOf("reference");
  t.true(ref >= 0 && rows.every((r) => r.split(",")[ref] === ""), "no reference value in any row");
  t.false(readFileSync(join(dir, "t2-set", "summary.md"), "utf8").includes("Table II"));
  // the same file with only the sample changed (--runs, --set seed) keeps comparing
  const same = migsim("run", table2, "--runs", "3", "--set", "seed=7", "--out", join(dir, "t2-seed"), "--quiet", "--no-plots");
  t.is(same.code, 0, same.stderr);
  t.true(readFileSync(join(dir, "t2-seed", "summary.md"), "utf8").includes("Table II"));
});
