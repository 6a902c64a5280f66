/**
 * Replay workloads as files (`flow-workload-v1`, docs/format.md): reading one (the model parses
 * it) and making one (`migsim workload`).
 */
import { readFileSync } from "node:fs";
import { InputError } from "../core/errors.ts";
import { parseWorkload, type Workload } from "../network/replay.ts";
import { PythonRandom } from "./mt19937.ts";

export function loadWorkloadFile(file: string): Workload {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new InputError(`cannot read workload: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`not valid JSON: ${(e as Error).message}`, { file });
  }
  return parseWorkload(raw, file);
}

/** The two-level tree of the scaling benchmark: access links to a rack switch, uplinks to one core. */
export const TREE = {
  hostsPerRack: 40,
  accessBps: 1e9,
  accessLatency: 10e-6,
  uplinkBps: 10e9,
  uplinkLatency: 20e-6,
  minBytes: 1_000_000,
  maxBytes: 100_000_000,
} as const;

export interface WorkloadOptions {
  hosts: number;
  transfers: number;
  seed: number;
  hostsPerRack?: number;
}

/**
 * A `flow-workload-v1` document (docs/format.md): a two-level tree (racks of `hostsPerRack`
 * hosts, 1 Gbit/s 10 us access links, 10 Gbit/s 20 us uplinks, 4:1 oversubscribed) and Poisson
 * transfers at N/4 per second (each host starts one every 4 s on average), source uniform,
 * destination uniform among the others, sizes uniform integers in [1 MB, 100 MB], ids in start
 * order. Deterministic by seed, draw for draw the Python generator of the benchmark's workloads
 * (mt19937.ts says why).
 */
export function generateWorkload(o: WorkloadOptions): Record<string, unknown> {
  const perRack = o.hostsPerRack ?? TREE.hostsPerRack;
  const racks = o.hosts / perRack;
  const rng = new PythonRandom(o.seed);
  const rate = o.hosts / 4;
  const transfers: Array<{ id: number; src: number; dst: number; bytes: number; start: number }> = [];
  let t = 0;
  for (let i = 0; i < o.transfers; i++) {
    t += rng.expovariate(rate);
    const src = rng.randbelow(o.hosts);
    let dst = rng.randbelow(o.hosts - 1);
    if (dst >= src) dst++;
    transfers.push({ id: i, src, dst, bytes: rng.randint(TREE.minBytes, TREE.maxBytes), start: t });
  }
  const rackOf = (i: number): number => Math.floor(i / perRack);
  return {
    format: "flow-workload-v1",
    generator: "migsim workload",
    seed: o.seed,
    units: { bandwidth: "bit/s", latency: "s", bytes: "byte", time: "s" },
    topology: {
      type: "two-level-tree",
      hosts_per_rack: perRack,
      n_hosts: o.hosts,
      n_racks: racks,
      full_duplex: true,
      routing: "same rack: [a{src}, a{dst}]; otherwise [a{src}, u{rack(src)}, u{rack(dst)}, a{dst}]; rack(i) = i // hosts_per_rack",
    },
    hosts: Array.from({ length: o.hosts }, (_, i) => ({ id: i, name: `h${i}`, rack: rackOf(i) })),
    switches: [...Array.from({ length: racks }, (_, r) => `tor${r}`), "core"],
    links: [
      ...Array.from({ length: o.hosts }, (_, i) => ({ id: `a${i}`, a: `h${i}`, b: `tor${rackOf(i)}`, bandwidth_bps: TREE.accessBps, latency_s: TREE.accessLatency })),
      ...Array.from({ length: racks }, (_, r) => ({ id: `u${r}`, a: `tor${r}`, b: "core", bandwidth_bps: TREE.uplinkBps, latency_s: TREE.uplinkLatency })),
    ],
    transfer_generation: { arrivals: "poisson", rate_per_s: rate, bytes: [TREE.minBytes, TREE.maxBytes], pairs: "uniform src, uniform dst != src" },
    transfers,
  };
}
