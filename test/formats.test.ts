/**
 * The generated side of src/formats: docs/outputs.md's tables and the driver's JSON Schemas match
 * the zod schemas (npm run docs:format rewrites them), and the Python driver holds to them: it
 * refuses a bad plan with one line and exit code 2, and refuses to emit a bad record.
 */
import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { driverSchemas, OUTPUTS_DOC, outputsDoc, SCHEMA_DIR } from "../scripts/format-doc.ts";
import { SimBackend } from "../backends/sim/backend.ts";
import { DriverPlanSchema, DriverRecordSchema, parseDriverLine, postcopyCloseOf, postcopyImageOf, type DriverPlan } from "../src/formats/driver.ts";
import { MIGRATION_MODES, TRANSPORTS } from "../src/formats/modes.ts";
import { loadExperiment } from "../src/load/read-experiment.ts";
import { specAt } from "../src/run/plan.ts";

const DRIVER = join(import.meta.dirname, "..", "backends", "mininet", "driver");

test("docs/outputs.md's tables match the record and manifest schemas (npm run docs:format rewrites them)", (t) => {
  const current = readFileSync(OUTPUTS_DOC, "utf8");
  t.is(current, outputsDoc(current), "docs/outputs.md is stale: run npm run docs:format");
  for (const column of ["| total_s | s |", "| rtt_s | s |", "| censored_after_s | s |", "| `completedCells` |"]) t.true(current.includes(column), column);
});

test("the driver's JSON Schemas match the zod schemas (npm run docs:format rewrites them)", (t) => {
  for (const [name, text] of Object.entries(driverSchemas())) t.is(readFileSync(join(SCHEMA_DIR, name), "utf8"), text, `${name} is stale: run npm run docs:format`);
});

/** A plan as backend.ts uploads it, for the first run of a shipped experiment, and a record of that run as the driver would print it. */
async function realPlanAndRecord(): Promise<{ plan: DriverPlan; record: Record<string, unknown> }> {
  const exp = loadExperiment("experiments/table1.yaml");
  const spec = specAt(exp, 0);
  const result = await new SimBackend().execute(spec);
  const r = result.records[0]!;
  const plan: DriverPlan = { spec, plans: [{ destination: r.destination, keyRequests: [], computeSeconds: 0, setup: [] }], options: {} };
  const fields = Object.keys(DriverRecordSchema.shape).filter((k) => k in r);
  const record: Record<string, unknown> = { type: "record", index: 0, ...Object.fromEntries(fields.map((k) => [k, r[k as keyof typeof r]])) };
  return { plan, record };
}

function python(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync("python3", args, { cwd: DRIVER, input, encoding: "utf8", timeout: 30_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("the driver accepts a real plan and refuses a bad one with one line naming the field, exit code 2", async (t) => {
  const { plan } = await realPlanAndRecord();
  t.true(DriverPlanSchema.safeParse(plan).success, "the zod side accepts the plan");
  const dir = mkdtempSync(join(tmpdir(), "migsim-contract-"));
  try {
    const good = join(dir, "good.json");
    writeFileSync(good, JSON.stringify(plan));
    const ok = python(["contract.py", "plan", good]);
    t.is(ok.status, 0, ok.stderr);

    // a run with probes and traffic only is a run the backend accepts (the emulation suite's probe case)
    const probesOnly = structuredClone(plan) as { spec: { migrations: unknown[] }; plans: unknown[] };
    probesOnly.spec.migrations = [];
    probesOnly.plans = [];
    writeFileSync(good, JSON.stringify(probesOnly));
    const none = python(["contract.py", "plan", good]);
    t.is(none.status, 0, none.stderr);

    const bad = structuredClone(plan) as { spec: { migrations: { mode: string }[] } };
    bad.spec.migrations[0]!.mode = "teleport";
    const badFile = join(dir, "bad.json");
    writeFileSync(badFile, JSON.stringify(bad));
    const refused = python(["contract.py", "plan", badFile]);
    t.is(refused.status, 2);
    t.is(refused.stderr.trim().split("\n").length, 1, refused.stderr);
    t.regex(refused.stderr, /^plan: spec\.migrations\.0\.mode: 'teleport' is not one of/);

    const missing = structuredClone(plan) as { spec: Partial<Record<string, unknown>> };
    delete missing.spec.topology;
    writeFileSync(badFile, JSON.stringify(missing));
    t.regex(python(["contract.py", "plan", badFile]).stderr, /topology/);

    writeFileSync(badFile, "{not json");
    t.is(python(["contract.py", "plan", badFile]).status, 2);

    // the driver's own start: refused before anything is set up, with an error line the backend parses
    writeFileSync(badFile, JSON.stringify(bad));
    const run = python(["migsim_driver.py", "run", badFile]);
    t.is(run.status, 2);
    t.is(run.stderr.trim().split("\n").length, 1, run.stderr);
    const line = parseDriverLine(run.stdout.trim());
    t.like(line, { type: "error", phase: "set-up" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the driver emits a real record and refuses to emit one that breaks the record schema", async (t) => {
  const { record } = await realPlanAndRecord();
  t.true(DriverRecordSchema.safeParse(record).success, "the zod side accepts the record");
  const emit = [
    "import json, sys, jsonout",
    "from contract import ContractError",
    "jsonout.open_stdout(sys.stdout)",
    "try:",
    "    jsonout.emit(json.loads(sys.stdin.read()))",
    "except ContractError as e:",
    "    sys.stderr.write(str(e)); sys.exit(2)",
  ].join("\n");
  const ok = python(["-c", emit], JSON.stringify(record));
  t.is(ok.status, 0, ok.stderr);
  t.deepEqual(JSON.parse(ok.stdout), record);

  const negative = python(["-c", emit], JSON.stringify({ ...record, transfer_s: -1 }));
  t.is(negative.status, 2);
  t.regex(negative.stderr, /^record: transfer_s: -1 is less than the minimum of 0/);
  t.is(negative.stdout, "", "nothing is emitted");
  const noMode = { ...record };
  delete noMode["mode"];
  t.regex(python(["-c", emit], JSON.stringify(noMode)).stderr, /'mode' is a required property/);
});

test("the driver's modes, transports and default image are the schema's", (t) => {
  const r = python(["-c", "import contract, json; print(json.dumps([contract.MIGRATION_MODES, contract.TRANSPORTS, contract.IMAGE_DEFAULT]))"]);
  t.is(r.status, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout), [[...MIGRATION_MODES], [...TRANSPORTS], "migsim-busybox:2"]);
});

test("a post-copy record's note, as the driver writes it, names the minimal image calibration reads", (t) => {
  const rec = { minimal_bytes: 42877, minimal_files: 22, lazy_bytes: 3960832, pages_s: 0.465 };
  const r = python(["-c", `import json, sys, protocol; print(protocol.live_note(json.loads(sys.stdin.read()), "", 13, 14, 55))`], JSON.stringify(rec));
  t.is(r.status, 0, r.stderr);
  t.deepEqual(postcopyImageOf(r.stdout), { bytes: 42877, files: 22 });
  t.is(postcopyImageOf("uniform over 2 reachable candidates"), undefined);
});

test("a post-copy record's note, as the driver writes it, gives the page server's close calibration reads, and none when the driver had no stamped log", (t) => {
  const note = (close: number | null): string => {
    const rec = { minimal_bytes: 42877, minimal_files: 22, lazy_bytes: 3960832, pages_s: 0.465, close_s: close };
    const r = python(["-c", `import json, sys, protocol; print(protocol.live_note(json.loads(sys.stdin.read()), "", 13, 14, 55))`], JSON.stringify(rec));
    t.is(r.status, 0, r.stderr);
    return r.stdout;
  };
  t.is(postcopyCloseOf(note(0.4521)), 0.452);
  t.is(postcopyCloseOf(note(null)), undefined);
  t.deepEqual(postcopyImageOf(note(0.4521)), { bytes: 42877, files: 22 });
});
