/**
 * tcp-fluid's parameters: the calibrated defaults and how a run overrides them (`network.extra`).
 */
import type { NetworkParams } from "../network-model.ts";

/**
 * Parameters of the model (`params.extra` overrides them by name). stackRtt, handshakeScale,
 * connectSetup, tsqSkbs, probeRttPackets and the bbr* values marked "fitted" come from bench/calibration/fit.ts on
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
  /** extra segments BBR keeps in flight beyond 2 BDP (send quanta + ACK aggregation); fitted on topologies shaped as the driver shapes them */
  bbrExtraSegs: 33.2,
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
  /**
   * emulated stack: a BBR flow held by its own-queue limit estimates its bandwidth (a max filter
   * of its delivery-rate samples) this much above what it delivers; fitted (pacing / delivery)
   */
  bbrHeldBwRatio: 1.24,
  /** emulated stack: packets queued at a starved BBR flow's tightest link while the others probe RTT; fitted */
  probeRttPackets: 4.29,
  /** tcp_tso_rtt_log: flows with min RTT below 2^9 us get full-size skbs */
  tsoRttLog: 9,
  /**
   * a handshake round trip (`tcpHandshakeRtts` of them, or the exchange's `handshakeRtts`) costs
   * this many round trips of the current path delay: the SYN and the first request both wait in
   * the queue of a loaded path; fitted
   */
  handshakeScale: 1.35,
  /**
   * emulated stack with gsoHeadOfLine: 1 charges a new connection's request and answer the
   * head-of-line wait once more (HostStack.followUpWait: each follows a packet of the handshake
   * across the same busy links); 0, the model before (every packet at a random moment). Chosen
   * with handshakeScale by `migsim calibrate` (docs/profiles.md)
   */
  handshakeFollowUp: 0,
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
  /**
   * precision of a step's queue solve: a link whose delay moved by less than this fraction of a
   * round trip (stack RTT + the link's delay) does not send its neighbours back to the worklist,
   * and on the emulated stack a flow whose rate law moved by no more than this fraction keeps
   * its demand. This is the physical stack's; the emulated stack's is SPREAD_TOLERANCE_EMULATED
   * unless the experiment sets one (docs/tcp-fluid.md, "Precision": the bound and its measurement)
   */
  spreadTolerance: 1e-4,
};
/**
 * spreadTolerance of the emulated stack when the experiment sets none: its flows are held by
 * their own-queue limit, which coarser solves leave where they were (docs/tcp-fluid.md, "Precision")
 */
export const SPREAD_TOLERANCE_EMULATED = 1e-2;
export type TcpFluidParams = typeof TCP_FLUID_DEFAULTS;

/** the parameters a run uses: defaults, overridden by `params.extra` entries of the same name */
export function tcpFluidParams(params: NetworkParams): TcpFluidParams {
  const p: TcpFluidParams = { ...TCP_FLUID_DEFAULTS };
  if (params.hostStack === "emulated") p.spreadTolerance = SPREAD_TOLERANCE_EMULATED;
  for (const [k, v] of Object.entries(params.extra ?? {})) {
    if (k in p) {
      if (!Number.isFinite(v)) throw new RangeError(`tcp-fluid parameter ${k} must be a finite number, got ${v}`);
      (p as Record<string, number>)[k] = v;
    }
  }
  if (!(p.spreadTolerance >= 0 && p.spreadTolerance < 1)) throw new RangeError(`tcp-fluid parameter spreadTolerance must be in [0, 1), got ${p.spreadTolerance}`);
  return p;
}
