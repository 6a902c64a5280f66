/**
 * One compiled topology, and one Router per routing metric, for each Topology object, shared by
 * everything in a thread that routes on it: the loader's reachability checks, the pre-run trial
 * decisions and the simulator's runs. Routes are pure functions of the topology (a Router's
 * caches change how fast it answers, never what), so sharing changes no result; it spares a data
 * center's compiled arrays and route tables being built once per cell and again per user (a k=32
 * fat-tree's tables take seconds), and what the policies cache per route table is shared with them.
 */
import type { RoutingMetric } from "../network-model.ts";
import { compileTopology } from "./compile.ts";
import { Router } from "./routing.ts";
import type { CompiledTopology, Topology } from "./topology-types.ts";

interface Shared {
  compiled: CompiledTopology;
  routers: Map<RoutingMetric, Router>;
}

// (weak: a topology nobody holds any more takes its arrays and routes with it)
const shared = new WeakMap<Topology, Shared>();

function entry(topology: Topology): Shared {
  let e = shared.get(topology);
  if (!e) shared.set(topology, (e = { compiled: compileTopology(topology), routers: new Map() }));
  return e;
}

/** the topology compiled (compileTopology), once per Topology object */
export function compiledOf(topology: Topology): CompiledTopology {
  return entry(topology).compiled;
}

/** the Router of a topology and metric, once per Topology object and metric */
export function routerOf(topology: Topology, routing: RoutingMetric = "hops"): Router {
  const e = entry(topology);
  let r = e.routers.get(routing);
  if (!r) e.routers.set(routing, (r = new Router(e.compiled, routing)));
  return r;
}
