/**
 * Topology generators: tree, linear, star, full-mesh and fat-tree, with link properties fixed,
 * listed per tier or drawn from a seeded distribution.
 *
 * Where Mininet has the topology (TreeTopo, LinearTopo with one host per switch, SingleSwitchTopo)
 * nodes are named and links are added in Mininet's order, with the same endpoint order, so that
 * port names (`s1-eth2`, numbered per node in link order by compile.ts) match a Mininet run of
 * the same topology.
 */
import { InputError } from "../../core/errors.ts";
import { subRng, type Rng } from "../../core/random.ts";
import { checked, parseDuration, parseQueue, parseRate } from "../../core/units.ts";
import { at } from "../../core/yamlsource.ts";
import type { LinkDefaults } from "./load.ts";
import { NODE_NAME } from "./load.ts";
import type { LinkSpec, Topology } from "./topology-types.ts";
import { GENERATED_NAME_PREFIXES, type GenerateSpec, type PropertySpec, type ValueSpec } from "../../formats/topology.ts";

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
  const hp = spec["host-prefix"] ?? GENERATED_NAME_PREFIXES.host;
  const sp = spec["switch-prefix"] ?? GENERATED_NAME_PREFIXES.switch;
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
      const cp = spec["core-prefix"] ?? GENERATED_NAME_PREFIXES.core;
      const ap = spec["aggregation-prefix"] ?? GENERATED_NAME_PREFIXES.aggregation;
      const ep = spec["edge-prefix"] ?? GENERATED_NAME_PREFIXES.edge;
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
