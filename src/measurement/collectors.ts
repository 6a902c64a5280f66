/**
 * Software-defined measurement: the bandwidth collector (per-port tx/rx bits per second) and the
 * aggregate collector (per-switch packets per second), polling the network model's cumulative
 * counters the way Floodlight polls OpenFlow port and aggregate statistics. A sample covers
 * exactly one period: a poll whose predecessor on the period grid was not taken only records the
 * counters (a baseline).
 *
 * Cost control: a run polls continuously only when something watches the network all the time
 * (a threshold trigger, a bandwidth trace); otherwise `window` polls the few periods right before
 * a known decision time, which is all a policy reading the last samples needs.
 */
import { Arena } from "../core/arena.ts";
import type { Simulator } from "../kernel/index.ts";
import type { NetworkModel } from "../network/network-model.ts";
import type { Vib } from "./vib.ts";

export class Collector {
  private readonly links: number;
  private readonly switchOut: number[][] = [];
  private readonly switchNames: string[] = [];
  private readonly lastBytes: Float64Array;
  private readonly lastPackets: Float64Array;
  private lastK = -2;
  private readonly scheduled = new Set<number>();
  private continuousOn = false;
  private stopped = false;
  /** called after every poll that produced samples, with the sample time */
  readonly onSample: Array<(t: number) => void> = [];

  constructor(
    private readonly sim: Simulator,
    private readonly model: NetworkModel,
    private readonly vib: Vib,
    readonly period: number,
  ) {
    const topo = model.topo;
    this.links = topo.from.length;
    for (let n = topo.hostCount; n < topo.nodeCount; n++) {
      const out: number[] = [];
      for (let k = topo.adjStart[n]!; k < topo.adjStart[n + 1]!; k++) out.push(topo.adjLinks[k]!);
      this.switchOut.push(out);
      this.switchNames.push(topo.names[n]!);
    }
    // (one buffer for both: src/core/arena.ts)
    const arena = new Arena(16 * this.links);
    this.lastBytes = arena.float64(this.links);
    this.lastPackets = arena.float64(this.links);
  }

  /** polls every period from time 0 until `stop` */
  continuous(): void {
    if (this.continuousOn) return;
    this.continuousOn = true;
    const tick = (k: number): void => {
      if (this.stopped) return;
      this.poll(k);
      this.sim.scheduleAt(this.gridTime(k + 1), tick, k + 1);
    };
    this.sim.scheduleAt(0, tick, 0);
  }

  /**
   * Polls the `samples` periods of the grid ending at or before `at` (plus their baseline), so
   * the VIB holds `samples` fresh samples at time `at`. Must be called before anything else is
   * scheduled at `at`, so the samples exist when the decision at `at` runs.
   */
  window(at: number, samples = 2): void {
    if (this.continuousOn) return;
    const K = Math.floor(at / this.period + 1e-9);
    for (let k = Math.max(0, K - samples); k <= K; k++) {
      if (this.scheduled.has(k)) continue;
      this.scheduled.add(k);
      const t = k === K ? Math.min(this.gridTime(k), at) : this.gridTime(k);
      if (t >= this.sim.now) this.sim.scheduleAt(t, (kk: number) => this.stopped || this.poll(kk), k);
    }
  }

  /**
   * Time of poll k. k * period in floating point can land just after the decimal instant it
   * stands for (3 * 0.1 = 0.30000000000000004), which would put a poll after a trigger at 0.3;
   * rounding to 12 significant digits snaps it back.
   */
  gridTime(k: number): number {
    return Number((k * this.period).toPrecision(12));
  }

  stop(): void {
    this.stopped = true;
  }

  private poll(k: number): void {
    const m = this.model;
    const t = this.gridTime(k);
    const sample = this.lastK === k - 1;
    const bytes = this.lastBytes;
    const packets = this.lastPackets;
    if (sample) {
      const names = m.topo.portName;
      const f = 8 / this.period;
      for (let d = 0; d < this.links; d++) {
        // A port's tx is the link leaving it; its rx the reverse direction arriving at it.
        const tx = (m.linkBytes(d) - bytes[d]!) * f;
        const rx = (m.linkBytes(d ^ 1) - bytes[d ^ 1]!) * f;
        this.vib.addPort(names[d]!, { t, txBps: tx, rxBps: rx });
      }
      for (let s = 0; s < this.switchOut.length; s++) {
        let p = 0;
        for (const d of this.switchOut[s]!) p += m.linkPackets(d) - packets[d]!;
        this.vib.addSwitch(this.switchNames[s]!, { t, pps: p / this.period });
      }
    }
    for (let d = 0; d < this.links; d++) {
      bytes[d] = m.linkBytes(d);
      packets[d] = m.linkPackets(d);
    }
    this.lastK = k;
    if (sample) for (const fn of this.onSample) fn(t);
  }
}

/** Bits per second through a port both ways (tx + rx) in a sample: the load a threshold watches. */
export function portLoad(s: { txBps: number; rxBps: number }): number {
  return s.txBps + s.rxBps;
}
