/**
 * What the parts of tcp-fluid share: the run's settings (FluidSettings), the per-directed-link
 * state (LinkState) and the flows in flight (FlowsInFlight). The parts (hoststack.ts,
 * congestion.ts, solver.ts, delays.ts, model.ts) are objects that each get these, and each other,
 * in their constructors; each owns the state it declares and writes no other part's fields.
 */
import { MinHeap, type Simulator } from "../../kernel/index.ts";
import type { Arena } from "../../core/arena.ts";
import type { CongestionControl, NetworkParams } from "../network-model.ts";
import type { CompiledTopology } from "../topology/topology-types.ts";
import type { FluidFlow } from "./flow.ts";
import { tcpFluidParams, type TcpFluidParams } from "./tcpfluid-params.ts";

/** the settings of a run, read by every part */
export class FluidSettings {
  readonly p: TcpFluidParams;
  readonly cc: CongestionControl;
  /** cc === "bbr", tested per flow in the hottest loop (rateFor), where a string compare costs */
  readonly bbr: boolean;
  readonly emulated: boolean;
  /** goodput / wire rate of tcp flows */
  readonly eff: number;

  constructor(
    readonly sim: Simulator,
    readonly topo: CompiledTopology,
    params: NetworkParams,
  ) {
    this.p = tcpFluidParams(params);
    if (!(params.efficiency > 0 && params.efficiency <= 1)) throw new RangeError(`efficiency must be in (0, 1], got ${params.efficiency}`);
    this.cc = params.congestionControl;
    this.bbr = this.cc === "bbr";
    this.emulated = params.hostStack === "emulated";
    this.eff = params.efficiency;
  }
}

/**
 * Per directed link: the solve's queueing delays and cuts, the wire load and its integral, and
 * the flows crossing it. Typed arrays of one arena (src/core/arena.ts), fixed in length for the run:
 * the parts may keep references to them.
 */
export class LinkState {
  readonly count: number;
  /** queueing delay, seconds */
  readonly delay: Float64Array;
  /** wire load, bytes/s, and the wire bytes integrated up to `since` */
  readonly load: Float64Array;
  readonly cum: Float64Array;
  readonly since: Float64Array;
  /** goodput capacity left for tcp after udp, bytes/s (set by each link solve) */
  readonly avail: Float64Array;
  /** the last solve found the link's queue over its buffer: its tcp flows see a loss */
  readonly overflow: Uint8Array;
  /** the factor the link's tcp flows' demands are cut by (1 when it can carry them) */
  readonly cut: Float64Array;
  /**
   * Gauss-Seidel order of the links (a solve takes them by increasing rank). Emulated stack: a
   * host's egress links first, since a flow's standing queue builds in the sender's qdisc when its
   * first link is as slow as the later ones (Mininet: equal shaped links in series queue at the
   * first, docs/tcp-fluid.md); solved first, that link takes the queue and the later ones see the
   * flow already at their rate. Otherwise (and among equals) the link id.
   */
  readonly solveRank: Int32Array;
  /** active flows sending over each link, and tcp flows whose ACKs cross it */
  readonly through: FluidFlow[][];
  readonly acking: FluidFlow[][];

  constructor(
    readonly topo: CompiledTopology,
    emulated: boolean,
    arena: Arena,
  ) {
    const L = (this.count = topo.from.length);
    this.solveRank = arena.int32(L);
    for (let l = 0; l < L; l++) this.solveRank[l] = emulated && topo.isHost(topo.from[l]!) ? l - L : l;
    this.delay = arena.float64(L);
    this.load = arena.float64(L);
    this.cum = arena.float64(L);
    this.since = arena.float64(L);
    this.avail = arena.float64(L);
    this.overflow = arena.uint8(L);
    this.cut = arena.float64(L).fill(1);
    this.through = Array.from({ length: L }, () => []);
    this.acking = Array.from({ length: L }, () => []);
  }

  /** the queueing delay of a path, seconds */
  sumDelay(links: readonly number[]): number {
    let s = 0;
    for (const l of links) s += this.delay[l]!;
    return s;
  }

  checkLink(link: number): void {
    if (!(link >= 0 && link < this.count && Number.isInteger(link))) throw new RangeError(`no directed link ${link}`);
  }

  name(l: number): string {
    const t = this.topo;
    return `${t.names[t.from[l]!]}->${t.names[t.to[l]!]} (${t.portName[l]})`;
  }
}

/** The flows in flight, those whose state may still move, and their completion times. */
export class FlowsInFlight {
  /** flows in flight by id, in start order; the array view is rebuilt only when asked for after a change */
  readonly live = new Map<number, FluidFlow>();
  private liveArray: FluidFlow[] | undefined;
  /**
   * flows whose windows may still move (changing) or whose inputs moved since they last grew,
   * in the order a Set would keep them (a flow re-added goes to the end). An array with lazy
   * deletion, not a Set: flows leave and rejoin it on most steps, and hashing them costs. An
   * entry i is a flow's only if f.restlessAt === i (a deleted or re-added flow leaves a stale
   * entry behind); the model's `advance` compacts it every step.
   */
  readonly restless: FluidFlow[] = [];
  /**
   * completion times by flow id (ties by id: a deterministic order of simultaneous completions);
   * indexed, so a rate change moves the flow's one entry
   */
  readonly finishing = new MinHeap({ indexed: true });

  add(f: FluidFlow): void {
    this.live.set(f.id, f);
    this.liveArray = undefined;
  }

  delete(f: FluidFlow): void {
    this.live.delete(f.id);
    this.liveArray = undefined;
  }

  array(): readonly FluidFlow[] {
    this.liveArray ??= [...this.live.values()];
    return this.liveArray;
  }

  /** keeps f.restless (a field, read in hot loops) and the restless list in step */
  setRestless(f: FluidFlow, on: boolean): void {
    if (on === f.restless) return;
    f.restless = on;
    if (on) {
      f.restlessAt = this.restless.length;
      this.restless.push(f);
    } else {
      f.restlessAt = -1;
    }
  }
}
