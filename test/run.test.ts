/**
 * `migsim run`, `merge` and `reproduce` end to end through the real CLI (dist/, built by npm test):
 * identical rows whatever the worker count or sharding, interruption and --resume, and the
 * paper's tables within tolerance.
 */
import test from "ava";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const CLI = join(import.meta.dirname, "..", "bin", "migsim.js");
const TABLE3 = join(import.meta.dirname, "..", "experiments", "table3.yaml");

function migsim(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function scratch(): string {
  return mkdtempSync(join(tmpdir(), "migsim-run-"));
}

test("runs.csv is identical for --jobs 1 and --jobs 2", (t) => {
  const d = scratch();
  t.is(migsim("run", TABLE3, "--runs", "40", "--out", join(d, "j1"), "--quiet").code, 0);
  t.is(migsim("run", TABLE3, "--runs", "40", "--out", join(d, "j2"), "--jobs", "2", "--quiet").code, 0);
  const a = readFileSync(join(d, "j1", "runs.csv"), "utf8");
  t.is(a.trim().split("\n").length, 1 + 3 * 40);
  t.is(readFileSync(join(d, "j2", "runs.csv"), "utf8"), a);
});

test("a baseline and bootstrap intervals survive sharding: merged shards write the summary and differences one process writes", (t) => {
  const d = scratch();
  const set = ["--set", "baseline=mtd-shamir", "--set", "ci=bootstrap", "--runs", "6", "--quiet", "--no-plots"];
  for (const i of [1, 2]) t.is(migsim("run", TABLE3, ...set, "--shard", `${i}/2`, "--out", join(d, `s${i}`)).code, 0);
  t.is(migsim("run", TABLE3, ...set, "--out", join(d, "one")).code, 0);
  const m = migsim("merge", join(d, "s1"), join(d, "s2"), "--out", join(d, "merged"), "--no-png");
  t.is(m.code, 0, m.stderr);
  for (const f of ["summary.csv", "summary.md", "differences.csv"]) {
    t.is(readFileSync(join(d, "merged", f), "utf8"), readFileSync(join(d, "one", f), "utf8"), f);
  }
  const md = readFileSync(join(d, "one", "summary.md"), "utf8");
  t.true(md.includes("percentile bootstrap") && md.includes("### Each policy against mtd-shamir"), md);
});

test("three shards merged give exactly what one process writes", (t) => {
  const d = scratch();
  for (const i of [1, 2, 3]) t.is(migsim("run", TABLE3, "--runs", "7", "--shard", `${i}/3`, "--out", join(d, `s${i}`), "--quiet", "--trace").code, 0);
  // a shard writes data only: its part of the rows would make a misleading summary or plot
  t.deepEqual(readdirSync(join(d, "s1")).sort(), ["manifest.json", "probes.csv", "runs.csv", "traces"]);
  t.is(migsim("run", TABLE3, "--runs", "7", "--out", join(d, "one"), "--quiet", "--trace").code, 0);
  const m = migsim("merge", join(d, "s3"), join(d, "s1"), join(d, "s2"), "--out", join(d, "merged"));
  t.is(m.code, 0, m.stderr);
  for (const f of ["runs.csv", "probes.csv", "summary.csv"]) {
    t.is(readFileSync(join(d, "merged", f), "utf8"), readFileSync(join(d, "one", f), "utf8"), f);
  }
  // merge draws every plot one process draws, the Fig. 4 traces from the shards' trace data included
  t.deepEqual(readdirSync(join(d, "merged", "plots")), readdirSync(join(d, "one", "plots")));
  t.true(readdirSync(join(d, "merged", "plots")).some((f) => f.startsWith("trace-")));
  const bad = migsim("merge", join(d, "s1"), join(d, "s2"), "--out", join(d, "m2"));
  t.is(bad.code, 2, "a missing shard is refused");
  t.false(existsSync(join(d, "m2", "runs.csv")));
});

test("merge refuses an unfinished shard and prints the command that finishes it, as the shard was run", (t) => {
  const d = scratch();
  for (const i of [1, 2]) t.is(migsim("run", TABLE3, "--runs", "3", "--shard", `${i}/2`, "--out", join(d, `s ${i}`), "--quiet").code, 0);
  // an interrupted shard: its last run is missing from its rows and its manifest (one row a run here)
  const file = join(d, "s 1", "manifest.json");
  const manifest = JSON.parse(readFileSync(file, "utf8")) as { runs: Array<[number, number, number]> };
  t.is(manifest.runs.at(-1)![1], 1);
  manifest.runs.pop();
  writeFileSync(file, JSON.stringify(manifest));
  const rows = readFileSync(join(d, "s 1", "runs.csv"), "utf8")
    .trimEnd()
    .split("\n");
  writeFileSync(join(d, "s 1", "runs.csv"), `${rows.slice(0, -1).join("\n")}\n`);
  const bad = migsim("merge", join(d, "s 1"), join(d, "s 2"), "--out", join(d, "merged"));
  t.is(bad.code, 2);
  t.regex(bad.stderr, /shard 1\/2 is incomplete: \d+ of \d+ runs/);
  t.true(bad.stderr.includes(`migsim run ${TABLE3} --runs 3 --shard 1/2 --out '${join(d, "s 1")}' --quiet --resume`), bad.stderr);
  t.true(bad.stderr.includes(`finish it in ${process.cwd()}`), bad.stderr);
});

test("a run interrupted with Ctrl-C resumes to the same rows as an uninterrupted one", async (t) => {
  const d = scratch();
  // a folder name the shell would split: the printed command must quote it
  const out = join(d, "inter rupted");
  const args = [CLI, "run", TABLE3, "--runs", "1500", "--out", out];
  // started with node, as npx would not (the test runner may itself run under npx)
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "npm_command"));
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env });
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  // Interrupt once some runs are committed (the partial state says so).
  const progress = join(out, ".migsim-partial", "progress.json");
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (existsSync(progress) && (JSON.parse(readFileSync(progress, "utf8")) as { done: number }).done > 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill("SIGINT");
  const code = await new Promise<number>((r) => child.on("exit", (c) => r(c ?? -1)));
  t.is(code, 130, stderr);
  // the hint is the whole original command (--runs 1500 kept) plus --resume, shell-quoted,
  // started as this one was
  const hint = /continue with: (.*)$/m.exec(stderr)?.[1];
  t.is(hint, `node ${relative(process.cwd(), CLI)} run ${TABLE3} --runs 1500 --out '${out}' --resume`);
  // Nothing half-written in the output folder: only the partial state.
  t.deepEqual(readdirSync(out), [".migsim-partial"]);
  const done = (JSON.parse(readFileSync(progress, "utf8")) as { done: number }).done;
  t.true(done > 0 && done < 4500, `interrupted after ${done} runs`);

  // run as printed, through a shell
  const resumed = spawnSync("sh", ["-c", `${hint!.replace(/^migsim/, `'${process.execPath}' '${CLI}'`)} --quiet`], { encoding: "utf8" });
  t.is(resumed.status, 0, resumed.stderr);
  t.is(migsim("run", TABLE3, "--runs", "1500", "--out", join(d, "whole"), "--quiet").code, 0);
  t.is(readFileSync(join(out, "runs.csv"), "utf8"), readFileSync(join(d, "whole", "runs.csv"), "utf8"));
  t.false(existsSync(join(out, ".migsim-partial")));
});

test("reproduce: every cell of Tables I-III within max(paper CI, 10%) of the paper", (t) => {
  const d = scratch();
  const r = migsim("reproduce", "--out", d);
  t.is(r.code, 0, r.stderr);
  const md = readFileSync(join(d, "tables.md"), "utf8");
  const rows = md.split("\n").filter((l) => /^\| (bandwidth|shortest-path|random|mtd-[a-z]+) \|/.test(l));
  t.is(rows.length, 9);
  for (const row of rows) t.is(row.split("|")[5]!.trim(), "yes", row);
  // which values parameters were fitted on, and which are checks
  t.deepEqual(
    rows.map((l) => l.split("|")[6]!.trim().split(":")[0]),
    ["yes", "yes", "yes", "no", "no", "no", "yes", "yes", "no"],
  );
  t.regex(md, /\| checkpoint size \(every table\) \| 9\.3MB \| Table I: /);
  t.regex(md, /\| costs\.mtd-session .* \| 2\.63s \| Table III: /);
  // the paper's orderings: Table II's shortest path ahead is not held, and says why with the docs section
  t.regex(
    md,
    /\| shortest-path < bandwidth \| 17\.10 ± 0\.16 < 18\.60 ± 0\.91 \| .* \| not held \(the simulated difference, [0-9.]+ s, is below the 0\.430 s .*\): .*per-hop|hops of a path.*\(docs\/reproduction\.md#table-ii-shortest-path-below-bandwidth-and-random\) \|/,
  );
  t.regex(md, /\| bandwidth < shortest-path \| .* \| held \|/);
  t.regex(
    r.stdout,
    /^9\/9 values within tolerance \(4\/4 of those with no parameter fitted on them\); the paper's significant orderings: 5 of 7 held \(Table I 3\/3, Table II 0\/2, Table III 2\/2\)$/m,
  );
  // the paper's column order in each table
  t.deepEqual(
    rows.map((l) => l.split("|")[1]!.trim()),
    ["bandwidth", "shortest-path", "random", "bandwidth", "shortest-path", "random", "mtd-fountain", "mtd-shamir", "mtd-random"],
  );
});
