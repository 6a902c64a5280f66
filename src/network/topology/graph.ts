/**
 * The topology as users and plugins see it: a graphology graph (hosts and switches as nodes, one
 * undirected edge per full-duplex link), and the path questions graphology-shortest-path answers
 * on it (every shortest path between two nodes, the k shortest). The simulator's hot path never
 * touches it: models and routing read the compiled arrays.
 */
import { UndirectedGraph } from "graphology";
import { bidirectional, brandes } from "graphology-shortest-path/unweighted.js";
import type { CompiledTopology, LinkSpec, Path, Topology } from "./topology-types.ts";

export interface NodeAttributes {
  kind: "host" | "switch";
}

/** The link's values in base units (LinkSpec); `link` is its index (directed links 2*link a->b, 2*link+1 b->a). */
export type EdgeAttributes = Omit<LinkSpec, "line"> & { link: number };

export type TopologyGraph = UndirectedGraph<NodeAttributes, EdgeAttributes>;

/** A fresh graph of the topology (node order: hosts, then switches, as the compiled ids). */
export function toGraph(topology: Topology): TopologyGraph {
  const g: TopologyGraph = new UndirectedGraph<NodeAttributes, EdgeAttributes>({ multi: false, allowSelfLoops: false });
  for (const h of topology.hosts) g.addNode(h, { kind: "host" });
  for (const s of topology.switches) g.addNode(s, { kind: "switch" });
  topology.links.forEach((l, link) => {
    g.addEdge(l.a, l.b, { link, a: l.a, b: l.b, capacity: l.capacity, capacityBack: l.capacityBack, latency: l.latency, queue: l.queue, mtu: l.mtu });
  });
  return g;
}

/** Hosts are never transit nodes (as in routing.ts): drop every host but the two ends. */
function transitGraph(g: TopologyGraph, a: string, b: string): TopologyGraph {
  const t = g.copy();
  g.forEachNode((n, attr) => {
    if (attr.kind === "host" && n !== a && n !== b) t.dropNode(n);
  });
  return t;
}

function checkNodes(g: TopologyGraph, ...nodes: string[]): void {
  for (const n of nodes) if (!g.hasNode(n)) throw new Error(`unknown node ${n}`);
}

/** Orders paths by length, then by the node order of the graph at each step: never by hash order. */
function pathOrder(g: TopologyGraph): (p: readonly string[], q: readonly string[]) => number {
  const rank = new Map<string, number>();
  g.forEachNode((n) => rank.set(n, rank.size));
  return (p, q) => {
    if (p.length !== q.length) return p.length - q.length;
    for (let i = 0; i < p.length; i++) if (p[i] !== q[i]) return rank.get(p[i]!)! - rank.get(q[i]!)!;
    return 0;
  };
}

/**
 * Every shortest path by hop count from `a` to `b` (node names), in a stable order; at most
 * `limit` of them (a fat-tree's pods multiply them). Empty when `b` cannot be reached.
 */
export function allShortestPaths(g: TopologyGraph, a: string, b: string, limit = 1000): string[][] {
  checkNodes(g, a, b);
  if (a === b) return [[a]];
  // brandes: the predecessors of every node on all shortest paths from `a`
  const [, pred] = brandes(transitGraph(g, a, b), a);
  const out: string[][] = [];
  const walk = (n: string, tail: string[]): void => {
    if (out.length >= limit) return;
    if (n === a) {
      out.push([a, ...tail]);
      return;
    }
    for (const p of pred[n] ?? []) walk(p, [n, ...tail]);
  };
  if ((pred[b] ?? []).length > 0) walk(b, []);
  return out.sort(pathOrder(g));
}

/**
 * The k shortest loop-free paths by hop count from `a` to `b` (Yen's algorithm over
 * graphology-shortest-path's bidirectional search); fewer when fewer exist.
 */
export function kShortestPaths(g: TopologyGraph, a: string, b: string, k: number): string[][] {
  checkNodes(g, a, b);
  const base = transitGraph(g, a, b);
  const order = pathOrder(g);
  const first = allShortestPaths(g, a, b, 1)[0];
  if (!first || k < 1) return [];
  const found: string[][] = [first];
  const candidates: string[][] = [];
  const key = (p: readonly string[]): string => p.join("\u0000");
  const seen = new Set<string>([key(first)]);
  while (found.length < k) {
    const last = found[found.length - 1]!;
    for (let j = 0; j < last.length - 1; j++) {
      const root = last.slice(0, j + 1);
      const spur = root[j]!;
      const h = base.copy();
      // no path already found may be repeated from this root, and the root is not revisited
      for (const p of found) {
        if (p.length > j + 1 && key(p.slice(0, j + 1)) === key(root) && h.hasEdge(p[j]!, p[j + 1]!)) h.dropEdge(p[j]!, p[j + 1]!);
      }
      for (const n of root.slice(0, -1)) h.dropNode(n);
      const rest = bidirectional(h, spur, b);
      if (!rest) continue;
      const path = [...root.slice(0, -1), ...rest];
      if (!seen.has(key(path))) {
        seen.add(key(path));
        candidates.push(path);
      }
    }
    if (candidates.length === 0) break;
    candidates.sort(order);
    found.push(candidates.shift()!);
  }
  return found;
}

/** The Path (directed links, hops, propagation, bottleneck) along a list of node names. */
export function pathAlong(t: CompiledTopology, names: readonly string[]): Path {
  const nodes = names.map((n) => {
    const i = t.index.get(n);
    if (i === undefined) throw new Error(`unknown node ${n}`);
    return i;
  });
  const links: number[] = [];
  let propagation = 0;
  let bottleneck = Infinity;
  for (let i = 0; i + 1 < nodes.length; i++) {
    const u = nodes[i]!;
    const v = nodes[i + 1]!;
    let link = -1;
    for (let k = t.adjStart[u]!; k < t.adjStart[u + 1]!; k++) if (t.to[t.adjLinks[k]!] === v) link = t.adjLinks[k]!;
    if (link < 0) throw new Error(`no link between ${names[i]} and ${names[i + 1]}`);
    links.push(link);
    propagation += t.latency[link]!;
    bottleneck = Math.min(bottleneck, t.capacity[link]!);
  }
  const switches = nodes.filter((n) => !t.isHost(n)).length;
  return { nodes, links, hops: links.length, switches, propagation, bottleneck };
}
