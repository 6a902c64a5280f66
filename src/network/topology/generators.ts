/**
 * Topology generators: tree, linear, star, full-mesh and fat-tree, with link properties fixed,
 * listed per tier or drawn from a seeded distribution.
 *
 * Where Mininet has the topology (TreeTopo, LinearTopo with one host per switch, SingleSwitchTopo)
 * nodes are named and links are added in Mininet's order, with the same endpoint order, so that
 * port names (`s1-eth2`, numbered per node in link order by compile.ts) match a Mininet run of
 * the same topology.
 */
import { z } from "zod";
import { InputError } from "../../core/errors.ts";
import { subRng, type Rng } from "../../core/random.ts";
import { checked, parseDuration, parseQueue, parseRate } from "../../core/units.ts";
import { at } from "../../core/yamlsource.ts";
import type { LinkDefaults } from "./load.ts";
import { NODE_NAME } from "./load.ts";
import type { LinkSpec, Topology } from "./types.ts";

const quantity = z.union([z.string(), z.number()]);

/** A seeded distribution of a link property. */
const DISTRIBUTION = z.discriminatedUnion("dist", [
  z.strictObject({ dist: z.literal("uniform"), min: quantity, max: quantity }),
  z.strictObject({ dist: z.literal("log-uniform"), min: quantity, max: quantity }),
  z.strictObject({ dist: z.literal("choice"), values: z.array(quantity).min(1) }),
]);

const VALUE = z.union([quantity, DISTRIBUTION]);
/** One value for every link, or a list with one entry per tier (from the hosts upwards; the last repeats). */
const PROPERTY = z.union([VALUE, z.array(VALUE).min(1)]).optional();

const prefix = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, "expected a name prefix: a letter then letters, digits or _");
const count = (min: number, max: number) => z.number().int().min(min).max(max);

const TIERS = "one value, a seeded distribution ({ dist: uniform|log-uniform, min, max } or { dist: choice, values }), or a list per tier from the hosts up (the last repeats)";
const COMMON = {
  capacity: PROPERTY.meta({ description: `link capacity: ${TIERS}`, unit: "rate", default: "defaults.capacity" }),
  latency: PROPERTY.meta({ description: "one-way propagation delay, same forms", unit: "duration", default: "defaults.latency" }),
  queue: PROPERTY.meta({ description: "drop-tail queue per direction, same forms", unit: "packets", default: "defaults.queue" }),
  "host-prefix": prefix.optional().meta({ description: "host names are this prefix and a number", default: "h" }),
  "switch-prefix": prefix.optional().meta({ description: "switch names are this prefix and a number", default: "s" }),
};

/** Upper bounds keep a typo from asking for billions of nodes; 100,000 hosts fit in every shape. */
export const GENERATE_SCHEMA = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("tree"),
    depth: count(1, 20).meta({ description: "switch levels" }),
    fanout: count(1, 1000).meta({ description: "children per switch (hosts below the last level)" }),
    ...COMMON,
  }),
  z.strictObject({ kind: z.literal("linear"), n: count(1, 100_000).meta({ description: "switches in a chain, one host each" }), ...COMMON }),
  z.strictObject({ kind: z.literal("star"), n: count(1, 100_000).meta({ description: "hosts on one switch" }), ...COMMON }),
  z.strictObject({ kind: z.literal("full-mesh"), n: count(1, 1000).meta({ description: "switches all linked to each other, one host each" }), ...COMMON }),
  z.strictObject({
    kind: z.literal("fat-tree"),
    k: count(2, 80).meta({ description: "port count (even): k^3/4 hosts" }),
    ...COMMON,
    "core-prefix": prefix.optional().meta({ description: "core switch name prefix", default: "c" }),
    "aggregation-prefix": prefix.optional().meta({ description: "aggregation switch name prefix", default: "a" }),
    "edge-prefix": prefix.optional().meta({ description: "edge switch name prefix", default: "e" }),
  }),
]);

export type GenerateSpec = z.infer<typeof GENERATE_SCHEMA>;
type PropertySpec = z.infer<typeof PROPERTY>;
type ValueSpec = z.infer<typeof VALUE>;

/** Largest number of nodes a generator may produce (tree and fat-tree grow fast). */
const MAX_GENERATED_NODES = 1_000_000;

/** Links as a generator emits them: endpoints and the tier (0 = host links, upwards). */
interface Shape {
  hosts: string[];
  switches: string[];
  a: string[];
  b: string[];
  tier: number[];
}

export function generateTopology(name: string, spec: GenerateSpec, defaults: LinkDefaults, seed: number): Topology {
  const hp = spec["host-prefix"] ?? "h";
  const sp = spec["switch-prefix"] ?? "s";
  const shape = buildShape(spec, hp, sp);
  const n = shape.a.length;
  const capacity = linkValues(spec.capacity, "capacity", n, shape.tier, defaults.capacity, (v) => checked(parseRate, v, "positive"), subRng(seed, `topology:${name}:capacity`));
  const latency = linkValues(spec.latency, "latency", n, shape.tier, defaults.latency, (v) => checked(parseDuration, v, "non-negative"), subRng(seed, `topology:${name}:latency`));
  const queue = linkValues(spec.queue, "queue", n, shape.tier, defaults.queue, (v) => checked((x) => parseQueue(x, defaults.mtu), v, "positive"), subRng(seed, `topology:${name}:queue`));
  const links: LinkSpec[] = new Array(n);
  for (let i = 0; i < n; i++) {
    links[i] = {
      a: shape.a[i]!,
      b: shape.b[i]!,
      capacity: capacity[i]!,
      capacityBack: capacity[i]!,
      latency: latency[i]!,
      queue: queue[i]!,
      mtu: defaults.mtu,
    };
  }
  return { name, hosts: shape.hosts, switches: shape.switches, links };
}

function buildShape(spec: GenerateSpec, hp: string, sp: string): Shape {
  const s: Shape = { hosts: [], switches: [], a: [], b: [], tier: [] };
  const link = (a: string, b: string, tier: number): void => {
    s.a.push(a);
    s.b.push(b);
    s.tier.push(tier);
  };
  switch (spec.kind) {
    case "tree": {
      // Mininet TreeTopo: depth-first, parent switch first, each link added after the child's subtree.
      const { depth, fanout } = spec;
      const leaves = fanout ** depth;
      const inner = fanout === 1 ? depth : (leaves - 1) / (fanout - 1);
      guardSize(leaves + inner, "depth");
      names(hp, leaves, "host-prefix");
      names(sp, inner, "switch-prefix");
      let hostNum = 1;
      let switchNum = 1;
      const add = (d: number): string => {
        if (d === 0) {
          const h = `${hp}${hostNum++}`;
          s.hosts.push(h);
          return h;
        }
        const sw = `${sp}${switchNum++}`;
        s.switches.push(sw);
        for (let i = 0; i < fanout; i++) {
          const child = add(d - 1);
          link(sw, child, d - 1);
        }
        return sw;
      };
      add(depth);
      break;
    }
    case "linear": {
      // Mininet LinearTopo(k, n=1): host i on switch i, switch i linked to switch i-1.
      names(hp, spec.n, "host-prefix");
      names(sp, spec.n, "switch-prefix");
      for (let i = 1; i <= spec.n; i++) {
        const sw = `${sp}${i}`;
        const h = `${hp}${i}`;
        s.switches.push(sw);
        s.hosts.push(h);
        link(h, sw, 0);
        if (i > 1) link(sw, `${sp}${i - 1}`, 1);
      }
      break;
    }
    case "star": {
      // Mininet SingleSwitchTopo(k): every host on one switch.
      names(hp, spec.n, "host-prefix");
      names(sp, 1, "switch-prefix");
      const sw = `${sp}1`;
      s.switches.push(sw);
      for (let i = 1; i <= spec.n; i++) {
        const h = `${hp}${i}`;
        s.hosts.push(h);
        link(h, sw, 0);
      }
      break;
    }
    case "full-mesh": {
      // n switches, each pair linked, one host per switch (Mininet has no such class).
      names(hp, spec.n, "host-prefix");
      names(sp, spec.n, "switch-prefix");
      for (let i = 1; i <= spec.n; i++) {
        s.switches.push(`${sp}${i}`);
        s.hosts.push(`${hp}${i}`);
        link(`${hp}${i}`, `${sp}${i}`, 0);
      }
      for (let i = 1; i <= spec.n; i++) for (let j = i + 1; j <= spec.n; j++) link(`${sp}${i}`, `${sp}${j}`, 1);
      break;
    }
    case "fat-tree": {
      // Al-Fares et al. (SIGCOMM 2008): k pods of k/2 edge and k/2 aggregation switches,
      // (k/2)^2 core switches, k/2 hosts per edge switch; aggregation switch j of every pod
      // links to cores j*k/2 .. j*k/2 + k/2 - 1.
      const k = spec.k;
      if (k % 2 !== 0) throw new InputError(`expected an even k, got ${k}`, { field: "k" });
      const half = k / 2;
      const cp = spec["core-prefix"] ?? "c";
      const ap = spec["aggregation-prefix"] ?? "a";
      const ep = spec["edge-prefix"] ?? "e";
      names(hp, (k * k * k) / 4, "host-prefix");
      names(cp, half * half, "core-prefix");
      names(ap, k * half, "aggregation-prefix");
      names(ep, k * half, "edge-prefix");
      for (let c = 1; c <= half * half; c++) s.switches.push(`${cp}${c}`);
      for (let i = 1; i <= k * half; i++) s.switches.push(`${ap}${i}`);
      for (let i = 1; i <= k * half; i++) s.switches.push(`${ep}${i}`);
      let hostNum = 1;
      for (let pod = 0; pod < k; pod++) {
        for (let e = 0; e < half; e++) {
          const edge = `${ep}${pod * half + e + 1}`;
          for (let h = 0; h < half; h++) {
            const host = `${hp}${hostNum++}`;
            s.hosts.push(host);
            link(host, edge, 0);
          }
        }
        for (let e = 0; e < half; e++) {
          for (let a = 0; a < half; a++) link(`${ep}${pod * half + e + 1}`, `${ap}${pod * half + a + 1}`, 1);
        }
      }
      for (let pod = 0; pod < k; pod++) {
        for (let a = 0; a < half; a++) {
          for (let c = 0; c < half; c++) link(`${ap}${pod * half + a + 1}`, `${cp}${a * half + c + 1}`, 2);
        }
      }
      break;
    }
  }
  return s;
}

function guardSize(nodes: number, field: string): void {
  if (nodes > MAX_GENERATED_NODES) {
    throw new InputError(`this would generate ${nodes} nodes; expected at most ${MAX_GENERATED_NODES}`, { field });
  }
}

/** Refuses a prefix whose largest generated name would break NODE_NAME (10 characters). */
function names(p: string, count: number, field: string): void {
  const longest = `${p}${count}`;
  if (!NODE_NAME.test(longest)) {
    throw new InputError(`the generated name "${longest}" is not a valid node name (expected a letter then up to 9 letters, digits or _): use a shorter prefix`, { field });
  }
}

/** Resolves a property to one number per link, drawing from `rng` in link order. */
function linkValues(spec: PropertySpec, field: string, n: number, tier: number[], fallback: number, parse: (v: unknown) => number, rng: Rng): Float64Array {
  const out = new Float64Array(n);
  if (spec === undefined) return out.fill(fallback);
  const list = Array.isArray(spec) ? spec : [spec];
  const samplers = list.map((v, i) => at(undefined, Array.isArray(spec) ? [field, i] : [field], () => sampler(v, parse, rng)));
  for (let i = 0; i < n; i++) out[i] = samplers[Math.min(tier[i]!, samplers.length - 1)]!();
  return out;
}

function sampler(v: ValueSpec, parse: (v: unknown) => number, rng: Rng): () => number {
  if (typeof v === "string" || typeof v === "number") {
    const x = parse(v);
    return () => x;
  }
  switch (v.dist) {
    case "uniform":
    case "log-uniform": {
      const min = at(undefined, ["min"], () => parse(v.min));
      const max = at(undefined, ["max"], () => parse(v.max));
      if (!(max >= min)) throw new InputError(`expected max >= min, got max ${String(v.max)} below min ${String(v.min)}`, { field: "max" });
      if (v.dist === "uniform") return () => min + (max - min) * rng();
      if (!(min > 0)) throw new InputError(`expected a positive min for a log-uniform distribution, got "${String(v.min)}"`, { field: "min" });
      const lmin = Math.log(min);
      const span = Math.log(max) - lmin;
      return () => Math.exp(lmin + span * rng());
    }
    case "choice": {
      const values = v.values.map((x, i) => at(undefined, ["values", i], () => parse(x)));
      return () => values[Math.min(values.length - 1, Math.floor(rng() * values.length))]!;
    }
  }
}
