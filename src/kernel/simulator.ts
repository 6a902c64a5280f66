/**
 * The simulation kernel: a clock, a deterministic event queue, and SimPy-style processes.
 *
 * Ordering: events run by time, then by the order they were scheduled, so a run with the same
 * inputs and seed replays exactly. A cancelled event stays in the heap and is skipped when it
 * reaches the top (lazy deletion), which keeps cancel O(1). An event that schedules one successor
 * hands it its own heap slot (peek + replaceTop), the fast path of a hold loop or a process.
 */
import { EventQueue } from "./queue.ts";

export type Callback<P> = (payload: P) => void;

/** Handle of a scheduled callback; pass to `cancel`. */
export type EventId = number;

/** What a process may yield: a delay in seconds, or anything it can wait on. */
export type Yieldable = number | Waitable<unknown>;

/** Something processes can wait for: a signal, another process, a condition. */
export interface Waitable<T> {
  /** Calls `fn` once the waitable has fired (at once if it already has). */
  onFire(fn: (value: T) => void): void;
  readonly fired: boolean;
}

export type ProcessBody<T> = Generator<Yieldable, T, unknown>;

/** events between two looks at the wall clock in `runYielding` */
const SLICE_EVENTS = 256;

export class Simulator {
  private readonly queue = new EventQueue();
  /** Callback of slot i at 2i and its payload at 2i+1: one cache line per event, not two. */
  private events: unknown[] = [];
  private generation: Uint32Array = new Uint32Array(16);
  private clock = 0;
  private executed = 0;
  private stopped = false;
  /**
   * Slot of the event being executed while it still sits at the top of the heap, or -1. The
   * first event it schedules takes over the slot in place (one sift-down instead of a pop and
   * a push): the common case of an event that schedules exactly one successor.
   */
  private running = -1;
  /**
   * @internal The process whose step is running, else undefined (set by Process.step): code
   * that a process runs can resume it later from an event of its own (src/migration/setup-chain.ts).
   */
  activeProcess: Process<unknown> | undefined = undefined;

  /** Current simulated time in seconds. */
  get now(): number {
    return this.clock;
  }

  /** Number of events executed so far (cancelled ones excluded). */
  get eventCount(): number {
    return this.executed;
  }

  /** Number of events waiting (cancelled ones included until they surface). */
  get pending(): number {
    return this.queue.size - (this.running === -1 ? 0 : 1);
  }

  /**
   * Whether no event but the one being executed is due now. A process that waits 0 s only to
   * keep its place behind the events due at this instant (a wake-up from a signal is such a wait)
   * may then skip the wait: nothing would run in between, so the order of events is the same.
   */
  quiet(): boolean {
    const q = this.queue;
    // the running event still sits at the top of the heap unless it handed its slot on
    return (this.running === -1 ? q.peekTime() : q.peekNextTime()) > this.clock;
  }

  /** Runs `fn(payload)` after `delay` seconds of simulated time. */
  schedule<P>(delay: number, fn: Callback<P>, payload?: P): EventId {
    if (!(delay >= 0)) throw new RangeError(`cannot schedule an event ${delay}s in the past or at NaN`);
    return this.enqueue(this.clock + delay, fn as Callback<unknown>, payload);
  }

  /** Runs `fn(payload)` at absolute time `time` (not before now). */
  scheduleAt<P>(time: number, fn: Callback<P>, payload?: P): EventId {
    if (!(time >= this.clock)) throw new RangeError(`cannot schedule at ${time}s, before now (${this.clock}s)`);
    return this.enqueue(time, fn as Callback<unknown>, payload);
  }

  private enqueue(time: number, fn: Callback<unknown>, payload: unknown): EventId {
    const q = this.queue;
    let slot = this.running;
    if (slot !== -1) {
      // The running event's slot (its generation already bumped, so its old id is stale).
      this.running = -1;
      q.replaceTop(time, slot);
    } else {
      slot = q.allocate();
      if (slot >= this.generation.length) this.growFlags();
      q.push(time, slot);
    }
    this.events[2 * slot] = fn;
    this.events[2 * slot + 1] = payload;
    return encode(slot, this.generation[slot]!);
  }

  /** Cancels a scheduled event; cancelling one that already ran or was cancelled does nothing. */
  cancel(id: EventId): void {
    const slot = slotOf(id);
    if (slot < this.generation.length && this.generation[slot] === generationOf(id) && this.events[2 * slot]) {
      // Lazy deletion: the slot stays in the heap and is skipped when it surfaces.
      this.events[2 * slot] = undefined;
      this.events[2 * slot + 1] = undefined;
    }
  }

  /** Runs events until the queue is empty, `until` is passed, or `stop()` is called. */
  run(until = Infinity): void {
    this.stopped = false;
    this.slice(until, Infinity);
    this.reach(until);
  }

  /**
   * `run`, handing Node's event loop a turn every `everyMs` of wall time (checked every
   * SLICE_EVENTS events): a run of minutes then leaves timers and signals (a second Ctrl-C)
   * their turn. The events and their order are `run`'s; nothing else may
   * schedule on this simulator while it waits. `beforeYield` is called before each turn (a
   * caller reports how far the run has come).
   */
  async runYielding(until = Infinity, everyMs = 100, beforeYield?: () => void): Promise<void> {
    this.stopped = false;
    let last = performance.now();
    while (this.slice(until, SLICE_EVENTS)) {
      if (performance.now() - last < everyMs) continue;
      beforeYield?.();
      await new Promise((resolve) => setImmediate(resolve));
      last = performance.now();
    }
    this.reach(until);
  }

  /** Runs at most `budget` events of `run(until)`; true when the budget ran out first. */
  private slice(until: number, budget: number): boolean {
    const q = this.queue;
    const events = this.events;
    let left = budget;
    try {
      while (!this.stopped) {
        const slot = q.peekSlot();
        if (slot === -1) break;
        const t = q.peekTime();
        if (t > until) break;
        if (left-- === 0) return true;
        const fn = events[2 * slot] as Callback<unknown> | undefined;
        const payload = events[2 * slot + 1];
        this.generation[slot] = (this.generation[slot]! + 1) >>> 0;
        if (fn === undefined) {
          q.pop();
          q.release(slot);
          continue;
        }
        this.clock = t;
        this.executed++;
        this.running = slot;
        fn(payload);
        if (this.running !== -1) this.retire(slot);
      }
    } finally {
      // An event threw: its slot is still the top of the heap; drop it so the queue stays sound.
      if (this.running !== -1) this.retire(this.running);
    }
    return false;
  }

  /** a run up to `until` that ran out of events ends with the clock at `until` */
  private reach(until: number): void {
    if (until !== Infinity && !this.stopped && until > this.clock) this.clock = until;
  }

  /** Removes the running event, which scheduled nothing into its slot, from the top of the heap. */
  private retire(slot: number): void {
    this.running = -1;
    this.events[2 * slot] = undefined;
    this.events[2 * slot + 1] = undefined;
    this.queue.pop();
    this.queue.release(slot);
  }

  /** Stops `run` after the current event. */
  stop(): void {
    this.stopped = true;
  }

  /** A signal fired by hand (`succeed`), for processes to wait on. */
  signal<T = void>(): Signal<T> {
    return new Signal<T>();
  }

  /** A waitable that fires after `delay` seconds. */
  timeout(delay: number): Signal<void> {
    const s = new Signal<void>();
    this.schedule(delay, () => s.succeed());
    return s;
  }

  /** Starts a process now (its first step runs in a fresh event at the current time). */
  process<T>(body: ProcessBody<T>, name = "process"): Process<T> {
    const p = new Process<T>(this, body, name);
    this.schedule(0, resumeProcess, p as Process<unknown>);
    return p;
  }

  /** Fires when every waitable has fired; its value is their values in order. */
  allOf<T>(items: ReadonlyArray<Waitable<T>>): Signal<T[]> {
    const s = new Signal<T[]>();
    const values: T[] = new Array(items.length);
    let left = items.length;
    if (left === 0) s.succeed(values);
    items.forEach((w, i) =>
      w.onFire((v) => {
        values[i] = v;
        if (--left === 0) s.succeed(values);
      }),
    );
    return s;
  }

  /** Fires when the first waitable fires, with its index and value. */
  anyOf<T>(items: ReadonlyArray<Waitable<T>>): Signal<{ index: number; value: T }> {
    const s = new Signal<{ index: number; value: T }>();
    items.forEach((w, index) =>
      w.onFire((value) => {
        if (!s.fired) s.succeed({ index, value });
      }),
    );
    return s;
  }

  /**
   * Fires as soon as `predicate()` holds, checked now and each time one of `triggers` fires.
   * Conditions are tied to signals rather than polled after every event: that keeps them free
   * when nothing relevant changes.
   */
  condition(predicate: () => boolean, triggers: ReadonlyArray<Waitable<unknown> | Watch>): Signal<void> {
    const s = new Signal<void>();
    const unsubscribe: Array<() => void> = [];
    const check = (): void => {
      if (s.fired || !predicate()) return;
      // Done: stop listening, so long runs do not pile up fired conditions on their watches.
      for (const u of unsubscribe) u();
      s.succeed();
    };
    for (const t of triggers) {
      if (t instanceof Watch) unsubscribe.push(t.subscribe(check));
      else t.onFire(check);
    }
    check();
    return s;
  }

  private growFlags(): void {
    const g = new Uint32Array(this.generation.length * 2);
    g.set(this.generation);
    this.generation = g;
  }
}

// Event ids carry the slot and its generation so a stale id cannot cancel a reused slot.
const SLOT_BITS = 2 ** 26;
function encode(slot: number, gen: number): EventId {
  return (gen % 2 ** 26) * SLOT_BITS + slot;
}
function slotOf(id: EventId): number {
  return id % SLOT_BITS;
}
function generationOf(id: EventId): number {
  return Math.floor(id / SLOT_BITS);
}

/** A one-shot event with a value. */
export class Signal<T> implements Waitable<T> {
  private listeners: Array<(v: T) => void> | undefined = [];
  private result: T | undefined;
  private done = false;

  get fired(): boolean {
    return this.done;
  }
  get value(): T | undefined {
    return this.result;
  }

  succeed(value?: T): void {
    if (this.done) throw new Error("a signal fires only once");
    this.done = true;
    this.result = value as T;
    const ls = this.listeners!;
    this.listeners = undefined;
    for (const fn of ls) fn(value as T);
  }

  onFire(fn: (value: T) => void): void {
    if (this.done) fn(this.result as T);
    else this.listeners!.push(fn);
  }
}

/** A repeatable notification (e.g. "a link's load changed") that conditions subscribe to. */
export class Watch {
  private subscribers: Array<(() => void) | undefined> = [];
  private dead = 0;

  /** Calls `fn` on every `notify()` until the returned function unsubscribes it. */
  subscribe(fn: () => void): () => void {
    const i = this.subscribers.length;
    const list = this.subscribers;
    list.push(fn);
    return () => {
      // The list may have been compacted since: find fn only then.
      const at = this.subscribers === list && list[i] === fn ? i : this.subscribers.indexOf(fn);
      if (at < 0) return;
      this.subscribers[at] = undefined;
      if (++this.dead > 32 && this.dead * 2 > this.subscribers.length) this.compact();
    };
  }

  notify(): void {
    // Subscribers added while notifying wait for the next notification.
    const list = this.subscribers;
    const n = list.length;
    for (let i = 0; i < n; i++) list[i]?.();
  }

  private compact(): void {
    this.subscribers = this.subscribers.filter((f) => f !== undefined);
    this.dead = 0;
  }
}

/**
 * A process: a generator that yields delays or waitables. Yielding a number waits that many
 * seconds (the fast path: no allocation); yielding a waitable resumes the process with its value.
 * A process is itself a waitable that fires with the generator's return value.
 */
export class Process<T> extends Signal<T> {
  /**
   * Id of the scheduled wake-up, NaN when none. Ids outgrow small integers once slots are reused,
   * so the field starts as a non-integer number: V8 then stores it as a double from the start
   * instead of changing the shape of every Process mid-run (which deoptimises the event loop).
   */
  private pendingEvent: EventId = Number.NaN;
  private killed = false;
  private running = false;

  constructor(
    readonly sim: Simulator,
    readonly body: ProcessBody<T>,
    readonly name: string,
  ) {
    super();
  }

  /** Stops the process where it waits; it fires with `undefined`. */
  kill(): void {
    if (this.fired || this.killed) return;
    this.killed = true;
    if (!Number.isNaN(this.pendingEvent)) this.sim.cancel(this.pendingEvent);
    // A process killing itself is inside its generator, which cannot be returned from there:
    // step() closes it once it yields.
    if (!this.running) this.body.return(undefined as T);
    this.succeed(undefined);
  }

  /** @internal */
  step(input: unknown): void {
    if (this.killed) return;
    this.pendingEvent = Number.NaN;
    this.running = true;
    const sim = this.sim;
    sim.activeProcess = this as Process<unknown>;
    let r: IteratorResult<Yieldable, T>;
    try {
      r = this.body.next(input);
    } finally {
      this.running = false;
      sim.activeProcess = undefined;
    }
    if (this.killed) {
      if (!r.done) this.body.return(undefined as T);
      return;
    }
    if (r.done) {
      this.succeed(r.value);
      return;
    }
    const y = r.value;
    if (typeof y === "number") {
      this.pendingEvent = this.sim.schedule(y, resumeProcess, this as Process<unknown>);
    } else if (y === null || typeof y !== "object" || typeof (y as Partial<Waitable<unknown>>).onFire !== "function") {
      throw new TypeError(`process ${this.name} yielded ${String(y)}; expected a delay in seconds or a Waitable (Signal, Process, condition)`);
    } else {
      y.onFire((v) => {
        if (this.killed) return;
        // Resume inside the current instant but from the queue, so wake-ups keep insertion order
        // and a process never runs nested inside another's step.
        this.pendingEvent = this.sim.schedule(0, resumeWith, { p: this as Process<unknown>, v });
      });
    }
  }
}

function resumeProcess(p: Process<unknown>): void {
  p.step(undefined);
}
function resumeWith(x: { p: Process<unknown>; v: unknown }): void {
  x.p.step(x.v);
}
