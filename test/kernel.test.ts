import test from "ava";
import { Simulator, Watch, type Process } from "../src/kernel/index.ts";
import { makeRng } from "../src/core/random.ts";
import { exponential } from "./helpers/exponential.ts";

test("events run in time order whatever the order they were scheduled in", (t) => {
  const sim = new Simulator();
  const seen: number[] = [];
  for (const d of [5, 1, 4, 2, 3, 0.5]) sim.schedule(d, (x: number) => seen.push(x), d);
  sim.run();
  t.deepEqual(seen, [0.5, 1, 2, 3, 4, 5]);
  t.is(sim.now, 5);
  t.is(sim.eventCount, 6);
});

test("equal timestamps run in insertion order, also when scheduled from inside events", (t) => {
  const sim = new Simulator();
  const seen: string[] = [];
  for (let i = 0; i < 50; i++) sim.schedule(1, () => seen.push(`a${i}`));
  sim.schedule(0.5, () => {
    // Scheduled later than the a's, at the same instant: must run after all of them.
    for (let i = 0; i < 3; i++) sim.scheduleAt(1, () => seen.push(`b${i}`));
  });
  sim.run();
  t.deepEqual(seen, [...Array.from({ length: 50 }, (_, i) => `a${i}`), "b0", "b1", "b2"]);
});

test("an event scheduling one successor at the same instant runs it after the others already due", (t) => {
  const sim = new Simulator();
  const seen: string[] = [];
  sim.schedule(1, () => {
    seen.push("x");
    sim.schedule(0, () => seen.push("x-next"));
  });
  sim.schedule(1, () => seen.push("y"));
  sim.run();
  t.deepEqual(seen, ["x", "y", "x-next"]);
});

test("cancelled events do not run; cancelling twice or after running is harmless", (t) => {
  const sim = new Simulator();
  const seen: number[] = [];
  const ids = [1, 2, 3, 4].map((d) => sim.schedule(d, () => seen.push(d)));
  sim.cancel(ids[1]!);
  sim.cancel(ids[1]!);
  sim.run(1.5);
  sim.cancel(ids[0]!); // already ran
  sim.run();
  t.deepEqual(seen, [1, 3, 4]);
  t.is(sim.eventCount, 3);
});

test("a stale id cannot cancel the event that reuses its slot", (t) => {
  const sim = new Simulator();
  const seen: string[] = [];
  const old = sim.schedule(1, () => seen.push("old"));
  sim.run();
  // The slot of `old` is free again; the next event takes it.
  sim.schedule(1, () => seen.push("new"));
  sim.cancel(old);
  sim.run();
  t.deepEqual(seen, ["old", "new"]);
});

test("a stale id of a cancelled event cannot cancel the slot's next event", (t) => {
  const sim = new Simulator();
  const seen: string[] = [];
  const a = sim.schedule(1, () => seen.push("a"));
  sim.cancel(a);
  sim.run();
  for (let i = 0; i < 5; i++) sim.schedule(1, () => seen.push(`n${i}`));
  sim.cancel(a);
  sim.run();
  t.deepEqual(seen, ["n0", "n1", "n2", "n3", "n4"]);
});

test("an event may cancel one scheduled later at the same instant", (t) => {
  const sim = new Simulator();
  const seen: string[] = [];
  let victim = -1;
  sim.schedule(1, () => {
    seen.push("first");
    sim.cancel(victim);
  });
  victim = sim.schedule(1, () => seen.push("victim"));
  sim.run();
  t.deepEqual(seen, ["first"]);
});

test("run(until) stops before later events and advances the clock; run resumes them", (t) => {
  const sim = new Simulator();
  const seen: number[] = [];
  sim.schedule(1, () => seen.push(1));
  sim.schedule(10, () => seen.push(10));
  sim.run(5);
  t.deepEqual(seen, [1]);
  t.is(sim.now, 5);
  t.is(sim.pending, 1);
  sim.run();
  t.deepEqual(seen, [1, 10]);
});

test("stop() ends run after the current event", (t) => {
  const sim = new Simulator();
  const seen: number[] = [];
  sim.schedule(1, () => {
    seen.push(1);
    sim.stop();
  });
  sim.schedule(2, () => seen.push(2));
  sim.run();
  t.deepEqual(seen, [1]);
  sim.run();
  t.deepEqual(seen, [1, 2]);
});

test("scheduling in the past or at NaN is refused", (t) => {
  const sim = new Simulator();
  sim.schedule(2, () => undefined);
  sim.run();
  t.throws(() => sim.schedule(-1, () => undefined), { instanceOf: RangeError });
  t.throws(() => sim.schedule(Number.NaN, () => undefined), { instanceOf: RangeError });
  t.throws(() => sim.scheduleAt(1, () => undefined), { instanceOf: RangeError });
});

test("payloads reach their callbacks", (t) => {
  const sim = new Simulator();
  const got: Array<{ k: number }> = [];
  for (let k = 0; k < 3; k++) sim.schedule(k, (p: { k: number }) => got.push(p), { k });
  sim.run();
  t.deepEqual(got, [{ k: 0 }, { k: 1 }, { k: 2 }]);
});

test("many events with random times come out sorted, ties in insertion order", (t) => {
  const sim = new Simulator();
  const rng = makeRng(7);
  const out: Array<[number, number]> = [];
  for (let i = 0; i < 5000; i++) {
    const time = Math.floor(rng() * 100); // many ties
    sim.scheduleAt(time, (p: [number, number]) => out.push(p), [time, i]);
  }
  sim.run();
  t.is(out.length, 5000);
  for (let i = 1; i < out.length; i++) {
    const [ta, ia] = out[i - 1]!;
    const [tb, ib] = out[i]!;
    t.true(ta < tb || (ta === tb && ia < ib), `out of order at ${i}`);
  }
});

test("a process waits for delays and returns a value", (t) => {
  const sim = new Simulator();
  const times: number[] = [];
  const p = sim.process(
    (function* () {
      times.push(sim.now);
      yield 1.5;
      times.push(sim.now);
      yield 2;
      times.push(sim.now);
      return "done";
    })(),
  );
  sim.run();
  t.deepEqual(times, [0, 1.5, 3.5]);
  t.true(p.fired);
  t.is(p.value, "done");
});

test("a process waits for another process and gets its return value", (t) => {
  const sim = new Simulator();
  const child = sim.process(
    (function* () {
      yield 3;
      return 42;
    })(),
  );
  let got: unknown;
  let at = -1;
  sim.process(
    (function* () {
      got = yield child;
      at = sim.now;
    })(),
  );
  sim.run();
  t.is(got, 42);
  t.is(at, 3);
});

test("a process waits for a signal fired by another", (t) => {
  const sim = new Simulator();
  const ready = sim.signal<string>();
  const log: string[] = [];
  sim.process(
    (function* () {
      const v = yield ready;
      log.push(`${sim.now}:${String(v)}`);
    })(),
  );
  sim.schedule(4, () => ready.succeed("go"));
  sim.run();
  t.deepEqual(log, ["4:go"]);
  t.throws(() => ready.succeed("again"));
});

test("waiting on an already fired signal resumes at the same instant", (t) => {
  const sim = new Simulator();
  const s = sim.signal<number>();
  s.succeed(7);
  let got: unknown;
  sim.schedule(2, () =>
    sim.process(
      (function* () {
        got = yield s;
      })(),
    ),
  );
  sim.run();
  t.is(got, 7);
  t.is(sim.now, 2);
});

test("condition fires when its predicate holds, checked on each Watch notification", (t) => {
  const sim = new Simulator();
  const load = new Watch();
  let level = 0;
  let firedAt = -1;
  let checks = 0;
  const cond = sim.condition(() => {
    checks++;
    return level >= 3;
  }, [load]);
  sim.process(
    (function* () {
      yield cond;
      firedAt = sim.now;
    })(),
  );
  for (let i = 1; i <= 5; i++) {
    sim.schedule(i, () => {
      level = i;
      load.notify();
    });
  }
  sim.run();
  t.is(firedAt, 3);
  // Checked once at creation, then on each notification until it held (later ones are free).
  t.is(checks, 4);
});

test("condition already true fires at once; one tied to a signal checks when it fires", (t) => {
  const sim = new Simulator();
  t.true(sim.condition(() => true, []).fired);
  const s = sim.signal();
  let flag = false;
  const c = sim.condition(() => flag, [s]);
  t.false(c.fired);
  flag = true;
  t.false(c.fired); // not polled
  s.succeed();
  t.true(c.fired);
});

test("allOf fires when all have fired, with their values in order", (t) => {
  const sim = new Simulator();
  const ps = [3, 1, 2].map((d) =>
    sim.process(
      (function* () {
        yield d;
        return d * 10;
      })(),
    ),
  );
  let got: unknown;
  let at = -1;
  sim.process(
    (function* () {
      got = yield sim.allOf(ps);
      at = sim.now;
    })(),
  );
  sim.run();
  t.deepEqual(got, [30, 10, 20]);
  t.is(at, 3);
  t.true(sim.allOf([]).fired);
});

test("anyOf fires with the first, and timeouts can race a signal", (t) => {
  const sim = new Simulator();
  const never = sim.signal<string>();
  let got: { index: number; value: unknown } | undefined;
  let at = -1;
  sim.process(
    (function* () {
      got = (yield sim.anyOf<unknown>([never, sim.timeout(2.5)])) as { index: number; value: unknown };
      at = sim.now;
    })(),
  );
  sim.run();
  t.is(got?.index, 1);
  t.is(at, 2.5);
});

test("kill stops a waiting process, cancels its wake-up and fires it with undefined", (t) => {
  const sim = new Simulator();
  const log: number[] = [];
  let cleaned = false;
  const victim = sim.process(
    (function* () {
      try {
        for (;;) {
          yield 1;
          log.push(sim.now);
        }
      } finally {
        cleaned = true;
      }
    })(),
  );
  let waiterSaw: unknown = "unset";
  sim.process(
    (function* () {
      waiterSaw = yield victim;
    })(),
  );
  sim.schedule(2.5, () => victim.kill());
  sim.run();
  t.deepEqual(log, [1, 2]);
  t.true(cleaned);
  t.true(victim.fired);
  t.is(waiterSaw, undefined);
  t.is(sim.now, 2.5); // the cancelled wake-up at 3 did not advance the clock
});

test("a process killed while waiting on a signal does not resume when it fires", (t) => {
  const sim = new Simulator();
  const s = sim.signal();
  let resumed = false;
  const p: Process<void> = sim.process(
    (function* () {
      yield s;
      resumed = true;
    })(),
  );
  sim.schedule(1, () => p.kill());
  sim.schedule(2, () => s.succeed());
  sim.run();
  t.false(resumed);
});

test("processes resumed at the same instant run in the order they were woken", (t) => {
  const sim = new Simulator();
  const go = sim.signal();
  const order: number[] = [];
  for (let i = 0; i < 5; i++) {
    sim.process(
      (function* () {
        yield go;
        order.push(i);
      })(),
    );
  }
  sim.schedule(1, () => go.succeed());
  sim.run();
  t.deepEqual(order, [0, 1, 2, 3, 4]);
});

function trace(seed: number): string {
  const sim = new Simulator();
  const rng = makeRng(seed);
  const log: string[] = [];
  const ids: number[] = [];
  for (let p = 0; p < 20; p++) {
    sim.process(
      (function* () {
        for (let i = 0; i < 30; i++) {
          yield exponential(rng, 1);
          log.push(`${p}@${sim.now.toFixed(12)}`);
          if (rng() < 0.2) ids.push(sim.schedule(exponential(rng, 2), () => log.push(`e${p}`)));
          if (rng() < 0.1 && ids.length) sim.cancel(ids[Math.floor(rng() * ids.length)]!);
        }
      })(),
    );
  }
  sim.run();
  return log.join(",");
}

test("a run is a pure function of its seed", (t) => {
  const a = trace(3);
  t.is(trace(3), a);
  t.not(trace(4), a);
  t.true(a.length > 1000);
});

test("a process may kill itself; it fires and runs no further", (t) => {
  const sim = new Simulator();
  let after = false;
  const self: { p?: Process<void> } = {};
  const p: Process<void> = sim.process(
    (function* () {
      yield 1;
      self.p!.kill();
      yield 1;
      after = true;
    })(),
  );
  self.p = p;
  sim.run();
  t.true(p.fired);
  t.false(after);
  t.is(sim.now, 1);
});

test("a process yielding something that is not a delay or waitable is a clear error", (t) => {
  const sim = new Simulator();
  sim.process(
    (function* () {
      yield "soon" as unknown as number;
    })(),
    "bad",
  );
  t.throws(() => sim.run(), { instanceOf: TypeError, message: /process bad yielded soon/ });
});

test("a fired condition unsubscribes from its watch; others keep being checked in order", (t) => {
  const sim = new Simulator();
  const w = new Watch();
  let level = 0;
  const calls: string[] = [];
  const c1 = sim.condition(() => (calls.push("c1"), level >= 1), [w]);
  const c2 = sim.condition(() => (calls.push("c2"), level >= 2), [w]);
  calls.length = 0;
  level = 1;
  w.notify();
  t.true(c1.fired);
  t.false(c2.fired);
  t.deepEqual(calls, ["c1", "c2"]);
  calls.length = 0;
  level = 2;
  w.notify();
  t.deepEqual(calls, ["c2"]);
  t.true(c2.fired);
  // Many short-lived conditions on one watch: all fire, none stays subscribed.
  let n = 0;
  const many = Array.from({ length: 200 }, (_, i) => sim.condition(() => (n++, level >= 3 + i), [w]));
  for (level = 3; level < 203; level++) w.notify();
  t.true(many.every((c) => c.fired));
  n = 0;
  w.notify();
  t.is(n, 0);
});

test("unsubscribing from a watch stops notifications", (t) => {
  const w = new Watch();
  let a = 0;
  let b = 0;
  const ua = w.subscribe(() => a++);
  w.subscribe(() => b++);
  w.notify();
  ua();
  ua();
  w.notify();
  t.is(a, 1);
  t.is(b, 2);
});

test("an event that throws leaves the queue sound: the next run goes on with the rest, in order", (t) => {
  const sim = new Simulator();
  const seen: string[] = [];
  sim.schedule(1, () => seen.push("a"));
  sim.schedule(2, () => {
    // schedules its successor into its own slot, then throws: both must be dealt with
    sim.schedule(1, () => seen.push("after-throw"));
    throw new Error("boom");
  });
  sim.schedule(2, () => seen.push("b"));
  sim.schedule(2.5, () => {
    throw new Error("boom again"); // throws without scheduling anything
  });
  sim.schedule(4, () => seen.push("c"));
  t.throws(() => sim.run(), { message: "boom" });
  t.is(sim.now, 2);
  t.is(sim.pending, 4);
  t.throws(() => sim.run(), { message: "boom again" });
  t.is(sim.pending, 2);
  sim.run();
  t.deepEqual(seen, ["a", "b", "after-throw", "c"]);
  t.is(sim.pending, 0);
});

/** a random mix of events, cancellations and processes; returns what ran, in order */
function busyWorkload(sim: Simulator): Array<[number, number]> {
  const rng = makeRng(5);
  const seen: Array<[number, number]> = [];
  let n = 0;
  const tick = (id: number): void => {
    seen.push([sim.now, id]);
    if (n++ < 30_000) {
      const next = sim.schedule(exponential(rng, 1), tick, n);
      if (rng() < 0.1) sim.cancel(next);
      else if (rng() < 0.3) sim.schedule(exponential(rng, 2), tick, -n);
    }
  };
  for (let i = 0; i < 20; i++) sim.schedule(exponential(rng, 1), tick, 100_000 + i);
  return seen;
}

/** the busy workload run plainly to 5000 s: the events `runYielding` must reproduce */
function plainBusyRun(): { plain: Simulator; expected: Array<[number, number]> } {
  const plain = new Simulator();
  const expected = busyWorkload(plain);
  plain.run(5000);
  return { plain, expected };
}

test("runYielding runs the events of run, in the same order, and lets Node's event loop in between", async (t) => {
  const { plain, expected } = plainBusyRun();
  const yielding = new Simulator();
  const seen = busyWorkload(yielding);
  // a timer set before the run fires while it runs (a yield every 0 ms: every 256 events)
  let firedAt: number | undefined;
  setImmediate(() => (firedAt = seen.length));
  await yielding.runYielding(5000, 0);
  t.true(expected.length > 20_000);
  t.deepEqual(seen, expected);
  t.is(yielding.now, plain.now);
  t.is(yielding.eventCount, plain.eventCount);
  t.true(firedAt !== undefined && firedAt > 0 && firedAt < expected.length, `fired after ${firedAt} of ${expected.length} events`);
});

test("runYielding calls beforeYield before each turn it hands Node, with the clock where the run stands", async (t) => {
  const { plain, expected } = plainBusyRun();
  const sim = new Simulator();
  const seen = busyWorkload(sim);
  const clocks: number[] = [];
  await sim.runYielding(5000, 0, () => clocks.push(sim.now));
  t.deepEqual(seen, expected);
  // a turn every 256 events, and none after the last event
  t.true(clocks.length >= Math.floor(expected.length / 256) - 1, `${clocks.length} turns for ${expected.length} events`);
  for (let i = 1; i < clocks.length; i++) t.true(clocks[i]! >= clocks[i - 1]!);
  t.true(clocks[0]! > 0 && clocks.at(-1)! <= plain.now);
});

test("runYielding stops at until and after stop(), as run does", async (t) => {
  const sim = new Simulator();
  const seen: number[] = [];
  for (let i = 1; i <= 10_000; i++) sim.schedule(i, (x: number) => seen.push(x), i);
  await sim.runYielding(5000.5, 0);
  t.is(seen.length, 5000);
  t.is(sim.now, 5000.5);
  sim.schedule(0.25, () => sim.stop());
  await sim.runYielding(Infinity, 0);
  t.is(seen.length, 5000);
  t.is(sim.now, 5000.75);
  await sim.runYielding(Infinity, 0);
  t.is(seen.length, 10_000);
});

test("quiet: whether an event other than the running one is due at this instant, before and after the running event schedules", (t) => {
  const sim = new Simulator();
  const seen: Array<[string, boolean]> = [];
  // at 1 s: a alone (then it schedules, taking over its own slot); at 2 s: b with c due too
  sim.schedule(1, () => {
    seen.push(["a before", sim.quiet()]);
    sim.schedule(0.5, () => seen.push(["a's successor", sim.quiet()]));
    seen.push(["a after scheduling", sim.quiet()]);
    sim.schedule(0, () => undefined);
    seen.push(["a after scheduling at now", sim.quiet()]);
  });
  sim.schedule(2, () => seen.push(["b", sim.quiet()]));
  sim.schedule(2, () => seen.push(["c", sim.quiet()]));
  sim.schedule(2.25, () => undefined);
  t.true(sim.quiet(), "nothing is due at 0 s");
  sim.run();
  t.deepEqual(seen, [
    ["a before", true],
    ["a after scheduling", true],
    ["a after scheduling at now", false],
    ["a's successor", true],
    ["b", false],
    ["c", true],
  ]);
});
