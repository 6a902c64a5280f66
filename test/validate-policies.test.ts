/**
 * The pre-run check's trial decisions: one per policy and migration, made once for cells whose
 * decisions see the same inputs, and still per cell where a sweep changes what a policy sees.
 */
import test from "ava";
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InputError } from "../src/core/errors.ts";
import { loadExperiment } from "../src/load/read-experiment.ts";
import { validatePolicies } from "../src/run/validate-policies.ts";

const counter = globalThis as { trialDecisions?: number };

/** an experiment of two migrations on the fuzz topology, decided by a plugin that counts its calls */
function experiment(sweep: string, pluginBody = ""): string {
  const dir = mkdtempSync(join(tmpdir(), "migsim-validate-"));
  copyFileSync(join(import.meta.dirname, "fixtures", "fuzz", "net.yaml"), join(dir, "net.yaml"));
  writeFileSync(
    join(dir, "counting.mjs"),
    `export const name = "counting";\nexport function decide(input) {\n  globalThis.trialDecisions = (globalThis.trialDecisions ?? 0) + 1;\n${pluginBody}  return { destination: input.candidates[0] };\n}\n`,
  );
  const file = join(dir, "e.yaml");
  writeFileSync(
    file,
    "name: e\ntopology: net.yaml\nruns: 1\n" +
      "migrations:\n  - { container: { name: a, checkpoint: 1MB }, source: h2, candidates: [h3, h4], trigger: { at: 1s } }\n" +
      "  - { container: { name: b, checkpoint: 1MB }, source: h1, candidates: [h4, h5], trigger: { at: 2s } }\n" +
      `policies:\n  - c: { plugin: ./counting.mjs }\n  - random\nsweep:\n  ${sweep}\n`,
  );
  return file;
}

test.serial("a sweep over what no decision sees (the network model) makes the trial decisions once", async (t) => {
  counter.trialDecisions = 0;
  const exp = loadExperiment(experiment("network.model: [max-min, tcp-fluid]"));
  t.is(exp.cells.length, 2);
  const reports: Array<[number, number]> = [];
  await validatePolicies(exp, (done, total) => reports.push([done, total]));
  t.is(counter.trialDecisions, 2);
  // the last report: every trial decision (2 migrations x 2 policies, one cell) made
  t.deepEqual(reports.at(-1), [4, 4]);
});

test.serial("a sweep over what a decision sees (a checkpoint size) makes them in every cell", async (t) => {
  counter.trialDecisions = 0;
  const exp = loadExperiment(experiment("migrations.1.container.checkpoint: [1MB, 2MB, 3MB]"));
  await validatePolicies(exp);
  t.is(counter.trialDecisions, 3 * 2);
});

test.serial("a decision failing in one cell only is still found before any run", async (t) => {
  const failing = '  if (input.container.checkpoint > 2e6) throw new Error("too large for me");\n';
  const exp = loadExperiment(experiment("migrations.1.container.checkpoint: [1MB, 3MB]", failing));
  await t.throwsAsync(validatePolicies(exp), { instanceOf: InputError, message: /too large for me/ });
});
