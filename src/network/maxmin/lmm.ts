/**
 * max-min's elastic solver: progressive filling (SimGrid's LMM) re-run on a set S of flows with
 * every other flow's rate held fixed, checked by a certificate.
 *
 * The certificate: every elastic flow remembers where it was frozen (`bott`: a link, or CAPPED by
 * its own maxRate). A feasible allocation in which every flow's bottleneck is saturated and
 * carries no flow faster than it is THE max-min allocation. So after an arrival, a departure or a
 * change of capacity it suffices to re-solve S and check the certificate on the links S touches
 * (the set T); flows whose certificate broke there join S and the solve repeats. S starts at the
 * arriving flow (or empty, with the departed flow's links in T) and grows only through links that
 * bind, so on lightly coupled traffic a change costs a handful of flows instead of the whole
 * connected component of the flow-link graph. After `maxRounds` rounds S becomes that whole
 * component (exact by construction), which bounds the worst case.
 *
 * Each round re-checks all of T, most of which did not change since the round before. Two
 * shortcuts skip work whose outcome is already known, so that a solve computes the same S in the
 * same order and the same sums term for term as the plain check (`plain`, which the tests compare
 * bit for bit): a link's load and fastest flow are kept while none of its flows changes rate, and
 * a link whose flows cannot break the certificate this round is not walked (see `quiet`).
 */
import { MinHeap } from "../../kernel/index.ts";
import type { Arena } from "../../core/arena.ts";
import { makeColumns } from "./columns.ts";
import { CAPPED, type FlowStore, type LinkStore, NONE } from "./store.ts";

/**
 * rounds of local re-solving before S becomes the whole connected component; on the replay
 * workloads with uplinks loaded to 80% no change needed more than 16
 */
export const MAX_ROUNDS = 16;

/** the solver's per-link workspace */
export const SOLVER_LINK_FIELDS = {
  /** T as a list and as flags */
  touched: Int32Array,
  inT: Uint8Array,
  /** filling: capacity left and unfrozen S flows on each link */
  rem: Float64Array,
  cnt: Int32Array,
  /**
   * filling: the rates of each link's flows outside S and its flows in S, kept from one round to
   * the next while none of its flows joins S (`stale` says it must be counted again); with them
   * the fastest flow outside S, the slowest flow outside S frozen at this link (Infinity when
   * none) and the flows outside S never frozen
   */
  outside: Float64Array,
  inside: Int32Array,
  stale: Uint8Array,
  fixedMax: Float64Array,
  fixedLowest: Float64Array,
  fixedUnset: Int32Array,
  /**
   * filling: the share at which the link froze S flows, the filling that did (`fills`), and the
   * fastest of its S flows' new rates
   */
  share: Float64Array,
  froze: Uint32Array,
  sMax: Float64Array,
  /**
   * verification: each link's load and fastest flow with S at its new rates, the pass that
   * checks them, and the solve whose rates the load holds: summed only when a check needs it (see
   * `overfilled`) and kept from one round to the next while none of the link's flows changes rate
   * (the sum is then the same, term for term)
   */
  load: Float64Array,
  fastest: Float64Array,
  epoch: Uint32Array,
  measured: Uint32Array,
  /** verification: the pass in which a flow outside S that crosses the link broke its certificate */
  flagged: Uint32Array,
} as const;

const INITIAL_S = 64;

/** links with fewer flows than this may answer a load check from the filling's remainder (see `overfilled`) */
const MAX_ROUNDED = 100_000;

export class LmmSolver {
  /** S as a list (flags in the flows' `inS`), T as a list (flags in `inT`) */
  private S: Int32Array;
  private sN = 0;
  private tN = 0;
  private readonly w;
  private epoch = 0;
  /** the current solve, for `measured`, and the current filling, for `froze` (0: none) */
  private solveId = 0;
  private fills = 0;
  /** progressive filling's queue of fair shares: links (id l) and caps (id L + f), ties by id */
  private readonly heap = new MinHeap({ capacity: 64 });

  /**
   * `commit(slot)` takes the new rate of each flow of S (`flows.cols.next[slot]`) when a solve
   * ends; it must not change S or T.
   */
  /**
   * `plain`: fill and check the certificate without the shortcuts, every link pushed to the heap
   * and every link of T walked in every round (the reference the tests hold the shortcuts to)
   */
  constructor(
    private readonly flows: FlowStore,
    private readonly links: LinkStore,
    private readonly maxRounds: number,
    arena: Arena,
    private readonly commit: (slot: number) => void,
    private readonly plain = false,
  ) {
    this.w = makeColumns(SOLVER_LINK_FIELDS, links.count, arena);
    this.S = arena.int32(INITIAL_S);
  }

  /** empties S and T */
  clear(): void {
    const inS = this.flows.cols.inS;
    const { touched, inT } = this.w;
    for (let i = 0; i < this.sN; i++) inS[this.S[i]!] = 0;
    for (let i = 0; i < this.tN; i++) inT[touched[i]!] = 0;
    this.sN = 0;
    this.tN = 0;
  }

  /** puts link l in T: its flows' certificates are checked */
  touch(l: number): void {
    const w = this.w;
    if (w.inT[l]) return;
    w.inT[l] = 1;
    w.stale[l] = 1;
    w.touched[this.tN++] = l;
  }

  /** puts a flow in S (and its links in T): it is re-solved */
  add(slot: number): void {
    const inS = this.flows.cols.inS;
    if (inS[slot]) return;
    inS[slot] = 1;
    if (this.sN === this.S.length) {
      const b = new Int32Array(this.S.length * 2);
      b.set(this.S);
      this.S = b;
    }
    this.S[this.sN++] = slot;
    const links = this.flows.links[slot]!;
    const stale = this.w.stale;
    for (let k = 0; k < links.length; k++) {
      const l = links[k]!;
      this.touch(l);
      stale[l] = 1;
    }
  }

  /**
   * Re-solves S with every other flow fixed, checks the certificate on T, grows S with the flows
   * whose certificate broke, and repeats; then commits S's new rates and empties S and T.
   */
  solve(): void {
    if (++this.solveId === 0xffffffff) {
      this.w.measured.fill(0);
      this.solveId = 1;
    }
    if (this.fills > 0xfffffff0) {
      this.w.froze.fill(0);
      this.fills = 0;
    }
    let rounds = 0;
    for (;;) {
      rounds++;
      if (rounds > this.maxRounds) {
        this.growToComponent();
        this.fill();
        break;
      }
      this.fill();
      if (!this.verifyAndGrow()) break;
    }
    for (let i = 0; i < this.sN; i++) this.commit(this.S[i]!);
    // (a rate change below commit's noise threshold leaves `rate` as it was)
    const { cur, rate } = this.flows.cols;
    for (let i = 0; i < this.sN; i++) cur[this.S[i]!] = rate[this.S[i]!]!;
    this.clear();
  }

  /** Progressive filling of S on the capacity the flows outside S leave. */
  private fill(): void {
    const { S, sN, tN } = this;
    const { touched: T, rem, cnt, outside, inside, stale, fixedMax, fixedLowest, fixedUnset, share: shareAt, froze, sMax } = this.w;
    const { inS, rate, frozen, max, bott } = this.flows.cols;
    const { lists } = this.links;
    const { count, elastic } = this.links.cols;
    const fill = ++this.fills;
    for (let i = 0; i < tN; i++) {
      const l = T[i]!;
      // (the flows outside S keep their rates and bottlenecks until the solve commits)
      if (stale[l]) {
        let out = 0;
        let c = 0;
        let fastest = 0;
        let lowest = Infinity;
        let unset = 0;
        const list = lists[l]!;
        const n = count[l]!;
        for (let j = 0; j < n; j++) {
          const f = list[j]!;
          if (inS[f]) c++;
          else {
            const r = rate[f]!;
            out += r;
            if (r > fastest) fastest = r;
            const b = bott[f]!;
            if (b === l) {
              if (r < lowest) lowest = r;
            } else if (b === NONE) unset++;
          }
        }
        outside[l] = out;
        inside[l] = c;
        fixedMax[l] = fastest;
        fixedLowest[l] = lowest;
        fixedUnset[l] = unset;
        stale[l] = 0;
      }
      rem[l] = elastic[l]! - outside[l]!;
      cnt[l] = inside[l]!;
      sMax[l] = 0;
    }
    const heap = this.heap;
    heap.clear();
    const plain = this.plain;
    const shared = plain ? 0 : 1;
    for (let i = 0; i < tN; i++) {
      const l = T[i]!;
      const c = cnt[l]!;
      if (c > shared) heap.push(rem[l]! > 0 ? rem[l]! / c : 0, l, l);
    }
    // A link with one flow of S keeps its share (rem / 1) until that flow freezes, as the flow's
    // own cap does: of these entries only the first in heap order can freeze the flow, the others
    // come out after it and do nothing. So each flow pushes just that first one, (key, id) as the
    // heap orders them, and the entries come out in the same order as with all of them pushed.
    const L = this.links.count;
    const flowLinks = this.flows.links;
    for (let i = 0; i < sN; i++) {
      const f = S[i]!;
      frozen[f] = 0;
      let key = max[f]!;
      let id = L + f;
      const links = flowLinks[f]!;
      for (let k = 0; k < links.length && !plain; k++) {
        const l = links[k]!;
        if (cnt[l] !== 1) continue;
        const x = rem[l]! > 0 ? rem[l]! : 0;
        if (x < key || (x === key && l < id)) {
          key = x;
          id = l;
        }
      }
      if (key < Infinity) heap.push(key, id, id);
    }
    let unfrozen = sN;
    while (unfrozen > 0 && heap.size > 0) {
      const key = heap.peekKey();
      const id = heap.peekValue();
      heap.pop();
      if (id >= L) {
        const f = id - L;
        if (frozen[f]) continue;
        this.freeze(f, key, CAPPED);
        unfrozen--;
        continue;
      }
      const c = cnt[id]!;
      if (c === 0) continue;
      const r = rem[id]!;
      const share = r > 0 ? r / c : 0;
      // an entry made before flows froze elsewhere: the link's share has grown since
      if (share > key) {
        heap.push(share, id, id);
        continue;
      }
      shareAt[id] = share;
      froze[id] = fill;
      const list = lists[id]!;
      const n = count[id]!;
      for (let j = 0; j < n && cnt[id]! > 0; j++) {
        const f = list[j]!;
        if (inS[f] && !frozen[f]) {
          this.freeze(f, share, id);
          unfrozen--;
        }
      }
    }
    // Every flow of S has a link in T whose heap entry stays until its flows are frozen.
    if (unfrozen > 0) throw new Error(`max-min: internal error, ${unfrozen} flows left unfrozen by progressive filling`);
  }

  /** fixes flow f at rate x, frozen at `bottleneck`, and takes x from each of its links */
  private freeze(f: number, x: number, bottleneck: number): void {
    const cols = this.flows.cols;
    cols.next[f] = x;
    cols.bott[f] = bottleneck;
    cols.frozen[f] = 1;
    const { rem, cnt, measured, sMax } = this.w;
    const links = this.flows.links[f]!;
    for (let k = 0; k < links.length; k++) {
      const m = links[k]!;
      rem[m]! -= x;
      cnt[m]!--;
      if (x > sMax[m]!) sMax[m] = x;
    }
    if (cols.cur[f] !== x) {
      cols.cur[f] = x;
      for (let k = 0; k < links.length; k++) measured[links[k]!] = 0;
    }
  }

  /**
   * Checks the certificate on T with S at its new rates. Returns true when S grew (another
   * round is needed).
   */
  private verifyAndGrow(): boolean {
    const { touched: T, load, fastest, epoch: linkEpoch, stale, fixedMax, sMax } = this.w;
    const { inS, rate, next, bott } = this.flows.cols;
    const { lists } = this.links;
    const { count, tol } = this.links.cols;
    const tN = this.tN;
    const epoch = ++this.epoch;
    const plain = this.plain;
    for (let i = 0; i < tN; i++) {
      const l = T[i]!;
      linkEpoch[l] = epoch;
      if (!plain) {
        // (a maximum does not depend on the order it is taken in: the same as the walk's)
        fastest[l] = fixedMax[l]! > sMax[l]! ? fixedMax[l]! : sMax[l]!;
        continue;
      }
      let sum = 0;
      let mx = 0;
      const list = lists[l]!;
      const n = count[l]!;
      for (let j = 0; j < n; j++) {
        const f = list[j]!;
        const r = inS[f] ? next[f]! : rate[f]!;
        sum += r;
        if (r > mx) mx = r;
      }
      load[l] = sum;
      fastest[l] = mx;
    }
    if (!plain) this.flagBroken(epoch);
    const sBefore = this.sN;
    for (let i = 0; i < tN; i++) {
      const l = T[i]!;
      const list = lists[l]!;
      const n = count[l]!;
      const tl = tol[l]!;
      // (a link some flow of which joined S in this pass is `stale`: walked like any)
      if (!plain && !stale[l] && this.quiet(l, epoch)) continue;
      if (this.overfilled(l)) {
        // flows held fixed overfill the link: all of them join
        for (let j = 0; j < n; j++) this.add(list[j]!);
        continue;
      }
      for (let j = 0; j < n; j++) {
        const f = list[j]!;
        const b = bott[f]!;
        if (inS[f]) {
          // an S flow frozen here must not be beaten by a fixed flow on the same link
          if (b === l && fastest[l]! > next[f]! + tl) {
            for (let k = 0; k < n; k++) {
              const g = list[k]!;
              if (!inS[g] && rate[g]! > next[f]! + tl) this.add(g);
            }
          }
        } else if (b >= 0 && linkEpoch[b] === epoch) {
          // a fixed flow whose bottleneck changed: still saturated, still the largest there?
          if (this.unsaturated(b) || rate[f]! < fastest[b]! - tol[b]!) this.add(f);
        } else if (b === NONE) {
          this.add(f);
        }
      }
    }
    // Links reached through S's growth this round have no load computed; the next round does.
    return this.sN > sBefore;
  }

  /**
   * Marks (`flagged`) the links of every flow outside S whose bottleneck, a link of T, no longer
   * holds it: unsaturated, or carrying a flow faster than it by more than the tolerance. Only the
   * links whose slowest such flow (`fixedLowest`) could fail are walked.
   */
  private flagBroken(epoch: number): void {
    const { touched: T, fastest, fixedLowest, flagged } = this.w;
    const { inS, rate, bott } = this.flows.cols;
    const { lists } = this.links;
    const { count, tol } = this.links.cols;
    const flowLinks = this.flows.links;
    for (let i = 0; i < this.tN; i++) {
      const b = T[i]!;
      const lowest = fixedLowest[b]!;
      if (lowest === Infinity) continue;
      const tb = tol[b]!;
      const unsaturated = this.unsaturated(b);
      if (!unsaturated && !(lowest < fastest[b]! - tb)) continue;
      const list = lists[b]!;
      const n = count[b]!;
      for (let j = 0; j < n; j++) {
        const f = list[j]!;
        if (inS[f] || bott[f] !== b) continue;
        if (unsaturated || rate[f]! < fastest[b]! - tb) {
          const links = flowLinks[f]!;
          for (let k = 0; k < links.length; k++) flagged[links[k]!] = epoch;
        }
      }
    }
  }

  /**
   * Whether walking link l in this pass would add nothing to S, for a link none of whose flows
   * joined S since the filling: not overfilled; no flow outside S that crosses it broke its
   * certificate (`flagged`) or was never frozen; and, if the filling froze S flows here (all at
   * one share), no flow outside S faster than that share.
   */
  private quiet(l: number, epoch: number): boolean {
    const w = this.w;
    const tl = this.links.cols.tol[l]!;
    if (this.overfilled(l)) return false;
    if (w.flagged[l] === epoch || w.fixedUnset[l]! > 0) return false;
    return !(w.froze[l] === this.fills && w.fixedMax[l]! > w.share[l]! + tl);
  }

  /**
   * Whether the flows on link l, S at its new rates, carry more than its elastic capacity plus
   * the tolerance, as their sum in list order (`load`) says. What the filling left (`rem`: the
   * capacity minus the same rates, subtracted in another order) answers without that sum when it
   * is clear of the threshold by half the tolerance: the two differ by at most a few times
   * n * 2^-53 * (capacity + load), under 1e-11 of the capacity for n < MAX_ROUNDED flows, far
   * below the tolerance (REL = 1e-9 of it). Near the threshold the sum decides.
   */
  private overfilled(l: number): boolean {
    const w = this.w;
    const { elastic, tol, count } = this.links.cols;
    const tl = tol[l]!;
    if (!this.plain && count[l]! < MAX_ROUNDED && w.rem[l]! >= -tl / 2) return false;
    return this.loadOf(l) > elastic[l]! + tl;
  }

  /** Whether link l's load, S at its new rates, is below its elastic capacity by more than the tolerance (as `overfilled`). */
  private unsaturated(l: number): boolean {
    const w = this.w;
    const { elastic, tol, count } = this.links.cols;
    const tl = tol[l]!;
    if (!this.plain && count[l]! < MAX_ROUNDED) {
      if (w.rem[l]! <= tl / 2) return false;
      if (w.rem[l]! >= 2 * tl) return true;
    }
    return this.loadOf(l) < elastic[l]! - tl;
  }

  /** link l's `load`: its flows' rates, S at its new rates, summed in list order */
  private loadOf(l: number): number {
    const w = this.w;
    if (this.plain || w.measured[l] === this.solveId) return w.load[l]!;
    const cur = this.flows.cols.cur;
    const list = this.links.lists[l]!;
    const n = this.links.cols.count[l]!;
    let sum = 0;
    for (let j = 0; j < n; j++) sum += cur[list[j]!]!;
    w.measured[l] = this.solveId;
    return (w.load[l] = sum);
  }

  /** S := every flow connected to S through shared links (the exact fallback). */
  private growToComponent(): void {
    const { touched: T } = this.w;
    const { lists } = this.links;
    const { count } = this.links.cols;
    // (add grows T, which this loop also walks: tN is read afresh on every pass)
    for (let i = 0; i < this.tN; i++) {
      const l = T[i]!;
      const list = lists[l]!;
      const n = count[l]!;
      for (let j = 0; j < n; j++) this.add(list[j]!);
    }
  }
}
