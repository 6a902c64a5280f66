/**
 * A tcp-fluid flow: the NetworkModel's Flow plus its congestion-control state, its last solve's
 * delays and the flags of the model's worklists (fields, not maps: the solver reads them per flow
 * per link).
 */
import type { Signal } from "../../kernel/index.ts";
import type { Flow, FlowResult, FlowSpec } from "../network-model.ts";
import type { Path } from "../topology/topology-types.ts";

/** relative tolerance of rate comparisons */
export const REL = 1e-9;

/*
 * Every numeric field starts as a number (an initialiser here, not a bare declaration): with
 * ES2022 class fields a field declared without one is first defined as undefined, and V8 then
 * gives it the "tagged" representation for good, so each store of a fractional value allocates a
 * HeapNumber and each read of it yields a value of unknown kind. A tagged `cap`, for one, makes
 * the rate law's result (min of cwnd / rtt and cap) a value boxed on every call of the solver's
 * innermost loop. The constructor still sets them; the initial values are never read.
 */
export class FluidFlow implements Flow {
  // (declared in this order on purpose: the fields a solve reads per flow per link come first, so
  // they share the object's first cache lines and their number boxes lie together)
  /** elastic (tcp) rather than constant-rate (udp); a field, not a getter: solves read it per flow per link */
  readonly tcp: boolean;
  /** path.links and ack.links, one load closer (the solver walks them per flow per link) */
  readonly links: readonly number[];
  readonly ackLinks: readonly number[];
  readonly baseRtt: number = 0;
  cwnd = 0;
  readonly cap: number = Infinity;
  /** emulated stack: own bytes the flow may keep queued along its path */
  ownQueue = Infinity;
  /** emulated stack: bytes of the skbs TSQ lets it queue (a GSO skb is one packet of a queue) */
  skbBytes = 0;
  /** last solve: forward and ACK-path queueing delays */
  fwdQ = 0;
  ackQ = 0;
  /** rate the flow would take without capacity cuts (rateFor), payload B/s */
  demand = 0;
  /** payload bytes per second */
  rate = 0;
  /** BBR: bottleneck bandwidth estimate (B/s), phase clock */
  btlBw = 0;
  bbrFull = false;
  finished = false;
  /** member of the model's restless list, and its entry there (-1: none) */
  restless = false;
  rateDirty = false;
  cutDirty = false;
  readonly id: number = 0;
  readonly start: number = 0;
  delivered = 0;
  ssthresh = Infinity;
  slowStart = true;
  srtt = 0;
  minRtt = Infinity;
  lastLoss = -Infinity;
  /** CUBIC */
  wMax = 0;
  epoch = 0;
  startupClock = 0;
  fullBw = 0;
  fullBwAt = 0;
  changing = true;
  /** BBR's own min RTT (10 s window, refreshed by ProbeRTT) and when it was last refreshed */
  bbrMinRtt = Infinity;
  bbrMinRttAt = 0;
  /** a flow at rest that must still take a step then (physical BBR's ProbeRTT), seconds */
  wakeAt = Infinity;
  /** `delivered` is as of this time (bytes are integrated lazily, when the rate changes) */
  since = 0;
  restlessAt = -1;
  grownAt = 0;
  /** the window the solver last looked at (grow), and when */
  seenCwnd = 0;
  seenAt = -Infinity;
  /** tcp_tso_autosize's min-RTT bonus, bytes (cached: it changes only with minRtt) */
  bonus = 0;
  readonly size: number = Infinity;
  readonly udpRate: number = 0;
  constructor(
    id: number,
    readonly spec: FlowSpec,
    readonly path: Path,
    readonly ack: Path,
    start: number,
    readonly done: Signal<FlowResult>,
    baseRtt: number,
    iw: number,
  ) {
    this.id = id;
    this.start = start;
    this.baseRtt = baseRtt;
    this.links = path.links;
    this.ackLinks = ack.links;
    this.size = spec.bytes ?? Infinity;
    this.tcp = spec.kind === "tcp";
    this.udpRate = spec.kind === "udp" ? (spec.rate ?? 0) / 8 : 0;
    this.cap = spec.maxRate !== undefined ? spec.maxRate / 8 : Infinity;
    this.cwnd = iw;
    this.grownAt = start;
    this.since = start;
    this.srtt = baseRtt;
    this.minRtt = Infinity;
  }
}
