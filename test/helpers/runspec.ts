/**
 * Test fixtures for migration/measurement tests: small hand-computable RunSpecs and policy
 * doubles (a fixed-destination policy and an MTD-like one with key requests and set-up messages).
 */
import { SimBackend } from "../../backends/sim/backend.ts";
import { DEFAULT_COSTS } from "../../src/migration/costs.ts";
import { createNetworkModel } from "../../src/network/index.ts";
import { DEFAULT_NETWORK_PARAMS } from "../../src/network/network-model.ts";
import type { LinkSpec, Topology } from "../../src/network/topology/topology-types.ts";
import type { Policy, PolicyPlan } from "../../src/policies/policy-types.ts";
import type { CostParams, MigrationSpec, RunSpec } from "../../src/formats/runspec.ts";

export function link(a: string, b: string, capacity: number, latency = 0): LinkSpec {
  return { a, b, capacity, capacityBack: capacity, latency, queue: 1000, mtu: 1500 };
}

/** a star: every host on switch s1 with the same capacity (bits per second) */
export function star(hosts: string[], capacity: number, latency = 0): Topology {
  return { name: "star", hosts, switches: ["s1"], links: hosts.map((h) => link(h, "s1", capacity, latency)) };
}

/** costs with round numbers: checkpoint 0.5 s + 1 MB/s, restore 2 s + 1 MB/s, no control bytes */
export const SIMPLE_COSTS: CostParams = {
  ...DEFAULT_COSTS,
  checkpointBase: 0.5,
  checkpointRate: 1e6,
  restoreBase: 2,
  restoreRate: 1e6,
  restorePerContainer: 0.5,
  compression: 1,
  sshHandshakeRtts: 9,
  // no SFTP per-file round trips unless a test sets them (hand-computed expectations)
  sftpFileRtts: 0,
  sftpFileCpu: 0,
  sshCipherRate: 1e9,
  decisionCompute: 0,
  killDuration: 0.6,
  startDuration: 0.5,
  statelessPrepare: 0.7,
  statelessSwitchover: 1,
  precopyThreshold: 100e3,
  precopyMaxRounds: 3,
  postcopyMinimal: 0.5e6,
  postcopyCheckpointBase: 0.5,
  postcopyRestoreBase: 2,
  postcopyChunk: 65536,
  postcopyFaultInterval: 1,
  postcopyRequestCpu: 0,
  postcopyClose: 0,
  controlBytes: 0,
};

export function migration(over: Partial<MigrationSpec> & { checkpoint?: number; dirtyRate?: number; memory?: number } = {}): MigrationSpec {
  const { checkpoint = 2e6, dirtyRate = 0, memory = checkpoint, ...rest } = over;
  return {
    container: { name: "app", checkpoint, memory, dirtyRate },
    source: "h1",
    candidates: ["h2"],
    destination: "h2",
    trigger: { kind: "at", at: 10 },
    mode: "cold",
    transport: "tcp",
    ...rest,
  };
}

export function runSpec(over: Partial<RunSpec> = {}): RunSpec {
  return {
    experiment: "test",
    cell: "c0",
    cellIndex: 0,
    run: 0,
    seed: 1,
    axes: {},
    // 8 Mbps = 1 MB/s of goodput with efficiency 1: transfer seconds = megabytes
    topology: star(["h1", "h2", "h3"], 8e6),
    network: { ...DEFAULT_NETWORK_PARAMS, model: "max-min", efficiency: 1 },
    costs: SIMPLE_COSTS,
    measurement: { period: 1 },
    traffic: [],
    migrations: [migration()],
    probes: [],
    policy: { name: "fixed", params: {} },
    manager: "h3",
    horizon: 1000,
    ...over,
  };
}

export const fixedPolicy: Policy = {
  name: "fixed",
  decide(input): PolicyPlan {
    return { destination: input.fixedDestination ?? input.candidates[0]!, keyRequests: [], computeSeconds: 0, setup: [] };
  },
};

/** MTD-like double: asks each listed host for a key (new connection each), then computes. */
export function keyPolicy(hosts: string[], computeSeconds: number, bytes: number): Policy {
  return {
    name: "keys",
    decide(input): PolicyPlan {
      return {
        destination: input.candidates[0]!,
        keyRequests: hosts.map((host) => ({ host, requestBytes: bytes, responseBytes: bytes, newConnection: true })),
        computeSeconds,
        setup: hosts.map((to) => ({ from: input.manager, to, bytes })),
      };
    },
  };
}

export function backend(policy: Policy = fixedPolicy, opts: { trace?: boolean; keepVib?: boolean } = {}): SimBackend {
  return new SimBackend({ createModel: (sim, topo, params, route) => createNetworkModel(sim, topo, params, { route }), resolvePolicy: async () => policy, ...opts });
}
