import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ModelFactory, SimBackend } from "../backends/sim/backend.ts";
import { loadExperiment } from "../src/load/read-experiment.ts";
import { createNetworkModel } from "../src/network/index.ts";
import type { NetworkModel } from "../src/network/network-model.ts";
import { specAt } from "../src/run/plan.ts";
import { type ProcessBody, Simulator } from "../src/kernel/index.ts";
import { chainedSetUp } from "../src/migration/setup-chain.ts";
import type { CostParams } from "../src/formats/runspec.ts";
import type { SetupMessage } from "../src/policies/policy-types.ts";

// A k=4 fat-tree re-keyed before every migration (15 holders, one after the other), with set-ups
// that start at the same instant (their sessions then end at the same instants, where the chain
// must hand back to the process), set-ups overlapping transfers and a finite flow (the allocation
// changes in the middle of a re-key), and the three MTD policies.
const YAML = `name: chain
topology:
  name: ft
  defaults: { latency: 0.05ms, queue: 1000pkt }
  generate: { kind: fat-tree, k: 4, capacity: [{ dist: choice, values: [1Gbps, 10Gbps] }, 10Gbps, 40Gbps] }
runs: 2
seed: 3
manager: h1
network: { model: max-min }
traffic:
  - { from: h2, to: h9, kind: tcp }
  - { from: h10, to: h1, kind: tcp }
  - { from: h1, to: h14, kind: tcp }
  - { from: h4, to: h12, kind: tcp, bytes: 5MB, start: 0.52s }
migrations:
  - { container: { name: c1, checkpoint: 200MB }, source: h3, trigger: { at: 0.5s } }
  - { container: { name: c2, checkpoint: 300MB }, source: h5, trigger: { at: 0.5s } }
  - { container: { name: c3, checkpoint: 100MB }, source: h6, trigger: { at: 0.55s } }
  - { container: { name: c4, checkpoint: 50MB }, source: h7, trigger: { at: 0.6s } }
  - { container: { name: c5, checkpoint: 80MB }, source: h8, trigger: { at: 1s } }
  - { container: { name: c6, checkpoint: 80MB }, source: h11, trigger: { at: 1s } }
policies:
  - mtd-shamir: { k: 3 }
  - mtd-fountain: { k: 3 }
  - mtd-random
`;

/** the model without `exchangeSeconds`: the re-key then waits on each exchange's signal */
const signalsOnly: ModelFactory = (sim, topo, params, route, router) => {
  const model = createNetworkModel(sim, topo, params, { route, router });
  return new Proxy(model, {
    get: (target, key) => {
      if (key === "exchangeSeconds") return undefined;
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === "function" ? v.bind(target) : v;
    },
  }) as NetworkModel;
};

test("a max-min re-key one holder after the other gives, event for event, what waiting on each exchange's signal gives", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "migsim-chain-"));
  writeFileSync(join(dir, "chain.yaml"), YAML);
  const exp = loadExperiment(join(dir, "chain.yaml"));
  const chained = new SimBackend({ trace: true });
  const signalled = new SimBackend({ trace: true, createModel: signalsOnly });
  let ties = 0;
  for (let k = 0; k < exp.policies.length * exp.runs; k++) {
    const spec = specAt(exp, k);
    const a = await chained.execute(spec);
    const b = await signalled.execute(spec);
    t.deepEqual(a, b, `${spec.policy.name} run ${spec.run}`);
    const [c1, c2] = a.records;
    t.true(c1!.setup_s > 0);
    if (c1!.setup_s === c2!.setup_s && c1!.trigger_s === c2!.trigger_s) ties++;
  }
  // the set-ups that start together end together: every session of one ties with the other's
  t.true(ties > 0);
});

test("the chain hands back to the process where an event due at a session's end would run before the process's wake-up", (t) => {
  // Sessions of 0.25 s, or 0.125 s once a `change` has run: the second session ends at 0.5 s,
  // when a change scheduled at 0.375 s (after that session's end event was queued) is due too.
  // Waiting on the exchange's signal, the process wakes after the change and times its third
  // session with it; a chain that went on at the session's end would not.
  const trace = (setUp: (sim: Simulator, model: NetworkModel, messages: SetupMessage[]) => ProcessBody<void>): number[] => {
    const sim = new Simulator();
    let fast = false;
    const starts: number[] = [];
    const seconds = (): number => {
      starts.push(sim.now);
      return fast ? 0.125 : 0.25;
    };
    const path = { nodes: [], links: [], hops: 0, switches: 0, propagation: 0, bottleneck: Infinity };
    const model = {
      route: () => path,
      exchangeSeconds: seconds,
      exchange: () => {
        const d = seconds();
        const s = sim.signal<number>();
        sim.schedule(d, () => s.succeed(d));
        return s;
      },
    } as unknown as NetworkModel;
    const messages = ["h2", "h3", "h4", "h5"].map((to) => ({ from: "h1", to, bytes: 100 }));
    sim.schedule(0.375, () => sim.schedule(0.125, () => (fast = true)));
    const p = sim.process(setUp(sim, model, messages));
    sim.run();
    t.true(p.fired);
    starts.push(sim.now);
    return starts;
  };
  const costs = { sshHandshakeRtts: 9, controlBytes: 100 } as CostParams;
  const signalled = trace(function* (_sim, model, messages) {
    for (const m of messages) yield model.exchange(m.from, m.to, m.bytes, 100, { newConnection: true });
  });
  t.deepEqual(signalled, [0, 0.25, 0.5, 0.625, 0.75]);
  t.deepEqual(
    trace((sim, model, messages) => chainedSetUp(sim, model, costs, messages)),
    signalled,
  );
});

test("an exchange that fails where the chain stands in for the process's wake-up raises its error in the process, at that event", (t) => {
  // Two set-ups started at the same instant: their sessions end together (the chain cannot go on
  // in the session's event), and the exchange with h3 fails from 0.25 s on.
  const trace = (setUp: (sim: Simulator, model: NetworkModel, messages: SetupMessage[]) => ProcessBody<void>): string[] => {
    const sim = new Simulator();
    const seen: string[] = [];
    let failed = false;
    const seconds = (fwd: { to: string }): number => {
      if (fwd.to === "h3" && sim.now >= 0.25) {
        // (an event the first failure schedules: the errors are raised before it runs)
        if (!failed) sim.schedule(0, () => seen.push(`late at ${sim.now}`));
        failed = true;
        throw new Error(`link to ${fwd.to} down`);
      }
      return 0.25;
    };
    const path = (to: string) => ({ to, nodes: [], links: [], hops: 0, switches: 0, propagation: 0, bottleneck: Infinity });
    const model = {
      route: (_from: string, to: string) => path(to),
      exchangeSeconds: seconds,
      exchange: (_from: string, to: string) => {
        const d = seconds(path(to));
        const s = sim.signal<number>();
        sim.schedule(d, () => s.succeed(d));
        return s;
      },
    } as unknown as NetworkModel;
    const messages = ["h2", "h3", "h4"].map((to) => ({ from: "h1", to, bytes: 100 }));
    for (const name of ["a", "b"]) {
      sim.process(
        (function* () {
          try {
            yield* setUp(sim, model, messages);
            seen.push(`${name} done at ${sim.now}`);
          } catch (e) {
            seen.push(`${name} raised "${(e as Error).message}" at ${sim.now}`);
          }
        })(),
      );
      // an event due at each session's end, after the set-ups' events: it runs before their wake-ups
      sim.schedule(0.25, () => seen.push(`other at ${sim.now}`));
    }
    sim.run();
    return seen;
  };
  const costs = { sshHandshakeRtts: 9, controlBytes: 100 } as CostParams;
  const signalled = trace(function* (_sim, model, messages) {
    for (const m of messages) yield model.exchange(m.from, m.to, m.bytes, 100, { newConnection: true });
  });
  t.deepEqual(signalled, ["other at 0.25", "other at 0.25", 'a raised "link to h3 down" at 0.25', 'b raised "link to h3 down" at 0.25', "late at 0.25"]);
  t.deepEqual(
    trace((sim, model, messages) => chainedSetUp(sim, model, costs, messages)),
    signalled,
  );
});
