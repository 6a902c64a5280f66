/**
 * Threshold triggers on the VIB: a port trigger watches a port's load (tx + rx, bits per second),
 * a switch trigger a switch's packets per second. A trigger fires at the first sample where its
 * last `samples` samples were all strictly above the threshold, then re-arms: the next firing
 * needs `samples` fresh samples above it again.
 */
import type { CompiledTopology } from "../network/topology/topology-types.ts";
import type { TriggerSpec } from "../formats/runspec.ts";
import { portLoad } from "./collectors.ts";
import type { Vib } from "./vib.ts";

export type ThresholdSpec = Exclude<TriggerSpec, { kind: "at" }>;

/** Migrations with equal threshold triggers are bound to one trigger. */
export function triggerKey(t: ThresholdSpec): string {
  return t.kind === "port" ? `port:${t.port}:${t.above}:${t.samples}` : `switch:${t.switch}:${t.above}:${t.samples}`;
}

export class ThresholdTrigger {
  private run = 0;

  constructor(
    private readonly vib: Vib,
    readonly spec: ThresholdSpec,
    private readonly onFire: (t: number) => void,
  ) {}

  /** the watched value in the latest sample (undefined before the first sample) */
  value(): number | undefined {
    if (this.spec.kind === "port") {
      const s = this.vib.lastPort(this.spec.port);
      return s ? portLoad(s) : undefined;
    }
    return this.vib.lastSwitch(this.spec.switch)?.pps;
  }

  /** to be called after each collector sample at time t */
  check(t: number): void {
    const v = this.value();
    if (v === undefined) return;
    this.run = v > this.spec.above ? this.run + 1 : 0;
    if (this.run >= this.spec.samples) {
      this.run = 0;
      this.onFire(t);
    }
  }
}

/** A host's measured traffic: tx + rx over all its ports in the latest samples (0 before any). */
export function hostLoad(vib: Vib, topo: CompiledTopology, host: string): number {
  const n = topo.index.get(host);
  if (n === undefined) return 0;
  let sum = 0;
  for (let k = topo.adjStart[n]!; k < topo.adjStart[n + 1]!; k++) {
    const s = vib.lastPort(topo.portName[topo.adjLinks[k]!]!);
    if (s) sum += portLoad(s);
  }
  return sum;
}
