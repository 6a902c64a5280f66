/**
 * Replaying a flow-level workload (`flow-workload-v1`, as `migsim workload` writes it; docs/format.md):
 * the topology and the transfers of the file, every transfer an elastic flow of its size started
 * at its time, on the chosen network model. This is the scaling benchmark and the comparison point
 * with SimGrid, so the file's own routing rule is used (for the two-level tree: same rack
 * [a{src}, a{dst}], else [a{src}, u{rack(src)}, u{rack(dst)}, a{dst}]): it is the contract every
 * simulator replaying the file follows, and in a tree it is the only shortest path anyway.
 */
import { InputError } from "../core/errors.ts";
import { WORKLOAD_SCHEMA, type WorkloadDocument } from "../formats/replay-workload.ts";
import { Simulator } from "../kernel/index.ts";
import { compileTopology } from "./topology/compile.ts";
import { createNetworkModel, type ModelOptions } from "./index.ts";
import { DEFAULT_NETWORK_PARAMS, type ModelName, type NetworkModel, type NetworkParams } from "./network-model.ts";
import { Router } from "./topology/routing.ts";
import type { CompiledTopology, LinkSpec, Path, Topology } from "./topology/topology-types.ts";

export interface Workload {
  file: string;
  topology: Topology;
  compiled: CompiledTopology;
  /** routing from the file's rule (undefined: shortest paths by hop count) */
  route: ((src: string, dst: string) => Path) | undefined;
  hostNames: string[];
  /** per transfer, in file order */
  ids: Float64Array;
  src: Int32Array;
  dst: Int32Array;
  bytes: Float64Array;
  start: Float64Array;
}

/** Mininet-like queue and MTU for links the workload does not describe (max-min ignores queues). */
const QUEUE_PKTS = 1000;
const MTU = 1500;

export function parseWorkload(raw: unknown, file = "<workload>"): Workload {
  const r = WORKLOAD_SCHEMA.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new InputError(issue.message, { file, field: issue.path.map(String).join(".") || undefined });
  }
  const doc = r.data;
  const bad = (field: string, msg: string): InputError => new InputError(msg, { file, field });

  const hostNames: string[] = new Array(doc.hosts.length);
  doc.hosts.forEach((h, i) => {
    if (h.id !== i) throw bad(`hosts.${i}.id`, `expected id ${i} (hosts are listed by id), got ${h.id}`);
    hostNames[i] = h.name;
  });
  const nodes = new Set<string>();
  [...hostNames, ...doc.switches].forEach((n, i) => {
    if (nodes.has(n)) throw bad(i < hostNames.length ? `hosts.${i}.name` : `switches.${i - hostNames.length}`, `duplicate node name ${n}`);
    nodes.add(n);
  });
  const links: LinkSpec[] = doc.links.map((l, i) => {
    for (const end of ["a", "b"] as const) {
      if (!nodes.has(l[end])) throw bad(`links.${i}.${end}`, `unknown node ${l[end]}`);
    }
    if (l.a === l.b) throw bad(`links.${i}`, `link ${l.id} connects ${l.a} to itself`);
    return { a: l.a, b: l.b, capacity: l.bandwidth_bps, capacityBack: l.bandwidth_bps, latency: l.latency_s, queue: QUEUE_PKTS, mtu: MTU };
  });
  const topology: Topology = { name: `workload:${file}`, hosts: hostNames, switches: doc.switches, links, file };
  const compiled = compileTopology(topology);

  const n = doc.transfers.length;
  const ids = new Float64Array(n);
  const src = new Int32Array(n);
  const dst = new Int32Array(n);
  const bytes = new Float64Array(n);
  const start = new Float64Array(n);
  const H = hostNames.length;
  doc.transfers.forEach((t, i) => {
    if (t.src >= H) throw bad(`transfers.${i}.src`, `expected a host id below ${H}, got ${t.src}`);
    if (t.dst >= H) throw bad(`transfers.${i}.dst`, `expected a host id below ${H}, got ${t.dst}`);
    if (t.src === t.dst) throw bad(`transfers.${i}.dst`, `expected a host other than the source ${t.src}`);
    ids[i] = t.id;
    src[i] = t.src;
    dst[i] = t.dst;
    bytes[i] = t.bytes;
    start[i] = t.start;
  });

  const route = doc.topology.type === "two-level-tree" ? treeRouting(doc, compiled, file) : undefined;
  if (!route) {
    const router = new Router(compiled, "hops");
    for (let i = 0; i < n; i++) {
      if (!router.reachable(hostNames[src[i]!]!, hostNames[dst[i]!]!)) {
        throw bad(`transfers.${i}`, `no route from ${hostNames[src[i]!]} to ${hostNames[dst[i]!]}`);
      }
    }
  }
  return { file, topology, compiled, route, hostNames, ids, src, dst, bytes, start };
}

/** The file's two-level-tree rule over its link ids a{i} (host i - tor) and u{r} (tor r - core). */
function treeRouting(doc: WorkloadDocument, topo: CompiledTopology, file: string): (src: string, dst: string) => Path {
  const linkIndex = new Map<string, number>();
  doc.links.forEach((l, i) => linkIndex.set(l.id, i));
  const H = doc.hosts.length;
  const up = new Int32Array(H); // directed host -> tor
  const rackUp = new Int32Array(H); // directed tor -> core of the host's rack
  const rack = new Int32Array(H);
  const perRack = doc.topology.hosts_per_rack;
  for (let i = 0; i < H; i++) {
    const r = doc.hosts[i]!.rack ?? (perRack ? Math.floor(i / perRack) : undefined);
    if (r === undefined) throw new InputError("expected a rack for every host (hosts.*.rack or topology.hosts_per_rack)", { file, field: `hosts.${i}` });
    rack[i] = r;
    const a = linkIndex.get(`a${i}`);
    const u = linkIndex.get(`u${r}`);
    const host = doc.hosts[i]!.name;
    if (a === undefined || doc.links[a]!.a !== host) throw new InputError(`expected access link a${i} from ${host} to its rack switch`, { file, field: "links" });
    if (u === undefined || doc.links[u]!.a !== doc.links[a]!.b) throw new InputError(`expected uplink u${r} from ${doc.links[a]!.b} to the core`, { file, field: "links" });
    up[i] = 2 * a;
    rackUp[i] = 2 * u;
  }
  const hostIndex = topo.index;
  return (s: string, d: string): Path => {
    const si = hostIndex.get(s);
    const di = hostIndex.get(d);
    if (si === undefined || di === undefined || si >= H || di >= H) throw new Error(`tree routing: ${s} -> ${d} is not a host pair`);
    const links = rack[si] === rack[di] ? [up[si]!, up[di]! + 1] : [up[si]!, rackUp[si]!, rackUp[di]! + 1, up[di]! + 1];
    const nodes = [si];
    let propagation = 0;
    let bottleneck = Infinity;
    for (const l of links) {
      nodes.push(topo.to[l]!);
      propagation += topo.latency[l]!;
      if (topo.capacity[l]! < bottleneck) bottleneck = topo.capacity[l]!;
    }
    return { nodes, links, hops: links.length, switches: links.length - 1, propagation, bottleneck };
  };
}

export interface ReplayResult {
  /** per transfer in file order; NaN where a transfer did not finish */
  end: Float64Array;
  /** wall seconds of the simulation alone (no loading or writing) */
  simulateSeconds: number;
  events: number;
  model: NetworkModel;
}

/** Replays every transfer as an elastic flow; transfers start in time order (ties: file order). */
/**
 * Replays every transfer of `w` as an elastic flow at its start time. `onFinished` (progress of
 * long replays) is called with the number of finished transfers each time one finishes.
 */
export function replayWorkload(w: Workload, model: ModelName, params: Partial<NetworkParams> = {}, options: ModelOptions = {}, onFinished?: (finished: number) => void): ReplayResult {
  const sim = new Simulator();
  const net = createNetworkModel(sim, w.compiled, { ...DEFAULT_NETWORK_PARAMS, ...params, model }, { ...options, route: w.route });
  const n = w.ids.length;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => w.start[a]! - w.start[b]! || a - b);
  const end = new Float64Array(n).fill(NaN);
  const names = w.hostNames;
  let next = 0;
  let finished = 0;
  const arrive = (): void => {
    const i = order[next++]!;
    const flow = net.startFlow({ src: names[w.src[i]!]!, dst: names[w.dst[i]!]!, kind: "tcp", bytes: w.bytes[i]! });
    flow.done.onFire((r) => {
      end[i] = r.end;
      onFinished?.(++finished);
    });
    if (next < n) sim.scheduleAt(w.start[order[next]!]!, arrive);
  };
  const t0 = performance.now();
  if (n > 0) sim.scheduleAt(w.start[order[0]!]!, arrive);
  sim.run();
  return { end, simulateSeconds: (performance.now() - t0) / 1000, events: sim.eventCount, model: net };
}
