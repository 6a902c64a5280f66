/**
 * The state every part of tcp-fluid reads: parameters, per-directed-link arrays, the flows in
 * flight and their completion times. The model is built as layers over it, each in its own file
 * and each using only the layers below: host stack (hoststack.ts), congestion control
 * (congestion.ts), queue solver (solver.ts), message delays (delays.ts), the NetworkModel
 * (model.ts). One object at run time (one hidden class), so the split costs no indirection.
 */
import { MinHeap, type Simulator } from "../../kernel/index.ts";
import type { CongestionControl, ModelOptions, NetworkParams } from "../model.ts";
import { Router } from "../topology/routing.ts";
import type { CompiledTopology, Path } from "../topology/types.ts";
import type { FluidFlow } from "./flow.ts";
import { tcpFluidParams, type TcpFluidParams } from "./params.ts";
import { Arena } from "../../core/arena.ts";

export class FluidState {
  readonly p: TcpFluidParams;
  /** the Router of `route`'s routes, for latency questions without Paths (ModelOptions.router) */
  protected readonly tables: Router | undefined;
  private readonly routeFn: (src: string, dst: string) => Path;
  // (numbers from the start, not undefined: V8 would keep them tagged; see FluidFlow)
  protected readonly L: number = 0;
  protected readonly cc: CongestionControl;
  /** cc === "bbr", tested per flow in the hottest loop (rateFor), where a string compare costs */
  protected readonly bbr: boolean;
  protected readonly emulated: boolean;
  /**
   * Gauss-Seidel order of the links (a solve takes them by increasing rank). Emulated stack: a
   * host's egress links first, since a flow's standing queue builds in the sender's qdisc when its
   * first link is as slow as the later ones (Mininet: equal shaped links in series queue at the
   * first, docs/tcp-fluid.md); solved first, that link takes the queue and the later ones see the
   * flow already at their rate. Otherwise (and among equals) the link id.
   */
  protected readonly solveRank: Int32Array;
  protected readonly eff: number = 1;
  /**
   * the per-link arrays of this layer and the ones above it, views of one buffer: a run of a
   * small topology is over in a fraction of a millisecond, and a buffer of their own each was a
   * tenth of a sweep's time (src/core/arena.ts)
   */
  protected readonly arena: Arena;
  /** per directed link: queueing delay (s), wire load (B/s), cumulative wire bytes, goodput capacity left for tcp */
  protected readonly delay: Float64Array;
  protected readonly load: Float64Array;
  protected readonly cum: Float64Array;
  protected readonly avail: Float64Array;
  protected readonly overflow: Uint8Array;
  /** per directed link: the factor its tcp flows' demands are cut by (1 when it can carry them) */
  protected readonly cut: Float64Array;
  /** per directed link: the time `cum` is integrated to */
  protected readonly lSince: Float64Array;
  /** per directed link: active tcp flows sending over it, and flows whose ACKs cross it */
  protected readonly through: FluidFlow[][];
  protected readonly acking: FluidFlow[][];
  protected readonly usedLinks = new Set<number>();
  /** flows in flight by id, in start order; the array view is rebuilt only when asked for after a change */
  protected readonly live = new Map<number, FluidFlow>();
  protected liveArray: FluidFlow[] | undefined;
  /**
   * flows whose windows may still move (changing) or whose inputs moved since they last grew,
   * in the order a Set would keep them (a flow re-added goes to the end). An array with lazy
   * deletion, not a Set: flows leave and rejoin it on most steps, and a Set's hashing of them
   * was a tenth of a data-center run. An entry i is a flow's only if f.restlessAt === i (a
   * deleted or re-added flow leaves a stale entry behind); `advance` compacts it every step.
   */
  protected readonly restless: FluidFlow[] = [];
  /**
   * completion times by flow id (ties by id: a deterministic order of simultaneous completions);
   * indexed, so a rate change moves the flow's one entry
   */
  protected readonly finishing = new MinHeap({ indexed: true });

  constructor(
    readonly sim: Simulator,
    readonly topo: CompiledTopology,
    readonly params: NetworkParams,
    options: ModelOptions = {},
  ) {
    this.p = tcpFluidParams(params);
    if (!(params.efficiency > 0 && params.efficiency <= 1)) throw new RangeError(`efficiency must be in (0, 1], got ${params.efficiency}`);
    // (a router of its own only when the caller routes with none: ModelOptions)
    const router = options.route ? undefined : new Router(topo, params.routing);
    this.routeFn = options.route ?? ((s, d) => router!.route(s, d));
    this.tables = router ?? options.router;
    this.L = topo.from.length;
    // 8 Float64Arrays, 6 Uint8Arrays and an Int32Array of L over the layers (a miscount only costs a second buffer)
    this.arena = new Arena(this.L * (8 * 8 + 6 + 4) + 64);
    this.cc = params.congestionControl;
    this.bbr = this.cc === "bbr";
    this.emulated = params.hostStack === "emulated";
    this.eff = params.efficiency;
    this.solveRank = this.arena.int32(this.L);
    for (let l = 0; l < this.L; l++) this.solveRank[l] = this.emulated && topo.isHost(topo.from[l]!) ? l - this.L : l;
    this.delay = this.arena.float64(this.L);
    this.load = this.arena.float64(this.L);
    this.cum = this.arena.float64(this.L);
    this.lSince = this.arena.float64(this.L);
    this.avail = this.arena.float64(this.L);
    this.overflow = this.arena.uint8(this.L);
    this.cut = this.arena.float64(this.L).fill(1);
    this.through = Array.from({ length: this.L }, () => []);
    this.acking = Array.from({ length: this.L }, () => []);
  }

  route(src: string, dst: string): Path {
    return this.routeFn(src, dst);
  }

  protected sumDelay(links: readonly number[]): number {
    let s = 0;
    for (const l of links) s += this.delay[l]!;
    return s;
  }

  protected checkLink(link: number): void {
    if (!(link >= 0 && link < this.L && Number.isInteger(link))) throw new RangeError(`no directed link ${link}`);
  }

  protected linkName(l: number): string {
    const t = this.topo;
    return `${t.names[t.from[l]!]}->${t.names[t.to[l]!]} (${t.portName[l]})`;
  }
}
