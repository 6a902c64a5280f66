/**
 * max-min's completion events: each finite flow with a positive rate has one kernel event at the
 * time its last byte arrives at the current rate, moved whenever the rate changes.
 *
 * A finite flow whose rate is 0 (udp fills every byte of a link it needs) has no completion event.
 * A sentinel at t = Infinity fires only when nothing else can ever happen in the simulation; then
 * that flow can never finish, and the sentinel throws an error naming it and the link (starvedFlowError),
 * instead of letting the run end silently with the transfer pending.
 */
import type { EventId, Simulator } from "../../kernel/index.ts";
import { starvedFlowError } from "../network-model.ts";
import type { FlowStore, LinkStore } from "./store.ts";

export class Completions {
  private starvedCount = 0;
  private sentinel: EventId | undefined;
  private readonly onStarved = (): void => this.reportStarved();

  /** `onComplete(slot)` runs at a flow's completion event */
  constructor(
    private readonly sim: Simulator,
    private readonly flows: FlowStore,
    private readonly links: LinkStore,
    private readonly onComplete: (slot: number) => void,
  ) {}

  /** (re)schedules the flow's completion at its current rate, or marks it starved at rate 0 */
  schedule(slot: number): void {
    const { size, event, rate, delivered } = this.flows.cols;
    const bytes = size[slot]!;
    if (bytes === Infinity) return;
    const ev = event[slot]!;
    if (ev >= 0) this.sim.cancel(ev);
    const r = rate[slot]!;
    if (r > 0) {
      const left = bytes - delivered[slot]!;
      event[slot] = this.sim.scheduleAt(this.sim.now + (left > 0 ? (left * 8) / r : 0), this.onComplete, slot);
      this.setStarved(slot, false);
    } else {
      event[slot] = -1;
      this.setStarved(slot, true);
    }
  }

  /** a completion in this instant, whatever the rate (an empty flow, or src == dst) */
  now(slot: number): void {
    this.flows.cols.event[slot] = this.sim.schedule(0, this.onComplete, slot);
  }

  /** the flow has ended: no event, not starved */
  cancel(slot: number): void {
    const event = this.flows.cols.event;
    const ev = event[slot]!;
    if (ev >= 0) this.sim.cancel(ev);
    event[slot] = -1;
    this.setStarved(slot, false);
  }

  /** whether a finite flow at rate 0 waits without an event (the solver's commit reschedules it) */
  waiting(slot: number): boolean {
    const { size, event, starved } = this.flows.cols;
    return size[slot] !== Infinity && event[slot] === -1 && !starved[slot];
  }

  private setStarved(slot: number, starved: boolean): void {
    const flags = this.flows.cols.starved;
    if ((flags[slot] === 1) === starved) return;
    flags[slot] = starved ? 1 : 0;
    this.starvedCount += starved ? 1 : -1;
    if (this.starvedCount > 0 && this.sentinel === undefined) {
      this.sentinel = this.sim.scheduleAt(Infinity, this.onStarved);
    } else if (this.starvedCount === 0 && this.sentinel !== undefined) {
      this.sim.cancel(this.sentinel);
      this.sentinel = undefined;
    }
  }

  private reportStarved(): void {
    this.sentinel = undefined;
    const { starved, bott } = this.flows.cols;
    const { elastic, udp } = this.links.cols;
    const capacity = this.links.topo.capacity;
    for (const f of this.flows.active) {
      if (!starved[f.slot]) continue;
      const b = bott[f.slot]!;
      const links = this.flows.links[f.slot]!;
      // the link it was frozen at, else the last link of its path that udp fills
      let link = b >= 0 ? b : links[0]!;
      for (let k = 0; b < 0 && k < links.length; k++) if (elastic[links[k]!]! <= 0 || udp[links[k]!]! >= capacity[links[k]!]!) link = links[k]!;
      throw starvedFlowError(f, this.links.name(link), link);
    }
  }
}
