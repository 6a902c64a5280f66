/**
 * The event queue: a binary min-heap of integer event slots ordered by (time, insertion sequence),
 * kept in typed arrays in heap order.
 *
 * Why not fastpriorityqueue (which bench/kernel.bench.ts still measures as the reference): it
 * compares opaque items, so FIFO ties and per-event payloads force it to hold slot ids and read
 * each id's time from a side array, one random memory access per comparison. With 10^5 events
 * queued that alone cost 40% of its throughput (docs/benchmarks.md). Here the keys move with the
 * heap entries, so a sift reads neighbouring memory as a heap of bare numbers does.
 */
export class EventQueue {
  /** Heap entry i: its time, its insertion sequence (the tie-break) and its slot. */
  private times = new Float64Array(1024);
  private seqs = new Float64Array(1024);
  private heapSlots = new Int32Array(1024);
  private count = 0;
  private nextSeq = 0;
  /** Slots are the caller's handles for the data of queued events; freed ones are reused. */
  private free: number[] = [];
  private slots = 0;

  get size(): number {
    return this.count;
  }

  /** A slot for a new event; the caller pushes it with `push`. */
  allocate(): number {
    const slot = this.free.pop();
    return slot === undefined ? this.slots++ : slot;
  }

  release(slot: number): void {
    this.free.push(slot);
  }

  /** Queues `slot` at `time`, after every event already queued at the same time. */
  push(time: number, slot: number): void {
    if (this.count === this.times.length) this.grow();
    const times = this.times;
    const seqs = this.seqs;
    const seq = this.nextSeq++;
    let i = this.count++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent]!;
      if (pt < time || (pt === time && seqs[parent]! < seq)) break;
      this.move(parent, i);
      i = parent;
    }
    this.place(i, time, seq, slot);
  }

  /** Slot of the earliest event, or -1 when the queue is empty. */
  peekSlot(): number {
    return this.count === 0 ? -1 : this.heapSlots[0]!;
  }

  /** Time of the earliest event (the queue must not be empty). */
  peekTime(): number {
    return this.times[0]!;
  }

  /** Removes the earliest event. */
  pop(): void {
    const last = --this.count;
    if (last > 0) this.siftDown(this.times[last]!, this.seqs[last]!, this.heapSlots[last]!, last);
  }

  /**
   * Replaces the earliest event by `slot` at `time` (as pop then push, in one sift): the common
   * case of an event that schedules exactly one successor.
   */
  replaceTop(time: number, slot: number): void {
    this.siftDown(time, this.nextSeq++, slot, this.count);
  }

  private siftDown(time: number, seq: number, slot: number, size: number): void {
    const times = this.times;
    const seqs = this.seqs;
    const half = size >> 1;
    let i = 0;
    while (i < half) {
      let child = 2 * i + 1;
      let ct = times[child]!;
      const right = child + 1;
      if (right < size) {
        const rt = times[right]!;
        if (rt < ct || (rt === ct && seqs[right]! < seqs[child]!)) {
          child = right;
          ct = rt;
        }
      }
      if (time < ct || (time === ct && seq < seqs[child]!)) break;
      this.move(child, i);
      i = child;
    }
    this.place(i, time, seq, slot);
  }

  /** Copies heap entry `from` to position `to` (a sift's step). */
  private move(from: number, to: number): void {
    this.times[to] = this.times[from]!;
    this.seqs[to] = this.seqs[from]!;
    this.heapSlots[to] = this.heapSlots[from]!;
  }

  private place(i: number, time: number, seq: number, slot: number): void {
    this.times[i] = time;
    this.seqs[i] = seq;
    this.heapSlots[i] = slot;
  }

  private grow(): void {
    const n = this.times.length * 2;
    const times = new Float64Array(n);
    times.set(this.times);
    const seqs = new Float64Array(n);
    seqs.set(this.seqs);
    const heapSlots = new Int32Array(n);
    heapSlots.set(this.heapSlots);
    this.times = times;
    this.seqs = seqs;
    this.heapSlots = heapSlots;
  }
}
