/**
 * The doubles the solver's inner loops read for every flow of a link (solveLink's rate laws,
 * resolve's spread, cut and load passes), kept in one Float64Array, STRIDE per flow slot, instead
 * of in the flow objects. A double field of an object is a HeapNumber box (V8 no longer unboxes
 * them): reading it is a load of the object, of the box, then of the value, each from its own
 * place on the heap. Here a flow's hot values are adjacent (one or two cache lines) and each is
 * one load from the array; a link's flows are listed by slot, so a solve that only needs these
 * values never touches the objects. Slots are reused when flows finish and the arrays grow by
 * doubling; a slot is an index, never an order: nothing iterates the slots, so results do not
 * depend on which slot a flow gets. The flow objects read and write the same values through
 * accessors (flow.ts), so the rest of the model is unchanged.
 */
import type { FluidFlow } from "./flow.ts";

/** offsets of a flow's values from its base (slot * STRIDE) */
export const FWDQ = 0;
export const ACKQ = 1;
export const BASE_RTT = 2;
export const CWND = 3;
export const CAP = 4;
export const OWN_QUEUE = 5;
export const DEMAND = 6;
export const RATE = 7;
export const STRIDE = 8;

export class FlowSlots {
  /** the hot doubles, STRIDE per slot (replaced when it grows: read it afresh, never keep it across a take) */
  hot = new Float64Array(64 * STRIDE);
  /** 1 for an elastic (tcp) flow, per slot */
  tcp = new Uint8Array(64);
  /** the flow in each slot (undefined once released) */
  readonly flows: Array<FluidFlow | undefined> = [];
  private readonly free: number[] = [];
  private used = 0;

  /** a free slot (grows the arrays by doubling when all are taken) */
  take(): number {
    const s = this.free.pop();
    if (s !== undefined) return s;
    if (this.used === this.tcp.length) {
      const hot = new Float64Array(2 * this.hot.length);
      hot.set(this.hot);
      this.hot = hot;
      const tcp = new Uint8Array(2 * this.tcp.length);
      tcp.set(this.tcp);
      this.tcp = tcp;
    }
    this.flows.push(undefined);
    return this.used++;
  }

  /** a finished flow's slot, for the next flow (its values are no longer read) */
  release(s: number): void {
    this.flows[s] = undefined;
    this.free.push(s);
  }
}
