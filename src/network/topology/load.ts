/**
 * Loading topologies: explicit YAML (hosts, switches, links) or a `generate:` block, both
 * validated before anything runs. Every refusal names file, line, field and what was expected.
 */
import { InputError } from "../../core/errors.ts";
import { at, YamlSource, type FieldPath } from "../../core/yamlsource.ts";
import { checked, parseBytes, parseDuration, parseQueue, parseRate } from "../../core/units.ts";
import { TOPOLOGY_LINK_DEFAULTS, TOPOLOGY_SCHEMA, type TopologyDocument } from "../../formats/topology.ts";
import { generateTopology } from "./generators.ts";
import type { LinkSpec, Topology } from "./topology-types.ts";

/** Node names: short and shell-safe, since the testbed turns them into interface names (`s1-eth2`). */
export const NODE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,9}$/;

export interface LinkDefaults {
  capacity: number;
  latency: number;
  queue: number;
  mtu: number;
}

const BUILTIN_DEFAULTS: LinkDefaults = TOPOLOGY_LINK_DEFAULTS;

export function loadTopologyText(text: string, file = "<inline>", seed = 1): Topology {
  return loadTopology(YamlSource.fromText(text, file), [], undefined, seed);
}

/**
 * Validates and builds a topology from a YAML document, or from the value at `base` inside it
 * (experiments may hold a topology inline).
 */
export function loadTopology(source: YamlSource, base: FieldPath, value: unknown, seed: number): Topology {
  const doc = source.parse(TOPOLOGY_SCHEMA, value ?? source.data, base);
  const defaults = parseDefaults(source, base, doc);
  let topology: Topology;
  if (doc.generate) {
    if (doc.hosts || doc.switches || doc.links) {
      throw source.error([...base, "generate"], "expected either `generate` or explicit hosts/switches/links, not both");
    }
    topology = generateAt(source, [...base, "generate"], () => generateTopology(doc.name, doc.generate!, defaults, seed));
  } else {
    topology = buildExplicit(source, base, doc, defaults);
  }
  topology.file = source.file;
  validateTopology(topology, source, base);
  return topology;
}

/** Locates a generator's error at the field it names (e.g. `generate.capacity.1.min`), not just at `generate`. */
function generateAt<T>(source: YamlSource, path: FieldPath, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof InputError && e.location.file === undefined) {
      const inner = (e.location.field ?? "")
        .split(".")
        .filter((k) => k !== "")
        .map((k) => (/^[0-9]+$/.test(k) ? Number(k) : k));
      throw source.error([...path, ...inner], e.detail);
    }
    throw e;
  }
}

function parseDefaults(source: YamlSource, base: FieldPath, doc: TopologyDocument): LinkDefaults {
  const d = doc.defaults ?? {};
  const p = [...base, "defaults"];
  const mtu = d.mtu === undefined ? BUILTIN_DEFAULTS.mtu : at(source, [...p, "mtu"], () => checked(parseBytes, d.mtu, "positive"));
  return {
    capacity: d.capacity === undefined ? BUILTIN_DEFAULTS.capacity : at(source, [...p, "capacity"], () => checked(parseRate, d.capacity, "positive")),
    latency: d.latency === undefined ? BUILTIN_DEFAULTS.latency : at(source, [...p, "latency"], () => checked(parseDuration, d.latency, "non-negative")),
    queue: d.queue === undefined ? BUILTIN_DEFAULTS.queue : at(source, [...p, "queue"], () => checked((v) => parseQueue(v, mtu), d.queue, "positive")),
    mtu,
  };
}

function buildExplicit(source: YamlSource, base: FieldPath, doc: TopologyDocument, defaults: LinkDefaults): Topology {
  const hosts = doc.hosts ?? [];
  const switches = doc.switches ?? [];
  if (hosts.length === 0) throw source.error([...base, "hosts"], "expected a list of at least one host");
  const seen = new Map<string, FieldPath>();
  for (const [key, list] of [
    ["hosts", hosts],
    ["switches", switches],
  ] as const) {
    list.forEach((name, i) => {
      const path = [...base, key, i];
      if (!NODE_NAME.test(name)) {
        throw source.error(path, `expected a node name of a letter then up to 9 letters, digits or _, got "${name}"`);
      }
      if (seen.has(name)) throw source.error(path, `duplicate node name "${name}" (expected each host and switch name once)`);
      seen.set(name, path);
    });
  }
  const pairs = new Set<string>();
  const links: LinkSpec[] = (doc.links ?? []).map((l, i) => {
    const p = [...base, "links", i];
    for (const end of ["a", "b"] as const) {
      if (!seen.has(l[end])) throw source.error([...p, end], `unknown node "${l[end]}" (expected one of the hosts or switches)`);
    }
    if (l.a === l.b) throw source.error(p, `a link from "${l.a}" to itself`);
    const key = l.a < l.b ? `${l.a}\u0000${l.b}` : `${l.b}\u0000${l.a}`;
    if (pairs.has(key)) throw source.error(p, `duplicate link between "${l.a}" and "${l.b}" (expected at most one link between two nodes)`);
    pairs.add(key);
    const mtu = l.mtu === undefined ? defaults.mtu : at(source, [...p, "mtu"], () => checked(parseBytes, l.mtu, "positive"));
    const capacity = l.capacity === undefined ? defaults.capacity : at(source, [...p, "capacity"], () => checked(parseRate, l.capacity, "positive"));
    return {
      a: l.a,
      b: l.b,
      capacity,
      capacityBack: l["capacity-back"] === undefined ? capacity : at(source, [...p, "capacity-back"], () => checked(parseRate, l["capacity-back"], "positive")),
      latency: l.latency === undefined ? defaults.latency : at(source, [...p, "latency"], () => checked(parseDuration, l.latency, "non-negative")),
      queue: l.queue === undefined ? defaults.queue : at(source, [...p, "queue"], () => checked((v) => parseQueue(v, mtu), l.queue, "positive")),
      mtu,
      line: source.locate(p).line,
    };
  });
  return { name: doc.name, hosts: [...hosts], switches: [...switches], links };
}

/**
 * Checks that hold for explicit and generated topologies alike: every host has a link, and the
 * network is connected (hosts never forward traffic, so connectivity is through switches).
 */
function validateTopology(t: Topology, source?: YamlSource, base: FieldPath = []): void {
  const fail = (path: FieldPath, msg: string): never => {
    throw source ? source.error(path, msg) : new InputError(msg, { field: path.join(".") });
  };
  const degree = new Map<string, number>();
  for (const l of t.links) {
    degree.set(l.a, (degree.get(l.a) ?? 0) + 1);
    degree.set(l.b, (degree.get(l.b) ?? 0) + 1);
  }
  t.hosts.forEach((h, i) => {
    if (!degree.get(h)) fail([...base, "hosts", i], `host "${h}" has no link (expected every host to be linked to the network)`);
  });
  // Connectivity over the whole graph (breadth-first from the first host).
  const adj = new Map<string, string[]>();
  for (const l of t.links) {
    (adj.get(l.a) ?? adj.set(l.a, []).get(l.a)!).push(l.b);
    (adj.get(l.b) ?? adj.set(l.b, []).get(l.b)!).push(l.a);
  }
  const start = t.hosts[0];
  if (start === undefined) fail([...base, "hosts"], "expected at least one host");
  const reached = new Set([start]);
  const queue = [start];
  const hosts = new Set(t.hosts);
  while (queue.length) {
    const n = queue.pop()!;
    if (n !== start && hosts.has(n)) continue; // hosts do not forward
    for (const m of adj.get(n) ?? [])
      if (!reached.has(m)) {
        reached.add(m);
        queue.push(m);
      }
  }
  const lost = [...t.hosts, ...t.switches].find((n) => !reached.has(n));
  if (lost !== undefined) {
    const isHost = hosts.has(lost);
    const idx = (isHost ? t.hosts : t.switches).indexOf(lost);
    fail([...base, isHost ? "hosts" : "switches", idx], `"${lost}" cannot be reached from "${start}": the network is disconnected (expected one connected network)`);
  }
}
