/**
 * `migsim topo` through the real CLI (node bin/migsim.js on the build in dist/, which `npm test`
 * makes before ava runs): summaries, paths, JSON, drawings and every refusal of bad input.
 */
import test from "ava";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "migsim-topo-"));

function migsim(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["bin/migsim.js", ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

const HEAD = "name: bad\nswitches: [s1, s2]\nhosts: [h1, h2]\nlinks:\n";

test("summary of a generated tree", (t) => {
  const r = migsim("topo", "topologies/tree.yaml");
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /hosts +9\n/);
  t.regex(r.stdout, /switches +4\n/);
  t.regex(r.stdout, /links +12\n/);
  t.regex(r.stdout, /diameter +4 hops between hosts/);
  t.regex(r.stdout, /capacity +10Mbps \.\. 100Mbps/);
  t.regex(r.stdout, /latency +500us\n/);
});

test("--json gives the summary as data", (t) => {
  const r = migsim("topo", "topologies/fat-tree.yaml", "--json");
  t.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as Record<string, unknown>;
  t.like(j, { name: "fat-tree-k4", hosts: 16, switches: 20, links: 48, seed: 1, capacity_bps: { min: 1e8, max: 1e9 } });
  t.is((j.diameter as { hops: number }).hops, 6);
  const lat = j.latency_s as { min: number; max: number };
  t.is(lat.min, 0.0001);
  t.true(lat.max > 0.001 && lat.max <= 0.002);
});

test("--seed changes drawn capacities and repeats them", (t) => {
  const cap = (seed: string): unknown => (JSON.parse(migsim("topo", "topologies/full-mesh.yaml", "--json", "--seed", seed).stdout) as { capacity_bps: unknown }).capacity_bps;
  t.deepEqual(cap("7"), cap("7"));
  t.notDeepEqual(cap("7"), cap("8"));
});

test("--paths lists every host pair; --paths a,b one route", (t) => {
  const all = migsim("topo", "topologies/tree.yaml", "--paths");
  t.is(all.status, 0, all.stderr);
  const lines = all.stdout.split("\n").filter((l) => / -> /.test(l));
  t.is(lines.length, (9 * 8) / 2);
  const one = migsim("topo", "topologies/tree.yaml", "--paths", "h1,h9");
  t.regex(one.stdout, /h1 -> h9: h1 s2 s1 s4 h9 \(4 hops, 3 switches, bottleneck 10Mbps, propagation 2ms\)/);
  const j = JSON.parse(migsim("topo", "topologies/linear.yaml", "--json", "--paths", "h1,h4").stdout) as { paths: Array<Record<string, unknown>> };
  t.deepEqual(j.paths[0]!.nodes, ["h1", "s1", "s2", "s3", "s4", "h4"]);
  t.deepEqual(j.paths[0]!.ports, ["h1-eth0", "s1-eth2", "s2-eth3", "s3-eth3", "s4-eth1"]);
});

test("--paths a,b lists every shortest path of a fat-tree pair; --k the k shortest, longer ones after", (t) => {
  const lines = (...args: string[]): string[] =>
    migsim("topo", "topologies/fat-tree.yaml", ...args)
      .stdout.split("\n")
      .filter((l) => / -> /.test(l));
  // across pods of a k=4 fat-tree: 2 aggregation switches x 2 cores each = 4 equal-cost paths
  const all = lines("--paths", "h1,h16");
  t.is(all.length, 4);
  t.true(all.every((l) => l.includes("(6 hops")));
  t.is(new Set(all).size, 4);
  const k = lines("--paths", "h1,h16", "--k", "6");
  t.deepEqual(k.slice(0, 4), all);
  t.true(
    k.slice(4).every((l) => l.includes("(8 hops")),
    k.join("\n"),
  );
  // loop-free: no node twice on a path
  for (const l of k) {
    const nodes = l.split(": ")[1]!.split(" (")[0]!.split(" ");
    t.is(new Set(nodes).size, nodes.length, l);
  }
  const bad = migsim("topo", "topologies/fat-tree.yaml", "--k", "2");
  t.is(bad.status, 2);
  t.regex(bad.stderr, /^migsim: --k: expected --paths a,b with --k/);
});

test("--paths with an unknown node is refused", (t) => {
  const r = migsim("topo", "topologies/tree.yaml", "--paths", "h1,h99");
  t.is(r.status, 2);
  t.regex(r.stderr, /^migsim: --paths: unknown node "h99"/);
});

test("--draw writes an SVG atomically with hosts and switches told apart", (t) => {
  const out = join(dir, "fat.svg");
  const r = migsim("topo", "topologies/fat-tree.yaml", "--draw", out);
  t.is(r.status, 0, r.stderr);
  const svg = readFileSync(out, "utf8");
  t.true(svg.startsWith("<svg"));
  t.is(svg.match(/<circle [^>]*r="14"/g)?.length, 16);
  t.is(svg.match(/<rect [^>]*rx="4"/g)?.length, 20);
  t.is(svg.match(/<line x1/g)!.length >= 48, true);
  t.regex(svg, /1Gbps/);
  t.false(readdirSync(dir).some((f) => f.includes(".tmp-")));
});

test("--draw x.png writes a PNG (not SVG text under a .png name); another extension is refused", (t) => {
  const out = join(dir, "tree.png");
  const r = migsim("topo", "topologies/tree.yaml", "--draw", out);
  t.is(r.status, 0, r.stderr);
  const png = readFileSync(out);
  t.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const bad = migsim("topo", "topologies/tree.yaml", "--draw", join(dir, "tree.jpg"));
  t.is(bad.status, 2);
  t.regex(bad.stderr, /^migsim: --draw: expected a file name ending in \.svg or \.png, got "tree\.jpg"\n$/);
  t.false(existsSync(join(dir, "tree.jpg")));
});

test("the capacity legend lists only capacities a link has", (t) => {
  const chain = file(
    "chain.yaml",
    "name: chain\nswitches: [s1, s2, s3]\nhosts: [h1, h2, h3]\nlinks:\n" +
      "  - { a: h1, b: s1, capacity: 50Mbps }\n  - { a: h2, b: s2, capacity: 100Mbps }\n  - { a: h3, b: s3, capacity: 50Mbps }\n" +
      "  - { a: s1, b: s2, capacity: 100Mbps }\n  - { a: s2, b: s3, capacity: 100Mbps }\n",
  );
  const out = join(dir, "chain.svg");
  const r = migsim("topo", chain, "--draw", out);
  t.is(r.status, 0, r.stderr);
  const svg = readFileSync(out, "utf8");
  const legend = svg.slice(svg.indexOf(">capacity</text>"));
  t.deepEqual(
    [...legend.matchAll(/>([^<]+bps)<\/text>/g)].map((m) => m[1]),
    ["50Mbps", "100Mbps"],
  );
});

test("--draw into a missing folder and drawings too large are refused", (t) => {
  const r = migsim("topo", "topologies/tree.yaml", "--draw", join(dir, "no/such/dir/x.svg"));
  t.is(r.status, 2);
  t.regex(r.stderr, /cannot write the drawing/);
  const big = file("big.yaml", "name: big\ngenerate: { kind: star, n: 5000 }\n");
  const r2 = migsim("topo", big, "--draw", join(dir, "big.svg"));
  t.is(r2.status, 2);
  t.regex(r2.stderr, /cannot draw 5001 nodes/);
  t.false(existsSync(join(dir, "big.svg")));
});

const BAD: Array<[string, string, RegExp]> = [
  ["unknown-node", `${HEAD}  - { a: h1, b: s1 }\n  - { a: h2, b: s9 }\n  - { a: s1, b: s2 }\n`, /:6:\d+: links\.1\.b: unknown node "s9"/],
  ["duplicate-name", "name: bad\nswitches: [s1]\nhosts: [h1, h1]\nlinks:\n  - { a: h1, b: s1 }\n", /:3:\d+: hosts\.1: duplicate node name "h1"/],
  ["duplicate-link", `${HEAD}  - { a: h1, b: s1 }\n  - { a: h2, b: s1 }\n  - { a: s1, b: h1 }\n  - { a: s1, b: s2 }\n`, /:7:\d+: links\.2: duplicate link/],
  ["bare-number", `${HEAD}  - { a: h1, b: s1 }\n  - { a: h2, b: s1, latency: 5 }\n  - { a: s1, b: s2 }\n`, /:6:\d+: links\.1\.latency: expected a duration with a unit .* bare number 5/],
  ["zero-capacity", `${HEAD}  - { a: h1, b: s1, capacity: 0bps }\n  - { a: h2, b: s1 }\n  - { a: s1, b: s2 }\n`, /:5:\d+: links\.0\.capacity: expected a positive value/],
  ["host-no-link", `${HEAD}  - { a: h1, b: s1 }\n  - { a: s1, b: s2 }\n`, /:3:\d+: hosts\.1: host "h2" has no link/],
  ["disconnected", `${HEAD}  - { a: h1, b: s1 }\n  - { a: h2, b: s2 }\n`, /:3:\d+: hosts\.1: .*disconnected/],
  ["generator-bare", "name: g\ngenerate:\n  kind: star\n  n: 4\n  capacity: 100\n", /:5:\d+: generate\.capacity: expected a rate with a unit/],
  ["generator-odd-k", "name: g\ngenerate:\n  kind: fat-tree\n  k: 3\n", /:4:\d+: generate\.k: expected an even k/],
  ["yaml-syntax", "name: [unclosed\n", /YAML syntax error/],
];

for (const [name, text, expected] of BAD) {
  test(`refused through the CLI, one line, exit 2: ${name}`, (t) => {
    const f = file(`${name}.yaml`, text);
    const r = migsim("topo", f);
    t.is(r.status, 2);
    t.is(r.stdout, "");
    const lines = r.stderr.trimEnd().split("\n");
    t.is(lines.length, 1, r.stderr);
    t.true(lines[0]!.startsWith(`migsim: ${f}:`), lines[0]);
    t.regex(lines[0]!, expected);
    t.notRegex(r.stderr, /\n\s+at /);
  });
}

test("--debug adds the stack trace to a refusal", (t) => {
  const f = file("debug.yaml", `${HEAD}  - { a: h1, b: s1 }\n  - { a: s1, b: s2 }\n`);
  const r = migsim("topo", f, "--debug");
  t.is(r.status, 2);
  t.regex(r.stderr, /has no link/);
  t.regex(r.stderr, /\n\s+at /);
});

test("a missing file is refused", (t) => {
  const r = migsim("topo", join(dir, "nope.yaml"));
  t.is(r.status, 2);
  t.regex(r.stderr, /nope\.yaml: no such file/);
});

test("--paths for every pair of a huge topology is refused, one pair still works", (t) => {
  const f = file("huge.yaml", "name: huge\ngenerate: { kind: star, n: 2000 }\n");
  const r = migsim("topo", f, "--paths");
  t.is(r.status, 2);
  t.regex(r.stderr, /1999000 pairs; expected at most 1000000/);
  const one = migsim("topo", f, "--paths", "h1,h2000");
  t.is(one.status, 0, one.stderr);
  t.regex(one.stdout, /h1 -> h2000: h1 s1 h2000 \(2 hops/);
});
