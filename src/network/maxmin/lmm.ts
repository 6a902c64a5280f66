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
   * the next while none of its flows joins S (`stale` says it must be counted again)
   */
  outside: Float64Array,
  inside: Int32Array,
  stale: Uint8Array,
  /** verification: each link's load and fastest flow with S at its new rates, and the pass they are of */
  load: Float64Array,
  fastest: Float64Array,
  epoch: Uint32Array,
} as const;

const INITIAL_S = 64;

export class LmmSolver {
  /** S as a list (flags in the flows' `inS`), T as a list (flags in `inT`) */
  private S: Int32Array;
  private sN = 0;
  private tN = 0;
  private readonly w;
  private epoch = 0;
  /** progressive filling's queue of fair shares: links (id l) and caps (id L + f), ties by id */
  private readonly heap = new MinHeap({ capacity: 64 });

  /**
   * `commit(slot)` takes the new rate of each flow of S (`flows.cols.next[slot]`) when a solve
   * ends; it must not change S or T.
   */
  constructor(
    private readonly flows: FlowStore,
    private readonly links: LinkStore,
    private readonly maxRounds: number,
    arena: Arena,
    private readonly commit: (slot: number) => void,
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
    this.clear();
  }

  /** Progressive filling of S on the capacity the flows outside S leave. */
  private fill(): void {
    const { S, sN, tN } = this;
    const { touched: T, rem, cnt, outside, inside, stale } = this.w;
    const { inS, rate, frozen, max } = this.flows.cols;
    const { lists } = this.links;
    const { count, elastic } = this.links.cols;
    for (let i = 0; i < tN; i++) {
      const l = T[i]!;
      // (the flows outside S keep their rates until the solve commits)
      if (stale[l]) {
        let out = 0;
        let c = 0;
        const list = lists[l]!;
        const n = count[l]!;
        for (let j = 0; j < n; j++) {
          const f = list[j]!;
          if (inS[f]) c++;
          else out += rate[f]!;
        }
        outside[l] = out;
        inside[l] = c;
        stale[l] = 0;
      }
      rem[l] = elastic[l]! - outside[l]!;
      cnt[l] = inside[l]!;
    }
    const heap = this.heap;
    heap.clear();
    for (let i = 0; i < tN; i++) {
      const l = T[i]!;
      const c = cnt[l]!;
      if (c > 0) heap.push(rem[l]! > 0 ? rem[l]! / c : 0, l, l);
    }
    const L = this.links.count;
    for (let i = 0; i < sN; i++) {
      const f = S[i]!;
      frozen[f] = 0;
      if (max[f]! < Infinity) heap.push(max[f]!, L + f, L + f);
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
    const { rem, cnt } = this.w;
    const links = this.flows.links[f]!;
    for (let k = 0; k < links.length; k++) {
      const m = links[k]!;
      rem[m]! -= x;
      cnt[m]!--;
    }
  }

  /**
   * Checks the certificate on T with S at its new rates. Returns true when S grew (another
   * round is needed).
   */
  private verifyAndGrow(): boolean {
    const { touched: T, load, fastest, epoch: linkEpoch } = this.w;
    const { inS, rate, next, bott } = this.flows.cols;
    const { lists } = this.links;
    const { count, elastic, tol } = this.links.cols;
    const tN = this.tN;
    const epoch = ++this.epoch;
    for (let i = 0; i < tN; i++) {
      const l = T[i]!;
      linkEpoch[l] = epoch;
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
    const sBefore = this.sN;
    for (let i = 0; i < tN; i++) {
      const l = T[i]!;
      const list = lists[l]!;
      const n = count[l]!;
      const tl = tol[l]!;
      if (load[l]! > elastic[l]! + tl) {
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
          const tb = tol[b]!;
          if (load[b]! < elastic[b]! - tb || rate[f]! < fastest[b]! - tb) this.add(f);
        } else if (b === NONE) {
          this.add(f);
        }
      }
    }
    // Links reached through S's growth this round have no load computed; the next round does.
    return this.sN > sBefore;
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
