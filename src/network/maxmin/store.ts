/**
 * max-min's state: the flows by slot (a slot is reused once its flow ends) and the directed links,
 * each as columns of one field list (columns.ts), and each link's list of the elastic flows
 * crossing it. Flow i's `pos[i][k]` is its position in the list of its k-th link, so a flow leaves
 * a list in O(1) (the last entry takes its place).
 */
import type { Signal } from "../../kernel/index.ts";
import type { Arena } from "../../core/arena.ts";
import type { Flow, FlowResult, FlowSpec } from "../network-model.ts";
import type { CompiledTopology, Path } from "../topology/topology-types.ts";
import { type Columns, growColumns, makeColumns } from "./columns.ts";
import { REL } from "./shares.ts";

export class MaxMinFlow implements Flow {
  constructor(
    readonly id: number,
    readonly slot: number,
    readonly spec: FlowSpec,
    readonly path: Path,
    readonly start: number,
    readonly done: Signal<FlowResult>,
  ) {}
}

/** a flow's `bott` before any solve froze it */
export const NONE = -2;
/** a flow's `bott` when its own maxRate froze it */
export const CAPPED = -1;

/** per-flow fields, by slot */
export const FLOW_FIELDS = {
  /** bit/s: goodput for elastic flows, the sending rate for udp */
  rate: Float64Array,
  /** bytes carried up to `stamp` */
  delivered: Float64Array,
  stamp: Float64Array,
  /** bytes to carry; Infinity for an endless flow and once the flow ended (nothing to schedule) */
  size: Float64Array,
  /** the flow's private bottleneck (spec.maxRate), bit/s; Infinity when none */
  max: Float64Array,
  elastic: Uint8Array,
  /** the certificate: the link the flow was frozen at, CAPPED or NONE */
  bott: Int32Array,
  /** the completion event, -1 when none is scheduled */
  event: Float64Array,
  /** rate 0 with bytes left: only the starvation sentinel can end it */
  starved: Uint8Array,
  /** solver: member of the re-solved set S, frozen in the current filling, its rate there */
  inS: Uint8Array,
  frozen: Uint8Array,
  next: Float64Array,
  /**
   * the rate the certificate checks read: `next` once the filling froze the flow, else `rate`
   * (the solver puts it back to `rate` when a solve ends)
   */
  cur: Float64Array,
  /** position in the active list */
  activeIndex: Int32Array,
} as const;

/** per-directed-link fields, by link id */
export const LINK_FIELDS = {
  /** elastic flows crossing the link (the used length of its list) */
  count: Int32Array,
  /** the capacity elastic flows share: (capacity - udp) * efficiency, bit/s */
  elastic: Float64Array,
  /** udp rate on the link, bit/s */
  udp: Float64Array,
  /** wire rate (elastic rate / efficiency + udp rate), and the wire bytes counted up to `stamp` */
  wire: Float64Array,
  bytes: Float64Array,
  stamp: Float64Array,
  /** absolute tolerance of the certificate checks: capacity * REL */
  tol: Float64Array,
  /**
   * the water level a new flow would reach on the link (waterLevel), -1 when unknown: a function
   * of the link's flow rates and elastic capacity only, so it is kept until one of them changes
   * (an MTD re-key sends many messages over the same links between two reallocations)
   */
  level: Float64Array,
} as const;

export const INITIAL_FLOW_SLOTS = 64;

export class FlowStore {
  capacity = INITIAL_FLOW_SLOTS;
  readonly cols: Columns<typeof FLOW_FIELDS>;
  /** the flow in each slot, undefined when the slot is free */
  readonly bySlot: Array<MaxMinFlow | undefined> = [];
  /** each slot's directed links, and (elastic flows) its position in each link's list */
  readonly links: Int32Array[] = [];
  readonly pos: Int32Array[] = [];
  /** flows in flight (unordered: a leaving flow's place is taken by the last) */
  readonly active: MaxMinFlow[] = [];
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;
  nextId = 0;

  constructor(arena: Arena) {
    this.cols = makeColumns(FLOW_FIELDS, this.capacity, arena);
  }

  allocate(): number {
    const s = this.freeSlots.pop();
    if (s !== undefined) return s;
    const slot = this.nextSlot++;
    if (slot >= this.capacity) {
      this.capacity *= 2;
      growColumns(FLOW_FIELDS, this.cols, this.capacity);
    }
    return slot;
  }

  /** puts `flow` in its slot and the active list */
  enter(flow: MaxMinFlow): void {
    this.bySlot[flow.slot] = flow;
    this.cols.activeIndex[flow.slot] = this.active.length;
    this.active.push(flow);
  }

  /** takes the flow of `slot` out of the active list and frees the slot */
  leave(slot: number): void {
    const flow = this.bySlot[slot]!;
    const i = this.cols.activeIndex[slot]!;
    const last = this.active.pop()!;
    if (last !== flow) {
      this.active[i] = last;
      this.cols.activeIndex[last.slot] = i;
    }
    this.bySlot[slot] = undefined;
  }

  release(slot: number): void {
    this.freeSlots.push(slot);
  }

  /** the slot of a flow in flight, -1 when it has ended */
  slotOf(flow: Flow): number {
    const f = flow as MaxMinFlow;
    return this.bySlot[f.slot] === f ? f.slot : -1;
  }
}

export class LinkStore {
  readonly count: number;
  readonly cols: Columns<typeof LINK_FIELDS>;
  /** each link's elastic flows by slot; entries at `cols.count[l]` and beyond are stale */
  readonly lists: Int32Array[];

  constructor(
    readonly topo: CompiledTopology,
    efficiency: number,
    arena: Arena,
  ) {
    const L = (this.count = topo.capacity.length);
    this.cols = makeColumns(LINK_FIELDS, L, arena);
    this.lists = Array.from({ length: L }, () => new Int32Array(4));
    const { elastic, tol, level } = this.cols;
    level.fill(-1);
    for (let l = 0; l < L; l++) {
      elastic[l] = topo.capacity[l]! * efficiency;
      tol[l] = topo.capacity[l]! * REL;
    }
  }

  /** appends `slot` to link l's list; returns its position there */
  add(l: number, slot: number): number {
    let list = this.lists[l]!;
    const n = this.cols.count[l]!;
    if (n === list.length) {
      const b = new Int32Array(n * 2);
      b.set(list);
      this.lists[l] = list = b;
    }
    list[n] = slot;
    this.cols.count[l] = n + 1;
    this.cols.level[l] = -1;
    return n;
  }

  /** takes an elastic flow out of its links' lists */
  remove(slot: number, flows: FlowStore): void {
    const links = flows.links[slot]!;
    const pos = flows.pos[slot]!;
    const { count, level } = this.cols;
    for (let k = 0; k < links.length; k++) {
      const l = links[k]!;
      const list = this.lists[l]!;
      const last = --count[l]!;
      level[l] = -1;
      const p = pos[k]!;
      if (p !== last) {
        const moved = list[last]!;
        list[p] = moved;
        const ml = flows.links[moved]!;
        for (let j = 0; j < ml.length; j++) {
          if (ml[j] === l) {
            flows.pos[moved]![j] = p;
            break;
          }
        }
      }
    }
  }

  checkLink(link: number): void {
    if (!(link >= 0 && link < this.count && Number.isInteger(link))) throw new RangeError(`no directed link ${link}`);
  }

  name(l: number): string {
    const t = this.topo;
    return `${t.names[t.from[l]!]}->${t.names[t.to[l]!]}`;
  }
}
