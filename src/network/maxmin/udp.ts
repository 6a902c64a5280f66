/**
 * max-min's constant-rate (udp) flows: served first, each at its requested rate unless udp alone
 * asks more than a link carries; then the udp flows there share it max-min, each capped at its
 * rate (udpShares). Few udp flows exist, so the shares are recomputed for all of them on every
 * udp arrival or departure; every link whose udp load changed gets the elastic capacity udp
 * leaves, `(capacity - udp) * efficiency`, and its elastic flows are re-solved.
 */
import type { LmmSolver } from "./lmm.ts";
import { udpShares } from "./shares.ts";
import type { FlowStore, LinkStore } from "./store.ts";

export class UdpFlows {
  /** the udp flows in flight, by slot, in arrival order */
  private readonly slots: number[] = [];

  constructor(
    private readonly flows: FlowStore,
    private readonly links: LinkStore,
    private readonly solver: LmmSolver,
    private readonly efficiency: number,
    private readonly setRate: (slot: number, rate: number) => void,
  ) {}

  add(slot: number): void {
    this.slots.push(slot);
    this.reallocate();
  }

  remove(slot: number): void {
    this.slots.splice(this.slots.indexOf(slot), 1);
    this.reallocate();
  }

  private reallocate(): void {
    const { flows, links } = this;
    const capacity = links.topo.capacity;
    const slots = this.slots;
    const n = slots.length;
    const rate = udpShares(
      slots.map((f) => flows.links[f]!),
      slots.map((f) => Math.min(flows.bySlot[f]!.spec.rate!, flows.cols.max[f]!)),
      capacity,
    );
    this.solver.clear();
    for (let i = 0; i < n; i++) this.setRate(slots[i]!, rate[i]!);
    const udp = new Float64Array(links.count);
    for (let i = 0; i < n; i++) for (const l of flows.links[slots[i]!]!) udp[l]! += rate[i]!;
    const cols = links.cols;
    for (let l = 0; l < links.count; l++) {
      if (udp[l] !== cols.udp[l]) {
        cols.udp[l] = udp[l]!;
        cols.elastic[l] = Math.max(0, capacity[l]! - udp[l]!) * this.efficiency;
        cols.level[l] = -1;
        this.solver.touch(l);
      }
    }
    this.solver.solve();
  }
}
