/**
 * Kernel throughput: the classic "hold" model. N events are queued; each event pops and
 * schedules exactly one successor at t + Exp(1), so the queue stays at N. 10^6 events per case,
 * N = 10^3 and 10^5, through the kernel (callbacks with payloads, and processes yielding a delay)
 * and through a bare fastpriorityqueue of times (plus, for reference, the same queue holding integer
 * ids keyed through typed arrays with FIFO ties: the discipline a kernel on fastpriorityqueue needs
 * for payloads and FIFO ties, which the kernel used before its own typed-array heap).
 * Aim: kernel events at least half the bare queue's throughput (the same aim for processes at 10^5
 * was retired in issue 17: the cost there is V8 resuming generators).
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import FastPriorityQueue from "fastpriorityqueue";
import { Simulator } from "../src/kernel/index.ts";
import { makeRng } from "../src/core/random.ts";

const EVENTS = 1_000_000;
const SIZES = [1_000, 100_000];
const REPEATS = 5;

/** Exp(1) variates drawn beforehand, so every variant pays the same (zero) cost for randomness. */
const DRAWS = (() => {
  const rng = makeRng(1);
  const a = new Float64Array(1 << 20);
  for (let i = 0; i < a.length; i++) a[i] = -Math.log(1 - rng());
  return a;
})();
const MASK = DRAWS.length - 1;

function bare(n: number): number {
  const q = new FastPriorityQueue<number>((a, b) => a < b);
  let k = 0;
  for (let i = 0; i < n; i++) q.add(DRAWS[k++ & MASK]!);
  for (let i = 0; i < EVENTS; i++) {
    const t = q.poll()!;
    q.add(t + DRAWS[k++ & MASK]!);
  }
  return q.size;
}

/** fastpriorityqueue holding integer ids keyed through typed arrays, FIFO ties (the kernel before its own heap). */
function bareIds(n: number): number {
  const times = new Float64Array(n);
  const seqs = new Float64Array(n);
  let seq = 0;
  const q = new FastPriorityQueue<number>((a, b) => times[a]! < times[b]! || (times[a] === times[b] && seqs[a]! < seqs[b]!));
  let k = 0;
  for (let i = 0; i < n; i++) {
    times[i] = DRAWS[k++ & MASK]!;
    seqs[i] = seq++;
    q.add(i);
  }
  for (let i = 0; i < EVENTS; i++) {
    const id = q.peek()!;
    times[id] = times[id]! + DRAWS[k++ & MASK]!;
    seqs[id] = seq++;
    q.replaceTop(id);
  }
  return q.size;
}

function kernelEvents(n: number): number {
  const sim = new Simulator();
  let k = 0;
  let left = EVENTS;
  const payload = { hits: 0 };
  const hold = (p: { hits: number }): void => {
    p.hits++;
    if (--left > 0) sim.schedule(DRAWS[k++ & MASK]!, hold, p);
    else sim.stop();
  };
  for (let i = 0; i < n; i++) sim.schedule(DRAWS[k++ & MASK]!, hold, payload);
  sim.run();
  return payload.hits;
}

function kernelProcesses(n: number): number {
  const sim = new Simulator();
  let k = 0;
  let left = EVENTS;
  function* body(): Generator<number, void, unknown> {
    for (;;) {
      yield DRAWS[k++ & MASK]!;
      if (--left <= 0) {
        sim.stop();
        return;
      }
    }
  }
  for (let i = 0; i < n; i++) sim.process(body());
  sim.run();
  return sim.eventCount;
}

function measure(fn: (n: number) => number, n: number): number {
  fn(n); // warm-up: compile before timing
  let best = Infinity;
  for (let r = 0; r < REPEATS; r++) {
    (globalThis as { gc?: () => void }).gc?.();
    const t0 = process.hrtime.bigint();
    fn(n);
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    best = Math.min(best, dt);
  }
  return EVENTS / best;
}

const VARIANTS: Record<string, (n: number) => number> = { bare, ids: bareIds, events: kernelEvents, processes: kernelProcesses };
const fmt = (x: number): string => `${(x / 1e6).toFixed(2)} M events/s`;

// Each variant runs in its own process: fastpriorityqueue's methods are shared by all its
// instances, so measuring the bare queue and the kernel in one process would make the
// comparator call polymorphic for whichever runs second.
const [variant, size] = process.argv.slice(2);
if (variant !== undefined) {
  process.stdout.write(`${measure(VARIANTS[variant]!, Number(size))}\n`);
} else {
  const run = (v: string, n: number): number => {
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), v, String(n)], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${v} ${n} failed: ${r.stderr}`);
    return Number(r.stdout.trim());
  };
  process.stdout.write(
    `hold loop, ${EVENTS} events per case, best of ${REPEATS}, one process per variant; ratio = kernel / bare queue (aim >= 0.5 for events; processes are judged end to end, bench/datacenter.bench.ts)\n`,
  );
  for (const n of SIZES) {
    const b = run("bare", n);
    const i = run("ids", n);
    const e = run("events", n);
    const p = run("processes", n);
    process.stdout.write(`queued ${n}:\n`);
    process.stdout.write(`  bare fastpriorityqueue of times      ${fmt(b)}\n`);
    process.stdout.write(`  bare, ids + typed-array keys + FIFO  ${fmt(i)}  (ratio ${(i / b).toFixed(2)})\n`);
    process.stdout.write(`  kernel events with payloads          ${fmt(e)}  (ratio ${(e / b).toFixed(2)})\n`);
    process.stdout.write(`  kernel processes yielding delays     ${fmt(p)}  (ratio ${(p / b).toFixed(2)})\n`);
  }
}
