/**
 * Common random numbers across the whole experiment (src/core/random.ts): run r draws the same
 * numbers in every cell, so cells that differ only in a swept value give the `random` policy
 * (and the MTD policies, which draw the same way in both cells) the same destinations run by run.
 */
import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runExperiment } from "../src/run/run-experiment.ts";
import { readRunsCsv } from "../src/outputs/csv.ts";

const TOPO = `name: star8
defaults: { capacity: 10Mbps, latency: 1ms }
switches: [s1, s2]
hosts: [h1, h2, h3, h4, h5, h6, h7, h8]
links:
  - { a: s1, b: s2 }
  - { a: h1, b: s1 }
  - { a: h2, b: s1 }
  - { a: h3, b: s1 }
  - { a: h4, b: s1 }
  - { a: h5, b: s2 }
  - { a: h6, b: s2 }
  - { a: h7, b: s2 }
  - { a: h8, b: s2, capacity: 5Mbps }
`;

function experiment(sweep: string): string {
  const dir = mkdtempSync(join(tmpdir(), "migsim-pairing-"));
  writeFileSync(join(dir, "topo.yaml"), TOPO);
  writeFileSync(
    join(dir, "exp.yaml"),
    `name: paired
topology: topo.yaml
runs: 12
seed: 3
manager: h1
traffic:
  - { from: h3, to: h6, kind: tcp, bytes: 2MB }
migrations:
  - container: { name: app, checkpoint: 10MB }
    source: h2
    trigger: { at: 1s }
policies: [bandwidth, random, mtd-shamir: { k: 2 }, mtd-random]
sweep:
${sweep}
`,
  );
  return dir;
}

/** policy -> cell -> destination of each run, in run order */
async function destinations(sweep: string): Promise<Map<string, Map<string, string[]>>> {
  const dir = experiment(sweep);
  await runExperiment({ file: join(dir, "exp.yaml"), out: join(dir, "out"), plots: false });
  const byPolicy = new Map<string, Map<string, string[]>>();
  for (const { record: r } of readRunsCsv(join(dir, "out", "runs.csv")).rows) {
    let cells = byPolicy.get(r.policy);
    if (!cells) byPolicy.set(r.policy, (cells = new Map()));
    let list = cells.get(r.cell);
    if (!list) cells.set(r.cell, (list = []));
    list[r.run] = r.destination;
  }
  return byPolicy;
}

for (const [what, sweep] of [
  ["network.model", "  network.model: [max-min, tcp-fluid]"],
  ["the checkpoint size", "  migrations.0.container.checkpoint: [5MB, 40MB]"],
] as const) {
  test(`cells that differ only in ${what} give random (and the MTD policies) the same destination in every run`, async (t) => {
    const byPolicy = await destinations(sweep);
    for (const policy of ["random", "mtd-shamir", "mtd-random"]) {
      const [a, b] = [...byPolicy.get(policy)!.values()];
      t.is(a!.length, 12);
      t.deepEqual(b, a, `${policy}: run by run`);
      // the draws differ from run to run: equal lists are pairing, not a constant choice
      t.true(new Set(a).size >= 3, `${policy} chose ${[...new Set(a)].join(", ")}`);
    }
  });
}
