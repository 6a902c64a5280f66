/**
 * `migsim calibrate`: runs the calibration measurements on a testbed, fits the simulator to them
 * and writes a testbed profile (docs/profiles.md). The measurements' own output folders (runs.csv,
 * probes.csv, manifest) are kept beside the profile, so every fit can be checked and redone.
 */
import { crossValidate, type CrossValidation, type FitGroup } from "./cross-validate.ts";
import { NOISY_SPREAD, type Repeatability, repeatability } from "./run-spread.ts";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { stringify } from "yaml";
import { z } from "zod";
import { InputError } from "../core/errors.ts";
import { writeFileAtomic } from "../outputs/atomic.ts";
import { readProbesCsv, readRunsCsv } from "../outputs/csv.ts";
import { parseJsonInput } from "../core/json-input.ts";
import { readManifest } from "../outputs/write-manifest.ts";
import type { Backend, ProbeRecord, RunRecord } from "../formats/runspec.ts";
import { createBackend, type BackendOptions } from "../run/backend-registry.ts";
import { loadExperiment } from "../load/read-experiment.ts";
import { planSize, specAt } from "../run/plan.ts";
import { measurementsDirOf, PAPER_PROFILE } from "../load/read-profile.ts";
import { runExperiment, type ProgressReporter } from "../run/run-experiment.ts";
import { onTestbedSession } from "../run/testbed-host.ts";
import { PROFILE_SCHEMA, type ProfileDocument } from "../formats/experiment.ts";
import {
  fitEfficiency,
  fitHandshake,
  fitPostcopyClose,
  fitPostcopyImage,
  fitHostCosts,
  fitLoaded,
  fitOffset,
  fitStateless,
  type Calibration,
  type Observed,
  type Params,
  type Simulate,
} from "./fit.ts";
import { calibrationFile, measurementPlan, POSTCOPY_MEASUREMENT, type Measurement } from "./calibration-plan.ts";

export interface CalibrateOptions {
  out: string;
  quick: boolean;
  /** refit from the measurement folders of an earlier calibration instead of measuring */
  refit?: string | undefined;
  backendOptions: BackendOptions;
  /** one line per measurement and fit step (stderr in the CLI) */
  log: (line: string) => void;
  progress?: (label: string) => ProgressReporter | undefined;
  argv?: readonly string[] | undefined;
}

export interface CalibrateOutcome {
  profileFile: string;
  measurementsDir: string;
  document: ProfileDocument;
  failedRuns: number;
  testbedRuns: number;
}

/** Why a measurements folder lacks measurement `id`, from what it does hold. */
function missingMeasurement(dir: string, id: string, quick: boolean): string {
  const held = (plan: readonly Measurement[]): boolean => plan.every((m) => existsSync(join(dir, m.id, "runs.csv")));
  if (held(measurementPlan(!quick))) return `no measurement ${id} there (runs.csv): the folder holds a ${quick ? "full" : "--quick"} calibration; refit it ${quick ? "without" : "with"} --quick`;
  // a folder from a migsim that measured the stateless move once, not at both ends of the calibration
  if (existsSync(join(dir, "stateless", "runs.csv"))) {
    return `no measurement ${id} there (runs.csv): the folder was measured by an older migsim, with one stateless measurement where calibrations now take one at the start and one at the end; calibrate again`;
  }
  return `no measurement ${id} there (runs.csv); expected the folder of measurements that migsim calibrate${quick ? " --quick" : ""} writes (${measurementPlan(quick).length} of them)`;
}

export async function calibrate(opts: CalibrateOptions): Promise<CalibrateOutcome> {
  const profileFile = resolve(opts.out);
  if (!existsSync(dirname(profileFile))) throw new InputError(`the folder of --out does not exist: ${dirname(profileFile)}`, { field: "--out" });
  const measurementsDir = opts.refit ? resolve(opts.refit) : measurementsDirOf(profileFile);
  const plan = measurementPlan(opts.quick);
  const started = new Date();
  const observed = new Map<string, Observed>();
  let failedRuns = 0;
  let testbedRuns = 0;
  const measure = async (session: Backend | undefined): Promise<void> => {
    for (const [i, m] of plan.entries()) {
      const out = join(measurementsDir, m.id);
      if (opts.refit) {
        if (!existsSync(join(out, "runs.csv")) && m.id === POSTCOPY_MEASUREMENT) {
          opts.log(`refit: ${measurementsDir} has no ${m.id} measurement (calibrated before post-copy was measured): post-copy's dump and restore bases keep their defaults`);
          continue;
        }
        if (!existsSync(join(out, "runs.csv"))) throw new InputError(missingMeasurement(measurementsDir, m.id, opts.quick), { file: out, field: "--refit" });
      } else {
        opts.log(`measurement ${i + 1}/${plan.length}: ${m.id} (${m.runs} run${m.runs > 1 ? "s" : ""} on the testbed)`);
        const r = await runExperiment({
          file: calibrationFile(m.file),
          set: m.set,
          runs: m.runs,
          backend: "mininet",
          backendOptions: opts.backendOptions,
          session,
          out,
          profile: PAPER_PROFILE,
          plots: false,
          progress: opts.progress?.(m.id),
          argv: opts.argv,
        });
        if (!r.completed) throw new Error("calibration interrupted");
        failedRuns += r.runsFailed;
        testbedRuns += r.runsExecuted;
      }
      const records = readRunsCsv(join(out, "runs.csv")).rows.map((x) => x.record);
      const probes = readProbesCsv(join(out, "probes.csv"));
      if (records.length === 0) throw new Error(`calibration measurement ${m.id}: every testbed run failed (see ${out}/failed.csv)`);
      observed.set(m.id, { measurement: m, records, probes });
    }
  };
  let machine: Record<string, string> | undefined;
  let testbed = opts.backendOptions.testbed;
  if (opts.refit) {
    await measure(undefined);
    machine = readMachine(measurementsDir);
    testbed ??= measuredOn(measurementsDir, plan);
  } else {
    ({ machine } = await onTestbedSession(opts.backendOptions, "a calibration", opts.log, (session) => measure(session)));
    if (machine) writeFileAtomic(join(measurementsDir, MACHINE_FILE), `${JSON.stringify(machine, null, 2)}\n`);
  }
  const spread = repeatability(observed.values());
  if (spread?.noisy) {
    opts.log(
      `the calibration's repeated runs spread by a median ${(100 * spread.medianCv).toFixed(1)}% (above ${100 * NOISY_SPREAD}%: the host was busy); the profile says it is noisy (repeatability.noisy), and its host costs hold only as loaded: calibrate again on an idle host`,
    );
  }
  const { groups, ...cal } = await fitAll(observed, opts.log);
  const cv = await crossValidate(observed, cal, groups, (obs) => fitAll(obs, () => {}), simulator());
  for (const f of cv.fallBacks) {
    opts.log(
      `fell back to the defaults: ${f.keys.join(", ")} (left out of the fit in turn, the measurements it was fitted on were predicted with rms ${pctOf(f.withFit)} with the fitted value${f.keys.length > 1 ? "s" : ""}, ${pctOf(f.withDefaults)} with the defaults)`,
    );
    for (const key of f.keys) {
      cal.params.delete(key);
      const fit = cal.fits.get(key);
      if (fit)
        fit.fallback = `not used: left out of the fit in turn, the ${f.n} measurements it was fitted on were predicted with rms ${pctOf(f.withFit)} of total_s with the fitted ${f.keys.join(", ")} and ${pctOf(f.withDefaults)} with the built-in defaults, which the profile keeps`;
    }
  }
  for (const [id, e] of Object.entries(cv.perMeasurement)) {
    opts.log(
      `held out ${id}: total ${e.measured_s.toFixed(2)} s measured; error fitted ${pctOf(e.fitted_error)}, left out of the fit ${e.held_out_error === null ? "n/a (the fit needs it)" : pctOf(e.held_out_error)}, defaults ${pctOf(e.default_error)}`,
    );
  }
  if (cv.rms.n > 0) {
    opts.log(
      `cross-validation (rms of total_s over ${cv.rms.n} measurements): fitted ${pctOf(cv.rms.fitted)}, left out ${pctOf(cv.rms.heldOut)}, defaults ${pctOf(cv.rms.defaults)}` +
        (cv.rms.heldOut > cv.rms.defaults ? ": the fit predicts the measurements it did not see WORSE than the defaults" : ""),
    );
  }
  const document = profileDocument(cal, opts, testbed, measuredAt(measurementsDir, plan) ?? started, machine, cv, spread);
  PROFILE_SCHEMA.parse(document);
  const header = [
    `# Testbed profile written by \`migsim ${(opts.argv ?? []).join(" ")}\`.`,
    `# Fitted on the measurements in ${relative(process.cwd(), measurementsDir) || "."} (docs/profiles.md says how);`,
    "# use it with `profile:` in an experiment or `--profile` on run, compare and reproduce.",
    "",
  ].join("\n");
  writeFileAtomic(profileFile, header + stringify(document, { lineWidth: 0 }));
  return { profileFile, measurementsDir, document, failedRuns, testbedRuns };
}

/**
 * The fit steps in dependency order; each sees the values fitted before it. `groups`: the keys
 * each step set (a key a later step sets again joins that step's group too) and the measurements
 * it fitted them on.
 */
export async function fitAll(observed: ReadonlyMap<string, Observed>, log: (line: string) => void): Promise<Calibration & { groups: FitGroup[] }> {
  const cal: Calibration = { params: new Map(), fits: new Map() };
  const groups: FitGroup[] = [];
  const simulate = simulator();
  const of = (prefix: string): Observed[] => [...observed.values()].filter((o) => o.measurement.id.startsWith(prefix));
  const one = (id: string): Observed => {
    const o = observed.get(id);
    if (!o) throw new Error(`calibration measurement ${id} is missing`);
    return o;
  };
  const step = async (what: string, obs: Observed[], fn: (obs: Observed[]) => void | Promise<void>): Promise<void> => {
    const before = new Map(cal.params);
    await fn(obs);
    const keys = [...cal.params.keys()].filter((k) => before.get(k) !== cal.params.get(k) || !before.has(k));
    const measurements = obs.map((o) => o.measurement.id);
    if (keys.length && !groups.some((g) => g.keys.length === keys.length && g.keys.every((k) => keys.includes(k)))) groups.push({ keys, measurements });
    log(`fitted ${what}`);
  };
  await step("checkpoint and restore base and rate, image overhead", [...observed.values()], (obs) => fitHostCosts(obs, cal));
  await step("transfer-setup", of("host-costs-"), (obs) => fitOffset("costs.transfer-setup", "transfer_s", obs, cal, simulate, "the copy's start-up (tool and connection)"));
  await step("network efficiency", [one("link-tcp")], ([obs]) => fitEfficiency(obs!, cal, simulate));
  // the stateless RESTART is an ssh login running a command and nothing else: its host time, which every
  // such command session (MTD set-ups too) pays; a copy's SSH start-up is ssh-setup, fitted next
  await step("ssh-command", of("stateless"), (obs) => fitOffset("costs.ssh-command", "transfer_s", obs, cal, simulate, "the stateless RESTART (an ssh login running a command)"));
  await step("post-copy dump and lazy restore", of(POSTCOPY_MEASUREMENT), async (postcopy) => {
    if (postcopy.length === 0) return;
    fitPostcopyImage(postcopy, cal);
    await fitOffset("costs.postcopy-checkpoint-base", "checkpoint_s", postcopy, cal, simulate, "post-copy's dump of the minimal state under runc");
    await fitOffset("costs.postcopy-restore-base", "restore_s", postcopy, cal, simulate, "post-copy's lazy restore up to the container running");
    await fitPostcopyClose(postcopy, cal, simulate);
  });
  await step("ssh-setup", [one("link-ssh")], (obs) => fitOffset("costs.ssh-setup", "transfer_s", obs, cal, simulate, "SSH key exchange and authentication"));
  await step("stateless kill, start, switch-over and preparation", of("stateless"), (obs) => fitStateless(obs, cal, simulate));
  await step("late-flow host stack and SFTP per-file requests", of("loaded-"), (obs) => fitLoaded(obs, cal, simulate));
  await step("a new connection's handshake on a loaded path", of("loaded-"), (obs) => fitHandshake(obs, cal, simulate));
  // the copies' SSH handshakes and the probes' first connection cross the same loaded queues
  await step("late-flow host stack and SFTP per-file requests with the fitted handshake", of("loaded-"), (obs) => fitLoaded(obs, cal, simulate));
  // the files' tar framing is part of the idle tcp copy: its goodput again, with the fitted count
  await step("network efficiency with the fitted file count", [one("link-tcp")], ([obs]) => fitEfficiency(obs!, cal, simulate));
  // the per-file requests also cost time on the idle path: the SSH start-up again, with them
  await step("ssh-setup with the fitted file count", [one("link-ssh")], (obs) => fitOffset("costs.ssh-setup", "transfer_s", obs, cal, simulate, "SSH key exchange and authentication"));
  return { ...cal, groups };
}

/** The simulator on a calibration experiment: one run per setting (the sim backend is deterministic). */
function simulator(): Simulate {
  const backend = createBackend("sim", {});
  const cache = new Map<string, { records: RunRecord[]; probes: ProbeRecord[] }>();
  return async (m: Measurement, params: Params) => {
    const set = [...m.set, ...[...params].map(([k, v]) => `${k}=${v}`)];
    const key = JSON.stringify([m.file, set]);
    const hit = cache.get(key);
    if (hit) return hit;
    const out = await simulateMeasurement(backend, m, set, 1);
    cache.set(key, out);
    return out;
  };
}

/** Every run of a calibration experiment under `set` (paper profile underneath) on `backend`, in memory. */
export async function simulateMeasurement(backend: Backend, m: Measurement, set: readonly string[], runs: number): Promise<{ records: RunRecord[]; probes: ProbeRecord[] }> {
  const exp = loadExperiment(calibrationFile(m.file), { set, runs, profile: PAPER_PROFILE });
  const records: RunRecord[] = [];
  const probes: ProbeRecord[] = [];
  for (let k = 0; k < planSize(exp); k++) {
    const r = await backend.execute(specAt(exp, k));
    records.push(...r.records);
    probes.push(...r.probes);
  }
  return { records, probes };
}

/** When the measurements began (the earliest manifest), so a refit keeps the calibration's date. */
function measuredAt(dir: string, plan: readonly Measurement[]): Date | undefined {
  const starts = plan.flatMap((m) => {
    try {
      return [new Date(readManifest(join(dir, m.id)).startedAt)];
    } catch {
      return [];
    }
  });
  return starts.length ? new Date(Math.min(...starts.map((d) => d.getTime()))) : undefined;
}

/** The testbed URL the measurements ran on, from their manifests' command line (`--testbed URL`), so a refit keeps it. */
function measuredOn(dir: string, plan: readonly Measurement[]): string | undefined {
  for (const m of plan) {
    try {
      const command = readManifest(join(dir, m.id)).command;
      const at = command.indexOf("--testbed");
      if (at >= 0 && command[at + 1]) return command[at + 1];
      const inline = command.find((a) => a.startsWith("--testbed="));
      if (inline) return inline.slice("--testbed=".length);
    } catch {
      // a measurement without a readable manifest says nothing about the testbed
    }
  }
  return undefined;
}

/** The testbed host during the measurements, kept beside them so a refit keeps it in the profile. */
const MACHINE_FILE = "machine.json";
const MACHINE_SCHEMA = z.record(z.string(), z.string());

function readMachine(dir: string): Record<string, string> | undefined {
  const file = join(dir, MACHINE_FILE);
  if (!existsSync(file)) return undefined;
  return parseJsonInput(readFileSync(file, "utf8"), MACHINE_SCHEMA, file, "expected an object of strings (kernel, cpu, criu, load-average) as calibrate writes it");
}

const pctOf = (x: number): string => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}%`;
const round4 = (x: number): number => Number(x.toFixed(4));

function profileDocument(
  cal: Calibration,
  opts: CalibrateOptions,
  testbed: string | undefined,
  started: Date,
  machine: Record<string, string> | undefined,
  cv: CrossValidation,
  spread: Repeatability | undefined,
): ProfileDocument {
  const network: Record<string, unknown> = { model: "tcp-fluid", "host-stack": "emulated" };
  const extra: Record<string, number> = {};
  const costs: Record<string, unknown> = {};
  for (const [path, value] of cal.params) {
    const [block, key, sub] = path.split(".");
    if (block === "costs") costs[key!] = value;
    else if (key === "extra") extra[sub!] = Number(value);
    else network[key!] = value;
  }
  if (Object.keys(extra).length) network["extra"] = extra;
  const host = testbed ?? "the local testbed (backends/mininet/setup-testbed.sh)";
  return {
    profile: `testbed-${started.toISOString().slice(0, 10)}`,
    description: `fitted by migsim calibrate${opts.quick ? " --quick" : ""} on ${host}${opts.refit ? ` (refitted from ${opts.refit})` : ""}`,
    testbed: host,
    date: started.toISOString(),
    ...(machine ? { machine } : {}),
    network: network as ProfileDocument["network"],
    costs,
    fits: Object.fromEntries(cal.fits),
    ...(spread ? { repeatability: { "median-cv": round4(spread.medianCv), measurements: spread.measurements, noisy: spread.noisy } } : {}),
    "cross-validation": {
      ...(cv.rms.n > 0 ? { rms: { fitted: round4(cv.rms.fitted), "held-out": round4(cv.rms.heldOut), defaults: round4(cv.rms.defaults), n: cv.rms.n } } : {}),
      measurements: Object.fromEntries(
        Object.entries(cv.perMeasurement).map(([id, e]) => [
          id,
          { "measured-s": round4(e.measured_s), fitted: round4(e.fitted_error), "held-out": e.held_out_error === null ? null : round4(e.held_out_error), defaults: round4(e.default_error) },
        ]),
      ),
    },
  };
}
