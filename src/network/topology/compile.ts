/**
 * Compiles a Topology into typed arrays (CSR adjacency, per-directed-link capacity, latency,
 * queue) for routing and the network models (graph.ts gives the graphology view users see).
 */
import type { CompiledTopology, Topology } from "./topology-types.ts";

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
    from[fwd] = a;
    to[fwd] = b;
    from[back] = b;
    to[back] = a;
    capacity[fwd] = link.capacity;
    capacity[back] = link.capacityBack;
    latency[fwd] = latency[back] = link.latency;
    queueBytes[fwd] = queueBytes[back] = link.queue * link.mtu;
    mtu[fwd] = mtu[back] = link.mtu;
    degree[a]!++;
    degree[b]!++;
    // Mininet numbers ports per node in link order: switches from eth1, hosts from eth0.
    for (const [node, dir] of [
      [a, fwd],
      [b, back],
    ] as const) {
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
    topology,
    nodeCount: names.length,
    hostCount,
    names,
    index,
    isHost: (n: number) => n < hostCount,
    from,
    to,
    capacity,
    latency,
    queueBytes,
    mtu,
    adjStart,
    adjLinks,
    portName,
    portIndex,
  };
}
