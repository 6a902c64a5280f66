/**
 * The policy contract: pure decision logic. A policy gets a read-only view of the network and a
 * seeded RNG and returns a plan; backends execute plans (the simulator in simulated time, the
 * Mininet backend for real), so both run the very same policy code.
 */
import type { TopologyGraph } from "../network/topology/graph.ts";
import type { RouteTable } from "../network/topology/routing.ts";
import type { CompiledTopology, Path } from "../network/topology/topology-types.ts";
import type { VibReader } from "../measurement/vib.ts";

import type { Rng } from "../core/random.ts";
export type { Rng };

export interface NetworkView {
  /** the compiled arrays (node and directed-link ids), what routing and the models read */
  readonly topo: CompiledTopology;
  /**
   * the topology as a graphology graph, for path questions (`allShortestPaths`,
   * `kShortestPaths`, or any graphology library); built on first use, a fresh one per decision,
   * so a policy may modify its copy without touching another decision's
   */
  readonly graph: TopologyGraph;
  /** the route the network uses between two hosts */
  route(src: string, dst: string): Path;
  /**
   * the same routes from one source to every node, summarised (hops, switches, propagation,
   * bottleneck by node id); optional: policies fall back to `route` per candidate without it
   */
  routesFrom?(src: string): RouteTable;
  /**
   * latency estimate between two hosts as the controller knows it (propagation + measured
   * queueing), seconds; formula (2) of the paper uses it
   */
  latency(src: string, dst: string): number;
  /**
   * `latency(src, host)` by the host's node index, for hosts `src` reaches; optional: a view
   * whose latency is a route's propagation offers it from the source's route table (formula (2)
   * weighs every key holder of a data center on every decision)
   */
  latencyByNode?(src: string): (node: number) => number;
  /** measured statistics; undefined when no collector runs */
  readonly vib: VibReader | undefined;
  /** simulated time of the decision, seconds */
  readonly now: number;
}

export interface PolicyInput {
  view: NetworkView;
  /** the decision's draws: the destination of `random`, tie-breaks, which key holders are asked */
  rng: Rng;
  /** key material (MTD secrets, tables, R): its own stream, so keying never shifts `rng`'s draws */
  keyRng: Rng;
  source: string;
  /** free candidate hosts, source excluded, in the order the experiment lists them */
  candidates: readonly string[];
  container: { name: string; checkpoint: number; memory: number };
  params: Readonly<Record<string, unknown>>;
  /** manager host, which holds the MTD master secret */
  manager: string;
  /** `destination` of the migration, for the `fixed` policy */
  fixedDestination?: string | undefined;
}

/** One key request of MTD key retrieval: the source asks `host`, which answers `responseBytes`. */
export interface KeyRequest {
  host: string;
  requestBytes: number;
  responseBytes: number;
  /** open a new connection for this request */
  newConnection: boolean;
}

/** A one-way message the manager sends during MTD set-up (table + key material to a host). */
export interface SetupMessage {
  readonly from: string;
  readonly to: string;
  readonly bytes: number;
}

export interface PolicyPlan {
  destination: string;
  /** sequential key requests made by the source before it knows the destination (MTD) */
  keyRequests: KeyRequest[];
  /** seconds of computation at the source for the decision (hashing, reconstruction, decryption) */
  computeSeconds: number;
  /** MTD set-up messages, reported separately as set-up time */
  setup: readonly SetupMessage[];
  /** how the manager sends them (default: before this migration, one after the other) */
  rekey?: RekeySchedule | undefined;
  /** free text for the record's note (never secrets) */
  note?: string | undefined;
  /** what the MTD key retrieval did (MTD policies only; public facts, never secrets) */
  mtd?: MtdSummary | undefined;
}

/**
 * When and how the manager re-keys. `every` 0: before every migration; `every` P > 0: at most
 * once per period [nP, (n+1)P) of simulated time, the first migration decided in a period waiting
 * for that re-key and later ones only for what is left of it. `parallel`: all set-up messages at
 * once (the set-up lasts as long as the slowest), else one host after the other.
 */
export interface RekeySchedule {
  every: number;
  parallel: boolean;
}

/** Public outcome of an MTD decision, for records and tests. */
export interface MtdSummary {
  /** formula (1) index that named the destination (undefined for mtd-random) */
  index?: number | undefined;
  /** draws of R until the index named a free reachable candidate (1 = the first draw) */
  draws: number;
  /** true when max-redraws draws all failed and the table was walked to the next candidate */
  walked: boolean;
  /** key requests made / answers that did not help (fountain: dependent symbols) */
  requests: number;
  dependentAnswers: number;
  /** the secret was recovered and the lookup table decrypted and authenticated with it */
  verified: boolean;
  /** total bytes of the set-up messages */
  setupBytes: number;
}

export interface Policy {
  readonly name: string;
  /**
   * whether `decide` reads `view.vib` (default true). With false, a run whose migrations all
   * trigger at fixed times skips the measurement polls before each decision, and the policy's
   * view has no VIB: every builtin but available-bandwidth decides without measurements.
   */
  readonly readsVib?: boolean;
  /** validates parameters once, before any run; throws InputError with a clear message */
  validate?(params: Readonly<Record<string, unknown>>, context: { hosts: number; candidates: number }): void;
  decide(input: PolicyInput): PolicyPlan;
  /**
   * Throws what `decide` would throw for `input`, without deciding: the pre-run check calls it
   * instead of a trial decision. Only for a policy whose decisions can fail for reasons its
   * random draws do not change (its set-up, thousands of holders' key material in a data
   * center, then need not be drawn before the first run).
   */
  check?(input: PolicyInput): void;
}
