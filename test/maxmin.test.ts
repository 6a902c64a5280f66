import test from "ava";
import fc from "fast-check";
import { Simulator } from "../src/kernel/index.ts";
import { makeRng, randomInt } from "../src/core/random.ts";
import { compileTopology } from "../src/network/topology/compile.ts";
import { createNetworkModel } from "../src/network/index.ts";
import { MaxMinModel } from "../src/network/maxmin/maxmin-model.ts";
import type { FlowStore, MaxMinFlow } from "../src/network/maxmin/store.ts";
import { UnreachableResultError } from "../src/core/errors.ts";
import { blockage, DEFAULT_NETWORK_PARAMS, type Flow, type NetworkParams } from "../src/network/network-model.ts";
import type { LinkSpec, Topology } from "../src/network/topology/topology-types.ts";

const G = 1e9;
const params = (efficiency = 1): NetworkParams => ({ ...DEFAULT_NETWORK_PARAMS, model: "max-min", efficiency });

function link(a: string, b: string, capacity: number, latency = 1e-3, capacityBack = capacity): LinkSpec {
  return { a, b, capacity, capacityBack, latency, queue: 100, mtu: 1500 };
}

/** hosts h1..hn on one switch; every access link has the given capacity */
function star(n: number, capacity = G): Topology {
  const hosts = Array.from({ length: n }, (_, i) => `h${i + 1}`);
  return { name: "star", hosts, switches: ["s1"], links: hosts.map((h) => link(h, "s1", capacity)) };
}

function setup(t: Topology, efficiency = 1): { sim: Simulator; m: MaxMinModel } {
  const sim = new Simulator();
  return { sim, m: new MaxMinModel(sim, compileTopology(t), params(efficiency)) };
}

const close = (a: number, b: number, rel = 1e-9): boolean => Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));

test("one flow gets the bottleneck capacity times the efficiency", (t) => {
  const topo: Topology = { name: "two", hosts: ["h1", "h2"], switches: ["s1"], links: [link("h1", "s1", G), link("s1", "h2", 100e6)] };
  const { m } = setup(topo, 0.95);
  const f = m.startFlow({ src: "h1", dst: "h2", kind: "tcp" });
  t.true(close(m.rateOf(f), 100e6 * 0.95));
  // wire rate on the bottleneck (directed link 2 = s1 -> h2) is the full capacity
  t.true(close(m.linkRate(2), 100e6));
  t.true(close(m.linkRate(0), 100e6));
  t.true(close(m.linkUtilisation(0), 0.1));
  t.is(m.linkRate(1), 0, "the reverse direction carries nothing");
});

test("n flows on one link get 1/n each", (t) => {
  for (const n of [2, 3, 7]) {
    const { m } = setup(star(n + 1), 0.9);
    const flows = Array.from({ length: n }, (_, i) => m.startFlow({ src: `h${i + 2}`, dst: "h1", kind: "tcp" }));
    for (const f of flows) t.true(close(m.rateOf(f), (G * 0.9) / n), `n=${n}: ${m.rateOf(f)}`);
  }
});

test("parking lot: the long flow and the short ones get the textbook max-min shares", (t) => {
  // s0 -(1G)- s1 -(2G)- s2 -(1G)- s3; hosts on fast access links. Long flow hA -> hD crosses all three.
  // Link s0-s1: long + 2 short flows -> 1/3 each. Link s1-s2: long (1/3) + 1 short -> 5/3.
  // Link s2-s3: long (1/3) + 1 short -> 2/3.
  const fast = 100 * G;
  const topo: Topology = {
    name: "parking",
    hosts: ["hA", "hB", "hC", "hD"],
    switches: ["s0", "s1", "s2", "s3"],
    links: [link("s0", "s1", G), link("s1", "s2", 2 * G), link("s2", "s3", G), link("hA", "s0", fast), link("hB", "s1", fast), link("hC", "s2", fast), link("hD", "s3", fast)],
  };
  const { m } = setup(topo);
  const long = m.startFlow({ src: "hA", dst: "hD", kind: "tcp" });
  const s01a = m.startFlow({ src: "hA", dst: "hB", kind: "tcp" });
  const s01b = m.startFlow({ src: "hA", dst: "hB", kind: "tcp" });
  const s12 = m.startFlow({ src: "hB", dst: "hC", kind: "tcp" });
  const s23 = m.startFlow({ src: "hC", dst: "hD", kind: "tcp" });
  t.true(close(m.rateOf(long), G / 3));
  t.true(close(m.rateOf(s01a), G / 3));
  t.true(close(m.rateOf(s01b), G / 3));
  t.true(close(m.rateOf(s12), (5 * G) / 3));
  t.true(close(m.rateOf(s23), (2 * G) / 3));
  // Taking one short flow off the first link lifts the long flow to 1/2 everywhere downstream.
  m.stopFlow(s01b);
  t.true(close(m.rateOf(long), G / 2));
  t.true(close(m.rateOf(s12), 1.5 * G));
  t.true(close(m.rateOf(s23), G / 2));
});

test("maxRate is a private bottleneck: the others share what the capped flow leaves", (t) => {
  const { m } = setup(star(3));
  const capped = m.startFlow({ src: "h2", dst: "h1", kind: "tcp", maxRate: 200e6 });
  const other = m.startFlow({ src: "h3", dst: "h1", kind: "tcp" });
  t.true(close(m.rateOf(capped), 200e6));
  t.true(close(m.rateOf(other), 800e6));
});

test("constant-rate flows take their rate first; elastic flows share the rest times efficiency", (t) => {
  const { m } = setup(star(3), 0.9);
  const udp = m.startFlow({ src: "h2", dst: "h1", kind: "udp", rate: 300e6 });
  const a = m.startFlow({ src: "h3", dst: "h1", kind: "tcp" });
  const b = m.startFlow({ src: "h2", dst: "h1", kind: "tcp" });
  t.is(m.rateOf(udp), 300e6);
  t.true(close(m.rateOf(a), (700e6 * 0.9) / 2));
  t.true(close(m.rateOf(b), (700e6 * 0.9) / 2));
  t.true(close(m.linkRate(1), G), "link s1 -> h1 is saturated on the wire");
  m.stopFlow(udp);
  t.true(close(m.rateOf(a), (G * 0.9) / 2));
});

test("udp alone oversubscribing a link is cut to a max-min share of it", (t) => {
  const { m } = setup(star(3));
  const u1 = m.startFlow({ src: "h2", dst: "h1", kind: "udp", rate: 800e6 });
  const u2 = m.startFlow({ src: "h3", dst: "h1", kind: "udp", rate: 300e6 });
  t.true(close(m.rateOf(u1), 700e6));
  t.true(close(m.rateOf(u2), 300e6));
  t.true(close(m.linkRate(1), G));
});

test("a transfer that can never finish is reported, naming the link, instead of hanging", (t) => {
  const { sim, m } = setup(star(3));
  m.startFlow({ src: "h2", dst: "h1", kind: "udp", rate: 2 * G });
  const f = m.startFlow({ src: "h3", dst: "h1", kind: "tcp", bytes: 1e6 });
  t.is(m.rateOf(f), 0);
  const err = t.throws(() => sim.run(), { instanceOf: UnreachableResultError });
  t.regex(err!.message, /s1->h1/);
  t.is(blockage(err)?.flow, f);
});

test("a starved transfer resumes when the constant-rate flow stops", (t) => {
  const { sim, m } = setup(star(3));
  const u = m.startFlow({ src: "h2", dst: "h1", kind: "udp", rate: G });
  const f = m.startFlow({ src: "h3", dst: "h1", kind: "tcp", bytes: 125e6 });
  sim.schedule(2, () => m.stopFlow(u));
  sim.run();
  t.true(f.done.fired);
  t.true(close(f.done.value!.end, 3), `end ${f.done.value!.end}`);
});

test("staggered arrivals and departures give the exact piecewise completion times", (t) => {
  // One 800 Mbit/s (100 MB/s) bottleneck, efficiency 1. By hand:
  // 0-0.2 A alone (A=20MB). 0.2-0.5 A,B at 50MB/s (A=35, B=15). 0.5: C (10MB) joins, 3 x 33.3MB/s;
  // C done at 0.8 (A=45, B=25). 0.8-0.9 A,B at 50MB/s: B (30MB) done at 0.9 (A=50). A alone: 50MB
  // more at 100MB/s -> 1.4.
  const { sim, m } = setup(star(4, 800e6));
  const MB = 1e6;
  const ends: Record<string, number> = {};
  const start = (name: string, src: string, bytes: number): void => {
    const f = m.startFlow({ src, dst: "h1", kind: "tcp", bytes });
    f.done.onFire((r) => (ends[name] = r.end));
  };
  start("A", "h2", 100 * MB);
  sim.schedule(0.2, () => start("B", "h3", 30 * MB));
  sim.schedule(0.5, () => start("C", "h4", 10 * MB));
  let mid: { a: number; l: number } | undefined;
  sim.schedule(0.85, () => {
    const a = m.activeFlows().find((f) => f.spec.src === "h2")!;
    mid = { a: m.deliveredBytes(a), l: m.linkBytes(1) };
  });
  sim.run();
  t.true(close(ends.C!, 0.8), `C ${ends.C}`);
  t.true(close(ends.B!, 0.9), `B ${ends.B}`);
  t.true(close(ends.A!, 1.4), `A ${ends.A}`);
  t.true(close(mid!.a, 47.5 * MB), `A at 0.85: ${mid!.a}`);
  t.true(close(mid!.l, (45 + 25 + 10 + 5) * MB), `link bytes at 0.85: ${mid!.l}`);
  t.true(close(m.linkBytes(1), 140 * MB));
  t.true(close(m.linkPackets(1), (140 * MB) / 1500));
  t.is(m.activeFlows().length, 0);
});

test("stopFlow fires done with the bytes delivered so far", (t) => {
  const { sim, m } = setup(star(2));
  const f = m.startFlow({ src: "h1", dst: "h2", kind: "tcp", bytes: 1e9 });
  sim.schedule(1, () => m.stopFlow(f));
  sim.run();
  t.deepEqual(f.done.value, { start: 0, end: 1, bytes: 125e6, stopped: true });
  t.is(m.rateOf(f), 0);
  t.is(m.deliveredBytes(f), 125e6);
});

test("messages and exchanges: propagation + handshake + bytes at the rate a new flow would get", (t) => {
  const { sim, m } = setup(star(3), 0.5);
  const fired: number[] = [];
  // idle path h2 -> h1: 2 ms propagation; 1e6 bytes at 1G * 0.5
  m.message("h2", "h1", 1e6).onFire((d) => fired.push(d));
  // with one elastic flow on s1 -> h1 the water level is half the elastic capacity
  m.startFlow({ src: "h3", dst: "h1", kind: "tcp" });
  m.message("h2", "h1", 1e6).onFire((d) => fired.push(d));
  m.exchange("h1", "h2", 1e6, 1e6, { newConnection: true, handshakeRtts: 3 }).onFire((d) => fired.push(d));
  sim.run(10);
  t.true(close(fired[0]!, 0.002 + 8e6 / 0.5e9));
  t.true(close(fired[1]!, 0.002 + 8e6 / 0.25e9));
  // request h1 -> h2 shares no directed link with the flow: full rate; the response h2 -> h1
  // crosses s1 -> h1 with the flow: half
  t.true(close(fired[2]!, 3 * 0.004 + (0.002 + 8e6 / 0.5e9) + (0.002 + 8e6 / 0.25e9)));
  t.is(m.pathDelay("h1", "h2"), 0.002);
  t.is(m.linkQueueBytes(0), 0);
});

test("the factory builds the model the parameters name", (t) => {
  const sim = new Simulator();
  const topo = compileTopology(star(2));
  t.is(createNetworkModel(sim, topo, params()).name, "max-min");
  t.is(createNetworkModel(sim, topo, { ...params(), model: "tcp-fluid" }).name, "tcp-fluid");
});

// ---------------------------------------------------------------- property-based

/** A plain progressive filling over every flow, no incrementality: the reference. */
function referenceMaxMin(cap: Float64Array, paths: number[][], maxRate: number[]): number[] {
  const n = paths.length;
  const rate = new Array<number>(n).fill(0);
  const frozen = new Array<boolean>(n).fill(false);
  const rem = Float64Array.from(cap);
  let left = n;
  while (left > 0) {
    let level = Infinity;
    const users = new Int32Array(cap.length);
    for (let i = 0; i < n; i++) if (!frozen[i]) for (const l of paths[i]!) users[l]!++;
    for (let l = 0; l < cap.length; l++) if (users[l]! > 0) level = Math.min(level, Math.max(0, rem[l]!) / users[l]!);
    for (let i = 0; i < n; i++) if (!frozen[i]) level = Math.min(level, maxRate[i]!);
    for (let i = 0; i < n; i++) {
      if (frozen[i]) continue;
      const tight = maxRate[i]! <= level || paths[i]!.some((l) => Math.max(0, rem[l]!) / users[l]! <= level * (1 + 1e-12));
      if (!tight) continue;
      frozen[i] = true;
      left--;
      rate[i] = level;
    }
    // residuals from scratch each level: no drift from repeated subtraction
    rem.set(cap);
    for (let i = 0; i < n; i++) if (frozen[i]) for (const l of paths[i]!) rem[l]! -= rate[i]!;
  }
  return rate;
}

interface Scenario {
  topo: Topology;
  flows: Array<{ src: string; dst: string; maxRate?: number }>;
}

const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    switches: fc.integer({ min: 1, max: 5 }),
    hosts: fc.integer({ min: 2, max: 7 }),
    extra: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 4 }),
    caps: fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 40, maxLength: 40 }),
    parents: fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
    flows: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.option(fc.integer({ min: 1, max: 12 }), { freq: 4 })), { minLength: 1, maxLength: 14 }),
  })
  .map(({ switches, hosts, extra, caps, parents, flows }) => {
    const sw = Array.from({ length: switches }, (_, i) => `s${i}`);
    const hs = Array.from({ length: hosts }, (_, i) => `h${i}`);
    const links: LinkSpec[] = [];
    const seen = new Set<string>();
    let c = 0;
    const cap = (): number => caps[c++ % caps.length]! * 1e8;
    const add = (a: string, b: string): void => {
      const key = [a, b].sort().join("|");
      if (a === b || seen.has(key)) return;
      seen.add(key);
      links.push(link(a, b, cap(), 1e-4, cap()));
    };
    for (let i = 1; i < switches; i++) add(sw[i]!, sw[parents[i]! % i]!); // random tree: connected
    for (const [x, y] of extra) add(sw[x % switches]!, sw[y % switches]!);
    hs.forEach((h, i) => add(h, sw[parents[i]! % switches]!));
    const fl = flows.map(([s, d, m]) => ({ src: hs[s % hosts]!, dst: hs[d % hosts]!, ...(m === null ? {} : { maxRate: m * 0.7e8 }) })).filter((f) => f.src !== f.dst);
    return { topo: { name: "random", hosts: hs, switches: sw, links }, flows: fl };
  })
  .filter((s) => s.flows.length > 0);

function runScenario(s: Scenario, order: number[], efficiency: number): { m: MaxMinModel; flows: Flow[] } {
  const sim = new Simulator();
  const m = new MaxMinModel(sim, compileTopology(s.topo), params(efficiency));
  const flows = new Array<Flow>(s.flows.length);
  for (const i of order) flows[i] = m.startFlow({ ...s.flows[i]!, kind: "tcp" });
  return { m, flows };
}

function checkCertificate(m: MaxMinModel, flows: Flow[], efficiency: number): string | undefined {
  const L = m.topo.capacity.length;
  const load = new Float64Array(L);
  const max = new Float64Array(L);
  for (const f of flows)
    for (const l of f.path.links) {
      load[l]! += m.rateOf(f);
      max[l] = Math.max(max[l]!, m.rateOf(f));
    }
  for (let l = 0; l < L; l++) {
    const c = m.topo.capacity[l]! * efficiency;
    if (load[l]! > c * (1 + 1e-9)) return `link ${l} carries ${load[l]} > ${c}`;
  }
  for (const f of flows) {
    const r = m.rateOf(f);
    if (f.spec.maxRate !== undefined && close(r, f.spec.maxRate, 1e-9)) continue;
    const ok = f.path.links.some((l) => load[l]! >= m.topo.capacity[l]! * efficiency * (1 - 1e-9) && r >= max[l]! * (1 - 1e-9));
    if (!ok) return `flow ${f.spec.src}->${f.spec.dst} at ${r} has no bottleneck`;
  }
  return undefined;
}

test("property: feasible, max-min certificate, equal to a from-scratch solve, independent of insertion order", (t) => {
  fc.assert(
    fc.property(scenario, fc.integer({ min: 1, max: 100 }), fc.array(fc.nat(), { minLength: 20, maxLength: 20 }), (s, effPct, perm) => {
      const eff = 0.5 + effPct / 200;
      const n = s.flows.length;
      const forward = Array.from({ length: n }, (_, i) => i);
      const shuffled = forward.slice();
      for (let i = n - 1; i > 0; i--) {
        const j = perm[i % perm.length]! % (i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      const a = runScenario(s, forward, eff);
      const b = runScenario(s, shuffled, eff);
      const cert = checkCertificate(a.m, a.flows, eff);
      if (cert) throw new Error(cert);
      const ref = referenceMaxMin(
        a.m.topo.capacity.map((c) => c * eff),
        a.flows.map((f) => [...f.path.links]),
        s.flows.map((f) => f.maxRate ?? Infinity),
      );
      for (let i = 0; i < n; i++) {
        if (!close(a.m.rateOf(a.flows[i]!), ref[i]!, 1e-7)) throw new Error(`flow ${i}: ${a.m.rateOf(a.flows[i]!)} vs reference ${ref[i]}`);
        if (!close(a.m.rateOf(a.flows[i]!), b.m.rateOf(b.flows[i]!), 1e-7)) throw new Error(`flow ${i} depends on insertion order`);
      }
    }),
    { numRuns: 300, seed: 20261122 },
  );
  t.pass();
});

test("property: after random departures the incremental state equals a from-scratch solve", (t) => {
  fc.assert(
    fc.property(scenario, fc.array(fc.boolean(), { minLength: 14, maxLength: 14 }), (s, drop) => {
      const n = s.flows.length;
      const { m, flows } = runScenario(
        s,
        Array.from({ length: n }, (_, i) => i),
        1,
      );
      const kept: number[] = [];
      flows.forEach((f, i) => (drop[i] ? m.stopFlow(f) : kept.push(i)));
      const live = kept.map((i) => flows[i]!);
      const cert = checkCertificate(m, live, 1);
      if (cert) throw new Error(cert);
      const ref = referenceMaxMin(
        Float64Array.from(m.topo.capacity),
        live.map((f) => [...f.path.links]),
        kept.map((i) => s.flows[i]!.maxRate ?? Infinity),
      );
      live.forEach((f, k) => {
        if (!close(m.rateOf(f), ref[k]!, 1e-7)) throw new Error(`flow ${kept[k]}: ${m.rateOf(f)} vs reference ${ref[k]}`);
      });
      if (m.activeFlows().length !== live.length) throw new Error("active flow count");
    }),
    { numRuns: 300, seed: 7 },
  );
  t.pass();
});

test("property: finite transfers with staggered starts end at the same times as whole-component re-solving", (t) => {
  fc.assert(
    fc.property(scenario, fc.array(fc.tuple(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 0, max: 50 })), { minLength: 14, maxLength: 14 }), (s, sizes) => {
      const ends = (exhaustive: boolean): number[] => {
        const sim = new Simulator();
        const m = new MaxMinModel(sim, compileTopology(s.topo), params(0.9), { exhaustive });
        const out: number[] = new Array(s.flows.length).fill(NaN);
        s.flows.forEach((f, i) => {
          const [mb, at] = sizes[i]!;
          sim.schedule(at / 100, () => m.startFlow({ ...f, kind: "tcp", bytes: mb * 1e5 }).done.onFire((r) => (out[i] = r.end)));
        });
        sim.run();
        return out;
      };
      const a = ends(false);
      const b = ends(true);
      a.forEach((e, i) => {
        if (!close(e, b[i]!, 1e-9)) throw new Error(`flow ${i} ends at ${e}, whole-component solve says ${b[i]}`);
      });
    }),
    { numRuns: 200, seed: 11 },
  );
  t.pass();
});

/**
 * A two-level tree (hosts on edge switches, edges on two aggregation switches, both on one core)
 * whose capacities come from a few values, so shares tie often, and a seeded mix of finite flows,
 * some capped, some stopped early: the solver with its shortcuts (lmm.ts) and the plain
 * certificate check must give every flow the same rate, bit for bit, and the same bottleneck
 * after every change.
 */
function shortcutTrace(seed: number, plainCheck: boolean): number[] {
  const rng = makeRng(`maxmin-shortcuts:${seed}`);
  const pick = <T>(xs: readonly T[]): T => xs[randomInt(rng, xs.length)]!;
  // (access links bind as often as the shared ones: either may hold a flow, and ties between them decide its bottleneck)
  const inner = seed % 2 ? [2 * G, 10 * G] : [10 * G, 40 * G];
  const access = [1 * G, 10 * G];
  const hosts = Array.from({ length: 24 }, (_, i) => `h${i}`);
  const links: LinkSpec[] = [link("a0", "c0", pick(inner), 1e-4, pick(inner)), link("a1", "c0", pick(inner), 1e-4, pick(inner))];
  for (let e = 0; e < 6; e++) links.push(link(`e${e}`, `a${e % 2}`, pick(inner), 1e-4, pick(inner)));
  hosts.forEach((h, i) => links.push(link(h, `e${i % 6}`, pick(access), 1e-4, pick(access))));
  const topo: Topology = { name: "tree", hosts, switches: ["c0", "a0", "a1", "e0", "e1", "e2", "e3", "e4", "e5"], links };
  const sim = new Simulator();
  const m = new MaxMinModel(sim, compileTopology(topo), params(0.9), { plainCheck });
  const trace: number[] = [];
  // (with the link each flow was frozen at: the certificate the next change starts from)
  const bott = (m as unknown as { flows: FlowStore }).flows.cols.bott;
  const snapshot = (): void => {
    for (const f of m.activeFlows()) trace.push(f.id, m.rateOf(f), bott[(f as MaxMinFlow).slot]!);
  };
  for (let i = 0; i < 90; i++) {
    const src = pick(hosts);
    let dst = pick(hosts);
    while (dst === src) dst = pick(hosts);
    const capped = rng() < 0.25 ? { maxRate: pick([0.3 * G, 0.9 * G, 1 * G]) } : {};
    const at = Math.floor(rng() * 100) / 100;
    const bytes = (1 + randomInt(rng, 50)) * 1e6;
    const stopAt = rng() < 0.2 ? at + rng() * 0.5 : undefined;
    sim.schedule(at, () => {
      const f = m.startFlow({ src, dst, kind: "tcp", bytes, ...capped });
      snapshot();
      f.done.onFire((r) => {
        trace.push(-1, f.id, r.end, r.bytes);
        snapshot();
      });
      if (stopAt !== undefined) sim.schedule(stopAt - at, () => m.stopFlow(f));
    });
  }
  sim.run();
  return trace;
}

test("the solver's shortcuts give the same rates as the plain certificate check, bit for bit", (t) => {
  for (let seed = 1; seed <= 40; seed++) {
    const fast = shortcutTrace(seed, false);
    const plain = shortcutTrace(seed, true);
    t.true(fast.length > 1000, `seed ${seed}: a trace of ${fast.length} numbers`);
    const i = fast.findIndex((x, k) => !Object.is(x, plain[k]));
    t.true(i < 0 && fast.length === plain.length, `seed ${seed}: traces differ at ${i} (${fast[i]} vs ${plain[i]})`);
  }
});
