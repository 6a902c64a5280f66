import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InputError } from "../src/core/errors.ts";
import { loadExperiment } from "../src/load/read-experiment.ts";
import { planSize, shardPositions, specAt } from "../src/run/plan.ts";
import { parseShard } from "../src/outputs/shards.ts";

const TOPO = `name: t
defaults: { capacity: 10Mbps, latency: 1ms }
switches: [s1, s2]
hosts: [h1, h2, h3]
links:
  - { a: h1, b: s1 }
  - { a: h2, b: s1 }
  - { a: s1, b: s2 }
  - { a: s2, b: h3, capacity: 2Mbps }
`;

function scratch(experiment: string): string {
  const dir = mkdtempSync(join(tmpdir(), "migsim-exp-"));
  writeFileSync(join(dir, "topo.yaml"), TOPO);
  const file = join(dir, "exp.yaml");
  writeFileSync(file, experiment);
  return file;
}

const BASE = `name: e
topology: topo.yaml
runs: 3
seed: 7
traffic:
  - { from: h1, to: h2, kind: tcp }
migrations:
  - container: { name: app, checkpoint: 10MB }
    source: h2
    candidates: [h1, h3]
    trigger: { at: 5s }
policies: [random, bandwidth]
`;

function refusal(t: import("ava").ExecutionContext, yaml: string, pattern: RegExp, set: string[] = []): InputError {
  const err = t.throws(() => loadExperiment(scratch(yaml), { set }), { instanceOf: InputError })!;
  t.regex(err.message, pattern);
  t.false(err.message.includes("\n"), "one line");
  return err as InputError;
}

test("a valid experiment resolves units, defaults and the plan", (t) => {
  const exp = loadExperiment(scratch(BASE));
  t.is(exp.cells.length, 1);
  t.is(exp.cells[0]!.id, "default");
  t.is(planSize(exp), 6);
  const spec = specAt(exp, 4);
  t.is(spec.policy.name, "bandwidth");
  t.is(spec.run, 1);
  t.is(spec.migrations[0]!.container.checkpoint, 10e6);
  t.deepEqual(spec.migrations[0]!.trigger, { kind: "at", at: 5 });
  t.is(spec.migrations[0]!.mode, "cold");
  t.is(spec.traffic[0]!.start, 0);
});

test("run seeds depend on the run index alone, not on cell, policy or position", (t) => {
  const exp = loadExperiment(scratch(`${BASE}sweep:\n  network.model: [max-min, tcp-fluid]\n`));
  t.is(specAt(exp, 0).seed, specAt(exp, 3).seed, "same run index, other policy: common random numbers");
  t.is(specAt(exp, 0).seed, specAt(exp, 6).seed, "same run index, other cell: common random numbers");
  t.is(specAt(exp, 7).seed, specAt(exp, 10).seed);
  t.not(specAt(exp, 0).seed, specAt(exp, 1).seed);
  const again = loadExperiment(scratch(BASE));
  t.is(specAt(again, 2).seed, specAt(exp, 2).seed);
  t.not(specAt(loadExperiment(scratch(BASE), { seed: 8 }), 2).seed, specAt(exp, 2).seed, "another experiment seed");
});

test("sweep axes expand as a cartesian product in file order", (t) => {
  const exp = loadExperiment(scratch(`${BASE}sweep:\n  migrations.0.container.checkpoint: [5MB, 20MB]\n  horizon: [100s, 200s, 300s]\n`));
  t.is(exp.cells.length, 6);
  t.is(exp.cells[1]!.id, "migrations.0.container.checkpoint=5MB&horizon=200s");
  t.is(exp.cells[1]!.base.horizon, 200);
  t.is(exp.cells[3]!.base.migrations[0]!.container.checkpoint, 20e6);
  // a field the cells do not read is refused rather than making identical cells
  t.throws(() => loadExperiment(scratch(`${BASE}sweep:\n  runs: [1, 2]\n`)), { instanceOf: InputError, message: /cannot sweep over "runs"/ });
});

test("--set overrides any field", (t) => {
  const exp = loadExperiment(scratch(BASE), { set: ["migrations.0.container.checkpoint=3MB", "runs=2"] });
  t.is(exp.runs, 2);
  t.is(specAt(exp, 0).migrations[0]!.container.checkpoint, 3e6);
});

test("shards partition the plan", (t) => {
  const exp = loadExperiment(scratch(BASE));
  const all = [1, 2, 3].flatMap((i) => shardPositions(exp, { index: i, count: 3 }));
  t.deepEqual(
    all.sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5],
  );
  t.throws(() => parseShard("4/3"), { instanceOf: InputError, message: /1 <= i <= N/ });
  t.throws(() => parseShard("x"), { instanceOf: InputError });
});

test("refusals name file, line and field", (t) => {
  const e = refusal(t, BASE.replace("checkpoint: 10MB", "checkpoint: 10MB, colour: red"), /exp\.yaml:8:\d+: migrations\.0\.container\.colour: unknown field "colour"/);
  t.is(e.location.line, 8);
  refusal(t, BASE.replace("checkpoint: 10MB", "checkpoint: 10"), /migrations\.0\.container\.checkpoint: expected a size with a unit/);
  refusal(t, BASE.replace("checkpoint: 10MB", "checkpoint: -1MB"), /expected a size with a unit|expected a positive/);
  refusal(t, BASE.replace("[h1, h3]", "[h1, h9]"), /migrations\.0\.candidates\.1: unknown host "h9"/);
  refusal(t, BASE.replace("[h1, h3]", "[s1]"), /unknown host "s1" \("s1" is a switch\)/);
  refusal(t, BASE.replace("[random, bandwidth]", "[random, quickest]"), /policies\.1: unknown policy "quickest"/);
  refusal(t, `${BASE}sweep:\n  migrations.0.container.chekpoint: [1MB]\n`, /sweep\.migrations\.0\.container\.chekpoint: .*does not exist/);
  refusal(t, `${BASE}sweep:\n  migrations.3.container.checkpoint: [1MB]\n`, /sweep\.migrations\.3\.container\.checkpoint: there is no field "migrations\.3"/);
  refusal(t, `${BASE}sweep:\n  migrations.0.container.checkpoint: [1MB, 2]\n`, /sweep\.migrations\.0\.container\.checkpoint\.1: expected a size with a unit/);
  refusal(t, BASE.replace("{ at: 5s }", "{ port: s9-eth1, above: 1Mbps, for: 3 }"), /unknown port "s9-eth1"/);
  refusal(t, BASE.replace("kind: tcp }", "kind: udp }"), /a udp flow needs a rate/);
  refusal(t, BASE, /--set: expected path=value/, ["runs"]);
  refusal(t, BASE.replace("policies: [random, bandwidth]", "policies: [{ mine: { plugin: ../elsewhere/p.js } }]"), /outside the experiment's folder/);
  refusal(t, BASE, /--set migrations\.2\.source: there is no field "migrations\.2"/, ["migrations.2.source=h1"]);
  refusal(t, "name: e\ntopology: topo.yaml\nmigrations: [\n", /YAML syntax error/);
});

test("--set sweep.AXIS=[...] replaces a sweep axis's values; --set on the swept field itself is refused, naming the sweep", (t) => {
  const file = scratch(`${BASE}sweep:\n  network.model: [max-min, tcp-fluid]\n  migrations.0.container.checkpoint: [5MB, 20MB]\n`);
  const exp = loadExperiment(file, { set: ["sweep.network.model=[tcp-fluid]"] });
  t.deepEqual(
    exp.cells.map((c) => c.id),
    ["network.model=tcp-fluid&migrations.0.container.checkpoint=5MB", "network.model=tcp-fluid&migrations.0.container.checkpoint=20MB"],
  );
  // a --set on the field, then the sweep replaced by a later --set: still refused (the sweep sets it)
  for (const set of [["network.model=tcp-fluid"], ["network.model=tcp-fluid", "sweep.network.model=[max-min]"]]) {
    const err = t.throws(() => loadExperiment(file, { set }), { instanceOf: InputError })!;
    t.regex(err.message, /^--set network\.model=tcp-fluid: network\.model is swept \(.*exp\.yaml:\d+: sweep: network\.model: \[/);
    t.regex(err.message, /--set 'sweep\.network\.model=\[tcp-fluid\]'$/);
    t.false(err.message.includes("\n"));
  }
  // a new axis by --set
  t.is(loadExperiment(scratch(BASE), { set: ["sweep.horizon=[100s, 200s]"] }).cells.length, 2);
});

test("baseline and ci: defaults, a named baseline, and a baseline that is no policy refused", (t) => {
  const plain = loadExperiment(scratch(BASE));
  t.deepEqual([plain.baseline, plain.ci], ["random", "t"]);
  const set = loadExperiment(scratch(`${BASE}baseline: bandwidth\nci: bootstrap\n`));
  t.deepEqual([set.baseline, set.ci], ["bandwidth", "bootstrap"]);
  refusal(t, `${BASE}baseline: fastest\n`, /exp\.yaml:\d+:\d+: baseline: expected one of the experiment's policies \(random, bandwidth\), got "fastest"$/);
  refusal(t, `${BASE}ci: wide\n`, /ci: /);
});
