/**
 * tcp-fluid's queue solver: the quasi-static queueing delay of every link given the windows
 * (Gauss-Seidel over a worklist of links, each link's delay the root of its excess demand), then
 * the rates, cut where demand exceeds a link. Only what changed since the last solve is re-solved.
 */
import { REL, type FluidFlow } from "./flow.ts";
import { CongestionLaws } from "./congestion.ts";
import { FlowList, LinkList } from "./lists.ts";

export class QueueSolver extends CongestionLaws {
  protected steps = 0;
  protected linkSolves = 0;
  /** links to re-balance at the next solve, flows whose rate to recompute, scratch flags */
  protected readonly dirtyList = new LinkList();
  /** the solve's worklist of links (reused: no allocation per step) */
  protected readonly work = new LinkList();
  /** links whose wire load must be recomputed at the end of the next solve (a flow's rate changed) */
  protected readonly loadList = new LinkList();
  protected readonly loadDirty = this.arena.uint8(this.L);
  protected readonly isDirty = this.arena.uint8(this.L);
  protected udpDirty = false;
  protected readonly rateList = new FlowList();
  protected readonly inWork = this.arena.uint8(this.L);
  protected readonly touched = this.arena.uint8(this.L);

  /** changes a flow's rate, integrating its bytes up to now first */
  protected setRate(f: FluidFlow, r: number): void {
    const now = this.sim.now;
    if (r === f.rate && f.since === now) return;
    if (this.emulated && this.p.gsoHeadOfLine > 0 && r !== f.rate) for (const l of f.ack.links) if (this.strandOn[l]) this.integrateStrand(l);
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
    if (f.size < Infinity && r > 0) this.finishing.set(f.id, now + (f.size - f.delivered) / r, f.id);
    else this.finishing.delete(f.id);
  }

  protected setLoad(l: number, w: number): void {
    const now = this.sim.now;
    this.cum[l]! += this.load[l]! * (now - this.lSince[l]!);
    this.lSince[l] = now;
    this.load[l] = w;
  }

  /**
   * Solves the quasi-static queues (Gauss-Seidel over the links carrying tcp flows, each link's
   * delay by bisection on its monotone excess demand), then the rates. The caller schedules the next step.
   */
  protected resolve(): void {
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
    work.size = 0;
    const rank = this.solveRank;
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
      const sorted = new Int32Array(dirty.size);
      for (let k = 0; k < dirty.size; k++) sorted[k] = rank[dirty.items[k]!]!;
      sorted.sort();
      for (let i = 0; i < sorted.length; i++) work.push(sorted[i]! < 0 ? sorted[i]! + this.L : sorted[i]!);
    }
    for (let k = 0; k < work.size; k++) this.isDirty[work.items[k]!] = 0;
    dirty.size = 0;
    const inWork = this.inWork;
    const touched = this.touched;
    const touchedList = this.touchedList;
    touchedList.size = 0;
    for (let k = 0; k < work.size; k++) inWork[work.items[k]!] = 1;
    let budget = 60 * (work.size + 16);
    // The links dirty from the start gained or lost flows or capacity: their cuts must be redone.
    // A link reached later changes its flows' demands only through its delay, and those flows'
    // links are touched when their demands are recomputed below.
    const changedLinks = work.size;
    // (work grows inside the loop: its size and items are read afresh on every pass)
    for (let head = 0; head < work.size; head++) {
      const l = work.items[head]!;
      inWork[l] = 0;
      if (head < changedLinks) this.touch(l);
      const old = this.delay[l]!;
      this.linkSolves++;
      this.solveLink(l);
      const d = this.delay[l]!;
      const delta = d - old;
      if (delta === 0) continue;
      // a change below spreadTolerance (1e-4) of a round trip moves rates by less than that
      // fraction: not worth re-solving the neighbours for (the scaling pass below still keeps
      // every link within capacity)
      const spread = Math.abs(delta) > this.p.spreadTolerance * (this.p.stackRtt + Math.max(d, old)) && budget-- > 0;
      for (const f of this.through[l]!) {
        if (!f.tcp) continue;
        f.fwdQ += delta;
        this.markRate(f);
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
        this.markRate(f);
        if (spread)
          for (const m of f.links)
            if (!inWork[m] && (delta < 0 || this.delay[m]! > 0)) {
              inWork[m] = 1;
              work.push(m);
            }
      }
    }
    // rates of the flows whose inputs changed, exact path sums (no drift from the updates above)
    const rateList = this.rateList;
    for (let k = 0; k < rateList.size; k++) {
      const f = rateList.items[k]!;
      f.rateDirty = false;
      if (f.finished || !f.tcp) continue;
      f.fwdQ = this.sumDelay(f.links);
      f.ackQ = this.sumDelay(f.ackLinks);
      f.demand = this.rateFor(f, f.fwdQ, f.ackQ);
      this.markCut(f);
      for (const l of f.links) this.touch(l);
    }
    rateList.size = 0;
    // Where demand exceeds a link (an overflowing drop-tail queue, or the iteration's tolerance)
    // its flows are cut to the link's share: rate = demand x the smallest cut on the path. The cut
    // of a link is recomputed whenever its demand may have changed (it is touched), so every link
    // stays within capacity: sum of rates <= cut x sum of demands = capacity. A rate changes only
    // with its demand (the flows just recomputed) or a cut on its path (the flows marked here).
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
    for (let k = 0; k < touchedList.size; k++) touched[touchedList.items[k]!] = 0;
    // wire loads of the links where a rate changed (setRate listed them)
    const loadList = this.loadList;
    for (let k = 0; k < loadList.size; k++) {
      const l = loadList.items[k]!;
      this.loadDirty[l] = 0;
      let w = 0;
      for (const f of this.through[l]!) w += f.tcp ? f.rate / eff : f.rate;
      this.setLoad(l, Math.min(w, cap[l]! / 8));
    }
    loadList.size = 0;
  }

  protected readonly touchedList = new LinkList();
  protected readonly cutList = new FlowList();

  protected markCut(f: FluidFlow): void {
    if (!f.cutDirty) {
      f.cutDirty = true;
      this.cutList.push(f);
    }
  }

  /** a link whose cut must be recomputed in this solve (its flows or their demands changed) */
  protected touch(l: number): void {
    if (!this.touched[l]) {
      this.touched[l] = 1;
      this.touchedList.push(l);
    }
  }

  protected markRate(f: FluidFlow): void {
    f.needsGrow = true;
    if (!f.finished && !f.restless) this.setRestless(f, true);
    if (!f.rateDirty) {
      f.rateDirty = true;
      this.rateList.push(f);
    }
  }

  /** keeps f.restless (a field, read in hot loops) and the set of restless flows in step */
  protected setRestless(f: FluidFlow, on: boolean): void {
    if (on === f.restless) return;
    f.restless = on;
    if (on) {
      f.restlessAt = this.restless.length;
      this.restless.push(f);
    } else {
      f.restlessAt = -1;
    }
  }

  /** a link to re-balance at the next solve */
  protected markDirty(l: number): void {
    if (!this.isDirty[l]) {
      this.isDirty[l] = 1;
      this.dirtyList.push(l);
    }
  }

  /** a flow's own state changed: its links must be re-balanced and its rate recomputed */
  protected markFlow(f: FluidFlow): void {
    for (const l of f.path.links) this.markDirty(l);
    if (!f.tcp) this.udpDirty = true;
    this.markRate(f);
  }

  // scratch arrays of solveLink (no allocation per call: it runs in every step's inner loop)
  protected sFlows: FluidFlow[] = [];
  protected sOther = new Float64Array(8);
  protected sAck = new Float64Array(8);
  protected sCount = 0;

  /**
   * d(demand)/d(delay) at the last demandAt (a field, not a second return value: demandAt runs in
   * the root search's inner loop, where returning a pair would allocate)
   */
  protected demandSlope = 0;

  protected demandAt(d: number): number {
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

  /**
   * Sets delay[l] to the delay that balances link l's tcp demand with its capacity, other links
   * held fixed. (Stored, not returned: solveLink is too large to inline into resolve, and a double
   * returned from a call is boxed in a fresh HeapNumber, once per link solve.)
   */
  protected solveLink(l: number): void {
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
    if (tcpFlows === 0 || atZero <= C * (1 + REL)) {
      this.delay[l] = 0;
      return;
    }
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
      if (d <= dmax && Math.abs(this.demandAt(d) - C) <= 1e-9 * C) {
        this.delay[l] = d;
        return;
      }
      // (rounding, or a pacing cap in between: fall through to the general solve)
    }
    const atMax = this.demandAt(dmax);
    if (atMax > C * (1 + REL)) {
      this.overflow[l] = 1;
      this.delay[l] = dmax;
      return;
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
      if (Math.abs(next - d) <= 1e-10 + 1e-12 * next) {
        this.delay[l] = next > d ? next : d;
        return;
      }
      d = next;
    }
    this.delay[l] = hi;
  }
}
