/**
 * tcp-fluid's host stack: what the Linux sockets of the hosts add to the network's queues.
 * TSQ with TSO autosizing bounds the bytes a flow keeps queued along its path when every host
 * shares one kernel (a Mininet testbed, `hostStack: emulated`); pacing sizes its skbs; and a
 * small packet may wait behind a GSO skb in service or behind bytes stranded on a busy link.
 */
import type { Arena } from "../../core/arena.ts";
import type { FluidFlow } from "./flow.ts";
import type { TcpFluidParams } from "./tcpfluid-params.ts";
import type { FluidSettings, LinkState } from "./state.ts";

/** a link busier than this always has an skb in service: bytes that enter it on top strand there */
const SATURATED = 0.99;

export class HostStack {
  /** emulated: bytes stranded on a link a flow keeps busy from upstream (linkWait), since when, whether counting */
  private readonly strand: Float64Array;
  private readonly strandAt: Float64Array;
  private readonly strandOn: Uint8Array;
  private readonly p: TcpFluidParams;
  private readonly bbr: boolean;
  private readonly emulated: boolean;
  private readonly eff: number;
  /** linkWait's head-of-line part on the link it last looked at */
  private headWait = 0;
  /** linkWait's wait behind the whole own queue of the flows filling the link it last looked at */
  private heldWait = 0;
  /** whether the link linkWait last looked at is never idle (an skb always in service) */
  private headSaturated = false;

  constructor(
    private readonly settings: FluidSettings,
    private readonly links: LinkState,
    arena: Arena,
  ) {
    this.p = settings.p;
    this.bbr = settings.bbr;
    this.emulated = settings.emulated;
    this.eff = settings.eff;
    this.strand = arena.float64(links.count);
    this.strandAt = arena.float64(links.count);
    this.strandOn = arena.uint8(links.count);
  }

  /** tcp_tso_autosize's extra bytes for flows with a small min RTT (Linux >= 6.2) */
  tsoBonus(f: FluidFlow): number {
    return f.bonus;
  }

  /** the bonus alone fills a GSO skb: the flow's min RTT is below 2^tsoRttLog us (an idle path) */
  fullSizeSkbs(f: FluidFlow): boolean {
    return f.bonus >= this.p.maxTsoSegs * this.p.mss;
  }

  computeBonus(f: FluidFlow): number {
    const r = Math.floor(Math.max(0, f.minRtt * 1e6) / 2 ** this.p.tsoRttLog);
    return r < 17 ? Math.floor(65536 / 2 ** r) : 0;
  }

  /** Linux TSQ across one kernel: tsqSkbs skbs of the size tcp_tso_autosize picks now. */
  tsqLimit(f: FluidFlow): number {
    const p = this.p;
    const pacing = this.pacingRate(f);
    // BBR sizes its own skbs: one segment below 1.2 Mbit/s of pacing (bbr_min_tso_segs)
    const minSegs = this.bbr && pacing < 1.2e6 / 8 ? 1 : p.minTsoSegs;
    const bytes = pacing / 1024 + this.tsoBonus(f);
    let segs = Math.min(p.maxTsoSegs, Math.max(minSegs, Math.floor(bytes / p.mss)));
    // BBR past startup is window-limited: an skb holds what an ACK freed of its window, so its
    // tsqSkbs skbs share the window (measured: a lone flow's 33-segment window in two skbs of ~17)
    if (this.bbr && f.bbrFull) segs = Math.min(segs, Math.max(minSegs, Math.floor(f.cwnd / (p.tsqSkbs * p.mss))));
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

  /**
   * Emulated stack, a shaped link that flows keep busy. (1) HTB sends a GSO skb as one unit, so a
   * small packet waits for the rest of the skb in service: busy fraction x half its
   * serialisation, behind a standing queue as well (measured: probes beside one CUBIC flow into a
   * 5 Mbit/s link waited 0.23-0.30 s, its two queued skbs and part of a third; docs/tcp-fluid.md).
   * On a link with no standing queue, whose flows' own queue waits upstream (two links of the
   * same rate in series: the first holds the queue), also (2): bytes that enter it on top of
   * the flows filling it (ACKs of flows crossing it the other way, messages) never drain: they stay
   * as a queue there (TSQ keeps the flow's own total, so its queue moves from upstream to this
   * link), up to the flow's whole own queue, and wait in the FIFO before the skb in service.
   * Returns (2), the stranded bytes' wait of a packet crossing l now after adding `bytes` to it;
   * leaves (1) in headWait and the flows' whole own queue in heldWait, which `waits` combines.
   */
  private linkWait(l: number, bytes: number): number {
    const now = this.settings.sim.now;
    this.headWait = 0;
    this.heldWait = 0;
    this.headSaturated = false;
    if (!this.emulated) return 0;
    const c = this.settings.topo.capacity[l]!;
    let skb = 0;
    let held = 0;
    const queueless = this.links.delay[l] === 0;
    if (this.links.load[l]! > 0) {
      for (const f of this.links.through[l]!) {
        if (!f.tcp || f.finished || !(f.rate > 0)) continue;
        const lim = this.tsqLimit(f);
        skb = Math.max(skb, lim / this.p.tsqSkbs);
        // what it keeps queued now: TSQ bounds it (CUBIC), or its window does (BBR: ~2 BDP + a few segments)
        if (queueless && f.fwdQ > 0) held = Math.max(held, Math.min(lim, f.rate * f.fwdQ) / this.eff);
      }
    }
    const busy = Math.min(1, (this.links.load[l]! * 8) / c);
    this.headWait = skb === 0 ? 0 : (busy * ((skb / this.eff) * 8)) / c / 2;
    this.headSaturated = busy >= SATURATED;
    if (skb === 0 || held === 0 || busy < SATURATED) {
      this.strand[l] = 0;
      this.strandOn[l] = 0;
      this.strandAt[l] = now;
      return 0;
    }
    if (this.strandOn[l]) this.integrateStrand(l);
    this.strandOn[l] = 1;
    this.strandAt[l] = now;
    this.strand[l] = Math.min(held, this.strand[l]! + bytes);
    this.heldWait = (held * 8) / c;
    // the stranded bytes wait in the FIFO, the skb in service is not part of it
    return (this.strand[l]! * 8) / c;
  }

  /** adds the ACK bytes of the flows whose ACKs cross l since the last update (rates constant since) */
  private integrateStrand(l: number): void {
    const now = this.settings.sim.now;
    let r = 0;
    for (const f of this.links.acking[l]!) if (!f.finished) r += f.rate;
    this.strand[l] = this.strand[l]! + (r / this.p.mss) * this.p.ackBytesPerSegment * (now - this.strandAt[l]!);
    this.strandAt[l] = now;
  }

  /** brings the bytes stranded on the links f's ACKs cross up to now: f's rate is about to change */
  settleStranded(f: FluidFlow): void {
    for (const l of f.ack.links) if (this.strandOn[l]) this.integrateStrand(l);
  }

  /**
   * The host stack's wait (linkWait) of a packet of `bytes` along `links`, emulated stack only.
   * The head-of-line wait counts once, at the path's slowest busy link: downstream of it HTB's
   * bucket has refilled while the skb was serialised upstream and sends it on at once (measured:
   * probes across three 82 Mbit/s links one CUBIC flow kept busy waited 1.0-7.6 ms, mean 4.5 ms;
   * half a 64 KiB skb is 3.2 ms). Stranded bytes add up along the path, but TSQ bounds what a flow
   * keeps queued in all, so together they wait at most one flow's whole own queue.
   */
  waits(links: readonly number[], bytes: number): number {
    return this.waitsOf(links, bytes, false);
  }

  /**
   * The least of those waits that a connection's RTT samples keep seeing, for its minimum RTT:
   * on a link that is idle part of the time most packets find no skb in service, so its
   * head-of-line wait is in the mean (srtt) and the handshake's sample but not in the minimum
   * that the samples after it reach within a round trip or two; a saturated link's wait (an skb
   * always in service, stranded bytes) every sample sees.
   */
  minimumWaits(links: readonly number[]): number {
    return this.waitsOf(links, 0, true);
  }

  /**
   * What a packet waits on top of `waits` when it follows, within one exchange, a packet that has
   * just crossed the same busy links (a new connection's request after its SYN, its answer after
   * the SYN-ACK): HTB sent the next GSO skb right behind that packet, so this one waits that skb's
   * whole serialisation, where a packet at a random moment waits half of it on average (the
   * head-of-line part of `waits`). Measured beside CUBIC at 10 Mbit/s: a new connection's probe
   * took the open one's round trip plus about one skb time (docs/profiles.md).
   */
  followUpWait(links: readonly number[]): number {
    this.walk(links, 0, false);
    return this.walkHead;
  }

  private waitsOf(links: readonly number[], bytes: number, minimum: boolean): number {
    this.walk(links, bytes, minimum);
    return Math.min(this.walkStranded, this.walkHeld) + this.walkHead;
  }

  /**
   * linkWait along `links`: leaves the stranded bytes' waits summed, the largest head-of-line
   * wait and the largest whole own queue in the walk* fields (no object per call: every message
   * and handshake leg walks its path)
   */
  private walk(links: readonly number[], bytes: number, minimum: boolean): void {
    this.walkStranded = 0;
    this.walkHead = 0;
    this.walkHeld = 0;
    if (!this.emulated || !(this.p.gsoHeadOfLine > 0)) return;
    for (const l of links) {
      this.walkStranded += this.linkWait(l, bytes);
      if (!minimum || this.headSaturated) this.walkHead = Math.max(this.walkHead, this.headWait);
      this.walkHeld = Math.max(this.walkHeld, this.heldWait);
    }
  }

  private walkStranded = 0;
  private walkHead = 0;
  private walkHeld = 0;
}
