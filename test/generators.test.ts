import test from "ava";
import { InputError } from "../src/core/errors.ts";
import { hostDiameter } from "../src/network/topology/analysis.ts";
import { compileTopology } from "../src/network/topology/compile.ts";
import { loadTopologyText } from "../src/network/topology/load.ts";
import { loadTopologyFile } from "../src/load/read-topology.ts";
import { Router } from "../src/network/topology/routing.ts";
import type { Topology } from "../src/network/topology/topology-types.ts";

function gen(spec: string, seed = 1, defaults = ""): Topology {
  return loadTopologyText(`name: g\n${defaults}generate: ${spec}\n`, "gen.yaml", seed);
}

/** Every node reachable from the first host (hosts do not forward, switches do). */
function connected(t: Topology): boolean {
  const c = compileTopology(t);
  const d = new Router(c).distances(t.hosts[0]!);
  return Array.from(d).every((x) => Number.isFinite(x));
}

function diameter(t: Topology): number {
  return hostDiameter(compileTopology(t)).hops;
}

function hops(t: Topology, a: string, b: string): number {
  return new Router(compileTopology(t)).route(a, b).hops;
}

const trees: Array<[number, number]> = [
  [1, 3],
  [2, 2],
  [2, 3],
  [3, 2],
  [3, 4],
  [4, 3],
];
for (const [depth, fanout] of trees) {
  test(`tree depth ${depth} fanout ${fanout}: counts, connectivity, diameter 2*depth`, (t) => {
    const topo = gen(`{ kind: tree, depth: ${depth}, fanout: ${fanout} }`);
    const hosts = fanout ** depth;
    const switches = (hosts - 1) / (fanout - 1);
    t.is(topo.hosts.length, hosts);
    t.is(topo.switches.length, switches);
    t.is(topo.links.length, hosts + switches - 1);
    t.true(connected(topo));
    t.is(diameter(topo), 2 * depth);
    // Hosts under the same leaf switch are 2 hops apart; first and last go through the root.
    t.is(hops(topo, "h1", "h2"), 2);
    t.is(hops(topo, "h1", `h${hosts}`), 2 * depth);
  });
}

test("tree follows Mininet's TreeTopo naming and port order", (t) => {
  const c = compileTopology(gen("{ kind: tree, depth: 2, fanout: 2 }"));
  t.deepEqual(c.topology.switches, ["s1", "s2", "s3"]);
  t.deepEqual(c.topology.hosts, ["h1", "h2", "h3", "h4"]);
  // TreeTopo: s1-eth1 -> s2, s1-eth2 -> s3; s2's uplink is added after its hosts: s2-eth3.
  const peer = (port: string): string => c.names[c.to[c.portIndex.get(port)!]!]!;
  t.is(peer("s1-eth1"), "s2");
  t.is(peer("s1-eth2"), "s3");
  t.is(peer("s2-eth1"), "h1");
  t.is(peer("s2-eth3"), "s1");
  t.is(peer("s3-eth2"), "h4");
  t.is(peer("h3-eth0"), "s3");
});

for (const n of [1, 2, 5, 17]) {
  test(`linear ${n}: counts, connectivity, diameter n+1`, (t) => {
    const topo = gen(`{ kind: linear, n: ${n} }`);
    t.is(topo.hosts.length, n);
    t.is(topo.switches.length, n);
    t.is(topo.links.length, 2 * n - 1);
    t.true(connected(topo));
    t.is(diameter(topo), n === 1 ? 0 : n + 1);
  });
}

test("linear follows Mininet's LinearTopo port order", (t) => {
  const c = compileTopology(gen("{ kind: linear, n: 3 }"));
  const peer = (port: string): string => c.names[c.to[c.portIndex.get(port)!]!]!;
  t.is(peer("s1-eth1"), "h1");
  t.is(peer("s1-eth2"), "s2");
  t.is(peer("s2-eth1"), "h2");
  t.is(peer("s2-eth2"), "s1");
  t.is(peer("s2-eth3"), "s3");
  t.is(peer("h2-eth0"), "s2");
});

for (const n of [1, 2, 8]) {
  test(`star ${n}: one switch, n hosts, diameter 2`, (t) => {
    const topo = gen(`{ kind: star, n: ${n} }`);
    t.is(topo.hosts.length, n);
    t.deepEqual(topo.switches, ["s1"]);
    t.is(topo.links.length, n);
    t.true(topo.links.every((l) => l.b === "s1" && l.a.startsWith("h")));
    t.true(connected(topo));
    t.is(diameter(topo), n === 1 ? 0 : 2);
  });
}

for (const n of [2, 3, 6]) {
  test(`full-mesh ${n}: every switch pair linked, one host each, diameter 3`, (t) => {
    const topo = gen(`{ kind: full-mesh, n: ${n} }`);
    t.is(topo.hosts.length, n);
    t.is(topo.switches.length, n);
    t.is(topo.links.length, n + (n * (n - 1)) / 2);
    const pairs = new Set(topo.links.filter((l) => l.a.startsWith("s")).map((l) => `${l.a}-${l.b}`));
    for (let i = 1; i <= n; i++) for (let j = i + 1; j <= n; j++) t.true(pairs.has(`s${i}-s${j}`));
    t.true(connected(topo));
    t.is(diameter(topo), 3);
  });
}

for (const k of [2, 4, 6, 8]) {
  test(`fat-tree k=${k}: counts, connectivity, 6 hops between pods`, (t) => {
    const topo = gen(`{ kind: fat-tree, k: ${k} }`);
    const half = k / 2;
    t.is(topo.hosts.length, k ** 3 / 4);
    t.is(topo.switches.length, (5 * k * k) / 4);
    t.is(topo.switches.filter((s) => s.startsWith("c")).length, half * half);
    t.is(topo.switches.filter((s) => s.startsWith("a")).length, k * half);
    t.is(topo.switches.filter((s) => s.startsWith("e")).length, k * half);
    t.is(topo.links.length, (3 * k ** 3) / 4);
    t.true(connected(topo));
    t.is(diameter(topo), 6);
    // Pod 1 holds hosts h1..h(k^2/4); the first host of pod 2 is 6 hops away.
    t.is(hops(topo, "h1", `h${(k * k) / 4 + 1}`), 6);
    if (half > 1) t.is(hops(topo, "h1", `h${half + 1}`), 4); // same pod, other edge switch
    // Every switch has k ports (cores and aggregation), edge switches k/2 up + k/2 hosts.
    const c = compileTopology(topo);
    for (let n = c.hostCount; n < c.nodeCount; n++) t.is(c.adjStart[n + 1]! - c.adjStart[n]!, k);
  });
}

test("fat-tree of 101,306 hosts (k=74) generates with the right counts", (t) => {
  const topo = gen("{ kind: fat-tree, k: 74 }");
  t.is(topo.hosts.length, 74 ** 3 / 4);
  t.is(topo.links.length, (3 * 74 ** 3) / 4);
  t.is(topo.hosts.at(-1), "h101306");
});

test("tree of 100,000 hosts (depth 5, fanout 10) generates and has diameter 10", (t) => {
  const topo = gen("{ kind: tree, depth: 5, fanout: 10 }");
  t.is(topo.hosts.length, 100_000);
  t.is(topo.switches.length, 11_111);
  t.is(diameter(topo), 10);
});

test("fixed link properties and per-tier lists (host links first, last entry repeats)", (t) => {
  const topo = gen("{ kind: fat-tree, k: 4, capacity: [10Mbps, 100Mbps], latency: 2ms, queue: [50pkt, 64KB] }", 1, "defaults: { mtu: 1000B }\n");
  const host = topo.links.filter((l) => l.a.startsWith("h"));
  const edgeAgg = topo.links.filter((l) => l.a.startsWith("e"));
  const aggCore = topo.links.filter((l) => l.a.startsWith("a"));
  t.true(host.every((l) => l.capacity === 10e6 && l.capacityBack === 10e6 && l.queue === 50));
  t.true(edgeAgg.every((l) => l.capacity === 100e6 && l.queue === 64));
  t.true(aggCore.every((l) => l.capacity === 100e6));
  t.true(topo.links.every((l) => l.latency === 0.002 && l.mtu === 1000));
});

test("tree tiers count from the hosts up", (t) => {
  const topo = gen("{ kind: tree, depth: 3, fanout: 2, capacity: [1Mbps, 2Mbps, 3Mbps] }");
  const byParent = (s: string): number => topo.links.find((l) => l.a === s)!.capacity;
  t.is(byParent("s1"), 3e6); // root to its children
  t.is(byParent("s2"), 2e6);
  t.is(byParent("s3"), 1e6); // s3 is a leaf switch (depth-first numbering)
});

test("defaults apply where the generator sets nothing", (t) => {
  const topo = gen("{ kind: star, n: 3 }", 1, "defaults: { capacity: 7Mbps, latency: 3ms, queue: 20pkt }\n");
  t.true(topo.links.every((l) => l.capacity === 7e6 && l.latency === 0.003 && l.queue === 20));
});

test("seeded distributions: same seed same values, other seed other values, within bounds", (t) => {
  const spec =
    "{ kind: tree, depth: 2, fanout: 4, capacity: { dist: uniform, min: 1Mbps, max: 10Mbps }, latency: { dist: log-uniform, min: 1ms, max: 100ms }, queue: { dist: choice, values: [10pkt, 100pkt] } }";
  const a = gen(spec, 5);
  const b = gen(spec, 5);
  const c = gen(spec, 6);
  t.deepEqual(a.links, b.links);
  t.notDeepEqual(
    a.links.map((l) => l.capacity),
    c.links.map((l) => l.capacity),
  );
  t.true(a.links.every((l) => l.capacity >= 1e6 && l.capacity <= 10e6));
  t.true(a.links.every((l) => l.latency >= 0.001 && l.latency <= 0.1));
  t.true(a.links.every((l) => l.queue === 10 || l.queue === 100));
  t.true(new Set(a.links.map((l) => l.capacity)).size > 10);
  t.true(new Set(a.links.map((l) => l.queue)).size === 2);
});

test("drawing capacities does not change latencies (independent streams)", (t) => {
  const lat = "latency: { dist: uniform, min: 1ms, max: 2ms }";
  const a = gen(`{ kind: star, n: 20, ${lat} }`, 3);
  const b = gen(`{ kind: star, n: 20, ${lat}, capacity: { dist: uniform, min: 1Mbps, max: 2Mbps } }`, 3);
  t.deepEqual(
    a.links.map((l) => l.latency),
    b.links.map((l) => l.latency),
  );
});

test("a distribution inside a tier list applies to that tier only", (t) => {
  const topo = gen("{ kind: full-mesh, n: 6, capacity: [1Gbps, { dist: log-uniform, min: 1Mbps, max: 100Mbps }] }", 2);
  const host = topo.links.filter((l) => l.a.startsWith("h"));
  const mesh = topo.links.filter((l) => l.a.startsWith("s"));
  t.true(host.every((l) => l.capacity === 1e9));
  t.true(mesh.every((l) => l.capacity >= 1e6 && l.capacity <= 100e6));
});

test("name prefixes rename hosts and switches", (t) => {
  const topo = gen("{ kind: fat-tree, k: 2, host-prefix: srv, core-prefix: core, aggregation-prefix: agg, edge-prefix: tor }");
  t.deepEqual(topo.hosts, ["srv1", "srv2"]);
  t.deepEqual(topo.switches, ["core1", "agg1", "agg2", "tor1", "tor2"]);
  const star = gen("{ kind: star, n: 2, host-prefix: web, switch-prefix: sw }");
  t.deepEqual([...star.hosts, ...star.switches], ["web1", "web2", "sw1"]);
});

test("the shipped example files load", (t) => {
  for (const f of ["tree", "linear", "star", "full-mesh", "fat-tree", "example-explicit"]) {
    const topo = loadTopologyFile(`topologies/${f}.yaml`);
    t.true(topo.hosts.length > 0, f);
    t.true(connected(topo), f);
  }
});

function refusal(t: import("ava").ExecutionContext, spec: string, field: string, detail: RegExp, defaults = ""): void {
  const e = t.throws(() => gen(spec, 1, defaults), { instanceOf: InputError });
  t.is(e?.location.file, "gen.yaml");
  t.is(e?.location.field, field);
  t.true(typeof e?.location.line === "number");
  t.regex(e?.detail ?? "", detail);
}

test("refused: odd fat-tree k", (t) => refusal(t, "{ kind: fat-tree, k: 5 }", "generate.k", /even k/));
test("refused: unknown kind", (t) => refusal(t, "{ kind: ring, n: 5 }", "generate.kind", /tree.*fat-tree/));
test("refused: unknown generator field", (t) => refusal(t, "{ kind: star, n: 5, size: 3 }", "generate.size", /unknown field "size"/));
test("refused: missing parameter", (t) => refusal(t, "{ kind: tree, depth: 2 }", "generate.fanout", /missing/));
test("refused: non-integer count", (t) => refusal(t, "{ kind: linear, n: 2.5 }", "generate.n", /int/i));
test("refused: bare number capacity", (t) => refusal(t, "{ kind: star, n: 2, capacity: 10 }", "generate.capacity", /bare number 10/));
test("refused: bare number inside a distribution in a tier list", (t) =>
  refusal(t, "{ kind: star, n: 2, capacity: [{ dist: uniform, min: 1Mbps, max: 5 }] }", "generate.capacity.0.max", /bare number 5/));
test("refused: non-positive capacity", (t) => refusal(t, "{ kind: star, n: 2, capacity: 0Mbps }", "generate.capacity", /positive/));
test("refused: max below min", (t) => refusal(t, "{ kind: star, n: 2, capacity: { dist: uniform, min: 5Mbps, max: 1Mbps } }", "generate.capacity.max", /max >= min/));
test("refused: prefix making names longer than 10 characters", (t) => refusal(t, "{ kind: star, n: 100, host-prefix: abcdefghi }", "generate.host-prefix", /abcdefghi100/));
test("refused: generator output too large", (t) => refusal(t, "{ kind: tree, depth: 10, fanout: 10 }", "generate.depth", /at most/));
test("refused: generate together with explicit hosts", (t) => {
  const e = t.throws(() => loadTopologyText("name: g\nhosts: [h1]\ngenerate: { kind: star, n: 2 }\n", "gen.yaml"), { instanceOf: InputError });
  t.is(e?.location.line, 3);
  t.regex(e?.message ?? "", /either `generate` or explicit/);
});
