/**
 * The `max-min` network model: flow-level steady state in the style of SimGrid's LMM solver.
 *
 * Allocation (per directed link, full duplex):
 * - Constant-rate (udp) flows are served first at their requested rate. When udp flows alone ask
 *   for more than a link's capacity they are cut to a max-min fair share of that capacity (each
 *   capped at its requested rate), so udp never takes more than a link carries.
 * - Elastic (tcp) flows share what udp leaves, times the goodput efficiency:
 *   `(capacity - udp) * params.efficiency`, max-min fairly by progressive filling. `maxRate` is a
 *   private bottleneck of one flow. Elastic rates are goodput; link counters count wire bits
 *   (elastic rate / efficiency + udp rate), so a saturated link shows `linkRate == capacity`.
 *
 * Incremental recomputation. The allocation is kept with a certificate: every elastic flow
 * remembers the link it was frozen at (`bott`, or the cap). A feasible allocation in which every
 * flow's bottleneck is saturated and carries no larger flow is THE max-min allocation, so after
 * an arrival or departure it suffices to re-solve a set S of flows (others held fixed) and
 * check the certificate only on the links S touches; flows whose certificate broke join S and
 * the solve repeats. S starts at the arriving flow (or empty for a departure) and grows only
 * through links that actually bind, so on lightly coupled traffic a change costs a handful of
 * flows instead of the whole connected component of the flow-link graph. After a few rounds the
 * solver falls back to that whole component (exact by construction), which bounds the worst case.
 *
 * Queues: max-min has no queue dynamics. `linkQueueBytes` is 0 and `pathDelay` is propagation
 * only; `message`/`exchange` are analytic (see there). The tcp-fluid model has real queues.
 *
 * A finite flow whose rate is 0 (udp fills every byte of a link it needs) has no completion
 * event. A sentinel at t = Infinity fires only when nothing else can ever happen in the
 * simulation; then that flow can never finish and the model throws StarvedFlowError naming it
 * and the link, instead of letting the run end silently with the transfer pending.
 */
import { MinHeap, Signal, type EventId, type Simulator } from "../../kernel/index.ts";
import { Arena } from "../../core/arena.ts";
import {
  BlockedLinkError,
  StarvedFlowError,
  type ExchangeOptions,
  type Flow,
  type FlowResult,
  type FlowSpec,
  type ModelOptions,
  type NetworkModel,
  type NetworkParams,
  type RouteFn,
} from "../model.ts";
import { Router } from "../topology/routing.ts";
import { REL, udpShares, waterLevel } from "./shares.ts";
import type { CompiledTopology, Path } from "../topology/types.ts";

class MaxMinFlow implements Flow {
  constructor(
    readonly id: number,
    readonly slot: number,
    readonly spec: FlowSpec,
    readonly path: Path,
    readonly start: number,
    readonly done: Signal<FlowResult>,
  ) {}
}

const NONE = -2;
const CAPPED = -1;
/**
 * rounds of local re-solving before falling back to the whole connected component; on the bench
 * workloads with uplinks loaded to 80% no change needed more than 16
 */
const MAX_ROUNDS = 16;

export class MaxMinModel implements NetworkModel {
  readonly name = "max-min" as const;
  private readonly router: RouteFn;
  private readonly propagation: (src: string, dst: string) => number;
  private readonly eff: number;
  private readonly maxRounds: number;
  private readonly L: number;

  // --- per flow slot ---
  private cap = 64;
  private flows: Array<MaxMinFlow | undefined> = [];
  private freeSlots: number[] = [];
  private nextSlot = 0;
  private nextId = 0;
  private fLinks: Int32Array[] = [];
  /** position of the flow in each of its links' lists (elastic flows only) */
  private fPos: Int32Array[] = [];
  // (the arrays of the first `cap` slots and of the links are views of one buffer: src/core/arena.ts)
  private fRate: Float64Array;
  private fDelivered: Float64Array;
  private fStamp: Float64Array;
  private fSize: Float64Array;
  private fMax: Float64Array;
  private fElastic: Uint8Array;
  private fBott: Int32Array;
  private fEvent: Float64Array;
  private fStarved: Uint8Array;
  private fInS: Uint8Array;
  private fFrozen: Uint8Array;
  private fNew: Float64Array;
  private active: MaxMinFlow[] = [];
  private activeIndex: Int32Array;

  // --- per directed link ---
  private readonly lList: Int32Array[];
  private readonly lCount: Int32Array;
  /** capacity elastic flows share: (capacity - udp) * efficiency */
  private readonly lElastic: Float64Array;
  private readonly lUdp: Float64Array;
  private readonly lWire: Float64Array;
  private readonly lBytes: Float64Array;
  private readonly lStamp: Float64Array;
  private readonly lTol: Float64Array;
  /**
   * the water level a new flow would reach on the link (waterLevel), -1 when unknown: a pure
   * function of the link's flow rates and elastic capacity, so it is kept until one of them
   * changes. An MTD re-key sends a message to every host, over the same few links near the
   * manager, many times between two changes of the allocation.
   */
  private readonly lLevel: Float64Array;
  private readonly udpFlows: number[] = [];

  // --- solver workspace, reused by every recomputation ---
  private S: Int32Array;
  private sN = 0;
  private readonly T: Int32Array;
  private tN = 0;
  private readonly inT: Uint8Array;
  private readonly rem: Float64Array;
  private readonly cnt: Int32Array;
  private readonly load: Float64Array;
  private readonly maxR: Float64Array;
  /** verification pass in which a link's load and max were computed */
  private readonly lEpoch: Uint32Array;
  private epoch = 0;
  /** progressive filling's queue of fair shares: links (id l) and caps (id L + f), ties by id */
  private readonly heap = new MinHeap({ capacity: 64 });

  private starvedCount = 0;
  private sentinel: EventId | undefined;
  private readonly onComplete = (slot: number): void => this.complete(slot);
  private readonly onStarved = (): void => this.reportStarved();

  /** recomputations and flows re-solved, for profiling and the benchmark */
  readonly stats = { recomputes: 0, rounds: 0, solvedFlows: 0, fallbacks: 0, reschedules: 0 };

  constructor(
    readonly sim: Simulator,
    readonly topo: CompiledTopology,
    readonly params: NetworkParams,
    options: ModelOptions = {},
  ) {
    if (!(params.efficiency > 0 && params.efficiency <= 1)) {
      throw new RangeError(`efficiency must be in (0, 1], got ${params.efficiency}`);
    }
    this.eff = params.efficiency;
    this.maxRounds = options.exhaustive ? 0 : MAX_ROUNDS;
    const r = options.route ? options.router : new Router(topo, params.routing);
    this.router = options.route ?? ((s, d) => r!.route(s, d));
    this.propagation = r ? (s, d) => r.propagation(s, d) : (s, d) => this.router(s, d).propagation;
    const L = (this.L = topo.capacity.length);
    // per slot: 7 Float64Arrays, 4 Uint8Arrays, 2 Int32Arrays; S; per link: 11 Float64Arrays, 3 Int32Arrays, 1 Uint32Array, 1 Uint8Array
    const arena = new Arena(this.cap * (7 * 8 + 4 + 2 * 4) + 64 * 4 + L * (11 * 8 + 3 * 4 + 4 + 1) + 256);
    const n = this.cap;
    this.fRate = arena.float64(n);
    this.fDelivered = arena.float64(n);
    this.fStamp = arena.float64(n);
    this.fSize = arena.float64(n);
    this.fMax = arena.float64(n);
    this.fElastic = arena.uint8(n);
    this.fBott = arena.int32(n);
    this.fEvent = arena.float64(n);
    this.fStarved = arena.uint8(n);
    this.fInS = arena.uint8(n);
    this.fFrozen = arena.uint8(n);
    this.fNew = arena.float64(n);
    this.activeIndex = arena.int32(n);
    this.S = arena.int32(64);
    this.lList = Array.from({ length: L }, () => new Int32Array(4));
    this.lCount = arena.int32(L);
    this.lElastic = arena.float64(L);
    this.lUdp = arena.float64(L);
    this.lWire = arena.float64(L);
    this.lBytes = arena.float64(L);
    this.lStamp = arena.float64(L);
    this.lTol = arena.float64(L);
    this.lLevel = arena.float64(L).fill(-1);
    for (let l = 0; l < L; l++) {
      this.lElastic[l] = topo.capacity[l]! * this.eff;
      this.lTol[l] = topo.capacity[l]! * REL;
    }
    this.T = arena.int32(L);
    this.inT = arena.uint8(L);
    this.rem = arena.float64(L);
    this.cnt = arena.int32(L);
    this.load = arena.float64(L);
    this.maxR = arena.float64(L);
    this.lEpoch = arena.uint32(L);
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
    const slot = this.allocSlot();
    const now = this.sim.now;
    const flow = new MaxMinFlow(this.nextId++, slot, spec, path, now, new Signal<FlowResult>());
    this.flows[slot] = flow;
    this.activeIndex[slot] = this.active.length;
    this.active.push(flow);
    const links = Int32Array.from(path.links);
    this.fLinks[slot] = links;
    this.fRate[slot] = 0;
    this.fDelivered[slot] = 0;
    this.fStamp[slot] = now;
    this.fSize[slot] = spec.bytes ?? Infinity;
    this.fMax[slot] = spec.maxRate ?? Infinity;
    this.fElastic[slot] = elastic ? 1 : 0;
    this.fBott[slot] = NONE;
    this.fEvent[slot] = -1;
    this.fStarved[slot] = 0;

    if (this.fSize[slot] === 0 || links.length === 0) {
      // Nothing to carry, or src == dst: done in this instant, without touching any link.
      this.fEvent[slot] = this.sim.schedule(0, this.onComplete, slot);
      return flow;
    }
    if (elastic) {
      const pos = new Int32Array(links.length);
      for (let k = 0; k < links.length; k++) pos[k] = this.listAdd(links[k]!, slot);
      this.fPos[slot] = pos;
      this.stats.recomputes++;
      this.beginRound();
      this.addToS(slot);
      this.solve();
    } else {
      this.udpFlows.push(slot);
      this.reallocateUdp();
    }
    return flow;
  }

  stopFlow(flow: Flow): void {
    const slot = this.slotOf(flow);
    if (slot < 0) return; // already done
    this.finish(slot, true);
  }

  rateOf(flow: Flow): number {
    const slot = this.slotOf(flow);
    return slot < 0 ? 0 : this.fRate[slot]!;
  }

  deliveredBytes(flow: Flow): number {
    const slot = this.slotOf(flow);
    if (slot < 0) return flow.done.value?.bytes ?? 0;
    return Math.min(this.fSize[slot]!, this.fDelivered[slot]! + (this.fRate[slot]! * (this.sim.now - this.fStamp[slot]!)) / 8);
  }

  activeFlows(): readonly Flow[] {
    return this.active.slice();
  }

  // ------------------------------------------------------------------ links

  linkBytes(link: number): number {
    this.checkLink(link);
    return this.lBytes[link]! + (this.lWire[link]! * (this.sim.now - this.lStamp[link]!)) / 8;
  }

  /** fluid packet count: wire bytes / MTU */
  linkPackets(link: number): number {
    return this.linkBytes(link) / this.topo.mtu[link]!;
  }

  linkRate(link: number): number {
    this.checkLink(link);
    return this.lWire[link]!;
  }

  /** wire rate / capacity of a directed link, 0..1 */
  linkUtilisation(link: number): number {
    return this.linkRate(link) / this.topo.capacity[link]!;
  }

  /** max-min has no queues: always 0 */
  linkQueueBytes(link: number): number {
    this.checkLink(link);
    return 0;
  }

  /** propagation only: max-min keeps no queue state */
  pathDelay(src: string, dst: string): number {
    return this.propagation(src, dst);
  }

  /**
   * Analytic and cheap: the exchange does not become flows, so it never perturbs the allocation.
   * duration = handshakeRtts * RTT + (propagation + bytes / r) each way, where RTT is the sum of
   * both one-way propagation delays and r is the rate a new elastic flow would get now: on each
   * link the max-min water level with one more flow (existing flows below it keep their rate),
   * the minimum over the path. Rates are sampled at the call; queueing is 0 in this model.
   */
  exchange(src: string, dst: string, requestBytes: number, responseBytes: number, opts: ExchangeOptions): Signal<number> {
    const fwd = this.route(src, dst);
    const back = this.route(dst, src);
    const rtts = opts.newConnection ? (opts.handshakeRtts ?? this.params.tcpHandshakeRtts) : 0;
    const duration = rtts * (fwd.propagation + back.propagation) + this.transferTime(fwd, requestBytes) + this.transferTime(back, responseBytes);
    return this.after(duration);
  }

  /** a one-way message: propagation + bytes / (rate a new flow would get now); analytic like `exchange` */
  message(src: string, dst: string, bytes: number): Signal<number> {
    return this.after(this.transferTime(this.route(src, dst), bytes));
  }

  /** The rate (bit/s) a new elastic flow on `path` would get now (see `exchange`). */
  newFlowRate(path: Path): number {
    let r = Infinity;
    for (const l of path.links) r = Math.min(r, this.waterLevel(l));
    return r;
  }

  // ------------------------------------------------------------------ internals: flows

  private slotOf(flow: Flow): number {
    const f = flow as MaxMinFlow;
    return this.flows[f.slot] === f ? f.slot : -1;
  }

  private checkLink(link: number): void {
    if (!(link >= 0 && link < this.L && Number.isInteger(link))) throw new RangeError(`no directed link ${link}`);
  }

  private linkName(l: number): string {
    const t = this.topo;
    return `${t.names[t.from[l]!]}->${t.names[t.to[l]!]}`;
  }

  private allocSlot(): number {
    const s = this.freeSlots.pop();
    if (s !== undefined) return s;
    const slot = this.nextSlot++;
    if (slot >= this.cap) this.growFlows();
    return slot;
  }

  private growFlows(): void {
    const n = this.cap * 2;
    const g64 = (a: Float64Array): Float64Array => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    const g8 = (a: Uint8Array): Uint8Array => {
      const b = new Uint8Array(n);
      b.set(a);
      return b;
    };
    const g32 = (a: Int32Array): Int32Array => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.fRate = g64(this.fRate);
    this.fDelivered = g64(this.fDelivered);
    this.fStamp = g64(this.fStamp);
    this.fSize = g64(this.fSize);
    this.fMax = g64(this.fMax);
    this.fElastic = g8(this.fElastic);
    this.fBott = g32(this.fBott);
    this.fEvent = g64(this.fEvent);
    this.fStarved = g8(this.fStarved);
    this.fInS = g8(this.fInS);
    this.fFrozen = g8(this.fFrozen);
    this.fNew = g64(this.fNew);
    this.activeIndex = g32(this.activeIndex);
    this.cap = n;
  }

  private listAdd(l: number, slot: number): number {
    let list = this.lList[l]!;
    const n = this.lCount[l]!;
    if (n === list.length) {
      const b = new Int32Array(n * 2);
      b.set(list);
      this.lList[l] = list = b;
    }
    list[n] = slot;
    this.lCount[l] = n + 1;
    this.lLevel[l] = -1;
    return n;
  }

  private listRemove(slot: number): void {
    const links = this.fLinks[slot]!;
    const pos = this.fPos[slot]!;
    for (let k = 0; k < links.length; k++) {
      const l = links[k]!;
      const list = this.lList[l]!;
      const last = --this.lCount[l]!;
      this.lLevel[l] = -1;
      const p = pos[k]!;
      if (p !== last) {
        const moved = list[last]!;
        list[p] = moved;
        const ml = this.fLinks[moved]!;
        for (let j = 0; j < ml.length; j++) {
          if (ml[j] === l) {
            this.fPos[moved]![j] = p;
            break;
          }
        }
      }
    }
  }

  /** Brings the flow's delivered bytes up to now at its current rate. */
  private settleFlow(slot: number, now: number): void {
    const dt = now - this.fStamp[slot]!;
    if (dt > 0) {
      this.fDelivered[slot]! += (this.fRate[slot]! * dt) / 8;
      this.fStamp[slot] = now;
    }
  }

  /** Sets a flow's rate: settles its bytes and its links' counters, reschedules its completion. */
  private setRate(slot: number, rate: number): void {
    const old = this.fRate[slot]!;
    if (rate === old) return;
    const now = this.sim.now;
    this.settleFlow(slot, now);
    const wireDelta = this.fElastic[slot] ? (rate - old) / this.eff : rate - old;
    const links = this.fLinks[slot]!;
    for (let k = 0; k < links.length; k++) {
      const l = links[k]!;
      const dt = now - this.lStamp[l]!;
      if (dt > 0) {
        this.lBytes[l]! += (this.lWire[l]! * dt) / 8;
        this.lStamp[l] = now;
      }
      const w = this.lWire[l]! + wireDelta;
      this.lWire[l] = w > 0 ? w : 0;
      this.lLevel[l] = -1;
    }
    this.fRate[slot] = rate;
    this.schedule(slot);
  }

  private schedule(slot: number): void {
    const size = this.fSize[slot]!;
    if (size === Infinity) return;
    const ev = this.fEvent[slot]!;
    if (ev >= 0) this.sim.cancel(ev);
    this.stats.reschedules++;
    const rate = this.fRate[slot]!;
    if (rate > 0) {
      const left = size - this.fDelivered[slot]!;
      this.fEvent[slot] = this.sim.scheduleAt(this.sim.now + (left > 0 ? (left * 8) / rate : 0), this.onComplete, slot);
      this.setStarved(slot, false);
    } else {
      this.fEvent[slot] = -1;
      this.setStarved(slot, true);
    }
  }

  private setStarved(slot: number, starved: boolean): void {
    if ((this.fStarved[slot] === 1) === starved) return;
    this.fStarved[slot] = starved ? 1 : 0;
    this.starvedCount += starved ? 1 : -1;
    if (this.starvedCount > 0 && this.sentinel === undefined) {
      this.sentinel = this.sim.scheduleAt(Infinity, this.onStarved);
    } else if (this.starvedCount === 0 && this.sentinel !== undefined) {
      this.sim.cancel(this.sentinel);
      this.sentinel = undefined;
    }
  }

  private reportStarved(): void {
    this.sentinel = undefined;
    for (const f of this.active) {
      if (this.fStarved[f.slot]) {
        const b = this.fBott[f.slot]!;
        const links = this.fLinks[f.slot]!;
        let link = b >= 0 ? b : links[0]!;
        for (let k = 0; b < 0 && k < links.length; k++) if (this.lElastic[links[k]!]! <= 0 || this.lUdp[links[k]!]! >= this.topo.capacity[links[k]!]!) link = links[k]!;
        throw new StarvedFlowError(f, this.linkName(link), link);
      }
    }
  }

  private complete(slot: number): void {
    this.fEvent[slot] = -1;
    this.finish(slot, false);
  }

  private finish(slot: number, stopped: boolean): void {
    const flow = this.flows[slot]!;
    const now = this.sim.now;
    this.settleFlow(slot, now);
    const ev = this.fEvent[slot]!;
    if (ev >= 0) this.sim.cancel(ev);
    this.fEvent[slot] = -1;
    this.setStarved(slot, false);
    const size = this.fSize[slot]!;
    const delivered = stopped ? Math.min(size, this.fDelivered[slot]!) : size;
    const links = this.fLinks[slot]!;
    const wasLinked = links.length > 0 && size > 0;
    this.fSize[slot] = Infinity; // no completion to (re)schedule from here on
    if (wasLinked) this.setRate(slot, 0);
    // out of the active set
    const i = this.activeIndex[slot]!;
    const last = this.active.pop()!;
    if (last !== flow) {
      this.active[i] = last;
      this.activeIndex[last.slot] = i;
    }
    this.flows[slot] = undefined;
    if (wasLinked) {
      if (this.fElastic[slot]) {
        this.listRemove(slot);
        this.stats.recomputes++;
        this.beginRound();
        for (let k = 0; k < links.length; k++) this.touch(links[k]!);
        this.solve();
      } else {
        const u = this.udpFlows.indexOf(slot);
        this.udpFlows.splice(u, 1);
        this.reallocateUdp();
      }
    }
    this.freeSlots.push(slot);
    flow.done.succeed({ start: flow.start, end: now, bytes: delivered, stopped });
  }

  // ------------------------------------------------------------------ internals: udp

  /**
   * Constant-rate flows: each gets its requested rate unless udp alone oversubscribes a link; then
   * the udp flows share it max-min (each capped at its rate). Few udp flows exist, so this runs
   * globally on every udp change; links whose udp load changed are re-solved for elastic flows.
   */
  private reallocateUdp(): void {
    const topo = this.topo;
    const flows = this.udpFlows;
    const n = flows.length;
    const rate = udpShares(
      flows.map((f) => this.fLinks[f]!),
      flows.map((f) => this.fMaxUdp(f)),
      topo.capacity,
    );
    this.beginRound();
    for (let i = 0; i < n; i++) this.setRate(flows[i]!, rate[i]!);
    // New elastic capacities; every link whose udp load changed is re-examined.
    const udp = new Float64Array(this.L);
    for (let i = 0; i < n; i++) for (const l of this.fLinks[flows[i]!]!) udp[l]! += rate[i]!;
    for (let l = 0; l < this.L; l++) {
      if (udp[l] !== this.lUdp[l]) {
        this.lUdp[l] = udp[l]!;
        this.lElastic[l] = Math.max(0, topo.capacity[l]! - udp[l]!) * this.eff;
        this.lLevel[l] = -1;
        this.touch(l);
      }
    }
    this.stats.recomputes++;
    this.solve();
  }

  private fMaxUdp(slot: number): number {
    return Math.min(this.flows[slot]!.spec.rate!, this.fMax[slot]!);
  }

  // ------------------------------------------------------------------ internals: elastic solver

  private beginRound(): void {
    for (let i = 0; i < this.sN; i++) this.fInS[this.S[i]!] = 0;
    for (let i = 0; i < this.tN; i++) this.inT[this.T[i]!] = 0;
    this.sN = 0;
    this.tN = 0;
  }

  private touch(l: number): void {
    if (this.inT[l]) return;
    this.inT[l] = 1;
    this.T[this.tN++] = l;
  }

  private addToS(slot: number): void {
    if (this.fInS[slot]) return;
    this.fInS[slot] = 1;
    if (this.sN === this.S.length) {
      const b = new Int32Array(this.S.length * 2);
      b.set(this.S);
      this.S = b;
    }
    this.S[this.sN++] = slot;
    const links = this.fLinks[slot]!;
    for (let k = 0; k < links.length; k++) this.touch(links[k]!);
  }

  /**
   * Re-solves S with every other flow fixed, checks the max-min certificate on the touched links,
   * grows S with the flows whose certificate broke, and repeats; then commits the new rates.
   */
  private solve(): void {
    let rounds = 0;
    for (;;) {
      rounds++;
      this.stats.rounds++;
      if (rounds > this.maxRounds) {
        this.stats.fallbacks++;
        this.growToComponent();
        this.fill();
        break;
      }
      this.fill();
      if (!this.verifyAndGrow()) break;
    }
    this.stats.solvedFlows += this.sN;
    for (let i = 0; i < this.sN; i++) {
      const s = this.S[i]!;
      const nr = this.fNew[s]!;
      const old = this.fRate[s]!;
      // Float noise from re-solving is not a rate change: keeps completion events stable.
      if (Math.abs(nr - old) > old * 1e-12) this.setRate(s, nr);
      else if (old === 0 && this.fSize[s] !== Infinity && this.fEvent[s] === -1 && !this.fStarved[s]) this.schedule(s);
    }
    this.beginRound();
  }

  /** Progressive filling of S on the capacity the flows outside S leave. */
  private fill(): void {
    const { S, sN, T, tN, rem, cnt, lList, lCount, fInS, fRate, fFrozen, fMax, lElastic } = this;
    for (let i = 0; i < tN; i++) {
      const l = T[i]!;
      let out = 0;
      let c = 0;
      const list = lList[l]!;
      const n = lCount[l]!;
      for (let j = 0; j < n; j++) {
        const f = list[j]!;
        if (fInS[f]) c++;
        else out += fRate[f]!;
      }
      rem[l] = lElastic[l]! - out;
      cnt[l] = c;
    }
    const heap = this.heap;
    heap.clear();
    for (let i = 0; i < tN; i++) {
      const l = T[i]!;
      const c = cnt[l]!;
      if (c > 0) heap.push(rem[l]! > 0 ? rem[l]! / c : 0, l, l);
    }
    const L = this.L;
    for (let i = 0; i < sN; i++) {
      const f = S[i]!;
      fFrozen[f] = 0;
      if (fMax[f]! < Infinity) heap.push(fMax[f]!, L + f, L + f);
    }
    let unfrozen = sN;
    while (unfrozen > 0 && heap.size > 0) {
      const key = heap.peekKey();
      const id = heap.peekValue();
      heap.pop();
      if (id >= L) {
        const f = id - L;
        if (fFrozen[f]) continue;
        this.freeze(f, key, CAPPED);
        unfrozen--;
        continue;
      }
      const c = cnt[id]!;
      if (c === 0) continue;
      const r = rem[id]!;
      const share = r > 0 ? r / c : 0;
      if (share > key) {
        heap.push(share, id, id);
        continue;
      }
      const list = lList[id]!;
      const n = lCount[id]!;
      for (let j = 0; j < n && cnt[id]! > 0; j++) {
        const f = list[j]!;
        if (fInS[f] && !fFrozen[f]) {
          this.freeze(f, share, id);
          unfrozen--;
        }
      }
    }
    // Every flow of S has a link in T whose heap entry stays until its flows are frozen.
    if (unfrozen > 0) throw new Error(`max-min: internal error, ${unfrozen} flows left unfrozen by progressive filling`);
  }

  private freeze(f: number, x: number, b: number): void {
    this.fNew[f] = x;
    this.fBott[f] = b;
    this.fFrozen[f] = 1;
    const links = this.fLinks[f]!;
    for (let k = 0; k < links.length; k++) {
      const m = links[k]!;
      this.rem[m]! -= x;
      this.cnt[m]!--;
    }
  }

  /**
   * Checks the certificate on the touched links with S at its new rates. Returns true when S grew
   * (another round is needed).
   */
  private verifyAndGrow(): boolean {
    const { T, lList, lCount, fInS, fRate, fNew, fBott, load, maxR, lEpoch, lElastic, lTol } = this;
    const tN = this.tN;
    const epoch = ++this.epoch;
    for (let i = 0; i < tN; i++) {
      const l = T[i]!;
      lEpoch[l] = epoch;
      let sum = 0;
      let mx = 0;
      const list = lList[l]!;
      const n = lCount[l]!;
      for (let j = 0; j < n; j++) {
        const f = list[j]!;
        const r = fInS[f] ? fNew[f]! : fRate[f]!;
        sum += r;
        if (r > mx) mx = r;
      }
      load[l] = sum;
      maxR[l] = mx;
    }
    const sBefore = this.sN;
    for (let i = 0; i < tN; i++) {
      const l = T[i]!;
      const list = lList[l]!;
      const n = lCount[l]!;
      const tol = lTol[l]!;
      if (load[l]! > lElastic[l]! + tol) {
        // flows held fixed overfill the link: all of them join
        for (let j = 0; j < n; j++) this.addToS(list[j]!);
        continue;
      }
      for (let j = 0; j < n; j++) {
        const f = list[j]!;
        const b = fBott[f]!;
        if (fInS[f]) {
          // an S flow frozen here must not be beaten by a fixed flow on the same link
          if (b === l && maxR[l]! > fNew[f]! + tol) {
            for (let k = 0; k < n; k++) {
              const g = list[k]!;
              if (!fInS[g] && fRate[g]! > fNew[f]! + tol) this.addToS(g);
            }
          }
        } else if (b >= 0 && lEpoch[b] === epoch) {
          // a fixed flow whose bottleneck changed: still saturated, still the largest there?
          const tb = lTol[b]!;
          if (load[b]! < lElastic[b]! - tb || fRate[f]! < maxR[b]! - tb) this.addToS(f);
        } else if (b === NONE) {
          this.addToS(f);
        }
      }
    }
    // Links reached through S's growth this round have no load computed; the next round does.
    return this.sN > sBefore;
  }

  /** S := every flow connected to S through shared links (the exact fallback). */
  private growToComponent(): void {
    for (let i = 0; i < this.tN; i++) {
      const l = this.T[i]!;
      const list = this.lList[l]!;
      const n = this.lCount[l]!;
      for (let j = 0; j < n; j++) this.addToS(list[j]!); // grows T, which this loop also walks
    }
  }

  // ------------------------------------------------------------------ internals: messages

  /** max-min water level a new elastic flow would reach on link l alone */
  private waterLevel(l: number): number {
    const known = this.lLevel[l]!;
    if (known >= 0) return known;
    const n = this.lCount[l]!;
    const list = this.lList[l]!;
    const rates = new Float64Array(n);
    for (let j = 0; j < n; j++) rates[j] = this.fRate[list[j]!]!;
    return (this.lLevel[l] = waterLevel(rates, this.lElastic[l]!));
  }

  private transferTime(path: Path, bytes: number): number {
    if (!(bytes >= 0)) throw new RangeError(`message bytes must be >= 0, got ${bytes}`);
    if (bytes === 0 || path.links.length === 0) return path.propagation;
    const r = this.newFlowRate(path);
    if (!(r > 0)) {
      let worst = path.links[0]!;
      for (const l of path.links) if (this.waterLevel(l) <= 0) worst = l;
      throw new BlockedLinkError(`a message over link ${this.linkName(worst)} can never be delivered: the link has no capacity left`, worst);
    }
    return path.propagation + (bytes * 8) / r;
  }

  private after(duration: number): Signal<number> {
    const s = new Signal<number>();
    this.sim.schedule(duration, () => s.succeed(duration));
    return s;
  }
}
