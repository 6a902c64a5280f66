/** `migsim workload`: replay workloads made in the repository, deterministic by seed, readable by replay. */
import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateWorkload, loadWorkloadFile } from "../src/workload/generate.ts";
import { parseWorkload, replayWorkload } from "../src/network/replay.ts";

const dir = mkdtempSync(join(tmpdir(), "migsim-workload-"));

function migsim(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["bin/migsim.js", ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("same seed, same bytes; another seed, other transfers", (t) => {
  const a = migsim("workload", "--hosts", "80", "--transfers", "200", "--seed", "7", "--out", join(dir, "a.json"));
  t.is(a.status, 0, a.stderr);
  t.regex(a.stdout, /^200 transfers on 80 hosts \(seed 7\)/);
  migsim("workload", "--hosts", "80", "--transfers", "200", "--seed", "7", "--out", join(dir, "b.json"));
  migsim("workload", "--hosts", "80", "--transfers", "200", "--seed", "8", "--out", join(dir, "c.json"));
  t.is(readFileSync(join(dir, "a.json"), "utf8"), readFileSync(join(dir, "b.json"), "utf8"));
  t.notDeepEqual(JSON.parse(readFileSync(join(dir, "a.json"), "utf8")).transfers, JSON.parse(readFileSync(join(dir, "c.json"), "utf8")).transfers);
});

test("the draws of the original Python generator (random.Random(42)): pairs and sizes exact, start times to rounding", (t) => {
  // the Python generator the replay benchmark and its SimGrid timings first used, --hosts 80 --transfers 5 --seed 42
  const python = [
    { src: 3, dst: 36, bytes: 33868828, start: 0.05100301436374005 },
    { src: 13, dst: 70, bytes: 12668732, start: 0.06363232364724573 },
    { src: 4, dst: 3, bytes: 13575562, start: 0.10827232820916796 },
    { src: 64, dst: 78, bytes: 4561597, start: 0.12060816300715918 },
    { src: 69, dst: 53, bytes: 30587039, start: 0.16179887559234946 },
  ];
  const doc = generateWorkload({ hosts: 80, transfers: 5, seed: 42 }) as { transfers: Array<{ src: number; dst: number; bytes: number; start: number }> };
  doc.transfers.forEach((x, i) => {
    const p = python[i]!;
    t.deepEqual([x.src, x.dst, x.bytes], [p.src, p.dst, p.bytes]);
    // Math.log and Python's log may differ in the last bit
    t.true(Math.abs(x.start - p.start) <= 4e-16 * p.start * (i + 1), `${x.start} vs ${p.start}`);
  });
});

test("the workload is what replay reads: every transfer between two distinct hosts, in start order, and it replays", (t) => {
  const file = join(dir, "r.json");
  t.is(migsim("workload", "--hosts", "40", "--transfers", "300", "--out", file).status, 0);
  const w = loadWorkloadFile(file);
  t.is(w.hostNames.length, 40);
  t.is(w.ids.length, 300);
  for (let i = 0; i < 300; i++) {
    t.not(w.src[i], w.dst[i]);
    if (i > 0) t.true(w.start[i]! >= w.start[i - 1]!);
    t.true(w.bytes[i]! >= 1e6 && w.bytes[i]! <= 1e8);
  }
  const r = replayWorkload(w, "max-min");
  t.true(
    r.end.every((e, i) => e > w.start[i]!),
    "every transfer finishes after it starts",
  );
  // two racks: the tree rule routes through both uplinks
  const two = parseWorkload(generateWorkload({ hosts: 80, transfers: 0, seed: 1 }));
  t.deepEqual(two.route!("h0", "h79").links.length, 4);
});

test("bad arguments are refused with one line, exit 2, nothing written", (t) => {
  const r = migsim("workload", "--hosts", "50", "--transfers", "10", "--out", join(dir, "bad.json"));
  t.is(r.status, 2);
  t.is(r.stderr, "migsim: --hosts: expected a multiple of --hosts-per-rack (40), got 50\n");
  t.throws(() => readFileSync(join(dir, "bad.json")));
  t.is(migsim("workload", "--hosts", "40", "--transfers", "-1", "--out", join(dir, "bad.json")).status, 2);
});
