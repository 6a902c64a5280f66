/**
 * Topologies at scale: generating, validating and compiling 100,000-host topologies, and the
 * host-to-host diameter `migsim topo` prints. Wall time of one run each (after one warm-up of a
 * small instance), in this process.
 */
import { hostDiameter } from "../src/network/topology/analysis.ts";
import { compileTopology } from "../src/network/topology/compile.ts";
import { loadTopologyText } from "../src/network/topology/load.ts";

const CASES: Array<[string, string]> = [
  ["fat-tree k=74 (101,306 hosts)", "{ kind: fat-tree, k: 74, capacity: { dist: log-uniform, min: 1Mbps, max: 1Gbps } }"],
  ["tree depth 5 fanout 10 (100,000 hosts)", "{ kind: tree, depth: 5, fanout: 10, capacity: [10Mbps, 100Mbps, 1Gbps] }"],
  ["star n=100,000", "{ kind: star, n: 100000 }"],
  ["linear n=100,000", "{ kind: linear, n: 100000 }"],
  ["full-mesh n=1,000 (500,500 links)", "{ kind: full-mesh, n: 1000 }"],
];

const ms = (t0: bigint): string => `${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(0)} ms`.padStart(8);

loadTopologyText("name: warm\ngenerate: { kind: fat-tree, k: 8 }\n");
for (const [label, spec] of CASES) {
  const t0 = process.hrtime.bigint();
  const topo = loadTopologyText(`name: bench\ngenerate: ${spec}\n`);
  const load = ms(t0);
  const t1 = process.hrtime.bigint();
  const c = compileTopology(topo);
  const compile = ms(t1);
  const t2 = process.hrtime.bigint();
  const hops = hostDiameter(c).hops;
  const diameter = `${ms(t2)} (${hops} hops)`;
  process.stdout.write(`${label.padEnd(40)} generate+validate ${load} | compile ${compile} | diameter ${diameter}\n`);
}
