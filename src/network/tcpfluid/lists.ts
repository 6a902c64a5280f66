/**
 * The solver's worklists, refilled on every step. Emptying a JS array with `length = 0` drops
 * its backing store, so a plain array would regrow from nothing on every step (copying itself
 * at each doubling). These keep their capacity; `size` is the length, and entries at `size` and
 * beyond are stale, never read.
 */
import type { FluidFlow } from "./flow.ts";

/** link ids, in insertion order */
export class LinkList {
  items = new Int32Array(16);
  size = 0;

  push(l: number): void {
    if (this.size === this.items.length) {
      const grown = new Int32Array(2 * this.items.length);
      grown.set(this.items);
      this.items = grown;
    }
    this.items[this.size++] = l;
  }
}

/** flows, in insertion order (stale entries keep their flows reachable until overwritten) */
export class FlowList {
  readonly items: FluidFlow[] = [];
  size = 0;

  push(f: FluidFlow): void {
    this.items[this.size++] = f;
  }
}
