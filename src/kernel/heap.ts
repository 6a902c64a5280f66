/**
 * The one priority queue of the simulator: a binary min-heap of integer values ordered by
 * (key, tie), kept in typed arrays in heap order. The kernel's event queue (time, insertion
 * sequence), max-min's progressive filling (fair share, link or flow id) and tcp-fluid's flow
 * completions (time, flow id) all use it; with distinct (key, tie) pairs the order in which
 * values come out does not depend on how the heap was built.
 *
 * Why not fastpriorityqueue (bench/kernel.bench.ts measures it as the reference): it compares
 * opaque items, so FIFO ties and per-event payloads force it to hold ids and read each id's key
 * from a side array, one random memory access per comparison. Here the keys move with the heap
 * entries, so a sift reads neighbouring memory as a heap of bare numbers does.
 *
 * An `indexed` heap also knows where each value sits, so `set` can move a value's entry and
 * `delete` can remove it (each value at most once in the heap): a changing completion time
 * then moves its one entry instead of leaving a stale one behind.
 */
export class MinHeap {
  private keys: Float64Array;
  private ties: Float64Array;
  private values: Int32Array;
  private count = 0;
  /** indexed heaps: heap position of each value, -1 when it has no entry */
  private at: Int32Array | undefined;

  constructor(options: { indexed?: boolean; capacity?: number } = {}) {
    const n = options.capacity ?? 8;
    this.keys = new Float64Array(n);
    this.ties = new Float64Array(n);
    this.values = new Int32Array(n);
    if (options.indexed) this.at = new Int32Array(n).fill(-1);
  }

  get size(): number {
    return this.count;
  }

  /** Value of the smallest entry, or -1 when the heap is empty. */
  peekValue(): number {
    return this.count === 0 ? -1 : this.values[0]!;
  }

  /** Key of the smallest entry, Infinity when the heap is empty. */
  peekKey(): number {
    return this.count === 0 ? Infinity : this.keys[0]!;
  }

  /** Key of the smallest entry but the top one, Infinity when there is none. */
  peekNextKey(): number {
    const n = this.count;
    if (n < 2) return Infinity;
    const left = this.keys[1]!;
    return n > 2 && this.keys[2]! < left ? this.keys[2]! : left;
  }

  push(key: number, tie: number, value: number): void {
    if (this.count === this.keys.length) this.grow(Math.max(16, this.count * 2));
    this.siftUp(this.count++, key, tie, value);
  }

  /** Removes the smallest entry. */
  pop(): void {
    const at = this.at;
    if (at !== undefined) at[this.values[0]!] = -1;
    const last = --this.count;
    if (last > 0) this.siftDown(0, this.keys[last]!, this.ties[last]!, this.values[last]!, last);
  }

  /** Replaces the smallest entry (as pop then push, in one sift). */
  replaceTop(key: number, tie: number, value: number): void {
    const at = this.at;
    if (at !== undefined) at[this.values[0]!] = -1;
    this.siftDown(0, key, tie, value, this.count);
  }

  clear(): void {
    const at = this.at;
    if (at !== undefined) for (let i = 0; i < this.count; i++) at[this.values[i]!] = -1;
    this.count = 0;
  }

  /** Indexed heaps: gives `value` the entry (key, tie), adding it or moving the one it has. */
  set(value: number, key: number, tie: number): void {
    const at = this.index(value);
    const i = at[value]!;
    if (i < 0) {
      this.push(key, tie, value);
      return;
    }
    const k = this.keys[i]!;
    if (key < k || (key === k && tie < this.ties[i]!)) this.siftUp(i, key, tie, value);
    else this.siftDown(i, key, tie, value, this.count);
  }

  /** Indexed heaps: removes `value`'s entry, if it has one. */
  delete(value: number): void {
    const at = this.index(value);
    const i = at[value]!;
    if (i < 0) return;
    at[value] = -1;
    const last = --this.count;
    if (i === last) return;
    const key = this.keys[last]!;
    const tie = this.ties[last]!;
    const v = this.values[last]!;
    // the last entry fills the hole: it may belong above it or below it
    const p = (i - 1) >> 1;
    if (i > 0 && (key < this.keys[p]! || (key === this.keys[p]! && tie < this.ties[p]!))) this.siftUp(i, key, tie, v);
    else this.siftDown(i, key, tie, v, last);
  }

  private index(value: number): Int32Array {
    const at = this.at;
    if (at === undefined) throw new Error("MinHeap: set and delete need an indexed heap");
    if (value < at.length) return at;
    let n = at.length;
    while (n <= value) n *= 2;
    const grown = new Int32Array(n).fill(-1);
    grown.set(at);
    this.at = grown;
    return grown;
  }

  /** Places (key, tie, value) at position i or above it. */
  private siftUp(i: number, key: number, tie: number, value: number): void {
    const keys = this.keys;
    const ties = this.ties;
    const values = this.values;
    const from = i;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pk = keys[parent]!;
      if (pk < key || (pk === key && ties[parent]! < tie)) break;
      keys[i] = pk;
      ties[i] = ties[parent]!;
      values[i] = values[parent]!;
      i = parent;
    }
    keys[i] = key;
    ties[i] = tie;
    values[i] = value;
    if (this.at !== undefined) this.reindex(i, from);
  }

  /** Places (key, tie, value) at position i or below it, in a heap of `size` entries. */
  private siftDown(i: number, key: number, tie: number, value: number, size: number): void {
    const keys = this.keys;
    const ties = this.ties;
    const values = this.values;
    const half = size >> 1;
    const from = i;
    while (i < half) {
      let child = 2 * i + 1;
      let ck = keys[child]!;
      const right = child + 1;
      if (right < size) {
        const rk = keys[right]!;
        if (rk < ck || (rk === ck && ties[right]! < ties[child]!)) {
          child = right;
          ck = rk;
        }
      }
      if (key < ck || (key === ck && tie < ties[child]!)) break;
      keys[i] = ck;
      ties[i] = ties[child]!;
      values[i] = values[child]!;
      i = child;
    }
    keys[i] = key;
    ties[i] = tie;
    values[i] = value;
    if (this.at !== undefined) this.reindex(from, i);
  }

  /**
   * Indexed heaps: records the positions of the entries a sift moved, which lie on the path from
   * `bottom` up to its ancestor `top`. Done after the sift, so the sift loops (the kernel's hot
   * path) carry no index writes for the heaps that have no index.
   */
  private reindex(top: number, bottom: number): void {
    const at = this.at!;
    const values = this.values;
    for (let j = bottom; j > top; j = (j - 1) >> 1) at[values[j]!] = j;
    at[values[top]!] = top;
  }

  private grow(n: number): void {
    const keys = new Float64Array(n);
    keys.set(this.keys);
    const ties = new Float64Array(n);
    ties.set(this.ties);
    const values = new Int32Array(n);
    values.set(this.values);
    this.keys = keys;
    this.ties = ties;
    this.values = values;
  }
}
