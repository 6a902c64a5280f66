/**
 * Determinism through the real CLI, beyond test/run.test.ts (which compares --jobs 1 with
 * --jobs 2 and three merged shards on Table III): a sweep with a plugin, MTD policies, probes and
 * a threshold trigger gives byte-identical outputs across repeated runs, time zones, locales and
 * worker counts; shards run with worker threads merge to the single-process output; and the order
 * of keys in the file's mappings changes nothing.
 */
import test from "ava";
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMap, isSeq, parseDocument, type Node } from "yaml";
import { makeRng } from "../src/core/random.ts";

const FUZZ = "test/fixtures/fuzz";
const dir = mkdtempSync(join(tmpdir(), "migsim-det-"));
for (const f of ["experiment.yaml", "net.yaml", "nearest.mjs"]) copyFileSync(join(FUZZ, f), join(dir, f));
const EXPERIMENT = join(dir, "experiment.yaml");
const RUNS = "4";

function migsim(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ status: number | null; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ["bin/migsim.js", ...args], { stdio: ["ignore", "ignore", "pipe"], env });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", fail);
    child.on("close", (status) => done({ status, stderr }));
  });
}

async function run(t: import("ava").ExecutionContext, out: string, extra: string[] = [], env?: NodeJS.ProcessEnv, file = EXPERIMENT): Promise<string> {
  const r = await migsim(["run", file, "--runs", RUNS, "--out", out, "--quiet", ...extra], env);
  t.is(r.status, 0, r.stderr);
  return out;
}

/** Every output file but the manifest, relative path -> bytes. */
function outputs(out: string, sub = ""): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const e of readdirSync(join(out, sub), { withFileTypes: true })) {
    const rel = join(sub, e.name);
    if (e.isDirectory()) for (const [k, v] of outputs(out, rel)) files.set(k, v);
    else if (rel !== "manifest.json") files.set(rel, readFileSync(join(out, rel)));
  }
  return files;
}

/** The manifest without what legitimately differs between invocations (command line, clock). */
function manifest(out: string): Record<string, unknown> {
  const m = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as Record<string, unknown>;
  for (const k of ["command", "startedAt", "finishedAt", "wallSeconds", "host", "cwd"]) delete m[k];
  return m;
}

function sameOutputs(t: import("ava").ExecutionContext, a: string, b: string): void {
  const fa = outputs(a);
  const fb = outputs(b);
  t.deepEqual([...fb.keys()].sort(), [...fa.keys()].sort());
  for (const [name, bytes] of fa) t.true(bytes.equals(fb.get(name)!), `${name} differs between ${a} and ${b}`);
  t.deepEqual(manifest(b), manifest(a));
}

test("repeated runs, another time zone and locale, and --jobs 2: byte-identical outputs", async (t) => {
  const a = await run(t, join(dir, "a"));
  const rows = readFileSync(join(a, "runs.csv"), "utf8").trim().split("\n");
  // 2 cells x 3 policies x 4 runs x 2 migrations, plus the header
  t.is(rows.length, 1 + 2 * 3 * 4 * 2);
  t.true(outputs(a).has("probes.csv") && [...outputs(a).keys()].some((k) => k.endsWith(".svg")));
  const b = await run(t, join(dir, "b"));
  const c = await run(t, join(dir, "c"), ["--jobs", "2"], { ...process.env, TZ: "Pacific/Kiritimati", LANG: "de_DE.UTF-8", LC_ALL: "de_DE.UTF-8" });
  sameOutputs(t, a, b);
  sameOutputs(t, a, c);
  // not vacuous: another seed gives other rows
  const d = await run(t, join(dir, "d"), ["--seed", "4", "--no-plots"]);
  t.not(readFileSync(join(d, "runs.csv"), "utf8"), readFileSync(join(a, "runs.csv"), "utf8"));
});

test("three shards, each with two worker threads, merge to the single-process output", async (t) => {
  const whole = await run(t, join(dir, "whole"), ["--no-plots"]);
  await Promise.all([1, 2, 3].map((i) => run(t, join(dir, `shard${i}`), ["--shard", `${i}/3`, "--jobs", "2", "--no-plots"])));
  const merged = join(dir, "merged");
  const m = await migsim(["merge", join(dir, "shard2"), join(dir, "shard3"), join(dir, "shard1"), "--out", merged]);
  t.is(m.status, 0, m.stderr);
  for (const f of ["runs.csv", "probes.csv", "summary.csv", "summary.md"]) {
    t.is(readFileSync(join(merged, f), "utf8"), readFileSync(join(whole, f), "utf8"), f);
  }
});

/** Reorders the keys of every mapping (seeded), except `sweep`, whose order is the cell order. */
function shuffleKeys(text: string, seed: number): string {
  const doc = parseDocument(text);
  const rng = makeRng(seed);
  const visit = (node: unknown, key?: string): void => {
    if (isMap(node)) {
      if (key !== "sweep") {
        const items = node.items;
        for (let i = items.length - 1; i > 0; i--) {
          const j = Math.floor(rng() * (i + 1));
          [items[i], items[j]] = [items[j]!, items[i]!];
        }
      }
      for (const p of node.items) visit(p.value, String((p.key as { value?: unknown }).value));
    } else if (isSeq(node)) {
      for (const item of node.items) visit(item);
    }
  };
  visit(doc.contents as Node);
  return doc.toString();
}

test("the order of keys in the file's mappings changes no output", async (t) => {
  const base = await run(t, join(dir, "base"), ["--no-plots"]);
  const original = readFileSync(EXPERIMENT, "utf8");
  for (const seed of [1, 2]) {
    const text = shuffleKeys(original, seed);
    t.not(text, original);
    // the top-level keys really moved, and so did those inside flows and policy parameters
    t.notDeepEqual(Object.keys(parseDocument(text).toJS() as object), Object.keys(parseDocument(original).toJS() as object));
    const file = join(dir, `shuffled-${seed}.yaml`);
    writeFileSync(file, text);
    const out = await run(t, join(dir, `shuffled-${seed}`), ["--no-plots"], undefined, file);
    for (const f of ["runs.csv", "probes.csv", "summary.csv", "summary.md"]) {
      t.is(readFileSync(join(out, f), "utf8"), readFileSync(join(base, f), "utf8"), `${f} after shuffle ${seed}`);
    }
  }
});
