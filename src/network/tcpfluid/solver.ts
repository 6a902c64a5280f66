/**
 * tcp-fluid's queue solver: the quasi-static queueing delay of every link given the windows, then
 * the rates, cut where demand exceeds a link. Only what changed since the last solve is re-solved.
 *
 * The fixed point a solve computes: delays p_l (one per directed link) such that, with every tcp
 * flow at its rate law x_f = rateFor(f, P_f, A_f) (P_f, A_f: the sums of p over the flow's data
 * and ACK paths; congestion.ts),
 *
 *   sum_{f through l} x_f <= C_l,   p_l >= 0,   p_l > 0 only if equality holds,   p_l <= B_l / c_l
 *
 * (C_l the goodput capacity udp leaves, B_l the buffer; a link that would need more than its
 * buffer overflows and its flows see a loss). Gauss-Seidel over a worklist of links reaches it:
 * each link's delay is the root of its excess demand with the other delays fixed (balance.ts), and
 * a link whose delay moved by more than spreadTolerance of a round trip puts the other links of
 * its flows back on the list; on the emulated stack a flow whose rate law moved by no more than
 * spreadTolerance keeps its demand (moved). Rates are then demand x the smallest cut on the path (a link's cut:
 * min(1, C_l / its flows' demand)), so every link stays within capacity even where the iteration
 * stopped within its tolerance or budget.
 */
import type { Arena } from "../../core/arena.ts";
import type { Simulator } from "../../kernel/index.ts";
import type { CompiledTopology } from "../topology/topology-types.ts";
import type { CongestionLaws } from "./congestion.ts";
import { LinkBalance } from "./balance.ts";
import type { FluidFlow } from "./flow.ts";
import type { HostStack } from "./hoststack.ts";
import { FlowList, LinkList } from "./lists.ts";
import type { TcpFluidParams } from "./tcpfluid-params.ts";
import type { FlowsInFlight, FluidSettings, LinkState } from "./state.ts";

export class QueueSolver {
  /** solves and link solves so far (for benchmarks and the precision test) */
  steps = 0;
  linkSolves = 0;
  /** links to re-balance at the next solve (list and flags) */
  private readonly dirtyList = new LinkList();
  private readonly isDirty: Uint8Array;
  /** a udp flow came or went: constant-rate shares are redone at the next solve */
  private udpDirty = false;
  /** the solve's worklist of links (list and flags) */
  private readonly work = new LinkList();
  private readonly inWork: Uint8Array;
  /** links whose cut must be recomputed in this solve (their flows or their demands changed) */
  private readonly touchedList = new LinkList();
  private readonly touched: Uint8Array;
  /** flows whose demand (rateList) or rate (cutList) to recompute in this solve */
  private readonly rateList = new FlowList();
  private readonly cutList = new FlowList();
  /** links whose wire load must be recomputed at the end of the solve (a flow's rate changed) */
  private readonly loadList = new LinkList();
  private readonly loadDirty: Uint8Array;

  private readonly sim: Simulator;
  private readonly topo: CompiledTopology;
  private readonly p: TcpFluidParams;
  private readonly eff: number;
  private readonly emulated: boolean;
  private readonly delay: Float64Array;
  private readonly load: Float64Array;
  private readonly cum: Float64Array;
  private readonly since: Float64Array;
  private readonly avail: Float64Array;
  private readonly overflow: Uint8Array;
  private readonly cut: Float64Array;
  private readonly through: readonly FluidFlow[][];
  private readonly acking: readonly FluidFlow[][];
  private readonly balance: LinkBalance;

  constructor(
    settings: FluidSettings,
    private readonly links: LinkState,
    private readonly flows: FlowsInFlight,
    private readonly laws: CongestionLaws,
    private readonly stack: HostStack,
    arena: Arena,
  ) {
    this.sim = settings.sim;
    this.topo = settings.topo;
    this.p = settings.p;
    this.eff = settings.eff;
    this.emulated = settings.emulated;
    this.delay = links.delay;
    this.load = links.load;
    this.cum = links.cum;
    this.since = links.since;
    this.avail = links.avail;
    this.overflow = links.overflow;
    this.cut = links.cut;
    this.through = links.through;
    this.acking = links.acking;
    this.isDirty = arena.uint8(links.count);
    this.inWork = arena.uint8(links.count);
    this.touched = arena.uint8(links.count);
    this.loadDirty = arena.uint8(links.count);
    this.balance = new LinkBalance(settings, links, laws);
  }

  /** a flow's own state changed (it came, went or grew): its links are re-balanced and its rate recomputed */
  markFlow(f: FluidFlow): void {
    for (const l of f.path.links) this.markDirty(l);
    if (!f.tcp) this.udpDirty = true;
    this.markRate(f);
  }

  /** a flow leaves: rate 0 (no completion entry), its links re-balanced at the next solve */
  removeFlow(f: FluidFlow): void {
    this.setRate(f, 0);
    for (const l of f.path.links) this.markDirty(l);
    if (!f.tcp) this.udpDirty = true;
  }

  /** changes a flow's rate, integrating its bytes up to now first */
  private setRate(f: FluidFlow, r: number): void {
    const now = this.sim.now;
    if (r === f.rate && f.since === now) return;
    if (this.emulated && this.p.gsoHeadOfLine > 0 && r !== f.rate) this.stack.settleStranded(f);
    f.delivered = Math.min(f.size, f.delivered + f.rate * (now - f.since));
    f.since = now;
    if (r === f.rate) return;
    f.rate = r;
    for (const l of f.links) {
      if (!this.loadDirty[l]) {
        this.loadDirty[l] = 1;
        this.loadList.push(l);
      }
    }
    if (f.size < Infinity && r > 0) this.flows.finishing.set(f.id, now + (f.size - f.delivered) / r, f.id);
    else this.flows.finishing.delete(f.id);
  }

  /**
   * Solves the queues and the rates for what changed since the last solve, in stages: udp
   * shares, the worklist of links, the Gauss-Seidel balance of their queues, the demands of the
   * flows whose delays moved, the cuts that keep every link within capacity, the wire loads.
   * The caller schedules the next step.
   */
  resolve(): void {
    this.steps++;
    if (this.udpDirty) this.placeUdp();
    const changedLinks = this.orderWorklist();
    this.touchedList.size = 0;
    this.balanceQueues(changedLinks);
    this.recomputeDemands();
    this.cutToCapacity();
    this.updateWireLoads();
  }

  /**
   * udp first: constant-rate flows take their rate, cut proportionally where they alone overfill
   * a link; their links are re-balanced for tcp.
   */
  private placeUdp(): void {
    this.udpDirty = false;
    const cap = this.topo.capacity;
    const live = this.flows.live;
    const udpLoad = new Map<number, number>();
    for (const f of live.values()) if (!f.tcp) for (const l of f.path.links) udpLoad.set(l, (udpLoad.get(l) ?? 0) + f.udpRate);
    for (const f of live.values()) {
      if (f.tcp) continue;
      let sc = 1;
      for (const l of f.path.links) sc = Math.min(sc, cap[l]! / 8 / udpLoad.get(l)!);
      this.setRate(f, f.udpRate * sc);
      for (const l of f.path.links) this.markDirty(l);
    }
  }

  /**
   * Moves the dirty links to the worklist in solve rank order (the Gauss-Seidel order must not
   * depend on the order changes came in). Returns how many there are: these gained or lost flows
   * or capacity, so their cuts must be redone.
   */
  private orderWorklist(): number {
    const dirty = this.dirtyList;
    const work = this.work;
    work.size = 0;
    const rank = this.links.solveRank;
    if (dirty.size <= 64) {
      // insertion sort: no comparator callback, no allocation (this runs once per step)
      for (let k = 0; k < dirty.size; k++) {
        const l = dirty.items[k]!;
        let i = work.size;
        work.push(l);
        const w = work.items;
        while (i > 0 && rank[w[i - 1]!]! > rank[l]!) {
          w[i] = w[i - 1]!;
          i--;
        }
        w[i] = l;
      }
    } else {
      // a typed array sorts numerically in native code; a rank maps back to its link (rank < 0: + L)
      // (filled by a loop: Int32Array.from with a map function walks its source through the
      // iterator protocol, an object per element)
      const L = this.links.count;
      const sorted = new Int32Array(dirty.size);
      for (let k = 0; k < dirty.size; k++) sorted[k] = rank[dirty.items[k]!]!;
      sorted.sort();
      for (let i = 0; i < sorted.length; i++) work.push(sorted[i]! < 0 ? sorted[i]! + L : sorted[i]!);
    }
    for (let k = 0; k < work.size; k++) this.isDirty[work.items[k]!] = 0;
    dirty.size = 0;
    for (let k = 0; k < work.size; k++) this.inWork[work.items[k]!] = 1;
    return work.size;
  }

  /**
   * Gauss-Seidel over the worklist: each link's delay becomes the root of its excess demand with
   * the other delays fixed. A link whose delay moves changes the rates of the flows crossing it
   * (data or ACKs), so their other links rejoin the list, within a budget of link solves. A link
   * reached later than the first `changedLinks` changes its flows' demands only through its
   * delay, and those flows' links are touched when their demands are recomputed.
   */
  private balanceQueues(changedLinks: number): void {
    const work = this.work;
    const inWork = this.inWork;
    let budget = 60 * (work.size + 16);
    // (work grows inside the loop: its size and items are read afresh on every pass)
    for (let head = 0; head < work.size; head++) {
      const l = work.items[head]!;
      inWork[l] = 0;
      if (head < changedLinks) this.touch(l);
      const old = this.delay[l]!;
      this.linkSolves++;
      this.balance.solve(l);
      const d = this.delay[l]!;
      const delta = d - old;
      if (delta === 0) continue;
      // a change below spreadTolerance of a round trip moves rates by less than that fraction:
      // not worth re-solving the neighbours for (cutToCapacity still keeps every link within capacity)
      const tol = this.p.spreadTolerance;
      const spread = Math.abs(delta) > tol * (this.p.stackRtt + Math.max(d, old)) && budget-- > 0;
      for (const f of this.through[l]!) {
        if (!f.tcp) continue;
        f.fwdQ += delta;
        this.queuesMoved(f, tol);
        // slower flows (delta > 0) cannot congest an idle link: only queued links need a look
        if (spread)
          for (const m of f.links)
            if (m !== l && !inWork[m] && (delta < 0 || this.delay[m]! > 0)) {
              inWork[m] = 1;
              work.push(m);
            }
      }
      for (const f of this.acking[l]!) {
        f.ackQ += delta;
        this.queuesMoved(f, tol);
        if (spread)
          for (const m of f.links)
            if (!inWork[m] && (delta < 0 || this.delay[m]! > 0)) {
              inWork[m] = 1;
              work.push(m);
            }
      }
    }
  }

  /**
   * A flow whose queues moved takes its round-trip sample at the next step (grow: its smoothed
   * and minimum RTT, on which the emulated stack's skb size and so its starvation depend); its
   * demand is recomputed only if its rate law moved by more than `tol` (moved).
   */
  private queuesMoved(f: FluidFlow, tol: number): void {
    if (this.moved(f, tol)) this.markRate(f);
    else this.growNext(f);
  }

  /**
   * Whether f's rate law at the current delays differs from the demand in use by more than `tol`
   * (relative): below that its demand, and with it its rate, stays as it was, and its links are
   * not revisited in this step, which on a large network is most of what a step would visit
   * (docs/tcp-fluid.md, "Precision")
   */
  private moved(f: FluidFlow, tol: number): boolean {
    if (f.rateDirty) return false;
    // (the physical stack re-rates every flow whose queues moved: its loss timing follows the
    // rates closely, and keeping demands within 1e-3 moved the test tree's mean completion by 1.4%)
    if (!this.emulated) return true;
    const x = this.laws.rateFor(f, f.fwdQ > 0 ? f.fwdQ : 0, f.ackQ);
    return Math.abs(x - f.demand) > tol * f.demand;
  }

  /** the demands of the flows whose inputs changed, from exact path sums (no drift from balanceQueues' increments) */
  private recomputeDemands(): void {
    const rateList = this.rateList;
    const links = this.links;
    for (let k = 0; k < rateList.size; k++) {
      const f = rateList.items[k]!;
      f.rateDirty = false;
      if (f.finished || !f.tcp) continue;
      f.fwdQ = links.sumDelay(f.links);
      f.ackQ = links.sumDelay(f.ackLinks);
      f.demand = this.laws.rateFor(f, f.fwdQ, f.ackQ);
      this.markCut(f);
      for (const l of f.links) this.touch(l);
    }
    rateList.size = 0;
  }

  /**
   * Where demand exceeds a link (an overflowing drop-tail queue, or the iteration's tolerance)
   * its flows are cut to the link's share: rate = demand x the smallest cut on the path. The cut
   * of a link is recomputed whenever its demand may have changed (it is touched), so every link
   * stays within capacity: sum of rates <= cut x sum of demands = capacity. A rate changes only
   * with its demand (the flows just recomputed) or a cut on its path (the flows marked here).
   */
  private cutToCapacity(): void {
    const touchedList = this.touchedList;
    const n0 = touchedList.size;
    for (let k = 0; k < n0; k++) {
      const l = touchedList.items[k]!;
      let A = 0;
      for (const f of this.through[l]!) if (f.tcp) A += f.demand;
      const sc = A > this.avail[l]! ? this.avail[l]! / A : 1;
      if (sc !== this.cut[l]) {
        this.cut[l] = sc;
        for (const f of this.through[l]!) if (f.tcp) this.markCut(f);
      }
    }
    const cutList = this.cutList;
    for (let k = 0; k < cutList.size; k++) {
      const f = cutList.items[k]!;
      f.cutDirty = false;
      let sc = 1;
      for (const l of f.links) sc = Math.min(sc, this.cut[l]!);
      this.setRate(f, f.demand * sc);
    }
    cutList.size = 0;
    for (let k = 0; k < touchedList.size; k++) this.touched[touchedList.items[k]!] = 0;
  }

  /** wire loads of the links where a rate changed (setRate listed them) */
  private updateWireLoads(): void {
    const loadList = this.loadList;
    const cap = this.topo.capacity;
    const eff = this.eff;
    const now = this.sim.now;
    for (let k = 0; k < loadList.size; k++) {
      const l = loadList.items[k]!;
      this.loadDirty[l] = 0;
      let w = 0;
      for (const f of this.through[l]!) w += f.tcp ? f.rate / eff : f.rate;
      // the bytes of the old load up to now, then the new load
      this.cum[l]! += this.load[l]! * (now - this.since[l]!);
      this.since[l] = now;
      this.load[l] = Math.min(w, cap[l]! / 8);
    }
    loadList.size = 0;
  }

  private markCut(f: FluidFlow): void {
    if (!f.cutDirty) {
      f.cutDirty = true;
      this.cutList.push(f);
    }
  }

  /** a link whose cut must be recomputed in this solve */
  private touch(l: number): void {
    if (!this.touched[l]) {
      this.touched[l] = 1;
      this.touchedList.push(l);
    }
  }

  /** a flow that grows (takes its round-trip sample) at the next step: the restless set's */
  private growNext(f: FluidFlow): void {
    if (!f.finished && !f.restless) this.flows.setRestless(f, true);
  }

  /** a flow whose delays moved: its demand is recomputed, and it grows at the next step */
  private markRate(f: FluidFlow): void {
    this.growNext(f);
    if (!f.rateDirty) {
      f.rateDirty = true;
      this.rateList.push(f);
    }
  }

  /** a link to re-balance at the next solve */
  private markDirty(l: number): void {
    if (!this.isDirty[l]) {
      this.isDirty[l] = 1;
      this.dirtyList.push(l);
    }
  }
}
