/**
 * The JoWUA 2019 stateless clock example (experiments/jowua-clock.yaml): the sim backend on the
 * equivalent RunSpec, downtime and total printed beside Table 2's means. The experiment loader is
 * the lead's; this test reads the few fields it needs itself.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { parse } from "yaml";
import { SimBackend } from "../backends/sim/backend.ts";
import { costsFromBlock, JOWUA_TABLE2, mean } from "../src/migration/costs.ts";
import { DEFAULT_NETWORK_PARAMS } from "../src/network/network-model.ts";
import { loadTopologyFile } from "../src/load/read-topology.ts";
import { runSeed } from "../src/core/random.ts";
import type { RunSpec } from "../src/formats/runspec.ts";
import { InputError } from "../src/core/errors.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const file = resolve(root, "experiments/jowua-clock.yaml");

test("JoWUA clock: simulated downtime and total beside Table 2", async (t) => {
  // biome-ignore lint/suspicious/noExplicitAny: the experiment YAML read loosely, its fields checked by the loader under test
  const doc = parse(readFileSync(file, "utf8")) as Record<string, any>;
  const topology = loadTopologyFile(resolve(dirname(file), doc.topology));
  const m = doc.migrations[0];
  const costs = costsFromBlock(doc.costs);
  const spec = (run: number): RunSpec => ({
    experiment: doc.name,
    cell: "c0",
    cellIndex: 0,
    run,
    seed: runSeed(doc.seed, run),
    axes: {},
    topology,
    network: { ...DEFAULT_NETWORK_PARAMS, model: doc.network.model },
    costs,
    measurement: { period: 1 },
    traffic: [],
    migrations: [
      {
        container: { name: m.container.name, checkpoint: 0, memory: 0, dirtyRate: 0 },
        source: m.source,
        candidates: m.candidates,
        destination: m.destination,
        trigger: { kind: "at", at: 0 },
        mode: m.mode,
        transport: m.transport,
      },
    ],
    probes: [],
    policy: { name: "fixed", params: {} },
    manager: doc.manager,
    horizon: 60,
  });
  const backend = new SimBackend();
  const records = [];
  for (let run = 0; run < doc.runs; run++) records.push(...(await backend.execute(spec(run))).records);
  const down = mean(records.map((r) => r.downtime_s));
  const total = mean(records.map((r) => r.total_s));
  const paperDown = mean(JOWUA_TABLE2.downtime);
  const paperTotal = mean(JOWUA_TABLE2.total);
  t.is(doc.reference.fixed.downtime_s.mean, Number(paperDown.toFixed(4)));
  t.is(doc.reference.fixed.total_s.mean, Number(paperTotal.toFixed(4)));
  t.log(`downtime: sim ${down.toFixed(4)} s, JoWUA Table 2 mean ${paperDown.toFixed(4)} s (${(((down - paperDown) / paperDown) * 100).toFixed(2)}%)`);
  t.log(`total:    sim ${total.toFixed(4)} s, JoWUA Table 2 mean ${paperTotal.toFixed(4)} s (${(((total - paperTotal) / paperTotal) * 100).toFixed(2)}%)`);
  // The fixed steps are the table's residuals; what the simulation adds on top is the network:
  // 9 SSH round trips inside the downtime, the SUCCESS message in the total (in-zone RTT 0.4 ms).
  t.true(down > paperDown && down - paperDown < 0.01, `downtime ${down}`);
  t.true(total > paperTotal && total - paperTotal < 0.01, `total ${total}`);
  const r = records[0]!;
  t.is(r.transferred_bytes, 0);
  t.is(r.mode, "stateless");
});

test("costs block: units required, unknown keys refused", (t) => {
  t.is(costsFromBlock({ "checkpoint-rate": "200MBps" }).checkpointRate, 200e6);
  t.is(costsFromBlock({ "ssh-cipher-rate": "800Mbps" }).sshCipherRate, 800e6);
  t.throws(() => costsFromBlock({ kill: 0.6 }), { instanceOf: InputError, message: /^costs\.kill: expected a duration with a unit/ });
  t.throws(() => costsFromBlock({ killl: "1s" }), { instanceOf: InputError, message: /^costs\.killl: unknown cost parameter/ });
});
