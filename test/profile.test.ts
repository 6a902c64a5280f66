/**
 * Testbed profiles (src/load/read-profile.ts) and the calibration fit (src/calibrate/):
 * precedence under the experiment, the manifest's record, and fits that recover known parameters
 * from measurements the simulator itself produced with those parameters.
 */
import { crossValidate } from "../src/calibrate/cross-validate.ts";
import { repeatability } from "../src/calibrate/run-spread.ts";
import test from "ava";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { calibrate, fitAll, simulateMeasurement } from "../src/calibrate/calibration.ts";
import { fitPostcopyClose, fitPostcopyImage, fitStateless, type Calibration, type Observed, type Simulate } from "../src/calibrate/fit.ts";
import { calibrationFile, measurementPlan, type Measurement } from "../src/calibrate/calibration-plan.ts";
import { createBackend } from "../src/run/backend-registry.ts";
import { loadExperiment } from "../src/load/read-experiment.ts";
import { runExperiment } from "../src/run/run-experiment.ts";
import { PAPER_PROFILE } from "../src/load/read-profile.ts";
import { InputError } from "../src/core/errors.ts";
import type { RunRecord } from "../src/formats/runspec.ts";

const dir = mkdtempSync(join(tmpdir(), "migsim-profile-"));
const EXPERIMENT = `name: prof
topology:
  name: pair
  switches: [s1]
  hosts: [h1, h2]
  links: [{ a: h1, b: s1, capacity: 10Mbps }, { a: h2, b: s1, capacity: 10Mbps }]
runs: 1
network: { model: tcp-fluid, efficiency: 0.9 }
costs: { checkpoint-base: 2s }
migrations:
  - { container: { name: app, checkpoint: 1MB }, source: h1, candidates: [h2], trigger: { at: 1s }, mode: cold, transport: tcp }
policies: [shortest-path]
`;
const PROFILE = `profile: lab
network:
  efficiency: 0.5
  congestion-control: bbr
  extra: { gsoHeadOfLine: 1 }
costs:
  checkpoint-base: 9s
  restore-base: 3s
fits:
  costs.restore-base: { value: 3s, source: "test", error: "none", n: 1 }
`;
writeFileSync(join(dir, "exp.yaml"), EXPERIMENT);
writeFileSync(join(dir, "lab.yaml"), PROFILE);

test("a profile fills what the experiment leaves unset; the experiment's own values win, field by field", (t) => {
  const exp = loadExperiment(join(dir, "exp.yaml"), { profile: join(dir, "lab.yaml") });
  const base = exp.cells[0]!.base;
  t.is(base.network.efficiency, 0.9, "the experiment's network.efficiency wins");
  t.is(base.network.congestionControl, "bbr", "the profile's congestion control fills in");
  t.is(base.network.extra?.["gsoHeadOfLine"], 1);
  t.is(base.costs.checkpointBase, 2, "the experiment's checkpoint-base wins");
  t.is(base.costs.restoreBase, 3, "the profile's restore-base fills in");
  t.is(exp.profile.name, "lab");
  t.regex(exp.profile.sha256, /^[0-9a-f]{64}$/);
  t.true(exp.profileChosen);
});

test("without a profile the defaults are the built-in paper profile, and a file's profile: is relative to it", (t) => {
  const plain = loadExperiment(join(dir, "exp.yaml"));
  t.is(plain.profile.name, "paper");
  t.is(plain.profile.file, null);
  t.false(plain.profileChosen);
  t.is(plain.cells[0]!.base.costs.restoreBase, 0.8);
  writeFileSync(join(dir, "exp-with.yaml"), `${EXPERIMENT}profile: lab.yaml\n`);
  const withFile = loadExperiment(join(dir, "exp-with.yaml"));
  t.is(withFile.profile.name, "lab");
  t.is(withFile.cells[0]!.base.costs.restoreBase, 3);
  // --profile wins over the file's
  t.is(loadExperiment(join(dir, "exp-with.yaml"), { profile: "paper" }).cells[0]!.base.costs.restoreBase, 0.8);
});

test("the manifest records the profile's name, file and hash", async (t) => {
  const out = join(dir, "out");
  await runExperiment({ file: join(dir, "exp.yaml"), profile: join(dir, "lab.yaml"), out, plots: false });
  const m = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
  t.is(m.profile.name, "lab");
  t.is(m.profile.file, join(dir, "lab.yaml"));
  t.regex(m.profile.sha256, /^[0-9a-f]{64}$/);
  t.true(m.inputs.files.some((f: { path: string }) => f.path === join(dir, "lab.yaml")));
});

/** The calibration measurements as the simulator gives them under `set` (standing in for a testbed). */
async function measuredBy(set: string[]): Promise<Map<string, Observed>> {
  const backend = createBackend("sim", {});
  const out = new Map<string, Observed>();
  for (const m of measurementPlan(true)) out.set(m.id, { measurement: m, ...(await simulateMeasurement(backend, m, [...m.set, ...set], 2)) });
  return out;
}

const TRUTH = [
  "costs.checkpoint-base=0.7s",
  "costs.checkpoint-rate=40MBps",
  "costs.restore-base=1.1s",
  "costs.restore-rate=25MBps",
  "costs.transfer-setup=0.2s",
  "network.efficiency=0.9",
  "costs.ssh-setup=0.3s",
  "costs.kill=0.25s",
  "costs.start=0.65s",
  "costs.stateless-prepare=0s",
  "costs.stateless-switchover=0.1s",
  "costs.checkpoint-files=44",
  "network.extra.gsoHeadOfLine=1",
  "network.extra.handshakeScale=0.8",
  "network.extra.handshakeFollowUp=1",
];

test("the fit recovers the parameters that produced its measurements", async (t) => {
  const cal = await fitAll(await measuredBy(TRUTH), () => {});
  const num = (k: string): number => Number.parseFloat(String(cal.params.get(k)));
  t.true(Math.abs(num("costs.checkpoint-base") - 0.7) < 1e-3, `checkpoint-base ${cal.params.get("costs.checkpoint-base")}`);
  t.true(Math.abs(num("costs.checkpoint-rate") - 40) < 0.1, `checkpoint-rate ${cal.params.get("costs.checkpoint-rate")}`);
  t.true(Math.abs(num("costs.restore-base") - 1.1) < 1e-3);
  t.true(Math.abs(num("costs.restore-rate") - 25) < 0.1);
  t.true(Math.abs(num("costs.transfer-setup") - 0.2) < 0.01, `transfer-setup ${cal.params.get("costs.transfer-setup")}`);
  t.true(Math.abs(num("network.efficiency") - 0.9) < 0.005, `efficiency ${cal.params.get("network.efficiency")}`);
  t.true(Math.abs(num("costs.ssh-setup") - 0.3) < 0.02, `ssh-setup ${cal.params.get("costs.ssh-setup")}`);
  t.true(Math.abs(num("costs.kill") - 0.25) < 1e-3 && Math.abs(num("costs.start") - 0.65) < 1e-3);
  t.true(Math.abs(num("costs.stateless-switchover") - 0.1) < 0.01, `switchover ${cal.params.get("costs.stateless-switchover")}`);
  t.is(cal.params.get("costs.checkpoint-files"), 44);
  t.is(cal.params.get("network.extra.gsoHeadOfLine"), 1);
  t.is(cal.params.get("network.extra.handshakeScale"), 0.8, "the handshake scale that made the new-connection probes");
  t.is(cal.params.get("network.extra.handshakeFollowUp"), 1, "and its form");
  for (const [k, f] of cal.fits) t.true(f.source.length > 0 && f.error.length > 0 && f.n > 0, `${k} has provenance`);
});

test("measurements without new-connection probes (calibrations before 2026-12-07 22:00 UTC) leave the handshake scale at its default", async (t) => {
  const measured = await measuredBy(TRUTH);
  for (const [id, o] of measured) if (id.startsWith("loaded-")) measured.set(id, { ...o, probes: o.probes.filter((p) => p.from !== "h4") });
  const cal = await fitAll(measured, () => {});
  t.false(cal.params.has("network.extra.handshakeScale"));
  t.false(cal.fits.has("network.extra.handshakeScale"));
  t.false(cal.params.has("network.extra.handshakeFollowUp"));
  t.is(cal.params.get("network.extra.gsoHeadOfLine"), 1, "the open probes and totals still fit the host stack");
});

test("one run whose restore stalled does not move the host costs (Theil-Sen, not least squares)", async (t) => {
  const measured = await measuredBy(TRUTH);
  // as the calibration of 2026-12-07 19:02: one run of link-tcp restored in 7.1 s among 0.4-0.9 s
  const link = measured.get("link-tcp")!;
  t.true(link.records.length >= 2);
  link.records[1] = { ...link.records[1]!, restore_s: link.records[1]!.restore_s + 6.5 };
  const cal = await fitAll(measured, () => {});
  const num = (k: string): number => Number.parseFloat(String(cal.params.get(k)));
  t.true(Math.abs(num("costs.restore-base") - 1.1) < 1e-3, `restore-base ${cal.params.get("costs.restore-base")}`);
  t.true(Math.abs(num("costs.restore-rate") - 25) < 0.1, `restore-rate ${cal.params.get("costs.restore-rate")}`);
});

test("cross-validation predicts each measurement from the fit of the others, beside the training and default errors", async (t) => {
  // measurements the model itself made under known values: a fit without any one of them still
  // recovers what predicts it, so held-out errors are as small as training errors; the defaults
  // (JoWUA's stateless costs, no SFTP per-file requests) are far off
  const observed = await measuredBy(["costs.kill=0.25s", "costs.start=0.65s", "costs.checkpoint-files=44", "network.extra.gsoHeadOfLine=1", "costs.transfer-setup=0.2s"]);
  const full = await fitAll(observed, () => {});
  const backend = createBackend("sim", {});
  const simulate: Simulate = async (m, params) => simulateMeasurement(backend, m, [...m.set, ...[...params].map(([k, v]) => `${k}=${v}`)], 1);
  const cv = await crossValidate(observed, full, full.groups, (o) => fitAll(o, () => {}), simulate);
  t.deepEqual(cv.fallBacks, [], "values that recover the truth do not fall back");
  t.deepEqual(Object.keys(cv.perMeasurement).sort(), [...observed.keys()].sort());
  t.true(cv.rms.n >= 4, `${cv.rms.n} measurements could be left out`);
  t.is(cv.perMeasurement["link-tcp"]!.held_out_error, null, "the only measurement of the network efficiency cannot be left out");
  for (const [id, e] of Object.entries(cv.perMeasurement)) {
    t.true(Math.abs(e.fitted_error) < 0.03, `${id}: fitted ${e.fitted_error}`);
    if (e.held_out_error !== null && !id.startsWith("loaded-")) t.true(Math.abs(e.held_out_error) < 0.05, `${id}: left out ${e.held_out_error}`);
  }
  t.true(cv.rms.defaults > 5 * cv.rms.fitted, `defaults ${cv.rms.defaults} against fitted ${cv.rms.fitted}`);
});

test("a fit group whose defaults predict its left-out measurements better falls back; one that predicts better stays, and the errors reported are the profile's", async (t) => {
  // four measurements of 10 s; the simulator gives 10 s at the defaults, 10 s + 2 x costs.bad,
  // and 10 s x 1.5 without costs.good; each left-out fit says bad = 1 s, good = 1
  const record = (total: number) => ({ total_s: total }) as RunRecord;
  const measurement = (id: string): Measurement => ({ id, file: "link", set: [], runs: 1 });
  const observed = new Map<string, Observed>(["a", "b", "c", "d"].map((id) => [id, { measurement: measurement(id), records: [record(10)], probes: [] }]));
  const fitted = (): Calibration => ({
    params: new Map<string, string | number>([
      ["costs.bad", 1],
      ["costs.good", 1],
    ]),
    fits: new Map(),
  });
  const simulate: Simulate = async (_m, params) => {
    const bad = Number(params.get("costs.bad") ?? 0);
    const good = params.has("costs.good") || params.size === 0 ? 1 : 1.5;
    return { records: [record(good * (10 + 2 * bad))], probes: [] };
  };
  const all = ["a", "b", "c", "d"];
  const cv = await crossValidate(
    observed,
    fitted(),
    [
      { keys: ["costs.bad"], measurements: all },
      { keys: ["costs.good"], measurements: all },
    ],
    async () => fitted(),
    simulate,
  );
  t.deepEqual(
    cv.fallBacks.map((f) => f.keys),
    [["costs.bad"]],
  );
  t.true(Math.abs(cv.fallBacks[0]!.withFit - 0.2) < 1e-9 && cv.fallBacks[0]!.withDefaults === 0, JSON.stringify(cv.fallBacks));
  // reported under the profile as written: costs.bad at its default, costs.good fitted
  t.true(Math.abs(cv.rms.heldOut) < 1e-12 && Math.abs(cv.rms.fitted) < 1e-12, JSON.stringify(cv.rms));
});

test("repeatability: the median spread of the repeated measurements' phases, noisy above 5%; measurements run once do not count", (t) => {
  const run = (c: number, r: number, total: number) => ({ checkpoint_s: c, restore_s: r, total_s: total }) as RunRecord;
  const obs = (id: string, records: RunRecord[]): Observed => ({ measurement: { id, file: "link", set: [], runs: records.length }, records, probes: [] });
  // cv of (1, 1.1): 0.0673; of (1, 1): 0; of (2, 2.02): 0.0070
  const calm = [obs("a", [run(1, 2, 5), run(1, 2, 5.05)]), obs("b", [run(2, 1, 10), run(2.02, 1, 10)]), obs("once", [run(9, 9, 90)])];
  const r = repeatability(calm)!;
  t.is(r.measurements, 2);
  t.true(r.medianCv < 0.01 && !r.noisy, JSON.stringify(r));
  const busy = [obs("a", [run(1, 2, 5), run(1.1, 2.2, 5.5)]), obs("b", [run(2, 1, 10), run(2.2, 1.1, 11)])];
  const b = repeatability(busy)!;
  t.true(Math.abs(b.medianCv - 0.0673) < 1e-3 && b.noisy, JSON.stringify(b));
  t.is(repeatability([obs("once", [run(1, 1, 1)])]), undefined);
});

test("the stateless kill and start are measured at both ends of the calibration, and fitted on the host's mean over it", async (t) => {
  const plan = measurementPlan(false);
  t.is(plan[0]!.file, "stateless");
  t.is(plan.at(-1)!.file, "stateless");
  t.not(plan[0]!.id, plan.at(-1)!.id);
  t.is(plan.filter((m) => m.file === "stateless").length, 2);
  // the host drifted: kills of 0.2 s at the start, 0.3 s at the end
  const backend = createBackend("sim", {});
  const at = async (m: Measurement, kill: string): Promise<Observed> => ({ measurement: m, ...(await simulateMeasurement(backend, m, [...m.set, `costs.kill=${kill}`, "costs.start=0.6s"], 3)) });
  const obs = [await at(plan[0]!, "0.2s"), await at(plan.at(-1)!, "0.3s")];
  const cal: Calibration = { params: new Map(), fits: new Map() };
  const simulate: Simulate = async (m, params) => simulateMeasurement(backend, m, [...m.set, ...[...params].map(([k, v]) => `${k}=${v}`)], 1);
  await fitStateless(obs, cal, simulate);
  t.is(cal.params.get("costs.kill"), "0.25s");
  t.is(cal.fits.get("costs.kill")!.n, 6);
});

test("a refit keeps the testbed and host of its measurements, and refuses a machine record that is not one", async (t) => {
  // a --quick calibration's folder, measured here by the simulator under the command calibrate records
  const measurements = join(dir, "lab.measurements");
  const argv = ["calibrate", "--testbed", "ssh://root@lab.example:2290", "--out", "lab.yaml", "--quick"];
  for (const m of measurementPlan(true)) {
    await runExperiment({ file: calibrationFile(m.file), set: m.set, runs: m.runs, out: join(measurements, m.id), profile: PAPER_PROFILE, plots: false, argv });
  }
  writeFileSync(join(measurements, "machine.json"), JSON.stringify({ kernel: "6.18.44", criu: "4.2.1" }));
  const out = join(dir, "refitted.yaml");
  const r = await calibrate({ out, quick: true, refit: measurements, backendOptions: {}, log: () => {} });
  t.true(existsSync(out));
  t.is(r.document.testbed, "ssh://root@lab.example:2290");
  t.deepEqual(r.document.machine, { kernel: "6.18.44", criu: "4.2.1" });
  t.is(r.testbedRuns, 0, "a refit runs nothing");
  const cv = r.document["cross-validation"]!;
  t.deepEqual(
    Object.keys(cv.measurements).sort(),
    measurementPlan(true)
      .map((m) => m.id)
      .sort(),
    "every measurement has its cross-validated error",
  );
  t.true(cv.rms!.n > 0 && cv.rms!["held-out"] >= 0);
  writeFileSync(join(measurements, "machine.json"), JSON.stringify({ kernel: 6.18 }));
  const e = await t.throwsAsync(calibrate({ out: join(dir, "bad.yaml"), quick: true, refit: measurements, backendOptions: {}, log: () => {} }));
  t.true(e instanceof InputError);
  t.regex(e!.message, /machine\.json: kernel: expected an object of strings .*: /);
  t.false(existsSync(join(dir, "bad.yaml")), "nothing written");
  writeFileSync(join(measurements, "machine.json"), JSON.stringify({ kernel: "6.18.44" }));
  // a --quick folder refitted as a full calibration, and a folder from before stateless-start/end
  const full = await t.throwsAsync(calibrate({ out: join(dir, "full.yaml"), quick: false, refit: measurements, backendOptions: {}, log: () => {} }));
  t.regex(full!.message, /holds a --quick calibration; refit it with --quick/);
  renameSync(join(measurements, "stateless-start"), join(measurements, "stateless"));
  const old = await t.throwsAsync(calibrate({ out: join(dir, "old.yaml"), quick: true, refit: measurements, backendOptions: {}, log: () => {} }));
  t.regex(old!.message, /stateless-start there .*older migsim, with one stateless measurement.*calibrate again/);
  rmSync(join(measurements, "stateless"), { recursive: true });
  rmSync(join(measurements, "stateless-end"), { recursive: true });
  const other = await t.throwsAsync(calibrate({ out: join(dir, "other.yaml"), quick: true, refit: measurements, backendOptions: {}, log: () => {} }));
  t.regex(other!.message, /expected the folder of measurements that migsim calibrate --quick writes \(\d+ of them\)/);
  for (const f of ["full.yaml", "old.yaml", "other.yaml"]) t.false(existsSync(join(dir, f)), `${f} not written`);
});

test("post-copy's minimal image is the folder the testbed counted, mean over the runs; without counts the image overhead stays", async (t) => {
  const m = measurementPlan(true).find((x) => x.id === "postcopy")!;
  const sims = await simulateMeasurement(createBackend("sim", {}), m, m.set, 1);
  const noted = (bytes: number, files: number) => ({
    ...sims.records[0]!,
    note: `post-copy: CRIU lazy pages verified (counter 1 -> 2, 2 page checks passed to 45); ${bytes} B minimal image in ${files} files, 4000 B of pages pulled in 0.5 s after the restore`,
  });
  const cal: Calibration = { params: new Map([["costs.postcopy-minimal", "172000B"]]), fits: new Map() };
  fitPostcopyImage([{ measurement: m, records: [noted(42000, 22), noted(44000, 23)], probes: [] }], cal);
  t.is(cal.params.get("costs.postcopy-minimal"), "43000B");
  t.is(cal.params.get("costs.postcopy-files"), 23);
  t.regex(cal.fits.get("costs.postcopy-files")!.error, /spread 1 files/);
  const before: Calibration = { params: new Map([["costs.postcopy-minimal", "172000B"]]), fits: new Map() };
  fitPostcopyImage([{ measurement: m, records: sims.records, probes: [] }], before);
  t.is(before.params.get("costs.postcopy-minimal"), "172000B");
  t.false(before.params.has("costs.postcopy-files"));
});

test("post-copy's close is the testbed's own timing of it, mean over the runs; a driver that did not time it leaves the pull's whole gap to it", async (t) => {
  const m = measurementPlan(true).find((x) => x.id === "postcopy")!;
  const backend = createBackend("sim", {});
  const simulate: Simulate = async (mm, params) => simulateMeasurement(backend, mm, [...mm.set, ...[...params].map(([k, v]) => `${k}=${v}`)], 1);
  // the "testbed": the simulator with a 0.6 s close and no host time per request
  const tb = await simulateMeasurement(backend, m, [...m.set, "costs.postcopy-close=0.6s", "costs.postcopy-request-cpu=0s"], 2);
  const note = "post-copy: CRIU lazy pages verified (counter 1 -> 2, 2 page checks passed to 45); 43000 B minimal image in 22 files, 4000 B of pages pulled in 0.7 s after the restore";
  const timed = tb.records.map((r, i) => ({ ...r, note: `${note}, the last ${i === 0 ? "0.550" : "0.650"} s the page server's close` }));
  const cal: Calibration = { params: new Map(), fits: new Map() };
  await fitPostcopyClose([{ measurement: m, records: timed, probes: [] }], cal, simulate);
  t.is(cal.params.get("costs.postcopy-close"), "0.6s");
  t.is(cal.fits.get("costs.postcopy-close")!.n, 2);
  t.regex(cal.fits.get("costs.postcopy-close")!.source, /as the testbed timed it/);
  t.is(cal.params.get("costs.postcopy-request-cpu"), "0s", "nothing left for the requests: the close explains the pull");
  // older records: no timing in the note, the gap of transfer_s goes to the close
  const untimed: Calibration = { params: new Map(), fits: new Map() };
  await fitPostcopyClose([{ measurement: m, records: tb.records.map((r) => ({ ...r, note })), probes: [] }], untimed, simulate);
  t.is(untimed.params.get("costs.postcopy-close"), "0.6s");
  t.regex(untimed.fits.get("costs.postcopy-close")!.source, /not timed by this driver/);
});
