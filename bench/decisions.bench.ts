/**
 * One decision of each policy on the data-center workload (bench/datacenter-workload.ts: a k=16
 * fat-tree, 1,024 hosts; `--large`: k=32, 8,192 hosts), on the static view the pre-run check
 * decides on: the MTD policies set up a fresh secret and table for every decision (the paper's
 * re-key before every migration), once as they decide in a run (the set-up computes what the
 * decision reads) and once with `verify: true` (S recovered and the table decrypted with it on
 * every decision). Issue 31 asks that a re-keyed MTD decision cost "little more than a
 * load-balancing decision"; the bench prints the ratio to the slowest load-balancing policy's,
 * without a verdict: the run-level targets that follow from it are bench/datacenter.bench.ts's.
 *
 *   npm run bench -- decisions [--large]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadExperiment } from "../src/load/read-experiment.ts";
import { specAt } from "../src/run/plan.ts";
import { policyInput } from "../src/policies/input.ts";
import { resolvePolicy } from "../src/policies/registry.ts";
import { staticView } from "../src/policies/static-view.ts";
import type { PolicySpec } from "../src/formats/runspec.ts";
import { datacenterYaml } from "./datacenter-workload.ts";

/** decisions timed per policy (the workload's migrations, cycled) */
const DECISIONS = 600;
const REPEATS = 5;

const large = process.argv.includes("--large");
const k = large ? 32 : 16;
const dir = mkdtempSync(join(tmpdir(), "migsim-bench-decisions-"));
try {
  const file = join(dir, `datacenter-k${k}.yaml`);
  writeFileSync(file, datacenterYaml({ k, flows: 10, migrations: 200, window: 10, runs: 1, rekey: "per-migration" }));
  const exp = loadExperiment(file, {});
  const spec = specAt(exp, 0);
  const view = staticView(spec.topology, spec.network.routing);
  const policies: Array<{ label: string; ps: PolicySpec }> = exp.policies.map((ps) => ({ label: ps.name, ps }));
  for (const ps of exp.policies) {
    if (ps.name === "mtd-shamir" || ps.name === "mtd-fountain") policies.push({ label: `${ps.name} verify`, ps: { ...ps, params: { ...ps.params, verify: true } } });
  }
  console.log(`k=${k} fat-tree, ${spec.topology.hosts.length} hosts, ${spec.migrations.length} migrations' decisions cycled; µs per decision, best of ${REPEATS} x ${DECISIONS}`);
  const perDecision = new Map<string, number>();
  for (const { label, ps } of policies) {
    const policy = await resolvePolicy(ps);
    const withPolicy = { ...spec, policy: ps };
    const once = (i: number): void => {
      policy.decide(policyInput(withPolicy, i % spec.migrations.length, view));
    };
    // warm-up: route tables, candidate lists and the JIT
    for (let i = 0; i < spec.migrations.length; i++) once(i);
    let best = Infinity;
    for (let r = 0; r < REPEATS; r++) {
      const t = performance.now();
      for (let i = 0; i < DECISIONS; i++) once(i);
      best = Math.min(best, ((performance.now() - t) * 1000) / DECISIONS);
    }
    perDecision.set(label, best);
    console.log(`  ${label.padEnd(20)} ${best.toFixed(1).padStart(8)} µs`);
  }
  const lb = Math.max(...["random", "bandwidth", "shortest-path"].map((p) => perDecision.get(p)!));
  const mtd = Math.max(...["mtd-shamir", "mtd-fountain", "mtd-random"].map((p) => perDecision.get(p)!));
  console.log(`  slowest MTD decision (re-keyed) / slowest load-balancing decision: ${(mtd / lb).toFixed(2)}x`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
