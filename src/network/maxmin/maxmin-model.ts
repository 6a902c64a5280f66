/**
 * The `max-min` network model: flow-level steady state in the style of SimGrid's LMM solver.
 *
 * Allocation (per directed link, full duplex):
 * - Constant-rate (udp) flows are served first at their requested rate. When udp flows alone ask
 *   for more than a link's capacity they are cut to a max-min fair share of that capacity (each
 *   capped at its requested rate), so udp never takes more than a link carries (udp.ts).
 * - Elastic (tcp) flows share what udp leaves, times the goodput efficiency:
 *   `(capacity - udp) * params.efficiency`, max-min fairly by progressive filling, re-solved
 *   locally on every change and checked by a certificate (lmm.ts). `maxRate` is a private
 *   bottleneck of one flow. Elastic rates are goodput; link counters count wire bits (elastic
 *   rate / efficiency + udp rate), so a saturated link shows `linkRate == capacity`.
 *
 * Rates are constant between two changes, so a flow's bytes and a link's counters are exact
 * integrals, settled when a rate changes; a finite flow's completion is a kernel event at the
 * time its last byte arrives (completions.ts). State lives in typed columns (store.ts).
 *
 * Queues: max-min has no queue dynamics. `linkQueueBytes` is 0 and `pathDelay` is propagation
 * only; `message`/`exchange` are analytic (see there). The tcp-fluid model has real queues.
 */
import { Signal, type Simulator } from "../../kernel/index.ts";
import { Arena } from "../../core/arena.ts";
import { blockedLinkError, type ExchangeOptions, type Flow, type FlowResult, type FlowSpec, type ModelOptions, type NetworkModel, type NetworkParams, type RouteFn } from "../network-model.ts";
import { Router } from "../topology/routing.ts";
import type { CompiledTopology, Path } from "../topology/topology-types.ts";
import { rowBytes } from "./columns.ts";
import { Completions } from "./completions.ts";
import { LmmSolver, MAX_ROUNDS, solverBytes } from "./lmm.ts";
import { waterLevel } from "./shares.ts";
import { FLOW_FIELDS, FlowStore, INITIAL_FLOW_SLOTS, LINK_FIELDS, LinkStore, MaxMinFlow, NONE } from "./store.ts";
import { UdpFlows } from "./udp.ts";

export class MaxMinModel implements NetworkModel {
  readonly name = "max-min" as const;
  private readonly router: RouteFn;
  private readonly propagation: (src: string, dst: string) => number;
  private readonly eff: number;
  private readonly flows: FlowStore;
  private readonly links: LinkStore;
  private readonly solver: LmmSolver;
  private readonly completions: Completions;
  private readonly udp: UdpFlows;
  /** waterLevel's buffer for a link's rates */
  private rates = new Float64Array(64);

  constructor(
    readonly sim: Simulator,
    readonly topo: CompiledTopology,
    readonly params: NetworkParams,
    options: ModelOptions & {
      /** check max-min's certificate without the solver's shortcuts (lmm.ts): for the tests that compare the two */
      plainCheck?: boolean;
    } = {},
  ) {
    if (!(params.efficiency > 0 && params.efficiency <= 1)) {
      throw new RangeError(`efficiency must be in (0, 1], got ${params.efficiency}`);
    }
    this.eff = params.efficiency;
    const r = options.route ? options.router : new Router(topo, params.routing);
    this.router = options.route ?? ((s, d) => r!.route(s, d));
    this.propagation = r ? (s, d) => r.propagation(s, d) : (s, d) => this.router(s, d).propagation;
    // one buffer for the columns of a run (src/core/arena.ts), with room for alignment
    const L = topo.capacity.length;
    const arena = new Arena(rowBytes(FLOW_FIELDS, INITIAL_FLOW_SLOTS) + rowBytes(LINK_FIELDS, L) + solverBytes(L) + 512);
    this.flows = new FlowStore(arena);
    this.links = new LinkStore(topo, this.eff, arena);
    this.solver = new LmmSolver(this.flows, this.links, options.exhaustive ? 0 : MAX_ROUNDS, arena, (slot) => this.commit(slot), options.plainCheck);
    this.completions = new Completions(sim, this.flows, this.links, (slot) => this.complete(slot));
    this.udp = new UdpFlows(this.flows, this.links, this.solver, this.eff, (slot, rate) => this.setRate(slot, rate));
  }

  route(src: string, dst: string): Path {
    return this.router(src, dst);
  }

  // ------------------------------------------------------------------ flows

  startFlow(spec: FlowSpec): Flow {
    const path = this.route(spec.src, spec.dst);
    const elastic = spec.kind === "tcp";
    if (!elastic && !(spec.rate !== undefined && spec.rate > 0 && Number.isFinite(spec.rate))) {
      throw new RangeError(`udp flow ${spec.src} -> ${spec.dst} needs a positive finite rate, got ${spec.rate}`);
    }
    if (spec.bytes !== undefined && !(spec.bytes >= 0)) throw new RangeError(`flow bytes must be >= 0, got ${spec.bytes}`);
    if (spec.maxRate !== undefined && !(spec.maxRate > 0)) throw new RangeError(`maxRate must be > 0, got ${spec.maxRate}`);
    const flows = this.flows;
    const slot = flows.allocate();
    const now = this.sim.now;
    const flow = new MaxMinFlow(flows.nextId++, slot, spec, path, now, new Signal<FlowResult>());
    flows.enter(flow);
    const links = Int32Array.from(path.links);
    flows.links[slot] = links;
    const c = flows.cols;
    c.rate[slot] = 0;
    c.cur[slot] = 0;
    c.delivered[slot] = 0;
    c.stamp[slot] = now;
    c.size[slot] = spec.bytes ?? Infinity;
    c.max[slot] = spec.maxRate ?? Infinity;
    c.elastic[slot] = elastic ? 1 : 0;
    c.bott[slot] = NONE;
    c.event[slot] = -1;
    c.starved[slot] = 0;

    if (c.size[slot] === 0 || links.length === 0) {
      // Nothing to carry, or src == dst: done in this instant, without touching any link.
      this.completions.now(slot);
      return flow;
    }
    if (elastic) {
      const pos = new Int32Array(links.length);
      for (let k = 0; k < links.length; k++) pos[k] = this.links.add(links[k]!, slot);
      flows.pos[slot] = pos;
      this.solver.clear();
      this.solver.add(slot);
      this.solver.solve();
    } else {
      this.udp.add(slot);
    }
    return flow;
  }

  stopFlow(flow: Flow): void {
    const slot = this.flows.slotOf(flow);
    if (slot < 0) return; // already done
    this.finish(slot, true);
  }

  rateOf(flow: Flow): number {
    const slot = this.flows.slotOf(flow);
    return slot < 0 ? 0 : this.flows.cols.rate[slot]!;
  }

  deliveredBytes(flow: Flow): number {
    const slot = this.flows.slotOf(flow);
    if (slot < 0) return flow.done.value?.bytes ?? 0;
    const c = this.flows.cols;
    return Math.min(c.size[slot]!, c.delivered[slot]! + (c.rate[slot]! * (this.sim.now - c.stamp[slot]!)) / 8);
  }

  activeFlows(): readonly Flow[] {
    return this.flows.active.slice();
  }

  // ------------------------------------------------------------------ links

  linkBytes(link: number): number {
    this.links.checkLink(link);
    const c = this.links.cols;
    return c.bytes[link]! + (c.wire[link]! * (this.sim.now - c.stamp[link]!)) / 8;
  }

  /** fluid packet count: wire bytes / MTU */
  linkPackets(link: number): number {
    return this.linkBytes(link) / this.topo.mtu[link]!;
  }

  linkRate(link: number): number {
    this.links.checkLink(link);
    return this.links.cols.wire[link]!;
  }

  /** wire rate / capacity of a directed link, 0..1 */
  linkUtilisation(link: number): number {
    return this.linkRate(link) / this.topo.capacity[link]!;
  }

  /** max-min has no queues: always 0 */
  linkQueueBytes(link: number): number {
    this.links.checkLink(link);
    return 0;
  }

  /** propagation only: max-min keeps no queue state */
  pathDelay(src: string, dst: string): number {
    return this.propagation(src, dst);
  }

  // ------------------------------------------------------------------ messages

  /**
   * Analytic and cheap: the exchange does not become flows, so it never perturbs the allocation.
   * duration = handshakeRtts * RTT + (propagation + bytes / r) each way, where RTT is the sum of
   * both one-way propagation delays and r is the rate a new elastic flow would get now: on each
   * link the max-min water level with one more flow (existing flows below it keep their rate),
   * the minimum over the path. Rates are sampled at the call; queueing is 0 in this model.
   */
  exchange(src: string, dst: string, requestBytes: number, responseBytes: number, opts: ExchangeOptions): Signal<number> {
    return this.after(this.exchangeSeconds(this.route(src, dst), this.route(dst, src), requestBytes, responseBytes, opts));
  }

  /** the duration `exchange` fires with, computed now (nothing scheduled) */
  exchangeSeconds(fwd: Path, back: Path, requestBytes: number, responseBytes: number, opts: ExchangeOptions): number {
    const rtts = opts.newConnection ? (opts.handshakeRtts ?? this.params.tcpHandshakeRtts) : 0;
    return rtts * (fwd.propagation + back.propagation) + this.transferTime(fwd, requestBytes) + this.transferTime(back, responseBytes);
  }

  /** a one-way message: propagation + bytes / (rate a new flow would get now); analytic like `exchange` */
  message(src: string, dst: string, bytes: number): Signal<number> {
    return this.after(this.transferTime(this.route(src, dst), bytes));
  }

  /** The rate (bit/s) a new elastic flow on `path` would get now (see `exchange`). */
  newFlowRate(path: Path): number {
    const links = path.links;
    const level = this.links.cols.level;
    let r = Infinity;
    for (let k = 0; k < links.length; k++) {
      const l = links[k]!;
      // (the level kept since the link's last change, else computed: waterLevel)
      const known = level[l]!;
      r = Math.min(r, known >= 0 ? known : this.waterLevel(l));
    }
    return r;
  }

  /** max-min water level a new elastic flow would reach on link l alone */
  private waterLevel(l: number): number {
    const { level, count, elastic } = this.links.cols;
    const known = level[l]!;
    if (known >= 0) return known;
    const n = count[l]!;
    const list = this.links.lists[l]!;
    if (this.rates.length < n) this.rates = new Float64Array(2 * n);
    const rates = this.rates.subarray(0, n);
    const rate = this.flows.cols.rate;
    for (let j = 0; j < n; j++) rates[j] = rate[list[j]!]!;
    return (level[l] = waterLevel(rates, elastic[l]!));
  }

  private transferTime(path: Path, bytes: number): number {
    if (!(bytes >= 0)) throw new RangeError(`message bytes must be >= 0, got ${bytes}`);
    if (bytes === 0 || path.links.length === 0) return path.propagation;
    const r = this.newFlowRate(path);
    if (!(r > 0)) {
      let worst = path.links[0]!;
      for (const l of path.links) if (this.waterLevel(l) <= 0) worst = l;
      throw blockedLinkError(`a message over link ${this.links.name(worst)} can never be delivered: the link has no capacity left`, worst);
    }
    return path.propagation + (bytes * 8) / r;
  }

  private after(duration: number): Signal<number> {
    const s = new Signal<number>();
    this.sim.schedule(duration, () => s.succeed(duration));
    return s;
  }

  // ------------------------------------------------------------------ rates and completions

  /** Brings the flow's delivered bytes up to now at its current rate. */
  private settleFlow(slot: number, now: number): void {
    const c = this.flows.cols;
    const dt = now - c.stamp[slot]!;
    if (dt > 0) {
      c.delivered[slot]! += (c.rate[slot]! * dt) / 8;
      c.stamp[slot] = now;
    }
  }

  /** Sets a flow's rate: settles its bytes and its links' counters, reschedules its completion. */
  private setRate(slot: number, rate: number): void {
    const c = this.flows.cols;
    const old = c.rate[slot]!;
    if (rate === old) return;
    const now = this.sim.now;
    this.settleFlow(slot, now);
    const wireDelta = c.elastic[slot] ? (rate - old) / this.eff : rate - old;
    const { wire, bytes, stamp, level } = this.links.cols;
    const links = this.flows.links[slot]!;
    for (let k = 0; k < links.length; k++) {
      const l = links[k]!;
      const dt = now - stamp[l]!;
      if (dt > 0) {
        bytes[l]! += (wire[l]! * dt) / 8;
        stamp[l] = now;
      }
      const w = wire[l]! + wireDelta;
      wire[l] = w > 0 ? w : 0;
      level[l] = -1;
    }
    c.rate[slot] = rate;
    c.cur[slot] = rate;
    this.completions.schedule(slot);
  }

  /** takes a solved flow's new rate */
  private commit(slot: number): void {
    const c = this.flows.cols;
    const next = c.next[slot]!;
    const old = c.rate[slot]!;
    // Float noise from re-solving is not a rate change: keeps completion events stable.
    if (Math.abs(next - old) > old * 1e-12) this.setRate(slot, next);
    else if (old === 0 && this.completions.waiting(slot)) this.completions.schedule(slot);
  }

  private complete(slot: number): void {
    this.flows.cols.event[slot] = -1;
    this.finish(slot, false);
  }

  private finish(slot: number, stopped: boolean): void {
    const flows = this.flows;
    const flow = flows.bySlot[slot]!;
    const c = flows.cols;
    const now = this.sim.now;
    this.settleFlow(slot, now);
    this.completions.cancel(slot);
    const size = c.size[slot]!;
    const delivered = stopped ? Math.min(size, c.delivered[slot]!) : size;
    const links = flows.links[slot]!;
    const wasLinked = links.length > 0 && size > 0;
    c.size[slot] = Infinity; // no completion to (re)schedule from here on
    if (wasLinked) this.setRate(slot, 0);
    flows.leave(slot);
    if (wasLinked) {
      if (c.elastic[slot]) {
        this.links.remove(slot, flows);
        this.solver.clear();
        for (let k = 0; k < links.length; k++) this.solver.touch(links[k]!);
        this.solver.solve();
      } else {
        this.udp.remove(slot);
      }
    }
    flows.release(slot);
    flow.done.succeed({ start: flow.start, end: now, bytes: delivered, stopped });
  }
}
