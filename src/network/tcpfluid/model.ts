/**
 * The `tcp-fluid` network model: per-flow congestion windows and per-directed-link queues that
 * evolve together, in the line of the fluid TCP models of Misra, Gong and Towsley (SIGCOMM 2000),
 * with Linux's congestion controls (CUBIC, BBR, Reno) and, optionally, the single-kernel effects
 * of a Mininet testbed (`hostStack: emulated`). Prose, equations and calibration: docs/tcp-fluid.md.
 *
 * State and time. Windows change per round trip; queues settle within one round trip of a window
 * change. The model therefore keeps the windows as state and, at each step, computes the queue
 * (queueing delay) of every link as the quasi-static solution of the window/queue coupling:
 *
 *   x_f = min(cap_f, cwnd_f / (D_f + P_f + A_f), Q_f / P_f)       (rate of flow f, payload B/s)
 *   sum_{f through l} x_f <= C_l,  p_l >= 0,  p_l > 0 only if the link is full,  p_l <= B_l / c_l
 *
 * D_f is the unloaded round trip (propagation both ways + host stack), P_f and A_f are the
 * queueing delays of the links on the data path and on the ACK path (the reverse route), C_l is
 * the goodput capacity the link leaves after constant-rate (udp) traffic, Q_f the bytes of its own
 * the emulated host stack lets a flow keep queued along its path (Linux TSQ across one kernel;
 * Infinity on a physical stack) and B_l the drop-tail buffer. A link whose queue would need more
 * than its buffer overflows: the flows through it see a loss (at most one per round trip) and
 * react (multiplicative decrease; BBR ignores isolated losses). Between steps the windows follow
 * each algorithm's growth law over the elapsed time, so a step may span many round trips.
 *
 * Stepping. Per round trip while some window is changing (slow start, congestion avoidance that
 * still moves the rates, BBR probing); when nothing changes, the next step is the next flow
 * completion or external arrival/departure (event driven), so long steady transfers cost O(1).
 * Rates are constant within a step, so delivered bytes and link counters are exact integrals.
 */
import { UnreachableResultError } from "../../errors.ts";
import { MinHeap, Signal, type EventId, type Simulator } from "../../kernel/index.ts";
import { StarvedFlowError, type CongestionControl, type ExchangeOptions, type Flow, type FlowResult, type FlowSpec, type ModelOptions, type NetworkModel, type NetworkParams } from "../model.ts";
import { Router } from "../topology/routing.ts";
import type { CompiledTopology, Path } from "../topology/types.ts";

/**
 * Parameters of the model (`params.extra` overrides them by name). stackRtt, handshakeScale,
 * connectSetup, tsqSkbs and the bbr* values marked "fitted" come from bench/calibration/fit.ts on
 * docs/calibration/measured.jsonl (Mininet, kernel 6.18, 10 Mbit/s dumbbell runs `single`,
 * `same-dir`, `rtt-idle`, `rtt-same-dir`; see docs/calibration.md); the rest are Linux 6.x and RFC
 * constants. The goodput efficiency is `NetworkParams.efficiency` (fitted there: 0.950).
 */
export const TCP_FLUID_DEFAULTS = {
  /** TCP payload per segment (1500-byte MTU minus IP/TCP headers with timestamps), bytes */
  mss: 1448,
  /** unloaded round trip between two hosts added to propagation (host stacks), seconds; fitted */
  stackRtt: 1.89e-4,
  /** initial congestion window, segments (Linux IW10) */
  initialWindow: 10,
  /** CUBIC multiplicative decrease factor and scaling constant (RFC 9438) */
  cubicBeta: 0.7,
  cubicC: 0.4,
  /** Reno multiplicative decrease factor */
  renoBeta: 0.5,
  /** BBR gains: startup pacing/cwnd gain 2/ln 2, steady cwnd gain */
  bbrStartupGain: 2.885,
  bbrCwndGain: 2,
  /** ProbeBW cycle: gain 1.25 once every 8 round trips */
  bbrProbeGain: 1.25,
  bbrCycleRtts: 8,
  /** extra segments BBR keeps in flight beyond 2 BDP (send quanta + ACK aggregation); fitted */
  bbrExtraSegs: 17.5,
  /** emulated stack: own-queue bytes a BBR flow keeps during startup; fitted */
  bbrStartupQueue: 1.94e5,
  /** emulated stack: seconds of startup (at full share) and of the decay to steady state; fitted */
  bbrStartupTime: 1.52,
  bbrDrainTime: 1.08,
  /** emulated stack (Linux TSQ + TSO autosizing): skbs a socket may keep queued along the path */
  tsqSkbs: 2,
  /** smallest and largest TSO skb, segments (tcp_min_tso_segs; 64 KiB GSO) */
  minTsoSegs: 2,
  maxTsoSegs: 45,
  /** tcp_tso_rtt_log: flows with min RTT below 2^9 us get full-size skbs */
  tsoRttLog: 9,
  /**
   * a handshake round trip (`tcpHandshakeRtts` of them, or the exchange's `handshakeRtts`) costs
   * this many round trips of the current path delay: the SYN and the first request both wait in
   * the queue of a loaded path; fitted
   */
  handshakeScale: 1.35,
  /** fixed cost of opening a connection (socket set-up in the hosts), seconds; fitted */
  connectSetup: 0,
  /**
   * bytes a small message crosses an idle shaped link without waiting for serialisation (HTB's
   * burst: Mininet sets 15k); the physical stack uses 0
   */
  burstBytes: 15000,
  /**
   * wire bytes of ACK per data segment: a 66-byte ACK (Ethernet + IP + TCP with timestamps) for
   * every second segment (delayed ACK); only used for the bytes stranded on a busy link (linkWait)
   */
  ackBytesPerSegment: 33,
  /**
   * emulated stack: 1 turns on linkWait (GSO head-of-line wait and bytes stranded on a busy link
   * that holds no queue of its own; measured with bench/calibration/sftp.py). Off by default: the
   * paper reproductions (docs/reproduction.md) were fitted without it; see docs/validation-table2.md.
   */
  gsoHeadOfLine: 0,
  /**
   * smallest step, seconds: windows on sub-millisecond paths are advanced in steps of this length
   * (their growth laws are integrated over it), which keeps slow start and the approach to a
   * steady state cheap; well below the time scale of a migration
   */
  minStep: 1e-3,
};
export type TcpFluidParams = typeof TCP_FLUID_DEFAULTS;

/** the parameters a run uses: defaults, overridden by `params.extra` entries of the same name */
export function tcpFluidParams(params: NetworkParams): TcpFluidParams {
  const p: TcpFluidParams = { ...TCP_FLUID_DEFAULTS };
  for (const [k, v] of Object.entries(params.extra ?? {})) {
    if (k in p) {
      if (!Number.isFinite(v)) throw new RangeError(`tcp-fluid parameter ${k} must be a finite number, got ${v}`);
      (p as Record<string, number>)[k] = v;
    }
  }
  return p;
}

class FluidFlow implements Flow {
  delivered = 0;
  /** payload bytes per second */
  rate = 0;
  cwnd: number;
  ssthresh = Infinity;
  slowStart = true;
  srtt: number;
  minRtt: number;
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
  /** emulated stack: own bytes the flow may keep queued along its path */
  ownQueue = Infinity;
  /** last solve: forward and ACK-path queueing delays */
  fwdQ = 0;
  ackQ = 0;
  changing = true;
  finished = false;
  rateDirty = false;
  cutDirty = false;
  /** rate the flow would take without capacity cuts (rateFor), payload B/s */
  demand = 0;
  /** BBR's own min RTT (10 s window, refreshed by ProbeRTT) and when it was last refreshed */
  bbrMinRtt = Infinity;
  bbrMinRttAt = 0;
  /** a flow at rest that must still take a step then (physical BBR's ProbeRTT), seconds */
  wakeAt = Infinity;
  needsGrow = true;
  /** `delivered` is as of this time (bytes are integrated lazily, when the rate changes) */
  since: number;
  /** member of the model's restless set */
  restless = false;
  grownAt: number;
  /** the window the solver last looked at (grow), and when */
  seenCwnd = 0;
  seenAt = -Infinity;
  /** tcp_tso_autosize's min-RTT bonus, bytes (cached: it changes only with minRtt) */
  bonus = 0;
  readonly size: number;
  readonly udpRate: number;
  readonly cap: number;
  /** elastic (tcp) rather than constant-rate (udp); a field, not a getter: solves read it per flow per link */
  readonly tcp: boolean;

  constructor(
    readonly id: number,
    readonly spec: FlowSpec,
    readonly path: Path,
    readonly ack: Path,
    readonly start: number,
    readonly done: Signal<FlowResult>,
    readonly baseRtt: number,
    iw: number,
  ) {
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

const REL = 1e-9;

export class TcpFluidModel implements NetworkModel {
  readonly name = "tcp-fluid" as const;
  readonly p: TcpFluidParams;
  private readonly router: Router;
  private readonly routeFn: (src: string, dst: string) => Path;
  private readonly L: number;
  private readonly cc: CongestionControl;
  /** cc === "bbr", tested per flow in the hottest loop (rateFor), where a string compare costs */
  private readonly bbr: boolean;
  private readonly emulated: boolean;
  private readonly eff: number;
  /** per directed link: queueing delay (s), wire load (B/s), cumulative wire bytes, goodput capacity left for tcp */
  private readonly delay: Float64Array;
  private readonly load: Float64Array;
  private readonly cum: Float64Array;
  private readonly avail: Float64Array;
  private readonly overflow: Uint8Array;
  /** per directed link: the factor its tcp flows' demands are cut by (1 when it can carry them) */
  private readonly cut: Float64Array;
  /** emulated: bytes stranded on a link a flow keeps busy from upstream (linkWait), since when, whether counting */
  private readonly strand: Float64Array;
  private readonly strandAt: Float64Array;
  private readonly strandOn: Uint8Array;
  /** per directed link: active tcp flows sending over it, and flows whose ACKs cross it */
  private readonly through: FluidFlow[][];
  private readonly acking: FluidFlow[][];
  private readonly usedLinks = new Set<number>();
  /** links to re-balance at the next solve, flows whose rate to recompute, scratch flags */
  private readonly dirtyList: number[] = [];
  /** the solve's worklist of links (reused: no allocation per step) */
  private readonly work: number[] = [];
  /** links whose wire load must be recomputed at the end of the next solve (a flow's rate changed) */
  private readonly loadList: number[] = [];
  private readonly loadDirty: Uint8Array;
  private readonly isDirty: Uint8Array;
  private udpDirty = false;
  private readonly rateList: FluidFlow[] = [];
  private readonly inWork: Uint8Array;
  private readonly touched: Uint8Array;
  /** flows in flight by id, in start order; the array view is rebuilt only when asked for after a change */
  private readonly live = new Map<number, FluidFlow>();
  private liveArray: FluidFlow[] | undefined;
  /** flows whose windows may still move (changing) or whose inputs moved since they last grew */
  private readonly restless = new Set<FluidFlow>();
  /**
   * completion times by flow id (ties by id: a deterministic order of simultaneous completions);
   * indexed, so a rate change moves the flow's one entry
   */
  private readonly finishing = new MinHeap({ indexed: true });
  /** per directed link: the time `cum` is integrated to */
  private readonly lSince: Float64Array;
  private nextId = 0;
  private last = 0;
  private tick: EventId | undefined;
  private flush: EventId | undefined;
  private sentinel: EventId | undefined;
  private steps = 0;

  constructor(
    readonly sim: Simulator,
    readonly topo: CompiledTopology,
    readonly params: NetworkParams,
    options: ModelOptions = {},
  ) {
    this.p = tcpFluidParams(params);
    if (!(params.efficiency > 0 && params.efficiency <= 1)) throw new RangeError(`efficiency must be in (0, 1], got ${params.efficiency}`);
    this.router = new Router(topo, params.routing);
    this.routeFn = options.route ?? ((s, d) => this.router.route(s, d));
    this.L = topo.from.length;
    this.cc = params.congestionControl;
    this.bbr = this.cc === "bbr";
    this.emulated = params.hostStack === "emulated";
    this.eff = params.efficiency;
    this.delay = new Float64Array(this.L);
    this.load = new Float64Array(this.L);
    this.cum = new Float64Array(this.L);
    this.lSince = new Float64Array(this.L);
    this.avail = new Float64Array(this.L);
    this.overflow = new Uint8Array(this.L);
    this.cut = new Float64Array(this.L).fill(1);
    this.strand = new Float64Array(this.L);
    this.strandAt = new Float64Array(this.L);
    this.strandOn = new Uint8Array(this.L);
    this.inWork = new Uint8Array(this.L);
    this.isDirty = new Uint8Array(this.L);
    this.loadDirty = new Uint8Array(this.L);
    this.touched = new Uint8Array(this.L);
    this.through = Array.from({ length: this.L }, () => []);
    this.acking = Array.from({ length: this.L }, () => []);
  }

  /** steps taken so far (for benchmarks) */
  get stepCount(): number {
    return this.steps;
  }

  route(src: string, dst: string): Path {
    return this.routeFn(src, dst);
  }

  startFlow(spec: FlowSpec): Flow {
    if (spec.bytes !== undefined && !(spec.bytes >= 0 && Number.isFinite(spec.bytes))) throw new RangeError(`flow bytes must be finite and >= 0, got ${spec.bytes}`);
    if (spec.kind === "udp" && !(spec.rate !== undefined && spec.rate >= 0 && Number.isFinite(spec.rate))) throw new RangeError(`a udp flow needs a finite rate >= 0, got ${spec.rate}`);
    if (spec.maxRate !== undefined && !(spec.maxRate > 0)) throw new RangeError(`maxRate must be > 0, got ${spec.maxRate}`);
    const path = this.route(spec.src, spec.dst);
    const ack = this.route(spec.dst, spec.src);
    for (const l of path.links) {
      if (!(this.topo.capacity[l]! > 0)) throw new UnreachableResultError(`flow ${spec.src} -> ${spec.dst} can never finish: link ${this.linkName(l)} has no capacity`);
    }
    this.advance(this.sim.now);
    const base = Math.max(1e-6, path.propagation + ack.propagation + this.p.stackRtt);
    const f = new FluidFlow(this.nextId++, spec, path, ack, this.sim.now, new Signal<FlowResult>(), base, this.p.initialWindow * this.p.mss);
    if (f.size === 0 || path.links.length === 0) {
      // nothing to carry, or src == dst: done in this instant without touching any link (as max-min)
      const bytes = Number.isFinite(f.size) ? f.size : 0;
      f.delivered = bytes;
      f.finished = true;
      this.sim.schedule(0, () => f.done.succeed({ start: f.start, end: this.sim.now, bytes, stopped: false }));
      return f;
    }
    // The handshake's round trip is the first RTT sample (it sees the queues as they are now).
    f.fwdQ = this.sumDelay(path.links);
    f.ackQ = this.sumDelay(ack.links);
    const rtt0 = base + f.fwdQ + f.ackQ;
    f.srtt = rtt0;
    f.minRtt = rtt0;
    f.bbrMinRtt = rtt0;
    f.bbrMinRttAt = this.sim.now;
    f.bonus = this.computeBonus(f);
    this.live.set(f.id, f);
    this.liveArray = undefined;
    this.setRestless(f, true);
    for (const l of path.links) {
      this.through[l]!.push(f);
      this.usedLinks.add(l);
    }
    if (f.tcp) for (const l of ack.links) this.acking[l]!.push(f);
    if (this.emulated && f.tcp) f.ownQueue = this.tsqLimit(f);
    this.markFlow(f);
    this.requestResolve();
    return f;
  }

  stopFlow(flow: Flow): void {
    const f = flow as FluidFlow;
    if (f.finished || this.live.get(f.id) !== f) return;
    this.advance(this.sim.now);
    this.remove(f);
    this.requestResolve();
    f.done.succeed({ start: f.start, end: this.sim.now, bytes: f.delivered, stopped: true });
  }

  rateOf(flow: Flow): number {
    const f = flow as FluidFlow;
    return f.finished ? 0 : f.rate * 8;
  }

  deliveredBytes(flow: Flow): number {
    const f = flow as FluidFlow;
    if (f.finished) return f.delivered;
    return Math.min(f.size, f.delivered + f.rate * (this.sim.now - f.since));
  }

  activeFlows(): readonly Flow[] {
    this.liveArray ??= [...this.live.values()];
    return this.liveArray;
  }

  linkBytes(link: number): number {
    this.checkLink(link);
    return this.cum[link]! + this.load[link]! * (this.sim.now - this.lSince[link]!);
  }

  linkPackets(link: number): number {
    return this.linkBytes(link) / this.topo.mtu[link]!;
  }

  linkRate(link: number): number {
    this.checkLink(link);
    return this.load[link]! * 8;
  }

  linkQueueBytes(link: number): number {
    this.checkLink(link);
    return (this.delay[link]! * this.topo.capacity[link]!) / 8;
  }

  /** one-way delay of a small packet now: propagation + queueing on every link + half the host stack round trip */
  pathDelay(src: string, dst: string): number {
    const path = this.route(src, dst);
    return path.propagation + this.sumDelay(path.links) + this.waits(path.links, 0) + this.p.stackRtt / 2;
  }

  /**
   * Request/response over the model's queues. Each leg is evaluated when it starts, so a
   * handshake or a request that waits behind a queue sees the queue of its own moment:
   * set-up (fixed host cost + handshakeRtts round trips), request (one-way delay + serialisation
   * at the bottleneck), response (the same back).
   */
  exchange(src: string, dst: string, requestBytes: number, responseBytes: number, opts: ExchangeOptions): Signal<number> {
    if (!(requestBytes >= 0) || !(responseBytes >= 0)) throw new RangeError("exchange bytes must be >= 0");
    const fwd = this.route(src, dst);
    const back = this.route(dst, src);
    const t0 = this.sim.now;
    const out = new Signal<number>();
    const legs: Array<() => number> = [];
    if (opts.newConnection) {
      const hs = (opts.handshakeRtts ?? this.params.tcpHandshakeRtts) * this.p.handshakeScale;
      legs.push(() => this.p.connectSetup + hs * (this.oneWay(fwd, 0) + this.oneWay(back, 0)));
    }
    legs.push(() => this.oneWay(fwd, requestBytes));
    legs.push(() => this.oneWay(back, responseBytes));
    const run = (k: number): void => {
      if (k === legs.length) {
        out.succeed(this.sim.now - t0);
        return;
      }
      this.sim.schedule(legs[k]!(), () => run(k + 1));
    };
    run(0);
    return out;
  }

  message(src: string, dst: string, bytes: number): Signal<number> {
    if (!(bytes >= 0)) throw new RangeError(`message bytes must be >= 0, got ${bytes}`);
    const d = this.oneWay(this.route(src, dst), bytes);
    const s = new Signal<number>();
    this.sim.schedule(d, () => s.succeed(d));
    return s;
  }

  // ------------------------------------------------------------------ internals

  private oneWay(path: Path, bytes: number): number {
    let ser = 0;
    if (bytes > 0 && path.links.length > 0) {
      let worst = path.links[0]!;
      for (const l of path.links) if (this.topo.capacity[l]! < this.topo.capacity[worst]!) worst = l;
      const c = this.topo.capacity[worst]!;
      if (!(c > 0)) throw new UnreachableResultError(`a message over link ${this.linkName(worst)} can never be delivered: the link has no capacity`);
      // packets join the FIFO behind the queue and leave at the link rate (wire bytes); an idle
      // shaped link lets a burst through at once
      const burst = this.emulated && this.delay[worst] === 0 ? this.p.burstBytes : 0;
      ser = (Math.max(0, bytes / this.eff - burst) * 8) / c;
    }
    // a message's frames (payload + headers) enter every link of its path
    const wire = bytes + this.p.ackBytesPerSegment * 2 * Math.max(1, Math.ceil(bytes / this.p.mss));
    return path.propagation + this.sumDelay(path.links) + this.waits(path.links, wire) + this.p.stackRtt / 2 + ser;
  }

  /**
   * Emulated stack, a shaped link with no standing queue that flows keep busy while their own
   * queue waits upstream (two links of the same rate in series: the first holds the queue).
   * (1) HTB sends a GSO skb as one unit, so a small packet waits for the rest of the skb in
   * service: busy fraction x half its serialisation. (2) Bytes that enter such a link on top of
   * the flows filling it (ACKs of flows crossing it the other way, messages) never drain: they stay
   * as a queue there (TSQ keeps the flow's own total, so its queue moves from upstream to this
   * link), up to the flow's whole own queue, and wait in the FIFO before the skb in service.
   * Returns the wait of a packet crossing l now after adding `bytes` to it.
   */
  private linkWait(l: number, bytes: number): number {
    const now = this.sim.now;
    if (!this.emulated) return 0;
    const c = this.topo.capacity[l]!;
    let skb = 0;
    let held = 0;
    if (this.delay[l] === 0 && this.load[l]! > 0) {
      for (const f of this.through[l]!) {
        if (!f.tcp || f.finished || !(f.rate > 0)) continue;
        const lim = this.tsqLimit(f);
        skb = Math.max(skb, lim / this.p.tsqSkbs);
        if (f.fwdQ > 0) held = Math.max(held, lim / this.eff);
      }
    }
    const busy = Math.min(1, (this.load[l]! * 8) / c);
    if (skb === 0 || held === 0 || busy < 0.99) {
      this.strand[l] = 0;
      this.strandOn[l] = 0;
      this.strandAt[l] = now;
      return skb === 0 ? 0 : (busy * ((skb / this.eff) * 8)) / c / 2;
    }
    if (this.strandOn[l]) this.integrateStrand(l);
    this.strandOn[l] = 1;
    this.strandAt[l] = now;
    this.strand[l] = Math.min(held, this.strand[l]! + bytes);
    // the stranded bytes wait in the FIFO, the skb in service is not part of it
    return (busy * ((skb / this.eff) * 8)) / c / 2 + (this.strand[l]! * 8) / c;
  }

  /** adds the ACK bytes of the flows whose ACKs cross l since the last update (rates constant since) */
  private integrateStrand(l: number): void {
    const now = this.sim.now;
    let r = 0;
    for (const f of this.acking[l]!) if (!f.finished) r += f.rate;
    this.strand[l] = this.strand[l]! + ((r / this.p.mss) * this.p.ackBytesPerSegment) * (now - this.strandAt[l]!);
    this.strandAt[l] = now;
  }

  private waits(links: readonly number[], bytes: number): number {
    if (!this.emulated || !(this.p.gsoHeadOfLine > 0)) return 0;
    let s = 0;
    for (const l of links) s += this.linkWait(l, bytes);
    return s;
  }

  private sumDelay(links: readonly number[]): number {
    let s = 0;
    for (const l of links) s += this.delay[l]!;
    return s;
  }

  private checkLink(link: number): void {
    if (!(link >= 0 && link < this.L && Number.isInteger(link))) throw new RangeError(`no directed link ${link}`);
  }

  private linkName(l: number): string {
    const t = this.topo;
    return `${t.names[t.from[l]!]}->${t.names[t.to[l]!]} (${t.portName[l]})`;
  }

  private remove(f: FluidFlow): void {
    this.setRate(f, 0); // (also drops its completion entry)
    f.finished = true;
    this.setRestless(f, false);
    for (const l of f.path.links) this.markDirty(l);
    if (!f.tcp) this.udpDirty = true;
    this.live.delete(f.id);
    this.liveArray = undefined;
    for (const l of f.path.links) {
      const a = this.through[l]!;
      a.splice(a.indexOf(f), 1);
      if (a.length === 0) this.usedLinks.delete(l);
    }
    if (f.tcp) for (const l of f.ack.links) {
      const a = this.acking[l]!;
      a.splice(a.indexOf(f), 1);
    }
  }

  /**
   * Arrivals and departures of one instant are solved together, once, after the last of them:
   * flows that start at the same moment all see the queues as they were (their handshakes
   * overlap), whatever order they were started in, and a burst of starts costs one solve.
   */
  private requestResolve(): void {
    if (this.flush !== undefined) return;
    if (this.tick !== undefined) {
      this.sim.cancel(this.tick);
      this.tick = undefined;
    }
    this.flush = this.sim.schedule(0, this.onFlush);
  }

  private readonly onFlush = (): void => {
    this.flush = undefined;
    this.resolve();
  };

  /**
   * Grows the windows up to `t` with the rates of the step that ends. Bytes are integrated lazily
   * (when a rate changes); a flow whose state is at rest and whose rate and delays did not move
   * since it last grew would grow by nothing, so only restless flows are visited (a later growth
   * integrates over the whole interval).
   */
  private advance(t: number): void {
    if (!(t > this.last)) return;
    // (deleting the current element while iterating a Set is safe; grow re-adds only f itself)
    for (const f of this.restless) {
      if (f.tcp) {
        this.grow(f, t - f.grownAt, t);
        f.grownAt = t;
      }
      f.needsGrow = false;
      if ((!f.changing && f.wakeAt === Infinity) || !f.tcp) this.setRestless(f, false);
    }
    this.last = t;
  }

  /** changes a flow's rate, integrating its bytes up to now first */
  private setRate(f: FluidFlow, r: number): void {
    const now = this.sim.now;
    if (r === f.rate && f.since === now) return;
    if (this.emulated && this.p.gsoHeadOfLine > 0 && r !== f.rate) for (const l of f.ack.links) if (this.strandOn[l]) this.integrateStrand(l);
    f.delivered = Math.min(f.size, f.delivered + f.rate * (now - f.since));
    f.since = now;
    if (r === f.rate) return;
    f.rate = r;
    for (const l of f.path.links) {
      if (!this.loadDirty[l]) {
        this.loadDirty[l] = 1;
        this.loadList.push(l);
      }
    }
    if (f.size < Infinity && r > 0) this.finishing.set(f.id, now + (f.size - f.delivered) / r, f.id);
    else this.finishing.delete(f.id);
  }

  private setLoad(l: number, w: number): void {
    const now = this.sim.now;
    this.cum[l]! += this.load[l]! * (now - this.lSince[l]!);
    this.lSince[l] = now;
    this.load[l] = w;
  }

  /** tcp_tso_autosize's extra bytes for flows with a small min RTT (Linux >= 6.2) */
  private tsoBonus(f: FluidFlow): number {
    return f.bonus;
  }

  private computeBonus(f: FluidFlow): number {
    const r = Math.floor(Math.max(0, f.minRtt * 1e6) / 2 ** this.p.tsoRttLog);
    return r < 32 ? 65536 / 2 ** r : 0;
  }

  /** Linux TSQ across one kernel: tsqSkbs skbs of the size tcp_tso_autosize picks now. */
  private tsqLimit(f: FluidFlow): number {
    const p = this.p;
    const pacing = this.pacingRate(f);
    // BBR sizes its own skbs: one segment below 1.2 Mbit/s of pacing (bbr_min_tso_segs)
    const minSegs = this.bbr && pacing < 1.2e6 / 8 ? 1 : p.minTsoSegs;
    const bytes = pacing / 1024 + this.tsoBonus(f);
    const segs = Math.min(p.maxTsoSegs, Math.max(minSegs, Math.floor(bytes / p.mss)));
    return p.tsqSkbs * segs * p.mss;
  }

  private pacingRate(f: FluidFlow): number {
    if (this.bbr) {
      const gain = f.bbrFull ? 1 : this.p.bbrStartupGain;
      return gain * (f.btlBw > 0 ? f.btlBw : f.cwnd / f.srtt);
    }
    // tcp_update_pacing_rate: 200% of cwnd/srtt in slow start, 120% after
    return ((f.slowStart ? 2 : 1.2) * f.cwnd) / f.srtt;
  }

  /** Window dynamics of flow f over dt (rates, delays of the step just ended). */
  private grow(f: FluidFlow, dt: number, now: number): void {
    const p = this.p;
    const rtt = f.baseRtt + f.fwdQ + f.ackQ;
    f.srtt = rtt;
    const minBefore = f.minRtt;
    if (rtt < f.minRtt) {
      f.minRtt = rtt;
      f.bonus = this.computeBonus(f);
    }
    const inflight = f.rate * rtt;
    const acked = f.rate * dt;
    let lost = false;
    for (const l of f.path.links) if (this.overflow[l]) lost = true;
    const capped = f.rate >= f.cap * (1 - REL);
    const before = f.cwnd;
    const queueBefore = f.ownQueue;
    const bwBefore = f.btlBw;
    const fullBefore = f.bbrFull;
    if (this.bbr) {
      this.growBbr(f, dt, rtt, inflight, capped, now);
    } else if (lost && now - f.lastLoss >= rtt) {
      f.lastLoss = now;
      f.slowStart = false;
      if (this.cc === "cubic") {
        // fast convergence (RFC 9438 4.7): a flow losing ground releases bandwidth sooner
        f.wMax = f.cwnd < f.wMax ? (f.cwnd * (1 + p.cubicBeta)) / 2 : f.cwnd;
        f.cwnd = Math.max(2 * p.mss, f.cwnd * p.cubicBeta);
        f.epoch = now;
      } else {
        f.cwnd = Math.max(2 * p.mss, f.cwnd * p.renoBeta);
      }
      f.ssthresh = f.cwnd;
    } else if (!capped) {
      // Linux grows cwnd only while it limits sending: in slow start while cwnd < 2 * in flight
      const limited = f.slowStart ? f.cwnd < 2 * inflight * (1 + 1e-6) : inflight >= f.cwnd * (1 - 1e-6);
      if (limited && f.slowStart) {
        f.cwnd += acked;
        if (f.cwnd >= f.ssthresh) f.slowStart = false;
      } else if (limited && this.cc === "reno") {
        f.cwnd += (p.mss * acked) / f.cwnd;
      } else if (limited) {
        // CUBIC: W(t) = C (t - K)^3 + Wmax in segments, t since the last reduction; never below Reno's line
        const wmax = f.wMax / p.mss;
        const K = Math.cbrt((wmax * (1 - p.cubicBeta)) / p.cubicC);
        const t = now - f.epoch;
        const cubic = (p.cubicC * (t - K) ** 3 + wmax) * p.mss;
        const reno = f.cwnd + (((3 * (1 - p.cubicBeta)) / (1 + p.cubicBeta)) * p.mss * acked) / f.cwnd;
        f.cwnd = Math.max(reno, Math.min(cubic, 1.5 * f.cwnd + acked));
      } else if (!f.slowStart && this.cc === "cubic") {
        f.epoch += dt; // application- or TSQ-limited time does not count towards cubic growth
      }
    }
    if (this.emulated) {
      const q = this.tsqLimit(f);
      if (this.bbr && !f.bbrFull && this.tsoBonus(f) > 0) {
        // BBR on the emulated stack (measured): a startup burst with a large own queue, then
        // it settles on its inflight cap. The clock runs only while the flow is not starved.
        const clock = f.startupClock;
        const extra = clock < p.bbrStartupTime ? p.bbrStartupQueue : p.bbrStartupQueue * (1 - (clock - p.bbrStartupTime) / p.bbrDrainTime);
        f.ownQueue = Math.max(q, extra);
      } else {
        f.ownQueue = q;
      }
    }
    // The solver looks at a flow's window at most once per round trip (a window acts on the
    // network through the ACK clock, one round trip at a time); growth between two looks stays
    // pending, so the cost of a step does not grow with the number of unrelated arrivals and
    // departures inside a round trip. A shrinking window (a loss) is seen at once. A window that
    // does not bind (the flow is held by its own-queue limit or its cap, as most emulated flows
    // in slow start are) leaves the demand at the current delays as it was: nothing to re-solve.
    let demandMoved = false;
    if (f.cwnd !== f.seenCwnd && (f.cwnd < f.seenCwnd || now - f.seenAt >= rtt * (1 - 1e-9))) {
      f.seenCwnd = f.cwnd;
      f.seenAt = now;
      demandMoved = this.rateFor(f, f.fwdQ, f.ackQ) !== f.demand;
    }
    if (demandMoved || f.ownQueue !== queueBefore || f.btlBw !== bwBefore || f.bbrFull !== fullBefore) this.markFlow(f);
    const bbrChanging = this.bbr && f.changing;
    // a loss-based flow on an overflowing link will see another loss next round trip, unless its
    // window is already at the floor (then nothing can change until something else does)
    const lossPending = lost && !this.bbr && f.cwnd > 2 * p.mss * (1 + 1e-9);
    f.changing =
      bbrChanging ||
      lossPending ||
      Math.abs(f.cwnd - before) > 1e-6 * before ||
      f.minRtt < minBefore * (1 - 1e-9) ||
      Math.abs(f.cwnd - f.seenCwnd) > 1e-6 * f.seenCwnd ||
      (queueBefore !== f.ownQueue && !(Math.abs(f.ownQueue - queueBefore) <= 1e-9 * queueBefore));
  }

  private growBbr(f: FluidFlow, dt: number, rtt: number, inflight: number, capped: boolean, now: number): void {
    const p = this.p;
    const wasFull = f.bbrFull;
    const prevBw = f.btlBw;
    if (!f.bbrFull) {
      // startup: the window doubles per round trip while the delivery rate keeps growing
      const cwnd0 = f.cwnd;
      f.btlBw = Math.max(f.btlBw, f.rate);
      if (!capped && f.cwnd < 2 * inflight * (1 + 1e-6)) f.cwnd += f.rate * dt;
      let moving = f.btlBw !== prevBw || f.cwnd !== cwnd0;
      if (this.emulated && this.tsoBonus(f) > 0) {
        // measured on Mininet: startup with a large own queue, timed while the flow has the link
        if (this.bottleneckShare(f) >= 0.5) {
          f.startupClock += dt;
          moving = true;
        }
        if (f.startupClock >= p.bbrStartupTime + p.bbrDrainTime) f.bbrFull = true;
      } else if (f.btlBw > 0 && (f.fullBw === 0 || f.btlBw >= 1.25 * f.fullBw)) {
        f.fullBw = f.btlBw;
        f.fullBwAt = now;
        moving = true;
      } else if (f.btlBw > 0) {
        // full pipe: no 25% growth of the delivery rate over three rounds
        if (now - f.fullBwAt >= 3 * rtt) f.bbrFull = true;
        moving = true;
      }
      if (!f.bbrFull) {
        f.changing = moving;
        return;
      }
    }
    // ProbeBW: every cycle the flow paces at 1.25 btlBw; what it then gets delivered becomes the
    // new estimate (max filter over ~10 rounds). On a full link the probe takes the share
    // 1.25 b c / (A + 0.25 b), which is what drives BBR flows towards equal rates. A flow held
    // by its own-queue limit (emulated stack) delivers the same whatever it paces at.
    const frac = Math.min(1, dt / (p.bbrCycleRtts * rtt));
    const held = f.fwdQ > 0 && f.ownQueue / f.fwdQ <= f.rate * (1 + 1e-9);
    const target = held ? f.rate : wasFull ? this.probeRate(f) : Math.max(f.rate, this.probeRate(f));
    f.btlBw = f.btlBw + (target - f.btlBw) * frac;
    // BBR's min RTT: the smallest sample of the last 10 s; on a physical stack ProbeRTT (every
    // 10 s, all BBR flows drop to 4 packets) lets it see the unloaded path. On the emulated
    // stack the queue of the established flows does not drain that far (measured: a late flow
    // stays starved), so it keeps its samples.
    f.bbrMinRtt = Math.min(f.bbrMinRtt, rtt);
    if (!this.emulated && now - f.bbrMinRttAt >= 10 * (1 - 1e-12)) {
      f.bbrMinRtt = f.baseRtt;
      f.bbrMinRttAt = now;
    }
    if (!this.emulated) f.wakeAt = f.bbrMinRtt > f.baseRtt * (1 + 1e-9) ? f.bbrMinRttAt + 10 : Infinity;
    const bdp = f.btlBw * f.bbrMinRtt;
    f.cwnd = p.bbrCwndGain * bdp + p.bbrExtraSegs * p.mss;
    f.changing = Math.abs(f.btlBw - prevBw) > 1e-4 * prevBw || !wasFull;
  }

  /** rate a BBR probe at 1.25 x btlBw would see delivered on the flow's tightest link */
  private probeRate(f: FluidFlow): number {
    const g = this.p.bbrProbeGain;
    let r = g * f.btlBw;
    for (const l of f.path.links) {
      const C = this.avail[l]!;
      let A = 0;
      for (const h of this.through[l]!) if (h.tcp) A += h.rate;
      const extra = (g - 1) * f.btlBw;
      if (A + extra > C) r = Math.min(r, (g * f.btlBw * C) / (A + extra));
    }
    return Math.min(r, f.cap);
  }

  private bottleneckShare(f: FluidFlow): number {
    // share of the tightest link: the largest fraction of a link the flow takes
    let s = 0;
    for (const l of f.path.links) if (this.avail[l]! > 0) s = Math.max(s, f.rate / this.avail[l]!);
    return s;
  }

  /**
   * What bound the last rateFor: its rate is x = c / (denominator + P) for a delay-bound term
   * (the window over the round trip, or the own-queue limit over the path's queueing), so
   * d(rate)/dP = -x / rateDenominator; 0 when a fixed cap binds. The root search of solveLink
   * steps with it; the slope itself is computed only there (a division saved elsewhere).
   */
  private rateDenominator = 0;

  /** rate of f given the queueing delays of its data path (P) and ACK path (A) */
  private rateFor(f: FluidFlow, P: number, A: number): number {
    const rtt = f.baseRtt + P + A;
    let x = f.cwnd / rtt;
    let den = rtt;
    if (f.cap <= x) {
      x = f.cap;
      den = Infinity;
    }
    if (this.bbr && f.btlBw > 0) {
      const gain = f.bbrFull ? 1 : this.p.bbrStartupGain;
      const paced = gain * f.btlBw * (f.bbrFull ? this.p.bbrProbeGain : 1);
      if (paced < x) {
        x = paced;
        den = Infinity;
      }
    }
    if (P > 0 && f.ownQueue < Infinity) {
      const queued = f.ownQueue / P;
      if (queued < x) {
        x = queued;
        den = P;
      }
    }
    this.rateDenominator = den;
    return x;
  }

  /**
   * Solves the quasi-static queues (Gauss-Seidel over the links carrying tcp flows, each link's
   * delay by bisection on its monotone excess demand), then the rates, then schedules the next step.
   */
  private resolve(): void {
    this.steps++;
    const eff = this.eff;
    const cap = this.topo.capacity;
    if (this.udpDirty) {
      // udp first: constant-rate flows take their rate, cut proportionally where they alone overfill a link
      this.udpDirty = false;
      const udpLoad = new Map<number, number>();
      for (const f of this.live.values()) if (!f.tcp) for (const l of f.path.links) udpLoad.set(l, (udpLoad.get(l) ?? 0) + f.udpRate);
      for (const f of this.live.values()) {
        if (f.tcp) continue;
        let sc = 1;
        for (const l of f.path.links) sc = Math.min(sc, cap[l]! / 8 / udpLoad.get(l)!);
        this.setRate(f, f.udpRate * sc);
        for (const l of f.path.links) this.markDirty(l);
      }
    }
    // Re-solve only what changed: a worklist of links, Gauss-Seidel style. A link whose delay moves
    // changes the rates of the flows crossing it (data or ACKs), so their other links rejoin the list.
    // (sorted: the solve's Gauss-Seidel order must not depend on the order changes came in)
    const dirty = this.dirtyList;
    const work = this.work;
    work.length = 0;
    if (dirty.length <= 64) {
      // insertion sort: no comparator callback, no allocation (this runs once per step)
      for (const l of dirty) {
        let i = work.length;
        work.push(l);
        while (i > 0 && work[i - 1]! > l) {
          work[i] = work[i - 1]!;
          i--;
        }
        work[i] = l;
      }
    } else {
      // a typed array sorts numerically in native code
      const sorted = Int32Array.from(dirty).sort();
      for (let i = 0; i < sorted.length; i++) work.push(sorted[i]!);
    }
    for (const l of work) this.isDirty[l] = 0;
    dirty.length = 0;
    const inWork = this.inWork;
    const touched = this.touched;
    const touchedList = this.touchedList;
    touchedList.length = 0;
    for (const l of work) inWork[l] = 1;
    let budget = 60 * (work.length + 16);
    // The links dirty from the start gained or lost flows or capacity: their cuts must be redone.
    // A link reached later changes its flows' demands only through its delay, and those flows'
    // links are touched when their demands are recomputed below.
    const changedLinks = work.length;
    for (let head = 0; head < work.length; head++) {
      const l = work[head]!;
      inWork[l] = 0;
      if (head < changedLinks) this.touch(l);
      const old = this.delay[l]!;
      const d = this.solveLink(l);
      this.delay[l] = d;
      const delta = d - old;
      if (delta === 0) continue;
      // a change below 1e-4 of a round trip moves rates by less than 1e-4: not worth re-solving
      // the neighbours for (the scaling pass below still keeps every link within capacity)
      const spread = Math.abs(delta) > 1e-4 * (this.p.stackRtt + Math.max(d, old)) && budget-- > 0;
      for (const f of this.through[l]!) {
        if (!f.tcp) continue;
        f.fwdQ += delta;
        this.markRate(f);
        // slower flows (delta > 0) cannot congest an idle link: only queued links need a look
        if (spread) for (const m of f.path.links) if (m !== l && !inWork[m] && (delta < 0 || this.delay[m]! > 0)) { inWork[m] = 1; work.push(m); }
      }
      for (const f of this.acking[l]!) {
        f.ackQ += delta;
        this.markRate(f);
        if (spread) for (const m of f.path.links) if (!inWork[m] && (delta < 0 || this.delay[m]! > 0)) { inWork[m] = 1; work.push(m); }
      }
    }
    // rates of the flows whose inputs changed, exact path sums (no drift from the updates above)
    for (const f of this.rateList) {
      f.rateDirty = false;
      if (f.finished || !f.tcp) continue;
      f.fwdQ = this.sumDelay(f.path.links);
      f.ackQ = this.sumDelay(f.ack.links);
      f.demand = this.rateFor(f, f.fwdQ, f.ackQ);
      this.markCut(f);
      for (const l of f.path.links) this.touch(l);
    }
    this.rateList.length = 0;
    // Where demand exceeds a link (an overflowing drop-tail queue, or the iteration's tolerance)
    // its flows are cut to the link's share: rate = demand x the smallest cut on the path. The cut
    // of a link is recomputed whenever its demand may have changed (it is touched), so every link
    // stays within capacity: sum of rates <= cut x sum of demands = capacity. A rate changes only
    // with its demand (the flows just recomputed) or a cut on its path (the flows marked here).
    const n0 = touchedList.length;
    for (let k = 0; k < n0; k++) {
      const l = touchedList[k]!;
      let A = 0;
      for (const f of this.through[l]!) if (f.tcp) A += f.demand;
      const sc = A > this.avail[l]! ? this.avail[l]! / A : 1;
      if (sc !== this.cut[l]) {
        this.cut[l] = sc;
        for (const f of this.through[l]!) if (f.tcp) this.markCut(f);
      }
    }
    for (const f of this.cutList) {
      f.cutDirty = false;
      let sc = 1;
      for (const l of f.path.links) sc = Math.min(sc, this.cut[l]!);
      this.setRate(f, f.demand * sc);
    }
    this.cutList.length = 0;
    for (const l of touchedList) touched[l] = 0;
    // wire loads of the links where a rate changed (setRate listed them)
    for (const l of this.loadList) {
      this.loadDirty[l] = 0;
      let w = 0;
      for (const f of this.through[l]!) w += f.tcp ? f.rate / eff : f.rate;
      this.setLoad(l, Math.min(w, cap[l]! / 8));
    }
    this.loadList.length = 0;
    this.schedule();
  }

  private readonly touchedList: number[] = [];
  private readonly cutList: FluidFlow[] = [];
  private markCut(f: FluidFlow): void {
    if (!f.cutDirty) {
      f.cutDirty = true;
      this.cutList.push(f);
    }
  }
  /** a link whose cut must be recomputed in this solve (its flows or their demands changed) */
  private touch(l: number): void {
    if (!this.touched[l]) {
      this.touched[l] = 1;
      this.touchedList.push(l);
    }
  }

  private markRate(f: FluidFlow): void {
    f.needsGrow = true;
    if (!f.finished && !f.restless) this.setRestless(f, true);
    if (!f.rateDirty) {
      f.rateDirty = true;
      this.rateList.push(f);
    }
  }

  /** keeps f.restless (a field, read in hot loops) and the set of restless flows in step */
  private setRestless(f: FluidFlow, on: boolean): void {
    f.restless = on;
    if (on) this.restless.add(f);
    else this.restless.delete(f);
  }

  /** a link to re-balance at the next solve */
  private markDirty(l: number): void {
    if (!this.isDirty[l]) {
      this.isDirty[l] = 1;
      this.dirtyList.push(l);
    }
  }

  /** a flow's own state changed: its links must be re-balanced and its rate recomputed */
  private markFlow(f: FluidFlow): void {
    for (const l of f.path.links) this.markDirty(l);
    if (!f.tcp) this.udpDirty = true;
    this.markRate(f);
  }

  // scratch arrays of solveLink (no allocation per call: it runs in every step's inner loop)
  private sFlows: FluidFlow[] = [];
  private sOther = new Float64Array(16);
  private sAck = new Float64Array(16);
  private sCount = 0;

  /** d(demand)/d(delay) at the last demandAt */
  private demandSlope = 0;

  private demandAt(d: number): number {
    let s = 0;
    let slope = 0;
    const fl = this.sFlows;
    const other = this.sOther;
    const ack = this.sAck;
    for (let i = 0; i < this.sCount; i++) {
      const P = other[i]! + d;
      const x = this.rateFor(fl[i]!, P > 0 ? P : 0, ack[i]!);
      s += x;
      if (P > 0) slope -= x / this.rateDenominator;
    }
    this.demandSlope = slope;
    return s;
  }

  /** delay of link l that balances its tcp demand with its capacity, other links held fixed */
  private solveLink(l: number): number {
    const own = this.delay[l]!;
    const flows = this.through[l]!;
    this.overflow[l] = 0;
    // One pass for the common case, a link that stays idle: capacity left by udp, tcp demand at d = 0
    let u = 0;
    let atZero = 0;
    let tcpFlows = 0;
    for (const f of flows) {
      if (f.tcp) {
        const P = f.fwdQ - own;
        atZero += this.rateFor(f, P > 0 ? P : 0, f.ackQ);
        tcpFlows++;
      } else {
        u += f.rate;
      }
    }
    const C = Math.max(0, this.eff * (this.topo.capacity[l]! / 8 - u));
    this.avail[l] = C;
    if (tcpFlows === 0 || atZero <= C * (1 + REL)) return 0;
    if (this.sOther.length < flows.length) {
      this.sOther = new Float64Array(2 * flows.length);
      this.sAck = new Float64Array(2 * flows.length);
    }
    // each flow's queueing elsewhere on its data path and on its ACK path, fixed during this solve
    let n = 0;
    for (const f of flows) {
      if (!f.tcp) continue;
      this.sFlows[n] = f;
      this.sOther[n] = f.fwdQ - own;
      this.sAck[n] = f.ackQ;
      n++;
    }
    this.sCount = n;
    const dmax = this.topo.queueBytes[l]! / (this.topo.capacity[l]! / 8);
    if (n === 1) {
      // one flow: its rate min(cap, W / (E + d), Q / (O + d)) exceeds C at d = 0 (checked above),
      // so every term exceeds C there and the minimum falls to C where the first term does
      const f = this.sFlows[0]!;
      const other = this.sOther[0]!;
      const E = f.baseRtt + other + this.sAck[0]!;
      let d = f.cwnd / C - E;
      if (f.ownQueue < Infinity) d = Math.min(d, f.ownQueue / C - other);
      d = Math.max(0, d);
      if (d <= dmax && Math.abs(this.demandAt(d) - C) <= 1e-9 * C) return d;
      // (rounding, or a pacing cap in between: fall through to the general solve)
    }
    const atMax = this.demandAt(dmax);
    if (atMax > C * (1 + REL)) {
      this.overflow[l] = 1;
      return dmax;
    }
    // Newton from the previous delay (it moves little between steps: two or three evaluations),
    // safeguarded by a bracket [lo, hi] around the root: the excess demand falls with d, so a
    // step leaving the bracket is replaced by Illinois' (regula falsi that halves the stale end).
    // 1e-10 s is far below any delay that matters.
    let lo = 0;
    let hi = dmax;
    let glo = atZero - C;
    let ghi = atMax - C;
    let side = 0;
    let d = own > 0 && own < dmax ? own : NaN;
    for (let i = 0; i < 100 && hi - lo > 1e-10 + 1e-12 * hi; i++) {
      if (Number.isNaN(d)) {
        d = (lo * ghi - hi * glo) / (ghi - glo);
        if (!(d > lo && d < hi)) d = 0.5 * (lo + hi);
      }
      const g = this.demandAt(d) - C;
      const slope = this.demandSlope;
      if (g > 0) {
        lo = d;
        glo = g;
        if (side === 1) ghi *= 0.5;
        side = 1;
      } else {
        hi = d;
        ghi = g;
        if (g === 0) break;
        if (side === -1) glo *= 0.5;
        side = -1;
      }
      const next = slope < 0 ? d - g / slope : NaN;
      if (!(next > lo && next < hi)) {
        d = NaN;
        continue;
      }
      // Newton has converged: its step is below the tolerance
      if (Math.abs(next - d) <= 1e-10 + 1e-12 * next) return next > d ? next : d;
      d = next;
    }
    return hi;
  }

  private schedule(): void {
    if (this.tick !== undefined) {
      this.sim.cancel(this.tick);
      this.tick = undefined;
    }
    const now = this.sim.now;
    let at = this.finishing.peekKey();
    for (const f of this.restless) {
      // (a step longer than a round trip integrates the growth laws over it; see grow)
      if (f.tcp && f.changing) at = Math.min(at, now + Math.max(this.p.minStep, f.baseRtt + f.fwdQ + f.ackQ));
      if (f.wakeAt < at) at = Math.max(now, f.wakeAt);
    }
    if (at < Infinity) {
      this.tick = this.sim.scheduleAt(Math.max(now, at), this.onTick);
      if (this.sentinel !== undefined) {
        this.sim.cancel(this.sentinel);
        this.sentinel = undefined;
      }
      return;
    }
    let starved = false;
    for (const f of this.live.values()) if (f.size < Infinity && f.rate <= 0 && f.size - f.delivered > 0) starved = true;
    if (starved && this.sentinel === undefined) this.sentinel = this.sim.scheduleAt(Infinity, this.onStarved);
  }

  private readonly onStarved = (): void => {
    this.sentinel = undefined;
    for (const f of this.live.values()) {
      if (f.size < Infinity && f.rate <= 0) {
        let worst = f.path.links[0]!;
        for (const l of f.path.links) if (this.avail[l]! <= 0) worst = l;
        throw new StarvedFlowError(f, this.linkName(worst));
      }
    }
  };

  private readonly onTick = (): void => {
    this.tick = undefined;
    const now = this.sim.now;
    this.advance(now);
    const done: FluidFlow[] = [];
    // rates were constant since each entry was made, so a flow due now has (up to rounding) its size
    while (this.finishing.peekKey() <= now) {
      done.push(this.live.get(this.finishing.peekValue())!);
      this.finishing.pop();
    }
    for (const f of done) {
      this.remove(f);
      f.delivered = f.size;
    }
    this.resolve();
    for (const f of done) f.done.succeed({ start: f.start, end: now, bytes: f.size, stopped: false });
  };
}
