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
 *
 * The parts, one object each, composed here: FluidSettings, LinkState and FlowsInFlight
 * (state.ts: what they share), HostStack (hoststack.ts), CongestionLaws (congestion.ts),
 * QueueSolver (solver.ts), MessageDelays (delays.ts); params.ts and flow.ts hold the parameters
 * and the per-flow state. This file is the NetworkModel: flows in and out, and stepping.
 */
import { Arena } from "../../core/arena.ts";
import { type EventId, Signal, type Simulator } from "../../kernel/index.ts";
import { blockedLinkError, type ExchangeOptions, type Flow, type FlowResult, type FlowSpec, type ModelOptions, type NetworkModel, type NetworkParams, starvedFlowError } from "../network-model.ts";
import { Router } from "../topology/routing.ts";
import type { CompiledTopology, Path } from "../topology/topology-types.ts";
import { CongestionLaws } from "./congestion.ts";
import { MessageDelays } from "./delays.ts";
import { FluidFlow } from "./flow.ts";
import { HostStack } from "./hoststack.ts";
import type { TcpFluidParams } from "./tcpfluid-params.ts";
import { QueueSolver } from "./solver.ts";
import { FlowsInFlight, FluidSettings, LinkState } from "./state.ts";

/** Linux's tcp_rto_min, seconds: the least rttvar term of a retransmission timeout */
const RTO_MIN = 0.2;

export class TcpFluidModel implements NetworkModel {
  readonly name = "tcp-fluid" as const;
  private readonly settings: FluidSettings;
  private readonly p: TcpFluidParams;
  private readonly routeFn: (src: string, dst: string) => Path;
  private readonly links: LinkState;
  private readonly flows: FlowsInFlight;
  private readonly stack: HostStack;
  private readonly laws: CongestionLaws;
  private readonly solver: QueueSolver;
  private readonly delays: MessageDelays;
  private nextId = 0;
  /** the time windows have grown to */
  private last = 0;
  /** the next step, the solve after this instant's arrivals and departures, the starvation sentinel */
  private tick: EventId | undefined;
  private flush: EventId | undefined;
  private sentinel: EventId | undefined;

  constructor(
    readonly sim: Simulator,
    readonly topo: CompiledTopology,
    readonly params: NetworkParams,
    options: ModelOptions = {},
  ) {
    const settings = (this.settings = new FluidSettings(sim, topo, params));
    this.p = settings.p;
    // (a router of its own only when the caller routes with none: ModelOptions)
    const router = options.route ? undefined : new Router(topo, params.routing);
    this.routeFn = options.route ?? ((s, d) => router!.route(s, d));
    const L = topo.from.length;
    // 8 Float64Arrays, 6 Uint8Arrays and an Int32Array of L over the parts (a miscount only costs a second buffer)
    const arena = new Arena(L * (8 * 8 + 6 + 4) + 64);
    this.links = new LinkState(topo, settings.emulated, arena);
    this.flows = new FlowsInFlight();
    this.stack = new HostStack(settings, this.links, arena);
    this.laws = new CongestionLaws(settings, this.links, this.stack);
    this.solver = new QueueSolver(settings, this.links, this.flows, this.laws, this.stack, arena);
    this.delays = new MessageDelays(settings, this.links, this.stack, this.routeFn, router ?? options.router, params.tcpHandshakeRtts);
  }

  /** steps taken so far (for benchmarks) */
  get stepCount(): number {
    return this.solver.steps;
  }

  /** link solves so far, over all steps (for benchmarks and the precision test) */
  get linkSolveCount(): number {
    return this.solver.linkSolves;
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
      if (!(this.topo.capacity[l]! > 0)) throw blockedLinkError(`flow ${spec.src} -> ${spec.dst} can never finish: link ${this.links.name(l)} has no capacity`, l);
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
    // The handshake's round trip is the first RTT sample (it sees the queues as they are now,
    // and on the emulated stack the wait of a small packet behind a GSO skb in service on a busy
    // link without a standing queue: a SYN into a host another flow fills from upstream waits
    // there, so the new flow's min RTT is tens of ms and its skbs small; docs/tcp-fluid.md).
    f.fwdQ = this.links.sumDelay(path.links);
    f.ackQ = this.links.sumDelay(ack.links);
    const rtt0 = base + f.fwdQ + f.ackQ + this.stack.waits(path.links, 0) + this.stack.waits(ack.links, 0);
    const least = base + f.fwdQ + f.ackQ + this.stack.minimumWaits(path.links) + this.stack.minimumWaits(ack.links);
    f.srtt = rtt0;
    f.minRtt = least;
    f.bbrMinRtt = least;
    f.bbrMinRttAt = this.sim.now;
    const earlier = spec.continues;
    if (f.tcp && earlier instanceof FluidFlow && earlier.tcp) this.resume(f, earlier);
    f.bonus = this.stack.computeBonus(f);
    this.flows.add(f);
    this.flows.setRestless(f, true);
    for (const l of path.links) this.links.through[l]!.push(f);
    if (f.tcp) for (const l of ack.links) this.links.acking[l]!.push(f);
    if (this.settings.emulated && f.tcp) f.ownQueue = this.stack.tsqLimit(f);
    this.solver.markFlow(f);
    this.requestResolve();
    return f;
  }

  /**
   * A flow that continues an earlier flow's connection keeps its congestion state: the window and
   * slow-start threshold, CUBIC's epoch, the min RTT (Linux keeps it for 5 minutes) and BBR's
   * model of the path. A connection idle for longer than its RTO restarts its window
   * (tcp_cwnd_restart, tcp_slow_start_after_idle = 1): halved once per RTO of idle time, down to
   * the initial window, and slow start up to three quarters of the window it had.
   */
  private resume(f: FluidFlow, earlier: FluidFlow): void {
    const ended = earlier.done.value?.end ?? this.sim.now;
    const idle = this.sim.now - ended;
    // Linux's RTO: srtt + 4 rttvar, rttvar at least tcp_rto_min (200 ms)
    const rto = earlier.srtt + RTO_MIN;
    let cwnd = earlier.cwnd;
    f.ssthresh = earlier.ssthresh;
    if (idle > rto) {
      const restart = Math.min(this.p.initialWindow * this.p.mss, cwnd);
      for (let left = idle - rto; left > 0 && cwnd > restart; left -= rto) cwnd /= 2;
      cwnd = Math.max(cwnd, restart);
      f.ssthresh = Math.max(earlier.ssthresh === Infinity ? 0 : earlier.ssthresh, 0.75 * earlier.cwnd);
    }
    f.cwnd = cwnd;
    f.slowStart = earlier.slowStart || cwnd < f.ssthresh;
    f.wMax = earlier.wMax;
    f.epoch = earlier.epoch;
    f.lastLoss = earlier.lastLoss;
    f.minRtt = Math.min(f.minRtt, earlier.minRtt);
    f.btlBw = earlier.btlBw;
    f.bbrFull = earlier.bbrFull;
    f.fullBw = earlier.fullBw;
    f.fullBwAt = earlier.fullBwAt;
    f.startupClock = earlier.startupClock;
    if (earlier.bbrMinRtt <= f.bbrMinRtt) {
      f.bbrMinRtt = earlier.bbrMinRtt;
      f.bbrMinRttAt = earlier.bbrMinRttAt;
    }
  }

  stopFlow(flow: Flow): void {
    const f = flow as FluidFlow;
    if (f.finished || this.flows.live.get(f.id) !== f) return;
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
    return this.flows.array();
  }

  linkBytes(link: number): number {
    this.links.checkLink(link);
    const { cum, load, since } = this.links;
    return cum[link]! + load[link]! * (this.sim.now - since[link]!);
  }

  linkPackets(link: number): number {
    return this.linkBytes(link) / this.topo.mtu[link]!;
  }

  linkRate(link: number): number {
    this.links.checkLink(link);
    return this.links.load[link]! * 8;
  }

  linkQueueBytes(link: number): number {
    this.links.checkLink(link);
    return (this.links.delay[link]! * this.topo.capacity[link]!) / 8;
  }

  pathDelay(src: string, dst: string): number {
    return this.delays.pathDelay(src, dst);
  }

  exchange(src: string, dst: string, requestBytes: number, responseBytes: number, opts: ExchangeOptions): Signal<number> {
    return this.delays.exchange(src, dst, requestBytes, responseBytes, opts);
  }

  /** exchange's legs one at a time, each on the queues of its start (a caller times each when the one before ends) */
  exchangeSeconds(fwd: Path, back: Path, requestBytes: number, responseBytes: number, opts: ExchangeOptions, leg = 0): number {
    return this.delays.legSeconds(fwd, back, requestBytes, responseBytes, opts, leg);
  }

  exchangeLegs(opts: ExchangeOptions): number {
    return this.delays.legs(opts);
  }

  message(src: string, dst: string, bytes: number): Signal<number> {
    return this.delays.message(src, dst, bytes);
  }

  private remove(f: FluidFlow): void {
    this.solver.removeFlow(f); // (rate 0 also drops its completion entry)
    f.finished = true;
    this.flows.setRestless(f, false);
    this.flows.delete(f);
    for (const l of f.path.links) {
      const a = this.links.through[l]!;
      a.splice(a.indexOf(f), 1);
    }
    if (f.tcp)
      for (const l of f.ack.links) {
        const a = this.links.acking[l]!;
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
    this.solver.resolve();
    this.schedule();
  };

  /**
   * Grows the windows up to `t` with the rates of the step that ends. Bytes are integrated lazily
   * (when a rate changes); a flow whose state is at rest and whose rate and delays did not move
   * since it last grew would grow by nothing, so only restless flows are visited (a later growth
   * integrates over the whole interval).
   */
  private advance(t: number): void {
    if (!(t > this.last)) return;
    // Visits the restless flows in order, as a Set's iteration would (flows added meanwhile
    // included, though markFlow re-adds only f itself), and compacts the list behind it.
    const flows = this.flows;
    const list = flows.restless;
    let kept = 0;
    for (let i = 0; i < list.length; i++) {
      const f = list[i]!;
      if (f.restlessAt !== i) continue;
      if (f.tcp) {
        if (this.laws.grow(f, t - f.grownAt, t)) this.solver.markFlow(f);
        f.grownAt = t;
      }
      if ((!f.changing && f.wakeAt === Infinity) || !f.tcp) flows.setRestless(f, false);
      else {
        list[kept] = f;
        f.restlessAt = kept++;
      }
    }
    list.length = kept;
    this.last = t;
  }

  private schedule(): void {
    if (this.tick !== undefined) {
      this.sim.cancel(this.tick);
      this.tick = undefined;
    }
    const now = this.sim.now;
    let at = this.flows.finishing.peekKey();
    const list = this.flows.restless;
    for (let i = 0; i < list.length; i++) {
      const f = list[i]!;
      if (f.restlessAt !== i) continue;
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
    for (const f of this.flows.live.values()) if (f.size < Infinity && f.rate <= 0 && f.size - f.delivered > 0) starved = true;
    if (starved && this.sentinel === undefined) this.sentinel = this.sim.scheduleAt(Infinity, this.onStarved);
  }

  private readonly onStarved = (): void => {
    this.sentinel = undefined;
    for (const f of this.flows.live.values()) {
      if (f.size < Infinity && f.rate <= 0) {
        let worst = f.path.links[0]!;
        for (const l of f.path.links) if (this.links.avail[l]! <= 0) worst = l;
        throw starvedFlowError(f, this.links.name(worst), worst);
      }
    }
  };

  private readonly onTick = (): void => {
    this.tick = undefined;
    const now = this.sim.now;
    this.advance(now);
    const done: FluidFlow[] = [];
    // rates were constant since each entry was made, so a flow due now has (up to rounding) its size
    const finishing = this.flows.finishing;
    while (finishing.peekKey() <= now) {
      done.push(this.flows.live.get(finishing.peekValue())!);
      finishing.pop();
    }
    for (const f of done) {
      this.remove(f);
      f.delivered = f.size;
    }
    this.solver.resolve();
    this.schedule();
    for (const f of done) f.done.succeed({ start: f.start, end: now, bytes: f.size, stopped: false });
  };
}
