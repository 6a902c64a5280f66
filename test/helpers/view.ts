/** Test helper: a NetworkView over a Topology (routes by hop count, latency = path propagation, no VIB). */
import { staticView } from "../../src/policies/static-view.ts";
import type { LinkSpec, Topology } from "../../src/network/topology/topology-types.ts";
import type { VibReader } from "../../src/measurement/vib.ts";
import type { NetworkView, PolicyInput } from "../../src/policies/policy-types.ts";
import { makeRng, subRng } from "../../src/core/random.ts";

export function makeView(topology: Topology, options: { vib?: VibReader; now?: number } = {}): NetworkView {
  return { ...staticView(topology, "hops", options.now ?? 0), vib: options.vib };
}

/**
 * A policy's input on `topology` as the policy tests use it: h2 holds a 10 MB container, h3, h4
 * and h5 are the candidates, h1 manages; `extra` replaces any field (a view with VIB, params).
 */
export function policyInputOn(topology: Topology, seed: number, extra: Partial<PolicyInput> = {}): PolicyInput {
  return {
    view: makeView(topology),
    rng: makeRng(seed),
    keyRng: subRng(seed, "keys"),
    source: "h2",
    candidates: ["h3", "h4", "h5"],
    container: { name: "app", checkpoint: 10e6, memory: 64e6 },
    params: {},
    manager: "h1",
    ...extra,
  };
}

/** a link with test defaults: 5Mbps both ways, 1ms, 1000 packets, 1500B */
export function link(a: string, b: string, capacity = 5e6, latency = 1e-3): LinkSpec {
  return { a, b, capacity, capacityBack: capacity, latency, queue: 1000, mtu: 1500 };
}

/**
 * The paper's Fig. 3 as its text describes it: h1 (iperf client) and h2 (source) on s1; h3 two
 * switches from h2 (h2-s1-s2-h3) behind a 2Mbps link; h4 and h5 three switches away behind
 * s1-s3-s4, where h4's path has the largest minimum capacity (10Mbps) and h5's 5Mbps.
 * `homogeneous`: every link 5Mbps (h3 is still the unique fewest-switches candidate).
 * Latencies differ per link so formula (2) has distinct weights.
 */
export function fig3(homogeneous = false): Topology {
  const c = (bps: number): number => (homogeneous ? 5e6 : bps);
  return {
    name: homogeneous ? "fig3-homogeneous" : "fig3-heterogeneous",
    hosts: ["h1", "h2", "h3", "h4", "h5"],
    switches: ["s1", "s2", "s3", "s4"],
    links: [
      link("h1", "s1", c(10e6), 0.5e-3),
      link("h2", "s1", c(20e6), 0.5e-3),
      link("s1", "s2", c(2e6), 1e-3),
      link("s2", "h3", c(10e6), 0.5e-3),
      link("s1", "s3", c(10e6), 2e-3),
      link("s3", "s4", c(10e6), 2e-3),
      link("s4", "h4", c(10e6), 0.5e-3),
      link("s4", "h5", c(5e6), 3e-3),
    ],
  };
}
