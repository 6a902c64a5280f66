/**
 * One link of tcp-fluid's queue solve: the queueing delay that balances the link's tcp demand
 * with the capacity udp leaves, every other link's delay held fixed. The demand falls with the
 * delay (each rate law is non-increasing in it), so the root is unique and bracketed by 0 and
 * the buffer's delay; a link whose demand exceeds its capacity even there overflows.
 */
import type { CompiledTopology } from "../topology/topology-types.ts";
import type { CongestionLaws } from "./congestion.ts";
import { REL, type FluidFlow } from "./flow.ts";
import type { FluidSettings, LinkState } from "./state.ts";

export class LinkBalance {
  private readonly topo: CompiledTopology;
  private readonly eff: number;
  private readonly delay: Float64Array;
  private readonly avail: Float64Array;
  private readonly overflow: Uint8Array;
  private readonly through: readonly FluidFlow[][];

  constructor(
    settings: FluidSettings,
    links: LinkState,
    private readonly laws: CongestionLaws,
  ) {
    this.topo = settings.topo;
    this.eff = settings.eff;
    this.delay = links.delay;
    this.avail = links.avail;
    this.overflow = links.overflow;
    this.through = links.through;
  }

  // scratch arrays of solve (no allocation per call: it runs in every step's inner loop)
  private sFlows: FluidFlow[] = [];
  private sOther = new Float64Array(8);
  private sAck = new Float64Array(8);
  private sCount = 0;

  /**
   * d(demand)/d(delay) at the last demandAt (a field, not a second return value: demandAt runs in
   * the root search's inner loop, where returning a pair would allocate)
   */
  private demandSlope = 0;

  /** the link's tcp demand (bytes/s) at delay d, its flows' delays elsewhere fixed */
  private demandAt(d: number): number {
    const laws = this.laws;
    let s = 0;
    let slope = 0;
    const fl = this.sFlows;
    const other = this.sOther;
    const ack = this.sAck;
    for (let i = 0; i < this.sCount; i++) {
      const P = other[i]! + d;
      const x = laws.rateFor(fl[i]!, P > 0 ? P : 0, ack[i]!);
      s += x;
      if (P > 0) slope -= x / laws.rateDenominator;
    }
    this.demandSlope = slope;
    return s;
  }

  /**
   * The link's drop-tail buffer in bytes. Its limit counts packets, and on the emulated stack a
   * packet is a GSO skb of up to 64 KiB (measured: a CUBIC flow into a 1.3 Mbit/s link with an
   * 82-packet queue kept 136 kB there in 2-8 skbs and lost nothing, docs/tcp-fluid.md), so the
   * buffer holds the limit in skbs of the mean size its tcp flows send, not in MTUs: with each
   * flow keeping its TSQ skbs there, it overflows when their count does.
   */
  private bufferBytes(l: number, flows: readonly FluidFlow[]): number {
    const mtu = this.topo.mtu[l]!;
    let sum = 0;
    let n = 0;
    for (const f of flows) {
      if (!f.tcp) continue;
      sum += f.skbBytes > mtu ? f.skbBytes : mtu;
      n++;
    }
    return n === 0 ? this.topo.queueBytes[l]! : this.topo.queueBytes[l]! * (sum / n / mtu);
  }

  /**
   * Sets delay[l] to the delay that balances link l's tcp demand with its capacity, other links
   * held fixed. (Stored, not returned: solve is too large to inline into the solver, and a double
   * returned from a call is boxed in a fresh HeapNumber, once per link solve.)
   */
  solve(l: number): void {
    const laws = this.laws;
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
        atZero += laws.rateFor(f, P > 0 ? P : 0, f.ackQ);
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
    const dmax = this.bufferBytes(l, flows) / (this.topo.capacity[l]! / 8);
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
