import test from "ava";
import fc from "fast-check";
import { Simulator } from "../src/kernel/index.ts";

/**
 * The kernel's heap against a reference that sorts by (time, scheduling order): whatever mix of
 * scheduling from outside, scheduling from inside events (the in-place replaceTop path), several
 * successors per event and cancellations, events run in exactly the reference order.
 */
type Step = { delays: number[]; cancelFirst: boolean };

test("events run in (time, scheduling order) for any mix of schedules, successors and cancellations", (t) => {
  // Delays from a small set so equal times are frequent and ties are exercised.
  const delay = fc.constantFrom(0, 0.25, 0.5, 1, 1.5, 3);
  const step = fc.record({ delays: fc.array(delay, { maxLength: 3 }), cancelFirst: fc.boolean() });
  fc.assert(
    fc.property(fc.array(delay, { minLength: 1, maxLength: 60 }), fc.array(step, { maxLength: 200 }), (initial, steps) => {
      const sim = new Simulator();
      // Reference: every live event with its time and global scheduling number.
      const live = new Map<number, { time: number; order: number }>();
      const ran: number[] = [];
      const expected: number[] = [];
      let order = 0;
      let stepAt = 0;
      const schedule = (d: number): number => {
        const name = order++;
        const id = sim.schedule(d, () => {
          // The reference's next event must be the one running now.
          let best: [number, { time: number; order: number }] | undefined;
          for (const e of live) if (!best || e[1].time < best[1].time || (e[1].time === best[1].time && e[1].order < best[1].order)) best = e;
          expected.push(best![0]);
          live.delete(name);
          ran.push(name);
          const s: Step | undefined = steps[stepAt++];
          if (!s) return;
          const ids = s.delays.map((x) => [schedule(x), x] as const);
          if (s.cancelFirst && ids.length > 0) {
            sim.cancel(ids[0]![0]);
            live.delete(order - ids.length);
          }
        });
        live.set(name, { time: sim.now + d, order: name });
        return id;
      };
      for (const d of initial) schedule(d);
      sim.run();
      return live.size === 0 && ran.length === expected.length && ran.every((n, i) => n === expected[i]);
    }),
    { seed: 20261129, numRuns: 300 },
  );
  t.pass();
});
