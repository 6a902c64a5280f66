/**
 * Structural facts about a topology for summaries and tests: the host-to-host diameter in hops
 * and the ranges of link properties. Fast enough for 100,000-host generated topologies.
 */
import type { CompiledTopology } from "./topology-types.ts";

export interface Range {
  min: number;
  max: number;
}

export interface Diameter {
  /** largest hop count of a shortest path between two hosts (0 with a single host) */
  hops: number;
  /** a pair of hosts that far apart */
  from: string;
  to: string;
}

/**
 * Host-to-host diameter, with hosts never forwarding. Hosts attached to the same set of switches
 * have the same distances to everyone else, so one breadth-first search over the switches per
 * attachment set suffices (one per edge switch in generated topologies) instead of one per host.
 * Topologies with host-to-host links fall back to a search per host.
 */
export function hostDiameter(t: CompiledTopology): Diameter {
  const H = t.hostCount;
  const N = t.nodeCount;
  const first = t.names[0] ?? "";
  if (H < 2) return { hops: 0, from: first, to: first };
  const { adjStart, adjLinks, to } = t;
  let hostLinks = false;
  const groups = new Map<string, { switches: number[]; hosts: number[] }>();
  for (let h = 0; h < H; h++) {
    const att: number[] = [];
    for (let k = adjStart[h]!; k < adjStart[h + 1]!; k++) {
      const m = to[adjLinks[k]!]!;
      if (m < H) hostLinks = true;
      else att.push(m);
    }
    att.sort((a, b) => a - b);
    const key = att.join(",");
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { switches: att, hosts: [] }));
    g.hosts.push(h);
  }
  if (hostLinks) return perHostDiameter(t);

  const list = [...groups.values()];
  // Switch-only adjacency (CSR): the searches below never enter hosts, and hosts are most links.
  const S = N - H;
  const start = new Int32Array(S + 1);
  for (let n = H; n < N; n++) {
    let c = 0;
    for (let k = adjStart[n]!; k < adjStart[n + 1]!; k++) if (to[adjLinks[k]!]! >= H) c++;
    start[n - H + 1] = start[n - H]! + c;
  }
  const adj = new Int32Array(start[S]!);
  for (let n = H, i = 0; n < N; n++) {
    for (let k = adjStart[n]!; k < adjStart[n + 1]!; k++) {
      const m = to[adjLinks[k]!]!;
      if (m >= H) adj[i++] = m - H;
    }
  }
  // When every host hangs off one switch (all generated shapes), a group is its switch.
  const single = list.every((g) => g.switches.length === 1);
  const groupSwitch = Int32Array.from(list, (g) => (g.switches[0] ?? H) - H);

  if (single) return singleHomedDiameter(t, list, start, adj);

  const dist = new Int32Array(S);
  const queue = new Int32Array(S);
  let best: Diameter = { hops: -1, from: first, to: first };
  list.forEach((g, gi) => {
    if (g.hosts.length > 1 && 2 > best.hops) best = { hops: 2, from: t.names[g.hosts[0]!]!, to: t.names[g.hosts[1]!]! };
    // Multi-source BFS over switches from this group's attachment switches.
    bfs(
      start,
      adj,
      g.switches.map((sw) => sw - H),
      dist,
      queue,
    );
    let far = -1;
    let farGroup = -1;
    for (let oi = 0; oi < list.length; oi++) {
      if (oi === gi) continue;
      let d: number;
      if (single) d = dist[groupSwitch[oi]!]!;
      else {
        d = Infinity;
        for (const s of list[oi]!.switches) if (dist[s - H]! >= 0 && dist[s - H]! < d) d = dist[s - H]!;
      }
      if (d > far) {
        far = d;
        farGroup = oi;
      }
    }
    if (farGroup >= 0 && far + 2 > best.hops) best = { hops: far + 2, from: t.names[g.hosts[0]!]!, to: t.names[list[farGroup]!.hosts[0]!]! };
  });
  return best;
}

/** Breadth-first search over the switch graph (CSR `start`/`adj`); fills `dist` (-1 = unreached), returns the last node reached. */
function bfs(start: Int32Array, adj: Int32Array, sources: number[], dist: Int32Array, queue: Int32Array): number {
  dist.fill(-1);
  let head = 0;
  let tail = 0;
  for (const s of sources) {
    dist[s] = 0;
    queue[tail++] = s;
  }
  while (head < tail) {
    const n = queue[head++]!;
    const dn = dist[n]! + 1;
    for (let k = start[n]!; k < start[n + 1]!; k++) {
      const m = adj[k]!;
      if (dist[m] === -1) {
        dist[m] = dn;
        queue[tail++] = m;
      }
    }
  }
  return queue[tail - 1]!;
}

/**
 * Every host on exactly one switch: the diameter is 2 + the largest distance between two switches
 * that have hosts (or 2 if only one has). Found with iFUB (Crescenzi et al., 2013): search from a
 * central switch u, then from host switches in decreasing distance from u; once the best found is
 * at least 2(i - 1), no pair closer to u than level i can beat it. On trees, fat-trees, chains and
 * meshes this stops after a few searches instead of one per switch.
 */
function singleHomedDiameter(t: CompiledTopology, list: Array<{ switches: number[]; hosts: number[] }>, start: Int32Array, adj: Int32Array): Diameter {
  const H = t.hostCount;
  const S = t.nodeCount - H;
  const groupOf = new Int32Array(S).fill(-1);
  list.forEach((g, i) => (groupOf[g.switches[0]! - H] = i));
  const marked = list.map((g) => g.switches[0]! - H);
  const name = (gi: number): string => t.names[list[gi]!.hosts[0]!]!;
  let best: Diameter = { hops: 0, from: name(0), to: name(0) };
  const two = list.find((g) => g.hosts.length > 1);
  if (two) best = { hops: 2, from: t.names[two.hosts[0]!]!, to: t.names[two.hosts[1]!]! };
  if (list.length < 2) return best;

  // Host switches all adjacent to each other (a full mesh): iFUB cannot prove that bound, so check it directly.
  const isMarked = new Uint8Array(S);
  for (const m of marked) isMarked[m] = 1;
  const clique = marked.every((m) => {
    let c = 0;
    for (let k = start[m]!; k < start[m + 1]!; k++) c += isMarked[adj[k]!]!;
    return c === marked.length - 1;
  });
  if (clique) return { hops: 3, from: name(0), to: name(1) };

  const dist = new Int32Array(S);
  const queue = new Int32Array(S);
  /** Farthest host switch from `src` (smallest group index among ties). */
  const farthest = (src: number): { node: number; d: number } => {
    bfs(start, adj, [src], dist, queue);
    let node = -1;
    let d = -1;
    for (const m of marked) if (dist[m]! > d) (d = dist[m]!), (node = m);
    return { node, d };
  };
  // Double sweep for a central switch: the middle of a long shortest path between host switches.
  const a = farthest(marked[0]!).node;
  const b = farthest(a);
  const pathDist = Int32Array.from(dist);
  bfs(start, adj, [b.node], dist, queue);
  let u = a;
  for (let n = 0; n < S; n++) {
    if (pathDist[n]! + dist[n]! === b.d && pathDist[n] === Math.floor(b.d / 2)) {
      u = n;
      break;
    }
  }
  const consider = (x: number, far: { node: number; d: number }): void => {
    if (far.d + 2 > best.hops) best = { hops: far.d + 2, from: name(groupOf[x]!), to: name(groupOf[far.node]!) };
  };
  consider(a, b);
  bfs(start, adj, [u], dist, queue);
  const fromU = Int32Array.from(dist);
  const order = [...marked].sort((p, q) => fromU[q]! - fromU[p]! || p - q);
  for (const x of order) {
    const i = fromU[x]!;
    // Pairs not yet searched have both ends within i of u, hence at most 2i apart.
    if (best.hops - 2 >= 2 * i) break;
    consider(x, farthest(x));
  }
  return best;
}

function perHostDiameter(t: CompiledTopology): Diameter {
  const H = t.hostCount;
  const { adjStart, adjLinks, to } = t;
  const dist = new Float64Array(t.nodeCount);
  const queue = new Int32Array(t.nodeCount);
  let best: Diameter = { hops: -1, from: t.names[0]!, to: t.names[0]! };
  for (let s = 0; s < H; s++) {
    dist.fill(Infinity);
    dist[s] = 0;
    let head = 0;
    let tail = 0;
    queue[tail++] = s;
    while (head < tail) {
      const n = queue[head++]!;
      if (n !== s && n < H) continue;
      for (let k = adjStart[n]!; k < adjStart[n + 1]!; k++) {
        const m = to[adjLinks[k]!]!;
        if (dist[m] === Infinity) {
          dist[m] = dist[n]! + 1;
          queue[tail++] = m;
        }
      }
    }
    for (let h = s + 1; h < H; h++) {
      if (dist[h]! > best.hops) best = { hops: dist[h]!, from: t.names[s]!, to: t.names[h]! };
    }
  }
  return best;
}

/** Smallest and largest value of a per-directed-link array. */
export function rangeOf(values: Float64Array): Range {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}
