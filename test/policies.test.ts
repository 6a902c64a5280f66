import test from "ava";
import { InputError } from "../src/core/errors.ts";
import { builtinPolicies, resolvePolicy } from "../src/policies/registry.ts";
import type { VibReader } from "../src/measurement/vib.ts";
import type { Policy, PolicyInput, PolicyPlan } from "../src/policies/policy-types.ts";
import type { Topology } from "../src/network/topology/topology-types.ts";
import { fig3, link, makeView, policyInputOn } from "./helpers/view.ts";
import { pickMax, pickMaxAt, reachableCandidates, reachableView } from "../src/policies/common.ts";
import { makeRng } from "../src/core/random.ts";

const CANDIDATES = ["h3", "h4", "h5"];

const input = policyInputOn;

function policy(name: string): Policy {
  const p = builtinPolicies.get(name);
  if (!p) throw new Error(`no policy ${name}`);
  return p;
}

function choices(name: string, topology: Topology, runs: number, extra: Partial<PolicyInput> = {}): Map<string, number> {
  const counts = new Map<string, number>();
  for (let s = 0; s < runs; s++) {
    const d = policy(name).decide(input(topology, s, extra)).destination;
    counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  return counts;
}

/** chi-square statistic of observed counts against expected probabilities */
function chiSquare(counts: Map<string, number>, expected: Record<string, number>): number {
  const n = [...counts.values()].reduce((a, b) => a + b, 0);
  let x2 = 0;
  for (const [k, p] of Object.entries(expected)) {
    const o = counts.get(k) ?? 0;
    x2 += (o - n * p) ** 2 / (n * p);
  }
  return x2;
}
// upper 1% points of the chi-square distribution
const CHI2_99 = { 1: 6.635, 2: 9.21, 3: 11.345 } as const;

test("the test topology satisfies the paper's text", (t) => {
  const v = makeView(fig3());
  t.is(v.route("h2", "h3").switches, 2);
  t.deepEqual(
    v.route("h2", "h3").nodes.map((n) => v.topo.names[n]),
    ["h2", "s1", "s2", "h3"],
  );
  t.is(v.route("h2", "h4").bottleneck, 10e6);
  t.true(v.route("h2", "h5").bottleneck < 10e6 && v.route("h2", "h3").bottleneck < 10e6);
  t.true(v.route("h2", "h4").switches > 2 && v.route("h2", "h5").switches > 2);
});

test("heterogeneous: bandwidth always picks h4 (10Mbps bottleneck), shortest-path always h3", (t) => {
  t.deepEqual([...choices("bandwidth", fig3(), 50)], [["h4", 50]]);
  t.deepEqual([...choices("shortest-path", fig3(), 50)], [["h3", 50]]);
  const plan = policy("bandwidth").decide(input(fig3(), 1));
  t.regex(plan.note ?? "", /10Mbps/);
});

test("homogeneous: bandwidth spreads over all candidates, shortest-path stays on h3", (t) => {
  const bw = choices("bandwidth", fig3(true), 600);
  t.deepEqual([...bw.keys()].sort(), CANDIDATES);
  t.true(chiSquare(bw, { h3: 1 / 3, h4: 1 / 3, h5: 1 / 3 }) < CHI2_99[2]);
  t.deepEqual([...choices("shortest-path", fig3(true), 50)], [["h3", 50]]);
});

test("random is uniform over the candidates (chi-square, df 2, 1%)", (t) => {
  const counts = choices("random", fig3(), 3000);
  const x2 = chiSquare(counts, { h3: 1 / 3, h4: 1 / 3, h5: 1 / 3 });
  t.log(`random: ${JSON.stringify([...counts])}, chi2 = ${x2.toFixed(2)}`);
  t.true(x2 < CHI2_99[2]);
  // and the test has power: the same counts are far from a skewed distribution
  t.true(chiSquare(counts, { h3: 0.5, h4: 0.25, h5: 0.25 }) > CHI2_99[2]);
});

function vibWithSpare(spare: Map<number, number>): VibReader {
  return {
    ports: () => [],
    portSeries: () => [],
    switchSeries: () => [],
    lastPort: () => undefined,
    spareCapacity: (l) => spare.get(l),
  };
}

test("available-bandwidth uses measured spare capacity and falls back to nominal", (t) => {
  const topo = fig3();
  const base = makeView(topo);
  // s3 -> s4 measured nearly full: h4 and h5 paths drop to 1Mbps, so h3 (2Mbps nominal) wins
  const s3s4 = base.route("h2", "h4").links.find((l) => base.topo.names[base.topo.from[l]!] === "s3")!;
  const view = { ...base, vib: vibWithSpare(new Map([[s3s4, 1e6]])) };
  const plan = policy("available-bandwidth").decide({ ...input(topo, 3), view });
  t.is(plan.destination, "h3");
  t.regex(plan.note ?? "", /nominal capacity used for \d+ of \d+/);
  // with no VIB it equals the bandwidth policy and says so
  const plain = policy("available-bandwidth").decide(input(topo, 3));
  t.is(plain.destination, "h4");
  t.regex(plain.note ?? "", /no VIB/);
});

test("fixed returns the migration's destination and refuses bad ones", (t) => {
  t.is(policy("fixed").decide(input(fig3(), 1, { fixedDestination: "h5" })).destination, "h5");
  t.throws(() => policy("fixed").decide(input(fig3(), 1)), { instanceOf: InputError, message: /needs the migration's destination/ });
  t.throws(() => policy("fixed").decide(input(fig3(), 1, { fixedDestination: "h1" })), { instanceOf: InputError, message: /not one of the candidates/ });
  t.throws(() => policy("fixed").decide(input(fig3(), 1, { fixedDestination: "h2" })), { instanceOf: InputError, message: /is the source/ });
});

const ALL = [...builtinPolicies.keys()];

function serial(plan: PolicyPlan): string {
  return JSON.stringify(plan);
}

test("every builtin is deterministic for a seed and never returns the source", (t) => {
  t.true(ALL.length >= 8);
  for (const name of ALL) {
    const extra = name === "fixed" ? { fixedDestination: "h4" } : {};
    for (let s = 0; s < 25; s++) {
      // the source listed among the candidates must still never be chosen
      const a = policy(name).decide(input(fig3(), s, { ...extra, candidates: ["h2", ...CANDIDATES] }));
      const b = policy(name).decide(input(fig3(), s, { ...extra, candidates: ["h2", ...CANDIDATES] }));
      t.is(serial(a), serial(b), `${name} seed ${s}`);
      t.not(a.destination, "h2");
      t.true(CANDIDATES.includes(a.destination));
    }
  }
});

test("unreachable candidates are dropped; none left is an InputError", (t) => {
  // h6 and h7 sit on an island: a switch with no link to the rest
  const topo = fig3();
  const island: Topology = {
    ...topo,
    hosts: [...topo.hosts, "h6", "h7"],
    switches: [...topo.switches, "s9"],
    links: [...topo.links, link("h6", "s9"), link("h7", "s9")],
  };
  for (const name of ALL.filter((n) => n !== "fixed")) {
    const plan = policy(name).decide(input(island, 2, { candidates: ["h6", "h5"] }));
    t.is(plan.destination, "h5", name);
    const err = t.throws(() => policy(name).decide(input(island, 2, { candidates: ["h6", "h7"] })), { instanceOf: InputError });
    t.regex(err.message, /no candidate host is reachable from the source h2/, name);
  }
  t.throws(() => policy("fixed").decide(input(island, 2, { candidates: ["h6", "h5"], fixedDestination: "h6" })), {
    instanceOf: InputError,
    message: /not reachable/,
  });
});

test("unknown policies and parameters are clear InputErrors", async (t) => {
  await t.throwsAsync(resolvePolicy({ name: "nope", params: {} }), { instanceOf: InputError, message: /unknown policy "nope".*bandwidth/ });
  t.is((await resolvePolicy({ name: "bandwidth", params: {} })).name, "bandwidth");
  t.throws(() => policy("bandwidth").validate!({ k: 3 }, { hosts: 5, candidates: 3 }), { instanceOf: InputError, message: /unknown parameter "k"/ });
  t.throws(() => policy("random").decide(input(fig3(), 1, { params: { compute: 5 } })), { instanceOf: InputError, message: /random.compute: .*bare number/ });
  t.notThrows(() => policy("random").validate!({ compute: "2ms" }, { hosts: 5, candidates: 3 }));
  t.is(policy("random").decide(input(fig3(), 1, { params: { compute: "2ms" } })).computeSeconds, 0.002);
});

test("only available-bandwidth reads the VIB among the builtins (readsVib), and the registry keeps the flag", (t) => {
  const reading = [...builtinPolicies.values()].filter((p) => p.readsVib !== false).map((p) => p.name);
  t.deepEqual(reading, ["available-bandwidth"]);
});

/** fig3 with an island (h6, h7 behind a switch linked to nothing else) */
function withIsland(): Topology {
  const topo = fig3();
  return { ...topo, hosts: [...topo.hosts, "h6", "h7"], switches: [...topo.switches, "s9"], links: [...topo.links, link("h6", "s9"), link("h7", "s9")] };
}

test("reachableView reads the route table by position: the candidates of reachableCandidates, in their order, with their routes", (t) => {
  // the source, a duplicate and unreachable hosts among the candidates
  const candidates = ["h5", "h2", "h6", "h3", "h5", "h1", "h4", "h7"];
  for (const source of ["h2", "h4", "h6"]) {
    const i = input(withIsland(), 1, { source, candidates });
    if (source === "h6") {
      // only h7 is reachable from the island
      t.deepEqual(
        reachableCandidates("test", i).map((c) => c.host),
        ["h7"],
      );
    }
    const objects = reachableCandidates("test", i);
    const view = reachableView("test", i);
    t.is(view.size, objects.length, source);
    for (let k = 0; k < view.size; k++) {
      t.is(view.host(k), objects[k]!.host);
      t.is(view.bottleneck(k), objects[k]!.bottleneck);
      t.is(view.switches(k), objects[k]!.switches);
      t.is(objects[k]!.path().bottleneck, objects[k]!.bottleneck);
    }
    // one list per (route table, candidate list): the objects are kept, not rebuilt per decision
    t.is(reachableCandidates("test", i), objects);
  }
  t.throws(() => reachableView("test", input(withIsland(), 1, { candidates: ["h6", "h7"] })), { instanceOf: InputError, message: /no candidate host is reachable/ });
  t.throws(() => reachableView("test", input(withIsland(), 1, { source: "s1" })), { instanceOf: InputError, message: /source s1 is not a host/ });
  t.throws(() => reachableView("test", input(withIsland(), 1, { candidates: ["h3", "s2"] })), { instanceOf: InputError, message: /candidate s2 is not a host/ });
});

test("pickMaxAt draws among the positions pickMax draws among, with the same stream", (t) => {
  const scores = [3, 7, 7, 1, 7 * (1 + 1e-12), 2];
  for (let seed = 0; seed < 20; seed++) {
    const byItem = pickMax(scores, (x) => x, makeRng(seed));
    const byPosition = pickMaxAt(scores.length, (k) => scores[k]!, makeRng(seed));
    t.deepEqual(byPosition.ties, [1, 2, 4]);
    t.is(scores[byPosition.chosen], byItem.chosen);
    t.deepEqual(
      byPosition.ties.map((k) => scores[k]),
      byItem.ties,
    );
  }
});

test("every builtin decides alike on a view with route tables and on one without (each candidate routed on its own)", (t) => {
  const candidates = ["h5", "h2", "h6", "h3", "h4", "h7"];
  for (const name of ALL) {
    const extra = name === "fixed" ? { fixedDestination: "h4" } : {};
    for (let s = 0; s < 10; s++) {
      const tables = input(withIsland(), s, { ...extra, candidates });
      const { routesFrom: _, ...withoutTables } = tables.view;
      const plain = input(withIsland(), s, { ...extra, candidates, view: withoutTables });
      t.is(serial(policy(name).decide(tables)), serial(policy(name).decide(plain)), `${name} seed ${s}`);
    }
  }
});

test("the static view's latency is the route's propagation, pair for pair (read from route tables)", (t) => {
  const view = makeView(withIsland());
  const reachable = ["h1", "h2", "h3", "h4", "h5"];
  for (const a of reachable) for (const b of reachable) t.is(view.latency(a, b), view.route(a, b).propagation, `${a} -> ${b}`);
  t.throws(() => view.latency("h2", "h6"), { message: /no route from h2 to h6/ });
});
