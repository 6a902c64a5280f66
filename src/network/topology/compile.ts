/**
 * Compiles a Topology into typed arrays (CSR adjacency, per-directed-link capacity, latency,
 * queue) for routing and the network models, and builds the graphology view for analysis.
 */
import { UndirectedGraph } from "graphology";
import type { CompiledTopology, Topology } from "./types.ts";

export function compileTopology(topology: Topology): CompiledTopology {
  const names = [...topology.hosts, ...topology.switches];
  const index = new Map<string, number>();
  names.forEach((n, i) => index.set(n, i));
  const hostCount = topology.hosts.length;
  const L = topology.links.length * 2;
  const from = new Int32Array(L);
  const to = new Int32Array(L);
  const capacity = new Float64Array(L);
  const latency = new Float64Array(L);
  const queueBytes = new Float64Array(L);
  const mtu = new Float64Array(L);
  const degree = new Int32Array(names.length + 1);
  const portName: string[] = new Array(L);
  const portIndex = new Map<string, number>();
  const portCounter = new Int32Array(names.length);

  topology.links.forEach((link, i) => {
    const a = index.get(link.a)!;
    const b = index.get(link.b)!;
    const fwd = 2 * i;
    const back = fwd + 1;
    from[fwd] = a; to[fwd] = b; from[back] = b; to[back] = a;
    capacity[fwd] = link.capacity; capacity[back] = link.capacityBack;
    latency[fwd] = latency[back] = link.latency;
    queueBytes[fwd] = queueBytes[back] = link.queue * link.mtu;
    mtu[fwd] = mtu[back] = link.mtu;
    degree[a]!++; degree[b]!++;
    // Mininet numbers ports per node in link order: switches from eth1, hosts from eth0.
    for (const [node, dir] of [[a, fwd], [b, back]] as const) {
      const base = node < hostCount ? 0 : 1;
      const name = `${names[node]}-eth${portCounter[node]! + base}`;
      portCounter[node]!++;
      portName[dir] = name;
      portIndex.set(name, dir);
    }
  });

  const adjStart = new Int32Array(names.length + 1);
  for (let n = 0; n < names.length; n++) adjStart[n + 1] = adjStart[n]! + degree[n]!;
  const fill = adjStart.slice(0, names.length);
  const adjLinks = new Int32Array(L);
  for (let d = 0; d < L; d++) adjLinks[fill[from[d]!]!++] = d;

  return {
    topology, nodeCount: names.length, hostCount, names, index,
    isHost: (n: number) => n < hostCount,
    from, to, capacity, latency, queueBytes, mtu, adjStart, adjLinks, portName, portIndex,
  };
}

/** The topology as a graphology graph (node attribute `kind`, edge attributes from the link). */
export function toGraph(topology: Topology): UndirectedGraph {
  const g = new UndirectedGraph({ multi: false, allowSelfLoops: false });
  for (const h of topology.hosts) g.addNode(h, { kind: "host" });
  for (const s of topology.switches) g.addNode(s, { kind: "switch" });
  for (const l of topology.links) {
    g.addEdge(l.a, l.b, { capacity: l.capacity, capacityBack: l.capacityBack, latency: l.latency, queue: l.queue });
  }
  return g;
}
