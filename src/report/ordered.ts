/**
 * Rows in plan order from runs that finish in any order (--jobs N): results are pushed tagged
 * with their plan index and handed to the sink strictly in the expected order, as soon as every
 * earlier index has arrived. Memory holds only the results waiting for a slower predecessor.
 */
export class OrderedBuffer<T> {
  private readonly order: readonly number[];
  private readonly expected: Set<number>;
  private readonly waiting = new Map<number, T>();
  private readonly sink: (item: T, index: number) => void | Promise<void>;
  private pos = 0;
  private chain: Promise<void> = Promise.resolve();
  private failed: unknown;

  /**
   * @param order the plan indices this process produces, in output order (a count n means 0..n-1)
   * @param sink receives each item once, in `order`; calls never overlap
   */
  constructor(order: readonly number[] | number, sink: (item: T, index: number) => void | Promise<void>) {
    this.order = typeof order === "number" ? Array.from({ length: order }, (_, i) => i) : [...order];
    this.expected = new Set(this.order);
    if (this.expected.size !== this.order.length) throw new Error("OrderedBuffer: duplicate index in order");
    this.sink = sink;
  }

  /** Results received but not yet handed on (waiting for an earlier index). */
  get pending(): number {
    return this.waiting.size;
  }

  /** Items handed to the sink so far (or queued to it). */
  get delivered(): number {
    return this.pos;
  }

  get complete(): boolean {
    return this.pos === this.order.length;
  }

  /** Accept the result of plan index `index`; resolves once everything deliverable is written. */
  push(index: number, item: T): Promise<void> {
    if (!this.expected.has(index)) throw new Error(`OrderedBuffer: index ${index} is not part of this plan slice`);
    this.expected.delete(index);
    this.waiting.set(index, item);
    while (this.pos < this.order.length && this.waiting.has(this.order[this.pos]!)) {
      const k = this.order[this.pos]!;
      const it = this.waiting.get(k)!;
      this.waiting.delete(k);
      this.pos += 1;
      this.chain = this.chain.then(() => {
        if (this.failed === undefined) return this.sink(it, k);
      }).catch((e: unknown) => {
        this.failed ??= e;
      });
    }
    return this.chain.then(() => {
      if (this.failed !== undefined) throw this.failed;
    });
  }

  /** Wait for the sink; fails if an index never arrived (names the first missing ones). */
  async finish(): Promise<void> {
    await this.chain;
    if (this.failed !== undefined) throw this.failed;
    if (this.pos < this.order.length) {
      const missing = this.order.slice(this.pos).filter((k) => !this.waiting.has(k)).slice(0, 5);
      throw new Error(`OrderedBuffer: ${this.order.length - this.pos} results not delivered; missing index ${missing.join(", ")}`);
    }
  }
}
