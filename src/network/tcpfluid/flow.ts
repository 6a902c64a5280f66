/**
 * A tcp-fluid flow: the NetworkModel's Flow plus its congestion-control state, its last solve's
 * delays and the flags of the model's worklists (fields, not maps: the solver reads them per flow
 * per link).
 */
import type { Signal } from "../../kernel/index.ts";
import type { Flow, FlowResult, FlowSpec } from "../model.ts";
import type { Path } from "../topology/types.ts";
import { ACKQ, BASE_RTT, CAP, CWND, DEMAND, type FlowSlots, FWDQ, OWN_QUEUE, RATE, STRIDE } from "./slots.ts";

/** relative tolerance of rate comparisons */
export const REL = 1e-9;

/*
 * Every numeric field starts as a number (an initialiser here, not a bare declaration): with
 * ES2022 class fields a field declared without one is first defined as undefined, and V8 then
 * gives it the "tagged" representation for good, so each store of a fractional value allocates a
 * HeapNumber and each read of it yields a value of unknown kind. `cap` tagged made the rate law's
 * result (min of cwnd / rtt and cap) a tagged value, boxed on every call: about 1 GB of garbage
 * per data-center run, charged to solveLink (docs/benchmarks.md, fourth pass). The constructor
 * still sets them; the initial values are never read.
 *
 * The values the solver reads per flow per link (rate, cwnd, the queueing delays, the demand,
 * the limits) live in the model's FlowSlots, at this flow's slot (slots.ts); the accessors below
 * read and write them there, for the code that works on one flow at a time.
 */
export class FluidFlow implements Flow {
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
  /** BBR: bottleneck bandwidth estimate (B/s), phase clock */
  btlBw = 0;
  startupClock = 0;
  bbrFull = false;
  fullBw = 0;
  fullBwAt = 0;
  changing = true;
  finished = false;
  rateDirty = false;
  cutDirty = false;
  /** BBR's own min RTT (10 s window, refreshed by ProbeRTT) and when it was last refreshed */
  bbrMinRtt = Infinity;
  bbrMinRttAt = 0;
  /** a flow at rest that must still take a step then (physical BBR's ProbeRTT), seconds */
  wakeAt = Infinity;
  needsGrow = true;
  /** `delivered` is as of this time (bytes are integrated lazily, when the rate changes) */
  since = 0;
  /** member of the model's restless list, and its entry there (-1: none) */
  restless = false;
  restlessAt = -1;
  grownAt = 0;
  /** the window the solver last looked at (grow), and when */
  seenCwnd = 0;
  seenAt = -Infinity;
  /** tcp_tso_autosize's min-RTT bonus, bytes (cached: it changes only with minRtt) */
  bonus = 0;
  readonly size: number = Infinity;
  readonly udpRate: number = 0;
  /** elastic (tcp) rather than constant-rate (udp); a field, not a getter: solves read it per flow per link */
  readonly tcp: boolean;
  /** path.links and ack.links, one load closer (the solver walks them per flow per link) */
  readonly links: readonly number[];
  readonly ackLinks: readonly number[];
  /** this flow's slot in the model's FlowSlots, and where its values start there (slot * STRIDE) */
  readonly slot: number = 0;
  readonly at: number = 0;

  constructor(
    id: number,
    readonly spec: FlowSpec,
    readonly path: Path,
    readonly ack: Path,
    start: number,
    readonly done: Signal<FlowResult>,
    baseRtt: number,
    iw: number,
    private readonly slots: FlowSlots,
  ) {
    this.id = id;
    this.start = start;
    this.slot = slots.take();
    this.at = this.slot * STRIDE;
    slots.flows[this.slot] = this;
    // every value of the slot is set: a reused slot holds its last flow's
    const h = slots.hot;
    const b = this.at;
    h[b + BASE_RTT] = baseRtt;
    h[b + RATE] = 0;
    h[b + OWN_QUEUE] = Infinity;
    h[b + FWDQ] = 0;
    h[b + ACKQ] = 0;
    h[b + DEMAND] = 0;
    this.links = path.links;
    this.ackLinks = ack.links;
    this.size = spec.bytes ?? Infinity;
    this.tcp = spec.kind === "tcp";
    this.udpRate = spec.kind === "udp" ? (spec.rate ?? 0) / 8 : 0;
    h[b + CAP] = spec.maxRate !== undefined ? spec.maxRate / 8 : Infinity;
    slots.tcp[this.slot] = this.tcp ? 1 : 0;
    this.cwnd = iw;
    this.grownAt = start;
    this.since = start;
    this.srtt = baseRtt;
    this.minRtt = Infinity;
  }

  get baseRtt(): number {
    return this.slots.hot[this.at + BASE_RTT]!;
  }
  get cap(): number {
    return this.slots.hot[this.at + CAP]!;
  }
  /** payload bytes per second */
  get rate(): number {
    return this.slots.hot[this.at + RATE]!;
  }
  set rate(v: number) {
    this.slots.hot[this.at + RATE] = v;
  }
  get cwnd(): number {
    return this.slots.hot[this.at + CWND]!;
  }
  set cwnd(v: number) {
    this.slots.hot[this.at + CWND] = v;
  }
  /** emulated stack: own bytes the flow may keep queued along its path */
  get ownQueue(): number {
    return this.slots.hot[this.at + OWN_QUEUE]!;
  }
  set ownQueue(v: number) {
    this.slots.hot[this.at + OWN_QUEUE] = v;
  }
  /** last solve: forward and ACK-path queueing delays */
  get fwdQ(): number {
    return this.slots.hot[this.at + FWDQ]!;
  }
  set fwdQ(v: number) {
    this.slots.hot[this.at + FWDQ] = v;
  }
  get ackQ(): number {
    return this.slots.hot[this.at + ACKQ]!;
  }
  set ackQ(v: number) {
    this.slots.hot[this.at + ACKQ] = v;
  }
  /** rate the flow would take without capacity cuts (rateFor), payload B/s */
  get demand(): number {
    return this.slots.hot[this.at + DEMAND]!;
  }
  set demand(v: number) {
    this.slots.hot[this.at + DEMAND] = v;
  }
}
