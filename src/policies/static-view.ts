/**
 * A NetworkView from the topology alone (routes by the given metric, latency = propagation, no
 * measurements): what a policy sees when decisions are made before a run, as for the testbed.
 */
import { toGraph, type TopologyGraph } from "../network/topology/graph.ts";
import type { RoutingMetric } from "../network/network-model.ts";
import { compiledOf, routerOf } from "../network/topology/shared.ts";
import type { Topology } from "../network/topology/topology-types.ts";
import type { NetworkView } from "./policy-types.ts";

export function staticView(topology: Topology, routing: RoutingMetric = "hops", now = 0): NetworkView {
  // (the thread's shared compiled topology and router: the simulator's runs reuse its route tables)
  const topo = compiledOf(topology);
  const router = routerOf(topology, routing);
  let graph: TopologyGraph | undefined;
  return {
    topo,
    get graph() {
      return (graph ??= toGraph(topology));
    },
    route: (a, b) => router.route(a, b),
    routesFrom: (a) => router.table(a),
    // (from the source's route table, not a Path built and kept per pair: mtd-fountain asks for
    // the latency to every key holder on every decision, 8 million pairs in a k=32 data center)
    latency: (a, b) => router.propagation(a, b),
    latencyByNode: (a) => {
      const propagation = router.table(a).propagation;
      return (n) => propagation[n]!;
    },
    vib: undefined,
    now,
  };
}
