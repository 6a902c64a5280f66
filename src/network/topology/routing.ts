/**
 * Routing: shortest paths by hop count (what a learning switch or Floodlight's default routing
 * gives) or by latency, over the compiled arrays. Ties break deterministically: among equal-cost
 * predecessors the one with the smaller node id wins, so the route never depends on hash order.
 * Routes are cached per source (one search per source serves every destination).
 */
import type { RoutingMetric } from "../network-model.ts";
import type { CompiledTopology, Path } from "./topology-types.ts";

/**
 * What `Path` says about every destination of one source at once, indexed by node id, with the
 * same values (and the same floating-point sums) as `route(src, dst)`: scoring many candidates
 * reads these arrays instead of building a Path per candidate.
 */
export interface RouteTable {
  readonly source: number;
  /** hops; Infinity where unreachable */
  readonly hops: Float64Array;
  readonly switches: Int32Array;
  readonly propagation: Float64Array;
  /** Infinity for the source itself, as Path.bottleneck of an empty path */
  readonly bottleneck: Float64Array;
}

const TREE_BYTES = 64 * 1024 * 1024;
/** routes from a source searched on their own before its tree is kept (treeFor) */
const SEARCHED_ROUTES = 4;
/**
 * searched routes to a destination before its distances are kept to narrow the next (treeFor):
 * the distances cost about two searches and save about half of one per route, so only a
 * destination that many routes lead to (every key holder's to the manager) gets them
 */
const ROUTES_BEFORE_TOWARD = 32;

export class Router {
  /**
   * Shortest-path trees by source, the oldest dropped past `maxTrees` (rebuilt if asked again):
   * every host of a data center becomes a source (ACK paths, key holders answering the manager)
   * and a k=32 fat-tree's 8,192 trees of 10,240 nodes would keep 1 GB. Routes and route tables
   * are kept whole, so a dropped tree costs a search only when a new route from its source is asked.
   */
  private readonly trees = new Map<number, { dist: Float64Array; via: Int32Array }>();
  private readonly maxTrees: number;
  private readonly paths = new Map<number, Path>();
  private readonly tables = new Map<number, RouteTable>();
  /** routes searched from each source without keeping its tree (treeFor) */
  private routed: Uint8Array | undefined;
  /**
   * Hop distances to a destination from every node (intermediate nodes switches), for the
   * destinations many searched routes lead to (every key holder's route to the manager), the
   * oldest dropped past `maxTrees`.
   */
  private readonly towards = new Map<number, Float64Array>();
  /** searched routes to each destination, up to narrowAfter */
  private arrivals: Uint8Array | undefined;
  /** links into each node in CSR form (`toward`'s search runs against the links) */
  private incoming: { start: Int32Array; links: Int32Array } | undefined;
  /** `narrowed`'s marks of found nodes, and its last mark */
  private marks: Uint32Array | undefined;
  private stamp = 0;
  /** the queue of a search into a dropped tree's arrays */
  private treeQueue: Int32Array | undefined;
  /** the buffers of a search whose tree is not kept */
  private scratch: { dist: Float64Array; via: Int32Array; queue: Int32Array } | undefined;
  /** adjacency sorted by neighbour id, built once (the BFS tie-break needs that order) */
  private sortedAdj: Int32Array | undefined;

  /** searched routes to a destination before its distances are kept (ROUTES_BEFORE_TOWARD) */
  private readonly narrowAfter: number;

  /**
   * `maxTrees`: how many shortest-path trees to keep (default: 64 MB of them, at least 64);
   * `narrowAfter`: searched routes to a destination before its distances narrow the next
   */
  constructor(
    readonly topo: CompiledTopology,
    readonly metric: RoutingMetric = "hops",
    options: { maxTrees?: number; narrowAfter?: number } = {},
  ) {
    this.narrowAfter = Math.min(255, options.narrowAfter ?? ROUTES_BEFORE_TOWARD);
    // 64 MB of trees (12 bytes a node): every source of a k=16 fat-tree (1,344 nodes), 520 at k=32
    this.maxTrees = options.maxTrees ?? Math.max(64, Math.floor(TREE_BYTES / (12 * Math.max(1, topo.nodeCount))));
  }

  route(src: string, dst: string): Path {
    const s = this.node(src);
    const d = this.node(dst);
    const key = s * this.topo.nodeCount + d;
    let p = this.paths.get(key);
    if (!p) {
      p = this.build(s, d);
      this.paths.set(key, p);
    }
    return p;
  }

  /** true when dst can be reached from src */
  reachable(src: string, dst: string): boolean {
    const d = this.node(dst);
    // (the loader asks this of every flow of a data center: no tree is kept for it)
    const t = this.searched(this.node(src), d);
    return Number.isFinite(t.dist[d]!);
  }

  /** the routes from `src` to every node, summarised (cached per source) */
  table(src: string): RouteTable {
    const s = this.node(src);
    let t = this.tables.get(s);
    if (!t) {
      t = this.buildTable(s);
      this.tables.set(s, t);
    }
    return t;
  }

  /** `route(src, dst).propagation` from the source's table, without building the route */
  propagation(src: string, dst: string): number {
    const t = this.table(src);
    const d = this.node(dst);
    // no route: route() says so, with its error
    return Number.isFinite(t.hops[d]!) ? t.propagation[d]! : this.route(src, dst).propagation;
  }

  /** the links of `route(src, dst)` in path order, written into `out`, without building a Path */
  linksInto(src: string, dst: string, out: number[]): number[] {
    const s = this.node(src);
    const d = this.node(dst);
    const { dist, via } = this.tree(s);
    // no route: route() says so, with its error
    if (!Number.isFinite(dist[d]!)) this.route(src, dst);
    out.length = 0;
    for (let n = d; n !== s; ) {
      const l = via[n]!;
      out.push(l);
      n = this.topo.from[l]!;
    }
    return out.reverse();
  }

  /** hop distance from `src` to every node (Infinity where unreachable) */
  distances(src: string): Float64Array {
    // a copy: a kept tree's arrays are refilled when it is dropped
    return this.tree(this.node(src)).dist.slice();
  }

  private node(name: string): number {
    const n = this.topo.index.get(name);
    if (n === undefined) throw new Error(`unknown node ${name}`);
    return n;
  }

  private build(s: number, d: number): Path {
    const topo = this.topo;
    const { dist, via } = this.treeFor(s, d);
    if (!Number.isFinite(dist[d]!)) throw new Error(`no route from ${topo.names[s]} to ${topo.names[d]}`);
    const links: number[] = [];
    for (let n = d; n !== s; ) {
      const l = via[n]!;
      links.push(l);
      n = topo.from[l]!;
    }
    links.reverse();
    const nodes = [s, ...links.map((l) => topo.to[l]!)];
    let propagation = 0;
    let bottleneck = Infinity;
    let switches = 0;
    for (const l of links) {
      propagation += topo.latency[l]!;
      bottleneck = Math.min(bottleneck, topo.capacity[l]!);
    }
    for (const n of nodes) if (!topo.isHost(n)) switches++;
    return { nodes, links, hops: links.length, switches, propagation, bottleneck: links.length ? bottleneck : Infinity };
  }

  private buildTable(s: number): RouteTable {
    const topo = this.topo;
    const n = topo.nodeCount;
    // (the table is kept whole: it needs no kept tree)
    const { dist, via } = this.searched(s, -1);
    const hops = new Float64Array(n).fill(Infinity);
    const switches = new Int32Array(n);
    const propagation = new Float64Array(n);
    const bottleneck = new Float64Array(n).fill(Infinity);
    const done = new Uint8Array(n);
    hops[s] = 0;
    switches[s] = topo.isHost(s) ? 0 : 1;
    done[s] = 1;
    const stack: number[] = [];
    for (let d = 0; d < n; d++) {
      if (done[d] || !Number.isFinite(dist[d]!)) continue;
      // walk up to a node already summarised, then extend back down in path order
      for (let m = d; !done[m]; m = topo.from[via[m]!]!) stack.push(m);
      while (stack.length) {
        const m = stack.pop()!;
        const l = via[m]!;
        const p = topo.from[l]!;
        hops[m] = hops[p]! + 1;
        switches[m] = switches[p]! + (topo.isHost(m) ? 0 : 1);
        propagation[m] = propagation[p]! + topo.latency[l]!;
        bottleneck[m] = Math.min(bottleneck[p]!, topo.capacity[l]!);
        done[m] = 1;
      }
    }
    return { source: s, hops, switches, propagation, bottleneck };
  }

  /**
   * The search tree from `s` for one route: a source's first SEARCHED_ROUTES routes are searched
   * in buffers that the next search reuses, its tree kept from the next one on. Every key holder
   * of a data center routes to the manager, and a few to a source asking for its key (8,191
   * sources of 10,240 nodes at k=32): kept, their trees would be thrown away again, 160 KB each,
   * and evict the trees of sources that route often. A route to a node whose tree is kept is
   * narrowed along that tree (neither a search nor a kept tree): every link is compiled in both
   * directions (compile.ts) and both searches let only switches and the node they start from carry
   * a route, so the distances from `d` are the distances to `d`.
   */
  private treeFor(s: number, d: number): { dist: Float64Array; via: Int32Array } {
    if (this.trees.has(s) || this.metric !== "hops") return this.tree(s);
    const from = this.trees.get(d)?.dist;
    // (no route: the other ways find none, and build says so)
    if (from && Number.isFinite(from[s]!)) return this.narrowed(s, d, from);
    const routed = (this.routed ??= new Uint8Array(this.topo.nodeCount));
    if (routed[s]! >= SEARCHED_ROUTES) return this.tree(s);
    routed[s]!++;
    const toward = this.towardFor(d);
    // (no route: the whole search finds none, and build says so)
    if (!toward || !Number.isFinite(toward[s]!)) return this.searched(s, d);
    return this.narrowed(s, d, toward);
  }

  /**
   * The search from `s` until `d` (`searched`), following only the nodes on a shortest route to
   * `d` (by `toward`, the distances to `d`): each such node is first found from such a node, and
   * they are found in the order of the whole search, so the route is the whole search's. The
   * buffers hold the route's nodes only (dist and via of other nodes are stale); a node is found
   * when its mark is this search's.
   */
  private narrowed(s: number, d: number, toward: Float64Array): { dist: Float64Array; via: Int32Array } {
    const n = this.topo.nodeCount;
    const { dist, via, queue } = (this.scratch ??= { dist: new Float64Array(n), via: new Int32Array(n), queue: new Int32Array(n) });
    const mark = (this.marks ??= new Uint32Array(n));
    const stamp = ++this.stamp;
    const adj = this.adjacencyByNeighbour();
    const { adjStart, to } = this.topo;
    const length = toward[s]!;
    let head = 0;
    let tail = 0;
    dist[s] = 0;
    mark[s] = stamp;
    if (s === d) return { dist, via };
    queue[tail++] = s;
    while (head < tail) {
      const v = queue[head++]!;
      if (!this.transit(v, s)) continue;
      const next = dist[v]! + 1;
      for (let k = adjStart[v]!; k < adjStart[v + 1]!; k++) {
        const l = adj[k]!;
        const m = to[l]!;
        if (mark[m] === stamp || next + toward[m]! !== length) continue;
        mark[m] = stamp;
        dist[m] = next;
        via[m] = l;
        if (m === d) return { dist, via };
        queue[tail++] = m;
      }
    }
    throw new Error(`internal error: no route from ${this.topo.names[s]} to ${this.topo.names[d]} along its distances`);
  }

  /** `d`'s distances once `narrowAfter` searched routes have led to it, else undefined */
  private towardFor(d: number): Float64Array | undefined {
    const kept = this.towards.get(d);
    if (kept) return kept;
    const arrivals = (this.arrivals ??= new Uint8Array(this.topo.nodeCount));
    if (arrivals[d]! < this.narrowAfter) {
      arrivals[d]!++;
      return undefined;
    }
    const t = this.toward(d);
    if (this.towards.size >= this.maxTrees) this.towards.delete(this.towards.keys().next().value!);
    this.towards.set(d, t);
    return t;
  }

  /** hop distance from every node to `d` through switches only (Infinity where there is none) */
  private toward(d: number): Float64Array {
    const { nodeCount, from, to } = this.topo;
    if (!this.incoming) {
      const start = new Int32Array(nodeCount + 1);
      for (let l = 0; l < to.length; l++) start[to[l]! + 1]!++;
      for (let v = 0; v < nodeCount; v++) start[v + 1]! += start[v]!;
      const fill = start.slice(0, nodeCount);
      const links = new Int32Array(to.length);
      for (let l = 0; l < to.length; l++) links[fill[to[l]!]!++] = l;
      this.incoming = { start, links };
    }
    const { start, links } = this.incoming;
    const dist = new Float64Array(nodeCount).fill(Infinity);
    const queue = new Int32Array(nodeCount);
    let head = 0;
    let tail = 0;
    dist[d] = 0;
    queue[tail++] = d;
    while (head < tail) {
      const x = queue[head++]!;
      // (a node before x on a route is transit there: a switch, or the route's source)
      if (!this.transit(x, d)) continue;
      for (let k = start[x]!; k < start[x + 1]!; k++) {
        const y = from[links[k]!]!;
        if (dist[y] === Infinity) {
          dist[y] = dist[x]! + 1;
          queue[tail++] = y;
        }
      }
    }
    return dist;
  }

  /**
   * The kept tree from `s`, or a search in buffers that the next search reuses (read it before
   * searching again), until `until` is found (-1: whole): the nodes of a route are found before
   * its destination, as in a whole search.
   */
  private searched(s: number, until: number): { dist: Float64Array; via: Int32Array } {
    const kept = this.trees.get(s);
    if (kept || this.metric !== "hops") return kept ?? this.tree(s);
    const n = this.topo.nodeCount;
    this.scratch ??= { dist: new Float64Array(n), via: new Int32Array(n), queue: new Int32Array(n) };
    return this.bfs(s, this.scratch, until);
  }

  private tree(s: number): { dist: Float64Array; via: Int32Array } {
    let t = this.trees.get(s);
    if (!t) {
      let dropped: { dist: Float64Array; via: Int32Array } | undefined;
      if (this.trees.size >= this.maxTrees) {
        const oldest = this.trees.keys().next().value!;
        dropped = this.trees.get(oldest);
        this.trees.delete(oldest);
      }
      // (a hops search fills the dropped tree's arrays: a data center drops trees by the thousand)
      t = this.metric === "hops" ? this.bfs(s, dropped && { ...dropped, queue: (this.treeQueue ??= new Int32Array(this.topo.nodeCount)) }) : this.dijkstra(s);
      this.trees.set(s, t);
    }
    return t;
  }

  // Hosts are never transit nodes: traffic between two hosts only crosses switches.
  private transit(n: number, s: number): boolean {
    return n === s || !this.topo.isHost(n);
  }

  /** breadth-first search from `s`, in fresh arrays or in `into`; it may stop once it finds `until` */
  private bfs(s: number, into?: { dist: Float64Array; via: Int32Array; queue: Int32Array }, until = -1): { dist: Float64Array; via: Int32Array } {
    const { nodeCount, adjStart } = this.topo;
    const adj = this.adjacencyByNeighbour();
    const to = this.topo.to;
    const dist = (into?.dist ?? new Float64Array(nodeCount)).fill(Infinity);
    const via = (into?.via ?? new Int32Array(nodeCount)).fill(-1);
    const queue = into?.queue ?? new Int32Array(nodeCount);
    let head = 0;
    let tail = 0;
    dist[s] = 0;
    queue[tail++] = s;
    while (head < tail) {
      const n = queue[head++]!;
      if (!this.transit(n, s)) continue;
      // Neighbours in node-id order, so the first predecessor found is the smallest id.
      for (let k = adjStart[n]!; k < adjStart[n + 1]!; k++) {
        const l = adj[k]!;
        const m = to[l]!;
        if (dist[m] === Infinity) {
          dist[m] = dist[n]! + 1;
          via[m] = l;
          if (m === until) return { dist, via };
          queue[tail++] = m;
        }
      }
    }
    return { dist, via };
  }

  private adjacencyByNeighbour(): Int32Array {
    if (this.sortedAdj) return this.sortedAdj;
    const { nodeCount, adjStart, adjLinks, to } = this.topo;
    const adj = new Int32Array(adjLinks.length);
    for (let n = 0; n < nodeCount; n++) {
      const out = Array.from(adjLinks.subarray(adjStart[n]!, adjStart[n + 1]!)).sort((a, b) => to[a]! - to[b]!);
      adj.set(out, adjStart[n]!);
    }
    return (this.sortedAdj = adj);
  }

  private dijkstra(s: number): { dist: Float64Array; via: Int32Array } {
    const { nodeCount, adjStart, adjLinks, to, latency, from } = this.topo;
    const dist = new Float64Array(nodeCount).fill(Infinity);
    const via = new Int32Array(nodeCount).fill(-1);
    const done = new Uint8Array(nodeCount);
    dist[s] = 0;
    // O(V^2) selection keeps the tie-break (smallest id) obvious; latency routing is not hot.
    for (;;) {
      let n = -1;
      for (let i = 0; i < nodeCount; i++) if (!done[i] && dist[i]! < Infinity && (n < 0 || dist[i]! < dist[n]!)) n = i;
      if (n < 0) break;
      done[n] = 1;
      if (!this.transit(n, s)) continue;
      for (let k = adjStart[n]!; k < adjStart[n + 1]!; k++) {
        const l = adjLinks[k]!;
        const m = to[l]!;
        const nd = dist[n]! + latency[l]! + 1e-12; // tiny hop cost: equal latency prefers fewer hops
        const cur = via[m]! >= 0 ? from[via[m]!]! : Infinity;
        if (nd < dist[m]! - 1e-15 || (Math.abs(nd - dist[m]!) <= 1e-15 && n < cur)) {
          dist[m] = nd;
          via[m] = l;
        }
      }
    }
    return { dist, via };
  }
}
