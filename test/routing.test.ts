import test from "ava";
import { compileTopology } from "../src/network/topology/compile.ts";
import { loadTopologyText } from "../src/network/topology/load.ts";
import { Router } from "../src/network/topology/routing.ts";
import type { Topology } from "../src/network/topology/topology-types.ts";
import { makeRng, randomInt } from "../src/core/random.ts";

// Capacities and latencies drawn per link, so bottlenecks and propagation sums differ by route.
const shapes = [
  "{ kind: fat-tree, k: 4, capacity: { dist: choice, values: [1Mbps, 5Mbps, 10Mbps] }, latency: { dist: uniform, min: 0.1ms, max: 3ms } }",
  "{ kind: tree, depth: 3, fanout: 3, capacity: { dist: choice, values: [2Mbps, 20Mbps] }, latency: { dist: uniform, min: 0ms, max: 1ms } }",
  "{ kind: full-mesh, n: 6, capacity: { dist: choice, values: [2Mbps, 20Mbps] }, latency: { dist: choice, values: [1ms, 2ms] } }",
];

for (const shape of shapes) {
  for (const metric of ["hops", "latency"] as const) {
    test(`route tables equal the routes, value for value (${/kind: ([a-z-]+)/.exec(shape)![1]}, ${metric})`, (t) => {
      const topo = compileTopology(loadTopologyText(`name: g\ngenerate: ${shape}\n`, "gen.yaml", 7));
      const router = new Router(topo, metric);
      const scratch: number[] = [];
      const names = topo.topology.hosts;
      let checked = 0;
      for (const a of names) {
        const table = router.table(a);
        for (const b of names) {
          const n = topo.index.get(b)!;
          const p = router.route(a, b);
          t.is(table.hops[n], p.hops);
          t.is(table.switches[n], p.switches);
          t.is(table.propagation[n], p.propagation);
          t.is(router.propagation(a, b), p.propagation);
          t.deepEqual(router.linksInto(a, b, scratch), p.links);
          t.is(table.bottleneck[n], p.bottleneck);
          checked++;
        }
      }
      t.is(checked, names.length * names.length);
    });
  }
}

for (const metric of ["hops", "latency"] as const) {
  test(`a router keeping two trees routes as one keeping all (fat-tree k=4, ${metric}, sources in turn and again)`, (t) => {
    const topo = compileTopology(loadTopologyText(`name: g\ngenerate: ${shapes[0]}\n`, "gen.yaml", 7));
    const all = new Router(topo, metric);
    const two = new Router(topo, metric, { maxTrees: 2 });
    const names = topo.topology.hosts;
    const scratch: number[] = [];
    // every source is asked twice, far apart, so its tree has been dropped in between
    for (const round of [0, 1]) {
      for (const a of names) {
        for (const b of round === 0 ? names.slice(0, 8) : names.slice(8)) {
          t.deepEqual(two.route(a, b), all.route(a, b));
          t.deepEqual(two.linksInto(a, b, scratch), all.route(a, b).links);
          t.deepEqual(two.distances(a), all.distances(a));
        }
      }
    }
    t.is((two as unknown as { trees: Map<number, unknown> }).trees.size, 2);
  });
}

test("a source's first route, searched in reused buffers, is the route its kept tree gives (every host to each host in turn)", (t) => {
  for (const shape of shapes) {
    const topo = compileTopology(loadTopologyText(`name: g\ngenerate: ${shape}\n`, "gen.yaml", 7));
    const names = topo.topology.hosts;
    const once = new Router(topo, "hops");
    const kept = new Router(topo, "hops");
    for (const a of names) kept.table(a);
    // each source's first route goes to a different host (the buffers hold another source's search)
    for (const [i, b] of names.entries()) {
      for (const [j, a] of names.entries()) {
        const d = names[(i + j) % names.length]!;
        t.deepEqual(once.route(a, d), kept.route(a, d), `${a} -> ${d}`);
      }
      t.deepEqual(once.route(b, names[0]!), kept.route(b, names[0]!));
    }
  }
});

test("a route searched toward a destination's kept distances is the whole search's (every node to each node)", (t) => {
  for (const shape of [...shapes, "{ kind: fat-tree, k: 8 }"]) {
    const topo = compileTopology(loadTopologyText(`name: g\ngenerate: ${shape}\n`, "gen.yaml", 7));
    const narrowed = new Router(topo, "hops", { narrowAfter: 1 });
    const whole = new Router(topo, "hops");
    const nodes = topo.names;
    for (const a of nodes) whole.distances(a);
    // each source's first routes (searched, not from a kept tree) go to different destinations,
    // each destination's first one searched whole and the others narrowed
    for (let i = 0; i < 4; i++) {
      for (const [j, a] of nodes.entries()) {
        const d = nodes[(i + j) % nodes.length]!;
        t.deepEqual(narrowed.route(a, d), whole.route(a, d), `${a} -> ${d}`);
      }
    }
    t.is((narrowed as unknown as { towards: Map<number, unknown> }).towards.size, nodes.length);
    for (const d of nodes) for (const a of nodes) t.deepEqual(narrowed.route(a, d), whole.route(a, d), `${a} -> ${d}`);
  }
});

/**
 * Random graphs, seeded: hosts on one to three switches (or on another host, which never carries a
 * route), parallel links, switches in a random mesh, links listed in random order. Reachability
 * varies, so some pairs have no route.
 */
function randomTopology(seed: number): Topology {
  const rng = makeRng(`routing:${seed}`);
  const hosts = Array.from({ length: 4 + randomInt(rng, 9) }, (_, i) => `h${i + 1}`);
  const switches = Array.from({ length: 2 + randomInt(rng, 9) }, (_, i) => `s${i + 1}`);
  const pairs: Array<[string, string]> = [];
  for (const h of hosts) {
    for (let j = 1 + randomInt(rng, 3); j > 0; j--) pairs.push([h, switches[randomInt(rng, switches.length)]!]);
    if (rng() < 0.15) pairs.push([h, hosts[randomInt(rng, hosts.length)]!]);
  }
  for (let j = randomInt(rng, 3 * switches.length); j > 0; j--) pairs.push([switches[randomInt(rng, switches.length)]!, switches[randomInt(rng, switches.length)]!]);
  const links = pairs
    .filter(([a, b]) => a !== b)
    .map(([a, b]) => ({ a, b, capacity: 1e6, capacityBack: 1e6, latency: 1e-3, queue: 100, mtu: 1500, key: rng() }))
    .sort((x, y) => x.key - y.key)
    .map(({ key: _, ...link }) => link);
  return { name: `random-${seed}`, hosts, switches, links };
}

test("a route searched toward the destination's kept tree is the route a search from the source gives (random graphs, seeded)", (t) => {
  let narrowed = 0;
  for (let seed = 0; seed < 60; seed++) {
    const topo = compileTopology(randomTopology(seed));
    const nodes = topo.names;
    const plain = new Router(topo, "hops");
    for (const a of nodes) plain.distances(a);
    for (const d of nodes) {
      // d's tree kept, then every other node's first route to d: searched toward d's distances
      const router = new Router(topo, "hops", { maxTrees: 1 });
      router.distances(d);
      for (const a of nodes) {
        const reach = Number.isFinite(plain.distances(a)[topo.index.get(d)!]!);
        if (!reach) {
          t.throws(() => router.route(a, d), { message: /no route/ }, `${topo.topology.name}: ${a} -> ${d}`);
          continue;
        }
        t.deepEqual(router.route(a, d), plain.route(a, d), `${topo.topology.name}: ${a} -> ${d}`);
        if (a !== d) narrowed++;
      }
    }
  }
  // (most pairs are reachable: the comparison is not vacuous)
  t.true(narrowed > 3000, `${narrowed} routes compared`);
});
