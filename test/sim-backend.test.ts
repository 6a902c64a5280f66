import test from "ava";
import { SimBackend } from "../backends/sim/backend.ts";
import { loadExperiment } from "../src/experiment/load.ts";
import { specAt } from "../src/experiment/plan.ts";
import { resolvePolicy } from "../src/policies/registry.ts";

test("execute, which hands the event loop a turn in long runs, gives what the synchronous run gives", async (t) => {
  const exp = loadExperiment("experiments/scale/policies-fat-tree.yaml", { runs: 1 });
  const yielding = new SimBackend();
  const sync = new SimBackend();
  let checked = 0;
  for (let k = 0; k < exp.cells.length * exp.policies.length; k += 3) {
    const spec = specAt(exp, k);
    const a = await yielding.execute(spec);
    const b = sync.run(spec, await resolvePolicy(spec.policy));
    t.deepEqual(a, b, `${spec.cell} ${spec.policy.name}`);
    t.true(a.records.length > 0);
    checked++;
  }
  t.true(checked >= 4);
});
