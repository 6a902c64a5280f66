/**
 * The event queue: integer event slots on the shared MinHeap, ordered by (time, insertion
 * sequence) so that events at the same time run in the order they were scheduled.
 */
import { MinHeap } from "./heap.ts";

export class EventQueue {
  private readonly heap = new MinHeap();
  private nextSeq = 0;
  /** Slots are the caller's handles for the data of queued events; freed ones are reused. */
  private free: number[] = [];
  private slots = 0;

  get size(): number {
    return this.heap.size;
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
    this.heap.push(time, this.nextSeq++, slot);
  }

  /** Slot of the earliest event, or -1 when the queue is empty. */
  peekSlot(): number {
    return this.heap.peekValue();
  }

  /** Time of the earliest event (the queue must not be empty). */
  peekTime(): number {
    return this.heap.peekKey();
  }

  /** Time of the earliest event after the earliest one, Infinity when there is none. */
  peekNextTime(): number {
    return this.heap.peekNextKey();
  }

  /** Removes the earliest event. */
  pop(): void {
    this.heap.pop();
  }

  /**
   * Replaces the earliest event by `slot` at `time` (as pop then push, in one sift): the common
   * case of an event that schedules exactly one successor.
   */
  replaceTop(time: number, slot: number): void {
    this.heap.replaceTop(time, this.nextSeq++, slot);
  }
}
