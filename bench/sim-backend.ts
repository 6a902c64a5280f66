/**
 * Throughput of the sim backend on a Table-I-style run: 5 hosts on 4 switches (heterogeneous
 * capacities), one endless background TCP flow, one 10 MB cold migration over SSH at 125 s chosen
 * by the bandwidth policy, max-min model. Run: node --import tsx bench/sim-backend.ts [runs]
 */
import { SimBackend } from "../backends/sim/backend.ts";
import { DEFAULT_COSTS } from "../src/migration/costs.ts";
import { DEFAULT_NETWORK_PARAMS } from "../src/network/network-model.ts";
import type { LinkSpec, Topology } from "../src/network/topology/topology-types.ts";
import type { RunSpec } from "../src/formats/runspec.ts";

const L = (a: string, b: string, capacity: number): LinkSpec => ({ a, b, capacity, capacityBack: capacity, latency: 0.0005, queue: 1000, mtu: 1500 });
const topology: Topology = {
  name: "fig3-like",
  hosts: ["h1", "h2", "h3", "h4", "h5"],
  switches: ["s1", "s2", "s3", "s4"],
  links: [L("h1", "s1", 10e6), L("h2", "s1", 10e6), L("s1", "s2", 2e6), L("s1", "s3", 5e6), L("s3", "s4", 5e6), L("h3", "s2", 10e6), L("h4", "s3", 10e6), L("h5", "s4", 10e6)],
};
const policy = process.argv[3] ?? "bandwidth";
const spec = (run: number): RunSpec => ({
  experiment: "bench",
  cell: "c0",
  cellIndex: 0,
  run,
  seed: run + 1,
  axes: {},
  topology,
  network: { ...DEFAULT_NETWORK_PARAMS, model: "max-min" },
  costs: DEFAULT_COSTS,
  measurement: { period: 1 },
  traffic: [{ from: "h1", to: "h2", kind: "tcp", start: 0 }],
  migrations: [
    { container: { name: "app", checkpoint: 10e6, memory: 64e6, dirtyRate: 0 }, source: "h2", candidates: ["h3", "h4", "h5"], trigger: { kind: "at", at: 125 }, mode: "cold", transport: "ssh" },
  ],
  probes: [],
  policy: { name: policy, params: {} },
  manager: "h1",
  horizon: 1000,
});

const n = Number(process.argv[2] ?? 20000);
const backend = new SimBackend();
const specs = Array.from({ length: n }, (_, i) => spec(i));
for (let i = 0; i < 2000; i++) await backend.execute(specs[i % n]!); // warm-up
const t0 = performance.now();
let check = 0;
for (const s of specs) check += (await backend.execute(s)).records[0]!.total_s;
const ms = performance.now() - t0;
console.log(`sim backend, ${policy}: ${n} runs in ${ms.toFixed(0)} ms: ${((ms / n) * 1000).toFixed(1)} us/run, ${Math.round((n / ms) * 1000)} runs/s (mean total ${(check / n).toFixed(3)} s)`);
