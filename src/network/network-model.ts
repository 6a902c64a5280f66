/**
 * The interface every network model implements (`max-min`, `tcp-fluid`), so migration,
 * measurement and probes never depend on which model runs. Models live on the kernel:
 * completions are kernel events and results are Signals processes can yield.
 */
import { UnreachableResultError } from "../core/errors.ts";
import type { Signal, Simulator } from "../kernel/index.ts";
import type { Router } from "./topology/routing.ts";
import type { CompiledTopology, Path } from "./topology/topology-types.ts";

export type FlowKind = "tcp" | "udp";
export type CongestionControl = "cubic" | "bbr" | "reno";
export type HostStack = "emulated" | "physical";
/** The network models, by the name experiments and `--model` use: the one list of them. */
export const MODEL_NAMES = ["max-min", "tcp-fluid"] as const;
export type ModelName = (typeof MODEL_NAMES)[number];
export type RoutingMetric = "hops" | "latency";

export interface NetworkParams {
  model: ModelName;
  congestionControl: CongestionControl;
  hostStack: HostStack;
  routing: RoutingMetric;
  /** goodput / link rate for elastic flows (Ethernet + IP + TCP framing), 0..1 */
  efficiency: number;
  /** round trips to open a TCP connection */
  tcpHandshakeRtts: number;
  /** extra parameters a model documents (calibrated values) */
  extra?: Record<string, number>;
}

export interface FlowSpec {
  src: string;
  dst: string;
  kind: FlowKind;
  /** bytes to move; undefined = endless (until stopFlow) */
  bytes?: number | undefined;
  /** constant rate for udp flows, bits per second */
  rate?: number | undefined;
  /** caps an elastic flow's rate (e.g. SSH cipher throughput), bits per second */
  maxRate?: number | undefined;
  /** free text for traces (`background`, `checkpoint:app`) */
  label?: string | undefined;
  /**
   * the earlier flow of the same TCP connection this one continues (CRIU's page server answers
   * every request over one connection): a window-based model starts it with that flow's
   * congestion state, after the restart Linux applies to a connection idle for longer than its
   * RTO; undefined: a new connection
   */
  continues?: Flow | undefined;
}

export interface FlowResult {
  start: number;
  end: number;
  /** bytes delivered */
  bytes: number;
  /** true when stopped before its size was delivered */
  stopped: boolean;
}

export interface Flow {
  readonly id: number;
  readonly spec: FlowSpec;
  readonly path: Path;
  readonly start: number;
  /** fires when the flow has delivered its bytes or is stopped */
  readonly done: Signal<FlowResult>;
}

export interface ExchangeOptions {
  /** open a new connection first (costs `handshakeRtts` round trips) */
  newConnection: boolean;
  /** round trips of the connection set-up (TCP 1, SSH several) */
  handshakeRtts?: number;
}

export interface NetworkModel {
  readonly name: ModelName;
  readonly sim: Simulator;
  readonly topo: CompiledTopology;
  readonly params: NetworkParams;

  route(src: string, dst: string): Path;

  startFlow(spec: FlowSpec): Flow;
  stopFlow(flow: Flow): void;
  /** current rate of a flow, bits per second (0 once done) */
  rateOf(flow: Flow): number;
  /** bytes a flow has delivered so far */
  deliveredBytes(flow: Flow): number;
  /** flows in flight */
  activeFlows(): readonly Flow[];

  /** cumulative bytes sent over a directed link up to now */
  linkBytes(link: number): number;
  /** cumulative packets sent over a directed link up to now (bytes / MTU) */
  linkPackets(link: number): number;
  /** current sending rate on a directed link, bits per second */
  linkRate(link: number): number;
  /** current queue occupancy of a directed link, bytes */
  linkQueueBytes(link: number): number;

  /** one-way delay a small packet sees now from src to dst: propagation + queueing */
  pathDelay(src: string, dst: string): number;
  /**
   * A request/response exchange: optional connection set-up, `requestBytes` from src to dst,
   * then `responseBytes` back. Fires with the duration in seconds. Crosses the model's queues.
   */
  exchange(src: string, dst: string, requestBytes: number, responseBytes: number, opts: ExchangeOptions): Signal<number>;
  /**
   * For a model whose exchange is analytic: the duration of an exchange started now over `fwd`
   * (`route(src, dst)`) and `back` (`route(dst, src)`), the very number `exchange` would fire
   * with, one event that far ahead; computing it changes nothing. A caller may then wait this
   * long itself instead of on a signal (models without it: `exchange`). A model whose exchange
   * is `exchangeLegs` events in a row, each leg timed on the state of its own start, gives leg
   * `leg`'s duration (0 the first, default 0): the caller computes each leg when the one before
   * ends, as `exchange` does (and, as there, the computation may update the model's state).
   */
  exchangeSeconds?(fwd: Path, back: Path, requestBytes: number, responseBytes: number, opts: ExchangeOptions, leg?: number): number;
  /** the legs of an exchange with `opts` (exchangeSeconds); a model without it: 1 */
  exchangeLegs?(opts: ExchangeOptions): number;
  /** a one-way message; fires with its delivery time in seconds */
  message(src: string, dst: string, bytes: number): Signal<number>;
}

export const DEFAULT_NETWORK_PARAMS: NetworkParams = {
  model: "tcp-fluid",
  congestionControl: "cubic",
  hostStack: "emulated",
  routing: "hops",
  efficiency: 0.96,
  tcpHandshakeRtts: 1,
};

/** A route function; defaults to a Router over the topology with `params.routing`. */
export type RouteFn = (src: string, dst: string) => Path;

export interface ModelOptions {
  /** replaces routing, e.g. the explicit routing rule of a workload file */
  route?: RouteFn | undefined;
  /**
   * The Router whose routes `route` returns: latency questions about many pairs are then answered
   * from its per-source tables and trees without building and keeping a Path per pair. Without
   * it (or with another `route`, such as an explicit routing rule) they read `route`.
   */
  router?: Router | undefined;
  /**
   * Re-solve the whole connected component of the flow-link graph on every change (the plain
   * algorithm) instead of the certificate-checked local set. Same allocation, slower: for
   * cross-checking and for measuring what the local solve saves.
   */
  exhaustive?: boolean | undefined;
}

/** What keeps a transfer from ever finishing: the link with no capacity left for it, and the flow when a finite flow starves. */
export interface Blockage {
  readonly link: number;
  readonly flow?: Flow | undefined;
}

/**
 * A transfer that can never finish because link `link` (an index of the compiled topology) has
 * no capacity left for it: an UnreachableResultError whose Blockage (`blockage`) lets the run
 * name the traffic that fills the link and what to change. (A plain UnreachableResultError, not a
 * subclass: errors are re-made as their class from (detail, location) when they are located or
 * named by run, and the InputError family stays two levels deep.)
 */
export function blockedLinkError(detail: string, link: number, flow?: Flow): UnreachableResultError {
  const e = new UnreachableResultError(detail);
  blockages.set(e, { link, flow });
  return e;
}

const blockages = new WeakMap<UnreachableResultError, Blockage>();

/** A finite flow that can never finish: every byte of a link it needs is taken (by udp). */
export function starvedFlowError(flow: Flow, linkName: string, link: number): UnreachableResultError {
  return blockedLinkError(
    `flow ${flow.id} (${flow.spec.src} -> ${flow.spec.dst}${flow.spec.label ? `, ${flow.spec.label}` : ""}) ` +
      `can never finish: link ${linkName} leaves it rate 0 (constant-rate traffic takes all of it)`,
    link,
    flow,
  );
}

/** The Blockage of an error made by blockedLinkError or starvedFlowError, else undefined. */
export function blockage(e: unknown): Blockage | undefined {
  return e instanceof UnreachableResultError ? blockages.get(e) : undefined;
}
