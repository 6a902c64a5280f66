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
