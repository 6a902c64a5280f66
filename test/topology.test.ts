import test from "ava";
import { InputError } from "../src/core/errors.ts";
import { hostDiameter } from "../src/network/topology/analysis.ts";
import { compileTopology } from "../src/network/topology/compile.ts";
import { loadTopologyText } from "../src/network/topology/load.ts";
import { loadTopologyFile } from "../src/load/read-topology.ts";
import { Router } from "../src/network/topology/routing.ts";
import { makeRng } from "../src/core/random.ts";

const HEAD = "name: bad\nswitches: [s1, s2]\nhosts: [h1, h2]\nlinks:\n";

test("the explicit example loads with defaults, overrides and an asymmetric link", (t) => {
  const topo = loadTopologyFile("topologies/example-explicit.yaml");
  t.is(topo.name, "example-explicit");
  t.deepEqual(topo.hosts, ["h1", "h2", "h3", "h4", "h5"]);
  t.deepEqual(topo.switches, ["s1", "s2", "s3"]);
  t.is(topo.links.length, 7);
  const h1 = topo.links[0]!;
  t.like(h1, { a: "h1", b: "s2", capacity: 10e6, capacityBack: 10e6, latency: 0.0005, queue: 1000, mtu: 1500, line: 9 });
  const up = topo.links.find((l) => l.a === "s3")!;
  t.like(up, { capacity: 2e6, capacityBack: 8e6, latency: 0.002, queue: 100 });
  const c = compileTopology(topo);
  const d = c.portIndex.get("s3-eth3")!; // s3's third link: the uplink, direction s3 -> s1
  t.is(c.capacity[d], 2e6);
  t.is(c.capacity[d ^ 1], 8e6);
  t.is(hostDiameter(c).hops, 4);
  const p = new Router(c).route("h3", "h1");
  t.deepEqual(
    p.nodes.map((n) => c.names[n]),
    ["h3", "s3", "s1", "s2", "h1"],
  );
  t.is(p.bottleneck, 2e6);
});

test("hosts never forward: two hosts joined only through a host are disconnected", (t) => {
  const e = t.throws(
    () => loadTopologyText("name: x\nswitches: [s1, s2]\nhosts: [h1, h2, h3]\nlinks:\n  - { a: h1, b: s1 }\n  - { a: h2, b: s1 }\n  - { a: h2, b: s2 }\n  - { a: h3, b: s2 }\n", "x.yaml"),
    { instanceOf: InputError },
  );
  t.regex(e?.message ?? "", /disconnected/);
});

test("host diameter with a multi-homed host takes the shorter attachment", (t) => {
  const topo = loadTopologyText(
    "name: x\nswitches: [s1, s2, s3]\nhosts: [h1, h2, h3]\nlinks:\n  - { a: h1, b: s1 }\n  - { a: s1, b: s2 }\n  - { a: s2, b: s3 }\n  - { a: h2, b: s3 }\n  - { a: h3, b: s1 }\n  - { a: h3, b: s3 }\n",
  );
  const c = compileTopology(topo);
  // h1-h2: h1 s1 s2 s3 h2 = 4; h3 is 2 from both.
  t.deepEqual(hostDiameter(c), { hops: 4, from: "h1", to: "h2" });
});

interface Case {
  name: string;
  text: string;
  line: number;
  field: string;
  detail: RegExp;
}

const CASES: Case[] = [
  { name: "unknown node in a link", text: `${HEAD}  - { a: h1, b: s1 }\n  - { a: h2, b: s9 }\n  - { a: s1, b: s2 }\n`, line: 6, field: "links.1.b", detail: /unknown node "s9"/ },
  { name: "duplicate node name", text: "name: bad\nswitches: [s1, h1]\nhosts: [h1]\nlinks:\n  - { a: h1, b: s1 }\n", line: 2, field: "switches.1", detail: /duplicate node name "h1"/ },
  {
    name: "duplicate link (either direction)",
    text: `${HEAD}  - { a: h1, b: s1 }\n  - { a: h2, b: s1 }\n  - { a: s1, b: h1 }\n  - { a: s1, b: s2 }\n`,
    line: 7,
    field: "links.2",
    detail: /duplicate link between "s1" and "h1"/,
  },
  { name: "bare number capacity", text: `${HEAD}  - { a: h1, b: s1, capacity: 10 }\n  - { a: h2, b: s1 }\n  - { a: s1, b: s2 }\n`, line: 5, field: "links.0.capacity", detail: /bare number 10/ },
  {
    name: "bare number latency in defaults",
    text: `name: bad\ndefaults: { latency: 2 }\nswitches: [s1]\nhosts: [h1]\nlinks:\n  - { a: h1, b: s1 }\n`,
    line: 2,
    field: "defaults.latency",
    detail: /duration with a unit.*bare number 2/,
  },
  { name: "zero capacity", text: `${HEAD}  - { a: h1, b: s1 }\n  - { a: h2, b: s1, capacity: 0Mbps }\n  - { a: s1, b: s2 }\n`, line: 6, field: "links.1.capacity", detail: /positive/ },
  {
    name: "negative capacity",
    text: `${HEAD}  - { a: h1, b: s1, capacity: -5Mbps }\n  - { a: h2, b: s1 }\n  - { a: s1, b: s2 }\n`,
    line: 5,
    field: "links.0.capacity",
    detail: /expected a positive value, got "-5Mbps"/,
  },
  { name: "unknown unit", text: `${HEAD}  - { a: h1, b: s1, capacity: 10Mbit }\n  - { a: h2, b: s1 }\n  - { a: s1, b: s2 }\n`, line: 5, field: "links.0.capacity", detail: /unknown unit "Mbit"/ },
  { name: "host with no link", text: `${HEAD}  - { a: h1, b: s1 }\n  - { a: s1, b: s2 }\n`, line: 3, field: "hosts.1", detail: /host "h2" has no link/ },
  { name: "disconnected network", text: `${HEAD}  - { a: h1, b: s1 }\n  - { a: h2, b: s2 }\n`, line: 3, field: "hosts.1", detail: /disconnected/ },
  { name: "link to itself", text: `${HEAD}  - { a: h1, b: s1 }\n  - { a: h2, b: s1 }\n  - { a: s1, b: s1 }\n`, line: 7, field: "links.2", detail: /itself/ },
  { name: "unknown link field", text: `${HEAD}  - { a: h1, b: s1, bandwidth: 10Mbps }\n`, line: 5, field: "links.0.bandwidth", detail: /unknown field "bandwidth" \(expected one of a, b, capacity/ },
  { name: "bad node name", text: "name: bad\nswitches: [s1]\nhosts: [h-1]\nlinks:\n  - { a: h-1, b: s1 }\n", line: 3, field: "hosts.0", detail: /expected a node name/ },
  { name: "no hosts", text: "name: bad\nswitches: [s1]\n", line: 1, field: "hosts", detail: /at least one host/ },
  { name: "missing name", text: "switches: [s1]\nhosts: [h1]\nlinks:\n  - { a: h1, b: s1 }\n", line: 1, field: "name", detail: /missing/ },
];

for (const c of CASES) {
  test(`refused with file, line and field: ${c.name}`, (t) => {
    const e = t.throws(() => loadTopologyText(c.text, "bad.yaml"), { instanceOf: InputError });
    t.is(e?.location.file, "bad.yaml");
    t.is(e?.location.line, c.line);
    t.is(e?.location.field, c.field);
    t.regex(e?.detail ?? "", c.detail);
    t.false((e?.message ?? "").includes("\n"));
  });
}

/** Host-to-host diameter by brute force: one search per host through the Router. */
function bruteDiameter(text: string): number {
  const c = compileTopology(loadTopologyText(text));
  const r = new Router(c);
  let best = 0;
  for (const h of c.topology.hosts) {
    const d = r.distances(h);
    for (const g of c.topology.hosts) if (g !== h) best = Math.max(best, d[c.index.get(g)!]!);
  }
  return best;
}

test("host diameter matches brute force on random connected topologies", (t) => {
  const rng = makeRng(11);
  for (let trial = 0; trial < 60; trial++) {
    const S = 2 + Math.floor(rng() * 25);
    const H = 2 + Math.floor(rng() * 30);
    const multi = trial % 3 === 0; // some hosts on two switches
    const links: string[] = [];
    const pairs = new Set<string>();
    const add = (a: string, b: string): void => {
      const k = a < b ? `${a}|${b}` : `${b}|${a}`;
      if (a === b || pairs.has(k)) return;
      pairs.add(k);
      links.push(`  - { a: ${a}, b: ${b} }`);
    };
    for (let s = 2; s <= S; s++) add(`s${s}`, `s${1 + Math.floor(rng() * (s - 1))}`); // random tree
    const extra = Math.floor(rng() * S);
    for (let e = 0; e < extra; e++) add(`s${1 + Math.floor(rng() * S)}`, `s${1 + Math.floor(rng() * S)}`);
    for (let h = 1; h <= H; h++) {
      add(`h${h}`, `s${1 + Math.floor(rng() * S)}`);
      if (multi && rng() < 0.3) add(`h${h}`, `s${1 + Math.floor(rng() * S)}`);
    }
    const text = `name: r\nswitches: [${Array.from({ length: S }, (_, i) => `s${i + 1}`).join(", ")}]\nhosts: [${Array.from({ length: H }, (_, i) => `h${i + 1}`).join(", ")}]\nlinks:\n${links.join("\n")}\n`;
    const c = compileTopology(loadTopologyText(text));
    const d = hostDiameter(c);
    t.is(d.hops, bruteDiameter(text), text);
    // The witness pair is really that far apart.
    t.is(new Router(c).route(d.from, d.to).hops, d.hops);
  }
});
