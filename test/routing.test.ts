import test from "ava";
import { compileTopology } from "../src/network/topology/compile.ts";
import { loadTopologyText } from "../src/network/topology/load.ts";
import { Router } from "../src/network/topology/routing.ts";

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
