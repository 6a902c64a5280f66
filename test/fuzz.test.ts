/**
 * Fuzzing the input path: random mutations of valid topology and experiment files (deleted,
 * duplicated and renamed keys, changed types, truncated text, junk characters, swapped or dropped
 * units, swapped lines) must either load or be refused with an InputError of one line; any other
 * exception is a crash. Through the CLI a sample of them must exit with 0 or 2, never 1.
 * fast-check runs with fixed seeds and bounded run counts so `npm test` stays fast and repeatable.
 *
 * The network models' invariants under random topologies and flows (links within capacity,
 * queues within buffers, bytes conserved) are property tests in test/maxmin.test.ts and
 * test/tcpfluid.test.ts; the max-min ones check elastic flows only, so one more property here mixes
 * constant-rate flows, finite transfers and stops, and checks byte conservation on every link.
 */
import test from "ava";
import fc from "fast-check";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimBackend } from "../backends/sim/backend.ts";
import { InputError } from "../src/core/errors.ts";
import { loadExperiment } from "../src/load/read-experiment.ts";
import { planSize, specAt } from "../src/run/plan.ts";
import { validatePolicies } from "../src/run/validate-policies.ts";
import { loadTopologyText } from "../src/network/topology/load.ts";
import type { RunSpec } from "../src/formats/runspec.ts";
import { Simulator } from "../src/kernel/index.ts";
import { compileTopology } from "../src/network/topology/compile.ts";
import { MaxMinModel } from "../src/network/maxmin/maxmin-model.ts";
import { blockage, DEFAULT_NETWORK_PARAMS, type Flow, type FlowResult } from "../src/network/network-model.ts";
import type { LinkSpec } from "../src/network/topology/topology-types.ts";

const TOPOLOGIES = ["fig3-heterogeneous", "example-explicit", "tree", "fat-tree", "full-mesh", "linear", "star"].map((n) => readFileSync(`topologies/${n}.yaml`, "utf8"));
const FUZZ = "test/fixtures/fuzz";
const EXPERIMENT = readFileSync(join(FUZZ, "experiment.yaml"), "utf8");

// ------------------------------------------------------------------------------- mutations

type Mutation = (text: string) => string;

const JUNK = ["{", "}", "[", "]", ":", ",", "&a", "*a", "!!int", "|", ">", "'", '"', "%", "@", "`", "#", "\t", "- ", "? ", "\u0000", "\uFEFF", "é", "🙂", "\n", "  ", "-1", "1e999", "~"];
const VALUES = ["42", "-1", "0", "[]", "{}", "null", "true", '"text"', "[a, b]", "{ x: 1 }", "1e309", ".nan", "-.inf", "0.5", "''", "h1", "s1", "all", "10Mbps", "5s", "1MB", "&x 3", "*x"];
const UNITS = ["bps", "Mbps", "Gbps", "kbps", "MBps", "B", "MB", "GB", "KiB", "MiB", "ms", "s", "us", "ns", "min", "h", "pkt", "pps", "", "xyz", "Mbit", "b"];
const UNIT_RE = /(?<=[0-9])(Mbps|Gbps|kbps|bps|MBps|GBps|MiB|KiB|MB|GB|kB|B|ms|us|ns|s|pkt)\b/g;

const lines = (t: string): string[] => t.split("\n");
const pick = <T>(xs: readonly T[], i: number): T => xs[i % xs.length]!;

function mutation(): fc.Arbitrary<Mutation> {
  const n = fc.nat();
  return fc.oneof(
    n.map(
      (p): Mutation =>
        (t) =>
          t.slice(0, p % (t.length + 1)),
    ),
    fc.tuple(n, n).map(
      ([p, j]): Mutation =>
        (t) => {
          const q = p % (t.length + 1);
          return t.slice(0, q) + pick(JUNK, j) + t.slice(q);
        },
    ),
    n.map(
      (i): Mutation =>
        (t) => {
          const l = lines(t);
          l.splice(i % l.length, 1);
          return l.join("\n");
        },
    ),
    n.map(
      (i): Mutation =>
        (t) => {
          const l = lines(t);
          const k = i % l.length;
          l.splice(k, 0, l[k]!);
          return l.join("\n");
        },
    ),
    fc.tuple(n, n).map(
      ([i, j]): Mutation =>
        (t) => {
          const l = lines(t);
          const a = i % l.length;
          const b = j % l.length;
          [l[a], l[b]] = [l[b]!, l[a]!];
          return l.join("\n");
        },
    ),
    // swap or drop a unit, or make the quantity negative
    fc.tuple(n, n, fc.boolean()).map(
      ([i, u, neg]): Mutation =>
        (t) => {
          const hits = [...t.matchAll(UNIT_RE)];
          if (hits.length === 0) return t;
          const h = pick(hits, i);
          let s = t.slice(0, h.index) + pick(UNITS, u) + t.slice(h.index! + h[0].length);
          if (neg) {
            const start = s.slice(0, h.index).search(/[0-9.]+$/);
            if (start >= 0) s = `${s.slice(0, start)}-${s.slice(start)}`;
          }
          return s;
        },
    ),
    // rename a key (typo, case, empty) on a line that has one
    fc.tuple(n, fc.constantFrom("typo", "upper", "drop", "dup")).map(
      ([i, how]): Mutation =>
        (t) => {
          const keys = [...t.matchAll(/(?<=^|[{,]\s*|^\s*-\s*|^\s+)([a-z][a-z0-9.-]*)(?=:\s)/gm)];
          if (keys.length === 0) return t;
          const k = pick(keys, i);
          const name = k[1]!;
          const renamed = how === "typo" ? `${name.slice(0, -1)}x` : how === "upper" ? name.toUpperCase() : how === "drop" ? "" : `${name}: 1, ${name}`;
          return t.slice(0, k.index) + renamed + t.slice(k.index! + name.length);
        },
    ),
    // change the type of a value
    fc.tuple(n, n).map(
      ([i, v]): Mutation =>
        (t) => {
          const vals = [...t.matchAll(/(?<=:[ ]+)([^\s,{}[\]#][^,{}[\]#\n]*?)(?=\s*(?:,|}|\]|\n|$))/g)];
          if (vals.length === 0) return t;
          const m = pick(vals, i);
          return t.slice(0, m.index) + pick(VALUES, v) + t.slice(m.index! + m[1]!.length);
        },
    ),
  );
}

const mutated = (base: fc.Arbitrary<string>): fc.Arbitrary<string> => fc.tuple(base, fc.array(mutation(), { minLength: 1, maxLength: 3 })).map(([text, ms]) => ms.reduce((t, m) => m(t), text));

/** What the oracle saw: a load, or a refusal (InputError) of one line; anything else throws. */
type Outcome = "loaded" | "refused";

function refusedProperly(e: unknown, text: string): Outcome {
  if (!(e instanceof InputError)) {
    throw new Error(`crash (${(e as Error)?.name}: ${(e as Error)?.message}) on:\n${text}`);
  }
  if (e.message.includes("\n")) throw new Error(`a refusal of more than one line: ${e.message}`);
  return "refused";
}

// ------------------------------------------------------------------------------- library

test("fuzz: mutated topologies load or are refused with a one-line InputError", (t) => {
  const seen = { loaded: 0, refused: 0 };
  fc.assert(
    fc.property(mutated(fc.constantFrom(...TOPOLOGIES)), (text) => {
      let outcome: Outcome;
      try {
        const topo = loadTopologyText(text, "fuzz.yaml");
        if (topo.hosts.length === 0) throw new Error("a topology without hosts loaded");
        outcome = "loaded";
      } catch (e) {
        outcome = refusedProperly(e, text);
      }
      seen[outcome]++;
    }),
    { seed: 20261122, numRuns: 400 },
  );
  t.log(seen);
  // both outcomes occur: the mutations are neither all harmless nor all fatal
  t.true(seen.loaded > 20 && seen.refused > 100, JSON.stringify(seen));
});

/** Runs are bounded so a mutation that asks for a huge simulation does not stall the test. */
function small(spec: RunSpec): boolean {
  const probes = spec.probes.reduce((a, p) => a + p.count, 0);
  return probes <= 100 && spec.topology.hosts.length <= 100 && spec.horizon <= 3600 && spec.measurement.period >= 0.01;
}

test("fuzz: mutated experiments load, validate and run one run, or are refused with a one-line InputError", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "migsim-fuzz-"));
  for (const f of ["net.yaml", "nearest.mjs"]) copyFileSync(join(FUZZ, f), join(dir, f));
  const file = join(dir, "experiment.yaml");
  const backend = new SimBackend();
  const seen = { loaded: 0, refused: 0, ran: 0 };
  await fc.assert(
    fc.asyncProperty(mutated(fc.constant(EXPERIMENT)), async (text) => {
      writeFileSync(file, text);
      let outcome: Outcome;
      try {
        const exp = loadExperiment(file);
        await validatePolicies(exp);
        const spec = specAt(exp, planSize(exp) - 1);
        if (small(spec)) {
          await backend.execute(spec);
          seen.ran++;
        }
        outcome = "loaded";
      } catch (e) {
        outcome = refusedProperly(e, text);
      }
      seen[outcome]++;
    }),
    { seed: 20261123, numRuns: 300 },
  );
  t.log(seen);
  t.true(seen.loaded > 20 && seen.refused > 100 && seen.ran > 20, JSON.stringify(seen));
});

// ------------------------------------------------------------------------------- CLI

test("fuzz through the CLI: mutated topologies exit 0 or 2 (never 1), one stderr line when refused", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "migsim-fuzz-cli-"));
  const samples = fc.sample(mutated(fc.constantFrom(...TOPOLOGIES)), { seed: 7, numRuns: 12 });
  const codes = new Set<number | null>();
  samples.forEach((text, i) => {
    const f = join(dir, `m${i}.yaml`);
    writeFileSync(f, text);
    const r = spawnSync(process.execPath, ["bin/migsim.js", "topo", f], { encoding: "utf8" });
    codes.add(r.status);
    t.true(r.status === 0 || r.status === 2, `exit ${r.status} on ${f}: ${r.stderr}`);
    if (r.status === 2) t.is(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    else t.is(r.stderr, "", "a file that loads prints nothing on stderr (no library warnings)");
  });
  t.true(codes.has(2));
});

test("fuzz through the CLI: mutated experiments exit 0 or 2 (never 1); a refusal is one line and writes nothing", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "migsim-fuzz-run-"));
  for (const f of ["net.yaml", "nearest.mjs"]) copyFileSync(join(FUZZ, f), join(dir, f));
  const samples = fc.sample(mutated(fc.constant(EXPERIMENT)), { seed: 11, numRuns: 8 });
  const codes = new Set<number | null>();
  samples.forEach((text, i) => {
    const f = join(dir, `m${i}.yaml`);
    const out = join(dir, `out${i}`);
    writeFileSync(f, text);
    const r = spawnSync(process.execPath, ["bin/migsim.js", "run", f, "--runs", "1", "--out", out, "--quiet", "--no-plots"], { encoding: "utf8" });
    codes.add(r.status);
    t.true(r.status === 0 || r.status === 2, `exit ${r.status} on ${f}: ${r.stderr}`);
    if (r.status === 2) {
      t.is(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
      t.false(existsSync(out), `${out} written by a refused run`);
    }
  });
  t.true(codes.has(2));
});

// ------------------------------------------------------------------------------- max-min mix

interface Mix {
  hosts: number;
  links: LinkSpec[];
  flows: Array<{ s: number; d: number; udp: boolean; rate: number; bytes: number; at: number; stop: number | null }>;
}

const mixArb: fc.Arbitrary<Mix> = fc
  .record({
    switches: fc.integer({ min: 1, max: 4 }),
    hosts: fc.integer({ min: 2, max: 6 }),
    parents: fc.array(fc.nat(), { minLength: 10, maxLength: 10 }),
    caps: fc.array(fc.constantFrom(1e6, 2e6, 5e6, 10e6, 100e6), { minLength: 10, maxLength: 10 }),
    flows: fc.array(
      fc.record({
        s: fc.nat(),
        d: fc.nat(),
        udp: fc.boolean(),
        rate: fc.constantFrom(0.5e6, 1e6, 3e6, 20e6),
        bytes: fc.integer({ min: 1, max: 3_000_000 }),
        at: fc.double({ min: 0, max: 5, noNaN: true }),
        stop: fc.option(fc.double({ min: 0, max: 10, noNaN: true }), { freq: 3 }),
      }),
      { minLength: 1, maxLength: 12 },
    ),
  })
  .map(({ switches, hosts, parents, caps, flows }) => {
    const links: LinkSpec[] = [];
    const cap = (i: number): number => caps[i % caps.length]!;
    for (let i = 1; i < switches; i++) links.push({ a: `s${i}`, b: `s${parents[i]! % i}`, capacity: cap(i), capacityBack: cap(i + 3), latency: 1e-3, queue: 100, mtu: 1500 });
    for (let i = 0; i < hosts; i++) links.push({ a: `h${i}`, b: `s${parents[i]! % switches}`, capacity: cap(i + 5), capacityBack: cap(i + 7), latency: 1e-4, queue: 100, mtu: 1500 });
    return {
      hosts,
      links,
      flows: flows.map((f) => ({ ...f, s: f.s % hosts, d: f.d % hosts })).filter((f) => f.s !== f.d),
    };
  })
  .filter((m) => m.flows.length > 0);

test("property (max-min): udp and finite tcp mixed with stops: links within capacity, bytes conserved on every link", (t) => {
  const efficiency = DEFAULT_NETWORK_PARAMS.efficiency;
  fc.assert(
    fc.property(mixArb, (mix) => {
      const hosts = Array.from({ length: mix.hosts }, (_, i) => `h${i}`);
      const switches = [...new Set(mix.links.flatMap((l) => [l.a, l.b]).filter((n) => n.startsWith("s")))];
      const topo = compileTopology({ name: "mix", hosts, switches, links: mix.links });
      const sim = new Simulator();
      const model = new MaxMinModel(sim, topo, { ...DEFAULT_NETWORK_PARAMS, model: "max-min" });
      const flows: Flow[] = [];
      const results = new Map<Flow, FlowResult>();
      const problems: string[] = [];
      const check = (): void => {
        for (let l = 0; l < topo.capacity.length; l++) {
          const r = model.linkRate(l);
          if (!(r >= 0 && r <= topo.capacity[l]! * (1 + 1e-9))) problems.push(`link ${l} at ${r} > ${topo.capacity[l]}`);
        }
      };
      for (const f of mix.flows) {
        sim.scheduleAt(f.at, () => {
          const flow = model.startFlow(f.udp ? { src: `h${f.s}`, dst: `h${f.d}`, kind: "udp", rate: f.rate, bytes: f.bytes } : { src: `h${f.s}`, dst: `h${f.d}`, kind: "tcp", bytes: f.bytes });
          flows.push(flow);
          flow.done.onFire((r) => {
            results.set(flow, r);
            check();
          });
          if (f.stop !== null)
            sim.scheduleAt(f.at + f.stop, () => {
              if (!flow.done.fired) model.stopFlow(flow);
            });
          check();
        });
      }
      try {
        sim.run(1e5);
      } catch (e) {
        // a transfer starved by constant-rate flows forever is reported, never left hanging
        if (blockage(e)?.flow === undefined) throw e;
        return true;
      }
      check();
      // every flow ended: finished with its bytes, or stopped with what it had delivered
      for (const f of flows) {
        const r = results.get(f);
        if (!r) problems.push(`flow ${f.id} never ended`);
        else if (!(r.bytes <= f.spec.bytes! * (1 + 1e-9) && r.end >= r.start)) problems.push(`flow ${f.id}: ${r.bytes} of ${f.spec.bytes}`);
      }
      // a link carried exactly the wire bytes of the flows crossing it
      const wire = new Float64Array(topo.capacity.length);
      for (const f of flows) {
        const bytes = model.deliveredBytes(f) / (f.spec.kind === "tcp" ? efficiency : 1);
        for (const l of f.path.links) wire[l]! += bytes;
      }
      for (let l = 0; l < wire.length; l++) {
        if (Math.abs(model.linkBytes(l) - wire[l]!) > 1e-6 * Math.max(1, wire[l]!)) problems.push(`link ${l}: counter ${model.linkBytes(l)} vs flows ${wire[l]}`);
      }
      if (problems.length) throw new Error(problems.slice(0, 3).join("; "));
      return true;
    }),
    { seed: 20261124, numRuns: 150 },
  );
  t.pass();
});
