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
 * Each round re-checks all of T, most of which did not change since the round before. Shortcuts
 * skip work whose outcome is already known, so that a solve computes the same S in the same order
 * and the same sums term for term as the plain solver (`plain`, which the tests compare bit for
 * bit): a link's load is summed only when the filling's remainder leaves a check in doubt
 * (`overfilled`), a link whose flows cannot break the certificate this round is not walked
 * (`quiet`), and a flow's single-flow links take one heap entry (`fill`).
 *
 * The links of T are numbered in the order they join it, and the solver's per-link numbers are
 * kept by that number: a solve then reads a few dense arrays of T's size instead of scattered
 * entries of arrays of every link (8,192 hosts make some 50,000 directed links).
 */
import { MinHeap } from "../../kernel/index.ts";
import type { Arena } from "../../core/arena.ts";
import { growColumns, makeColumns, rowBytes } from "./columns.ts";
import { INITIAL_T, T_FIELDS } from "./touched.ts";
import { CAPPED, type FlowStore, type LinkStore, NONE } from "./store.ts";

/**
 * rounds of local re-solving before S becomes the whole connected component; on the replay
 * workloads with uplinks loaded to 80% no change needed more than 16
 */
export const MAX_ROUNDS = 16;

const INITIAL_S = 64;

/** links with fewer flows than this may answer a load check from the filling's remainder (see `overfilled`) */
const MAX_ROUNDED = 100_000;

/** bytes the solver carves from its arena for a network of `links` directed links */
export function solverBytes(links: number): number {
  return rowBytes(T_FIELDS, INITIAL_T) + 4 * links + 4 * INITIAL_S;
}

export class LmmSolver {
  /** S as a list (flags in the flows' `inS`) */
  private S: Int32Array;
  private sN = 0;
  /** T: its size, each link's place in it (-1 when not in T), and the numbers by place */
  private tN = 0;
  private readonly at: Int32Array;
  private t;
  private tCapacity = INITIAL_T;
  /** the links' flow lists, by place in T */
  private tLists: Int32Array[] = [];
  /** the verification pass, the current solve (for `measured`) and filling (for `froze`); 0: none */
  private epoch = 0;
  private solveId = 0;
  private fills = 0;
  /** progressive filling's queue of fair shares: links (id l) and caps (id L + f), ties by id */
  private readonly heap = new MinHeap({ capacity: 64 });

  /**
   * `commit(slot)` takes the new rate of each flow of S (`flows.cols.next[slot]`) when a solve
   * ends; it must not change S or T. `plain`: solve without the shortcuts, every link pushed to
   * the heap and every link of T summed and walked in every round (the reference the tests hold
   * the shortcuts to).
   */
  constructor(
    private readonly flows: FlowStore,
    private readonly links: LinkStore,
    private readonly maxRounds: number,
    arena: Arena,
    private readonly commit: (slot: number) => void,
    private readonly plain = false,
  ) {
    this.t = makeColumns(T_FIELDS, INITIAL_T, arena);
    this.at = arena.int32(links.count).fill(-1);
    this.S = arena.int32(INITIAL_S);
  }

  /** empties S and T */
  clear(): void {
    const inS = this.flows.cols.inS;
    const { at } = this;
    const link = this.t.link;
    for (let i = 0; i < this.sN; i++) inS[this.S[i]!] = 0;
    for (let i = 0; i < this.tN; i++) at[link[i]!] = -1;
    this.sN = 0;
    this.tN = 0;
  }

  /** puts link l in T: its flows' certificates are checked; returns its place in T */
  touch(l: number): number {
    const known = this.at[l]!;
    if (known >= 0) return known;
    const i = this.tN++;
    if (i === this.tCapacity) {
      this.tCapacity *= 2;
      growColumns(T_FIELDS, this.t, this.tCapacity);
    }
    this.at[l] = i;
    const t = this.t;
    t.link[i] = l;
    const cols = this.links.cols;
    t.n[i] = cols.count[l]!;
    t.elastic[i] = cols.elastic[l]!;
    t.tol[i] = cols.tol[l]!;
    t.stale[i] = 1;
    // (the stamps of whatever link had this place before belong to earlier solves and passes)
    t.measured[i] = 0;
    this.tLists[i] = this.links.lists[l]!;
    return i;
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
    for (let k = 0; k < links.length; k++) {
      const i = this.touch(links[k]!);
      // (after touch, which may have grown the arrays)
      this.t.stale[i] = 1;
    }
  }

  /**
   * Re-solves S with every other flow fixed, checks the certificate on T, grows S with the flows
   * whose certificate broke, and repeats; then commits S's new rates and empties S and T.
   */
  solve(): void {
    if (++this.solveId === 0xffffffff) {
      this.t.measured.fill(0);
      this.solveId = 1;
    }
    if (this.fills > 0xfffffff0) {
      this.t.froze.fill(0);
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
    const { S, sN, tN, at, tLists } = this;
    const { link, n: count, elastic, rem, cnt, outside, inside, stale, fixedMax, fixedLowest, fixedUnset, share: shareAt, froze, sMax } = this.t;
    const { inS, rate, frozen, max, bott } = this.flows.cols;
    const fill = ++this.fills;
    for (let i = 0; i < tN; i++) {
      const l = link[i]!;
      // (the flows outside S keep their rates and bottlenecks until the solve commits)
      if (stale[i]) {
        let out = 0;
        let c = 0;
        let fastest = 0;
        let lowest = Infinity;
        let unset = 0;
        const list = tLists[i]!;
        const n = count[i]!;
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
        outside[i] = out;
        inside[i] = c;
        fixedMax[i] = fastest;
        fixedLowest[i] = lowest;
        fixedUnset[i] = unset;
        stale[i] = 0;
      }
      rem[i] = elastic[i]! - outside[i]!;
      cnt[i] = inside[i]!;
      sMax[i] = 0;
    }
    const heap = this.heap;
    heap.clear();
    const plain = this.plain;
    const shared = plain ? 0 : 1;
    for (let i = 0; i < tN; i++) {
      const c = cnt[i]!;
      const l = link[i]!;
      if (c > shared) heap.push(rem[i]! > 0 ? rem[i]! / c : 0, l, l);
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
        const m = at[l]!;
        if (cnt[m] !== 1) continue;
        const x = rem[m]! > 0 ? rem[m]! : 0;
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
      const i = at[id]!;
      const c = cnt[i]!;
      if (c === 0) continue;
      const r = rem[i]!;
      const share = r > 0 ? r / c : 0;
      // an entry made before flows froze elsewhere: the link's share has grown since
      if (share > key) {
        heap.push(share, id, id);
        continue;
      }
      shareAt[i] = share;
      froze[i] = fill;
      const list = tLists[i]!;
      const n = count[i]!;
      for (let j = 0; j < n && cnt[i]! > 0; j++) {
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
    const { rem, cnt, measured, sMax } = this.t;
    const at = this.at;
    const links = this.flows.links[f]!;
    const changed = cols.cur[f] !== x;
    cols.cur[f] = x;
    for (let k = 0; k < links.length; k++) {
      const m = at[links[k]!]!;
      rem[m]! -= x;
      cnt[m]!--;
      if (x > sMax[m]!) sMax[m] = x;
      if (changed) measured[m] = 0;
    }
  }

  /**
   * Checks the certificate on T with S at its new rates. Returns true when S grew (another
   * round is needed).
   */
  private verifyAndGrow(): boolean {
    // (add grows T and may replace its arrays: the loop that adds reads them afresh)
    const { link, n: count, tol, load, fastest, fixedMax, sMax, measured } = this.t;
    const { inS, rate, next, bott } = this.flows.cols;
    const { at, tLists } = this;
    // (the links of T now, the ones this pass checks: T grows as S does)
    const tN = this.tN;
    const epoch = ++this.epoch;
    const plain = this.plain;
    for (let i = 0; i < tN; i++) {
      if (!plain) {
        // (a maximum does not depend on the order it is taken in: the same as the sum's walk)
        fastest[i] = fixedMax[i]! > sMax[i]! ? fixedMax[i]! : sMax[i]!;
        continue;
      }
      let sum = 0;
      let mx = 0;
      const list = tLists[i]!;
      const n = count[i]!;
      for (let j = 0; j < n; j++) {
        const f = list[j]!;
        const r = inS[f] ? next[f]! : rate[f]!;
        sum += r;
        if (r > mx) mx = r;
      }
      load[i] = sum;
      fastest[i] = mx;
      measured[i] = this.solveId;
    }
    if (!plain) this.flagBroken(epoch, tN);
    const sBefore = this.sN;
    for (let i = 0; i < tN; i++) {
      const l = link[i]!;
      const list = tLists[i]!;
      const n = count[i]!;
      const tl = tol[i]!;
      // (a link some flow of which joined S in this pass is `stale`: walked like any)
      if (!plain && !this.t.stale[i] && this.quiet(i, epoch)) continue;
      if (this.overfilled(i)) {
        // flows held fixed overfill the link: all of them join
        for (let j = 0; j < n; j++) this.add(list[j]!);
        continue;
      }
      for (let j = 0; j < n; j++) {
        const f = list[j]!;
        const b = bott[f]!;
        if (inS[f]) {
          // an S flow frozen here must not be beaten by a fixed flow on the same link
          if (b === l && this.t.fastest[i]! > next[f]! + tl) {
            for (let k = 0; k < n; k++) {
              const g = list[k]!;
              if (!inS[g] && rate[g]! > next[f]! + tl) this.add(g);
            }
          }
        } else if (b >= 0) {
          // a fixed flow whose bottleneck changed: still saturated, still the largest there?
          const ib = at[b]!;
          if (ib >= 0 && ib < tN && (this.unsaturated(ib) || rate[f]! < this.t.fastest[ib]! - tol[ib]!)) this.add(f);
        } else if (b === NONE) {
          this.add(f);
        }
      }
    }
    // Links reached through S's growth this round have no load computed; the next round does.
    return this.sN > sBefore;
  }

  /**
   * Marks (`flagged`) the links of every flow outside S whose bottleneck, one of the first `tN`
   * links of T, no longer holds it: unsaturated, or carrying a flow faster than it by more than
   * the tolerance. Only the links whose slowest such flow (`fixedLowest`) could fail are walked.
   */
  private flagBroken(epoch: number, tN: number): void {
    const { link, n: count, tol, fastest, fixedLowest, flagged } = this.t;
    const { inS, rate, bott } = this.flows.cols;
    const { at, tLists } = this;
    const flowLinks = this.flows.links;
    for (let i = 0; i < tN; i++) {
      const lowest = fixedLowest[i]!;
      if (lowest === Infinity) continue;
      const b = link[i]!;
      const tb = tol[i]!;
      const unsaturated = this.unsaturated(i);
      if (!unsaturated && !(lowest < fastest[i]! - tb)) continue;
      const list = tLists[i]!;
      const n = count[i]!;
      for (let j = 0; j < n; j++) {
        const f = list[j]!;
        if (inS[f] || bott[f] !== b) continue;
        if (unsaturated || rate[f]! < fastest[i]! - tb) {
          const links = flowLinks[f]!;
          for (let k = 0; k < links.length; k++) {
            const m = at[links[k]!]!;
            if (m >= 0) flagged[m] = epoch;
          }
        }
      }
    }
  }

  /**
   * Whether walking the link at place i of T in this pass would add nothing to S, for a link none
   * of whose flows joined S since the filling: not overfilled; no flow outside S that crosses it
   * broke its certificate (`flagged`) or was never frozen; and, if the filling froze S flows here
   * (all at one share), no flow outside S faster than that share.
   */
  private quiet(i: number, epoch: number): boolean {
    const t = this.t;
    if (this.overfilled(i)) return false;
    if (t.flagged[i] === epoch || t.fixedUnset[i]! > 0) return false;
    return !(t.froze[i] === this.fills && t.fixedMax[i]! > t.share[i]! + t.tol[i]!);
  }

  /**
   * Whether the flows on the link at place i of T, S at its new rates, carry more than its
   * elastic capacity plus the tolerance, as their sum in list order (`load`) says. What the
   * filling left (`rem`: the capacity minus the same rates, subtracted in another order) answers
   * without that sum when it is clear of the threshold by half the tolerance: the two differ by
   * at most a few times n * 2^-53 * (capacity + load), under 1e-11 of the capacity for n <
   * MAX_ROUNDED flows, far below the tolerance (REL = 1e-9 of it). Near the threshold the sum
   * decides.
   */
  private overfilled(i: number): boolean {
    const t = this.t;
    const tl = t.tol[i]!;
    if (!this.plain && t.n[i]! < MAX_ROUNDED && t.rem[i]! >= -tl / 2) return false;
    return this.loadOf(i) > t.elastic[i]! + tl;
  }

  /** Whether the load of the link at place i of T, S at its new rates, is below its elastic capacity by more than the tolerance (as `overfilled`). */
  private unsaturated(i: number): boolean {
    const t = this.t;
    const tl = t.tol[i]!;
    if (!this.plain && t.n[i]! < MAX_ROUNDED) {
      const r = t.rem[i]!;
      if (r <= tl / 2) return false;
      if (r >= 2 * tl) return true;
    }
    return this.loadOf(i) < t.elastic[i]! - tl;
  }

  /** `load` of the link at place i of T: its flows' rates, S at its new rates, summed in list order */
  private loadOf(i: number): number {
    const t = this.t;
    if (t.measured[i] === this.solveId) return t.load[i]!;
    const cur = this.flows.cols.cur;
    const list = this.tLists[i]!;
    const n = t.n[i]!;
    let sum = 0;
    for (let j = 0; j < n; j++) sum += cur[list[j]!]!;
    t.measured[i] = this.solveId;
    return (t.load[i] = sum);
  }

  /** S := every flow connected to S through shared links (the exact fallback). */
  private growToComponent(): void {
    // (add grows T, which this loop also walks: tN is read afresh on every pass)
    for (let i = 0; i < this.tN; i++) {
      const list = this.tLists[i]!;
      const n = this.t.n[i]!;
      for (let j = 0; j < n; j++) this.add(list[j]!);
    }
  }
}
