/** The graphology view of a topology: what `view.graph` gives plugins, and the path questions on it. */
import test from "ava";
import { compileTopology } from "../src/network/topology/compile.ts";
import { allShortestPaths, kShortestPaths, pathAlong, toGraph } from "../src/network/topology/graph.ts";
import { Router } from "../src/network/topology/routing.ts";
import { fig3, link, makeView } from "./helpers/view.ts";

/** a ring of 4 switches with one host on s1 and one on s3: two equal shortest paths */
const RING = {
  name: "ring",
  hosts: ["h1", "h3"],
  switches: ["s1", "s2", "s3", "s4"],
  links: [link("h1", "s1"), link("s1", "s2"), link("s2", "s3"), link("s3", "s4"), link("s4", "s1"), link("s3", "h3")],
};

test("toGraph: hosts and switches told apart, one edge per link with its values", (t) => {
  const g = toGraph(fig3());
  t.is(g.order, 9);
  t.is(g.size, 8);
  t.is(g.getNodeAttribute("h1", "kind"), "host");
  t.is(g.getNodeAttribute("s4", "kind"), "switch");
  t.like(g.getEdgeAttributes(g.edge("s1", "s2")!), { link: 2, capacity: 2e6, latency: 1e-3 });
});

test("every shortest path of a ring, in a stable order; hosts are never transit nodes", (t) => {
  const g = toGraph(RING);
  t.deepEqual(allShortestPaths(g, "h1", "h3"), [
    ["h1", "s1", "s2", "s3", "h3"],
    ["h1", "s1", "s4", "s3", "h3"],
  ]);
  // a host between two switches does not carry transit traffic
  const through = { ...RING, hosts: ["h1", "h3", "hx"], links: [link("h1", "s1"), link("s1", "hx"), link("hx", "s3"), link("s3", "h3")] };
  t.deepEqual(allShortestPaths(toGraph(through), "h1", "h3"), []);
});

test("k shortest: the shortest first, then longer loop-free paths; fewer when fewer exist", (t) => {
  const g = toGraph(fig3());
  t.deepEqual(kShortestPaths(g, "h2", "h4", 5), [["h2", "s1", "s3", "s4", "h4"]]);
  const ring = toGraph({ ...RING, links: [...RING.links, link("s2", "s4")] });
  const k = kShortestPaths(ring, "h1", "h3", 10);
  t.deepEqual(k.slice(0, 2), allShortestPaths(ring, "h1", "h3"));
  t.deepEqual(
    k.map((p) => p.length),
    [5, 5, 6, 6],
  );
  for (const p of k) t.is(new Set(p).size, p.length);
});

test("pathAlong gives the Path the router gives for the same nodes", (t) => {
  const c = compileTopology(fig3());
  const r = new Router(c, "hops").route("h2", "h5");
  t.deepEqual(
    pathAlong(
      c,
      r.nodes.map((n) => c.names[n]!),
    ),
    r,
  );
});

test("a policy's view carries the graph, fresh per view (a decision may modify its copy)", (t) => {
  const v1 = makeView(fig3());
  const v2 = makeView(fig3());
  t.is(v1.graph.order, 9);
  v1.graph.dropNode("h5");
  t.true(v2.graph.hasNode("h5"));
  t.deepEqual(allShortestPaths(v2.graph, "h2", "h3"), [["h2", "s1", "s2", "h3"]]);
});
