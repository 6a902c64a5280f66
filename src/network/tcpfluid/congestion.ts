/**
 * tcp-fluid's congestion control: the rate law (a flow sends at most its window per round trip,
 * its pacing rate, its cap, and on the emulated stack its own queue over the path's queueing)
 * and the growth laws of Linux's CUBIC, Reno and BBR over a step.
 */
import type { CongestionControl } from "../network-model.ts";
import { REL, type FluidFlow } from "./flow.ts";
import type { HostStack } from "./hoststack.ts";
import type { TcpFluidParams } from "./tcpfluid-params.ts";
import type { FluidSettings, LinkState } from "./state.ts";

export class CongestionLaws {
  /**
   * What bound the last rateFor: its rate is x = c / (denominator + P) for a delay-bound term
   * (the window over the round trip, or the own-queue limit over the path's queueing), so
   * d(rate)/dP = -x / rateDenominator; Infinity when a fixed cap binds. The root search of
   * link balance (balance.ts) steps with it; the slope itself is computed only there (a division saved elsewhere).
   */
  rateDenominator = 0;
  private readonly p: TcpFluidParams;
  private readonly cc: CongestionControl;
  private readonly bbr: boolean;
  private readonly emulated: boolean;
  private readonly overflow: Uint8Array;
  private readonly avail: Float64Array;
  private readonly through: readonly FluidFlow[][];

  constructor(
    private readonly settings: FluidSettings,
    links: LinkState,
    private readonly stack: HostStack,
  ) {
    this.p = settings.p;
    this.cc = settings.cc;
    this.bbr = settings.bbr;
    this.emulated = settings.emulated;
    this.overflow = links.overflow;
    this.avail = links.avail;
    this.through = links.through;
  }

  /** rate of f given the queueing delays of its data path (P) and ACK path (A) */
  rateFor(f: FluidFlow, P: number, A: number): number {
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
   * Window dynamics of flow f over dt (rates, delays of the step just ended). Returns true when
   * the flow's demand or limits moved, so the solver must look at it again.
   */
  grow(f: FluidFlow, dt: number, now: number): boolean {
    const p = this.p;
    const rtt = f.baseRtt + f.fwdQ + f.ackQ;
    f.srtt = rtt;
    const minBefore = f.minRtt;
    if (rtt < f.minRtt) {
      f.minRtt = rtt;
      f.bonus = this.stack.computeBonus(f);
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
      const q = this.stack.tsqLimit(f);
      f.skbBytes = q / p.tsqSkbs;
      if (this.bbr && !f.bbrFull && this.stack.fullSizeSkbs(f)) {
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
    const moved = demandMoved || f.ownQueue !== queueBefore || f.btlBw !== bwBefore || f.bbrFull !== fullBefore;
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
    return moved;
  }

  private growBbr(f: FluidFlow, dt: number, rtt: number, inflight: number, capped: boolean, now: number): void {
    const p = this.p;
    const wasFull = f.bbrFull;
    const prevBw = f.btlBw;
    if (!f.bbrFull) {
      // startup: the window doubles per round trip while the delivery rate keeps growing
      const cwnd0 = f.cwnd;
      f.btlBw = Math.max(f.btlBw, (this.emulated ? p.bbrHeldBwRatio : 1) * f.rate);
      if (!capped && f.cwnd < 2 * inflight * (1 + 1e-6)) f.cwnd += f.rate * dt;
      let moving = f.btlBw !== prevBw || f.cwnd !== cwnd0;
      if (this.emulated && this.stack.fullSizeSkbs(f)) {
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
    const target = held ? p.bbrHeldBwRatio * f.rate : wasFull ? this.probeRate(f) : Math.max(f.rate, this.probeRate(f));
    f.btlBw = f.btlBw + (target - f.btlBw) * frac;
    // BBR's min RTT: the smallest sample of the last 10 s; on a physical stack ProbeRTT (every
    // 10 s, all BBR flows drop to 4 packets) lets it see the unloaded path. On the emulated
    // stack the queue of the established flows does not drain that far, so it keeps its samples;
    // what ProbeRTT does change there is a starved flow's TCP min RTT (probeRttSample).
    f.bbrMinRtt = Math.min(f.bbrMinRtt, rtt);
    if (!this.emulated && now - f.bbrMinRttAt >= 10 * (1 - 1e-12)) {
      f.bbrMinRtt = f.baseRtt;
      f.bbrMinRttAt = now;
    }
    if (!this.emulated) f.wakeAt = f.bbrMinRtt > f.baseRtt * (1 + 1e-9) ? f.bbrMinRttAt + 10 : Infinity;
    const bdp = f.btlBw * f.bbrMinRtt;
    f.cwnd = p.bbrCwndGain * bdp + p.bbrExtraSegs * p.mss;
    f.changing = Math.abs(f.btlBw - prevBw) > 1e-4 * prevBw || !wasFull;
    if (this.emulated) this.probeRttSample(f, now);
  }

  /**
   * Emulated stack: every 10 s the established BBR flows' ProbeRTT (4 packets in flight) drains
   * the queue of the link a starved flow shares with them, and the starved flow's RTT samples
   * fall to its path's unloaded RTT plus about 4 packets at its tightest link (measured on stars
   * shaped as the driver shapes them at 10, 20 and 44 Mbit/s: 5.06, 2.79 and 1.37 ms; docs/tcp-fluid.md).
   * Linux keeps the smallest sample for 5 minutes, so its skbs (tcp_tso_autosize's bonus) grow then.
   */
  private probeRttSample(f: FluidFlow, now: number): void {
    let slowest = Infinity;
    let mtu = 0;
    for (const l of f.path.links) {
      if (this.settings.topo.capacity[l]! < slowest) {
        slowest = this.settings.topo.capacity[l]!;
        mtu = this.settings.topo.mtu[l]!;
      }
    }
    const sample = f.baseRtt + (this.p.probeRttPackets * mtu * 8) / slowest;
    if (now - f.bbrMinRttAt >= 10 * (1 - 1e-12)) {
      f.bbrMinRttAt = now;
      if (sample < f.minRtt) {
        f.minRtt = sample;
        f.bonus = this.stack.computeBonus(f);
        f.changing = true;
      }
    }
    f.wakeAt = f.minRtt > sample * (1 + 1e-9) ? f.bbrMinRttAt + 10 : Infinity;
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
}
