/**
 * The event queue: integer event slots ordered by (time, insertion sequence) on fastpriorityqueue.
 * fastpriorityqueue does not keep insertion order for equal keys, so a sequence number breaks ties;
 * times and sequences live in typed arrays because comparing through them is much faster than
 * comparing objects (../shared/STACK.md).
 */
import FastPriorityQueue from "fastpriorityqueue";

export class EventQueue {
  private times = new Float64Array(1024);
  private seqs = new Float64Array(1024);
  private nextSeq = 0;
  private free: number[] = [];
  private slots = 0;
  private readonly heap: FastPriorityQueue<number>;

  constructor() {
    this.heap = new FastPriorityQueue<number>(comparator(this.times, this.seqs));
  }

  get size(): number {
    return this.heap.size;
  }

  /** Reserves a slot for an event at `time`; the caller pushes it with `push`. */
  allocate(time: number): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.slots++;
      if (slot >= this.times.length) this.grow();
    }
    this.times[slot] = time;
    this.seqs[slot] = this.nextSeq++;
    return slot;
  }

  /** Gives a slot a new time and the next sequence number (it must be re-sifted by the caller). */
  retime(slot: number, time: number): void {
    this.times[slot] = time;
    this.seqs[slot] = this.nextSeq++;
  }

  push(slot: number): void {
    this.heap.add(slot);
  }

  /** Re-times the top slot in place and restores heap order: one sift instead of poll + add. */
  replaceTopWith(slot: number): void {
    this.heap.replaceTop(slot);
  }

  peek(): number | undefined {
    return this.heap.peek();
  }

  poll(): number | undefined {
    return this.heap.poll();
  }

  release(slot: number): void {
    this.free.push(slot);
  }

  timeOf(slot: number): number {
    return this.times[slot]!;
  }

  private grow(): void {
    const n = this.times.length * 2;
    const t = new Float64Array(n);
    t.set(this.times);
    const s = new Float64Array(n);
    s.set(this.seqs);
    this.times = t;
    this.seqs = s;
    // The comparator closes over the arrays themselves (no property loads per comparison).
    (this.heap as unknown as { compare: (a: number, b: number) => boolean }).compare = comparator(t, s);
  }
}

function comparator(times: Float64Array, seqs: Float64Array): (a: number, b: number) => boolean {
  return (a, b) => {
    const ta = times[a]!;
    const tb = times[b]!;
    return ta < tb || (ta === tb && seqs[a]! < seqs[b]!);
  };
}
