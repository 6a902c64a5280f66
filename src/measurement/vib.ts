/**
 * The VIB (virtual information base): the time series the software-defined measurement stores.
 * Policies and triggers read only this, never the network model's exact state, as in the paper.
 */
export interface PortSample {
  t: number;
  /** bits per second sent out of the port over the last period */
  txBps: number;
  /** bits per second received on the port over the last period */
  rxBps: number;
}

export interface SwitchSample {
  t: number;
  /** packets forwarded by the switch over the last period, per second */
  pps: number;
}

export interface VibReader {
  /** all port names known to the collectors (Mininet style: `s1-eth2`, `h1-eth0`) */
  ports(): readonly string[];
  /** samples of a port, oldest first */
  portSeries(port: string): readonly PortSample[];
  switchSeries(sw: string): readonly SwitchSample[];
  /** latest sample of a port, if any */
  lastPort(port: string): PortSample | undefined;
  /** spare capacity of a directed link as last measured, bits per second */
  spareCapacity(link: number): number | undefined;
}

/**
 * The VIB store: per-port and per-switch series, appended by the collectors. Capacities come from
 * the topology (what the controller knows by configuration); rates only from measured samples.
 */
export class Vib implements VibReader {
  private readonly portData = new Map<string, PortSample[]>();
  private readonly switchData = new Map<string, SwitchSample[]>();
  private readonly portNames: readonly string[];

  constructor(
    private readonly capacityOf: (link: number) => number,
    portNames: readonly string[],
  ) {
    this.portNames = portNames;
  }

  addPort(port: string, sample: PortSample): void {
    let s = this.portData.get(port);
    if (!s) this.portData.set(port, (s = []));
    s.push(sample);
  }

  addSwitch(sw: string, sample: SwitchSample): void {
    let s = this.switchData.get(sw);
    if (!s) this.switchData.set(sw, (s = []));
    s.push(sample);
  }

  ports(): readonly string[] {
    return this.portNames;
  }

  portSeries(port: string): readonly PortSample[] {
    return this.portData.get(port) ?? [];
  }

  switchSeries(sw: string): readonly SwitchSample[] {
    return this.switchData.get(sw) ?? [];
  }

  lastPort(port: string): PortSample | undefined {
    const s = this.portData.get(port);
    return s && s.length ? s[s.length - 1] : undefined;
  }

  lastSwitch(sw: string): SwitchSample | undefined {
    const s = this.switchData.get(sw);
    return s && s.length ? s[s.length - 1] : undefined;
  }

  /** capacity minus the last measured sending rate of the port the link leaves, never below 0 */
  spareCapacity(link: number): number | undefined {
    const name = this.portNames[link];
    const last = name === undefined ? undefined : this.lastPort(name);
    if (!last) return undefined;
    return Math.max(0, this.capacityOf(link) - last.txBps);
  }
}
