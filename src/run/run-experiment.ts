/**
 * `migsim run` as a library: load and validate the experiment, plan this shard's positions,
 * execute them on a backend (in plan order, resumable), then write summary, plots and manifest.
 * Everything is checked before the first run starts, so bad input never leaves files behind.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { InputError } from "../core/errors.ts";
import { DRAWS_VERSION } from "../core/random.ts";
import { csvLines, probeColumns, runColumns } from "../outputs/csv.ts";
import { FAILED_FILE, failedHeader } from "../outputs/failed.ts";
import { createBackend, type BackendOptions } from "./backend-registry.ts";
import { executePositions } from "./execute.ts";
import { loadExperiment, type Experiment, type LoadOptions } from "../load/read-experiment.ts";
import { checkModes, type SkippedCell } from "./backend-modes.ts";
import { PartialOutput, type PreviousRuns } from "../outputs/partial.ts";
import type { Shard } from "../outputs/shards.ts";
import type { Backend, RunProgress } from "../formats/runspec.ts";
import { planSize, shardPositions } from "./plan.ts";
import type { RunRows } from "./rows.ts";
import { validatePolicies } from "./validate-policies.ts";
import { locate, locator } from "../load/locate.ts";
import { writeReports, type TraceToPlot } from "./write-outputs.ts";
import { removePreviousOutputs } from "../outputs/previous-runs.ts";

export interface ProgressReporter {
  start(total: number, alreadyDone: number): void;
  tick(done: number): void;
  /** how far the oldest run still in flight has come (long runs only; see Backend.execute); undefined: none is */
  inRun?(progress: RunProgress | undefined): void;
  /** before the runs: how far the pre-run check has come ((cell, policy) pairs), now and then while it lasts */
  checking?(done: number, total: number): void;
  stop(): void;
  /** after the runs (and stop): what is being written now, e.g. "writing summary, plots and manifest" (plots take seconds) */
  writing?(what: string): void;
}

export interface RunOptions extends LoadOptions {
  file: string;
  out?: string | undefined;
  jobs?: number | undefined;
  shard?: Shard | undefined;
  resume?: boolean | undefined;
  backend?: string | undefined;
  backendOptions?: BackendOptions | undefined;
  /**
   * a backend the caller opened (named `backend`) and closes itself: calibrate and validate run
   * many experiments on one testbed session, so its connection, upload and preflight (about 3 s)
   * happen once instead of once per experiment
   */
  session?: Backend | undefined;
  progress?: ProgressReporter | undefined;
  /** set to true (e.g. by a SIGINT handler) to stop after the runs in flight */
  interrupted?: { value: boolean } | undefined;
  /** command line, for the manifest */
  argv?: readonly string[] | undefined;
  /** write plots (default true); summary and manifest are always written */
  plots?: boolean | undefined;
  /**
   * run only the runs of this index and above of each (cell, policy), with the seeds they have
   * in the whole plan: more runs beside the ones another folder holds (validate's top-up runs)
   */
  fromRun?: number | undefined;
  /**
   * without `resume`: refuse to throw away the finished runs an unfinished earlier run of the
   * same plan left in the folder (`migsim run`), or discard them (default; the caller is told)
   */
  previousRuns?: PreviousRuns | undefined;
  /** a line the user should read (finished runs discarded); not printed when absent */
  notice?: ((text: string) => void) | undefined;
  /** modes whose cells are left out when the backend cannot run them (otherwise such an experiment is refused) */
  skipModes?: readonly string[] | undefined;
}

export interface RunOutcome {
  experiment: Experiment;
  outDir: string;
  completed: boolean;
  /** the whole call: checking the input, the runs, writing the outputs */
  wallSeconds: number;
  /** executing the runs (and appending their rows) */
  runSeconds: number;
  /** summary, plots and manifest after the runs */
  writeSeconds: number;
  runsExecuted: number;
  /** runs that could not finish (listed in failed.csv); the others went on */
  runsFailed: number;
  /** cells left out because the backend cannot run their mode (skipModes) */
  skipped: SkippedCell[];
}

const COMMIT_INTERVAL_MS = 500;

export async function runExperiment(opts: RunOptions): Promise<RunOutcome> {
  const t0 = performance.now();
  const started = new Date();
  for (const [name, v, min] of [
    ["jobs", opts.jobs, 1],
    ["runs", opts.runs, 1],
    ["seed", opts.seed, 0],
  ] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= min)) throw new InputError(`--${name}: expected a whole number >= ${min}, got ${v}`);
  }
  const loaded = loadExperiment(opts.file, opts);
  const backendName = opts.backend ?? "sim";
  if (opts.session && opts.session.name !== backendName) throw new Error(`session is a ${opts.session.name} backend, the run asks for ${backendName}`);
  const backend = opts.session ?? createBackend(backendName, opts.backendOptions ?? {});
  let checked: Awaited<ReturnType<typeof checkModes>>;
  try {
    await validatePolicies(loaded, opts.progress?.checking?.bind(opts.progress));
    // a mode the backend cannot run is refused now, before the first run and before any file
    checked = await checkModes(loaded, backend, opts.skipModes);
  } catch (e) {
    if (!opts.session) await backend.close?.();
    throw e;
  }
  const { experiment, skipped } = checked;
  const outDir = resolve(opts.out ?? join("out", experiment.name));
  const createdOut = makeOutDir(outDir);

  const axisNames = experiment.axes.map((a) => a.path);
  const positions = shardPositions(experiment, opts.shard, opts.fromRun);
  const files: Record<string, string> = { "runs.csv": csvLines([runColumns(axisNames)]), "probes.csv": csvLines([probeColumns()]) };
  if (backend.runsCanFail) files[FAILED_FILE] = failedHeader();
  const partial = PartialOutput.open(outDir, planKey(experiment, opts.shard, backendName, opts.fromRun ?? 0), files, opts.resume ?? false, opts.previousRuns);
  if (partial.discarded > 0)
    opts.notice?.(
      `discarded the ${partial.discarded} finished runs of an earlier, unfinished run in ${outDir} (runs.csv, summary and plots of a completed run are replaced only when this one completes)`,
    );
  const skip = partial.done;
  const todo = positions.slice(skip);
  opts.progress?.start(positions.length, skip);

  const traces: TraceToPlot[] = [];
  const tRun = performance.now();
  let done = skip;
  let failed = 0;
  let lastCommit = performance.now();
  // runs in flight and how far each has come (--jobs N: several); the reporter shows the oldest
  const inFlight = new Map<number, RunProgress>();
  const showInRun = opts.progress?.inRun?.bind(opts.progress);
  const onProgress =
    showInRun &&
    ((k: number, p: RunProgress | undefined): void => {
      if (p) inFlight.set(k, p);
      else inFlight.delete(k);
      let oldest = Infinity;
      for (const j of inFlight.keys()) if (j < oldest) oldest = j;
      showInRun(inFlight.get(oldest));
    });
  const onResult = (k: number, rows: RunRows): void => {
    if (rows.failed) {
      partial.append(FAILED_FILE, rows.failed);
      failed++;
    }
    partial.append("runs.csv", rows.runs);
    partial.append("probes.csv", rows.probes);
    partial.index.push([k, rows.runCount, rows.probeCount]);
    // One Fig. 4 trace per (cell, policy): the first run's.
    if (rows.trace) traces.push(rows.trace);
    done++;
    opts.progress?.tick(done);
    if (performance.now() - lastCommit > COMMIT_INTERVAL_MS) {
      partial.commit(done);
      lastCommit = performance.now();
    }
  };
  try {
    await executePositions(experiment, todo, backend, {
      jobs: backend.oneRunAtATime ? 1 : (opts.jobs ?? 1),
      file: opts.file,
      load: { set: opts.set, runs: opts.runs, seed: opts.seed, allowExternalPlugins: opts.allowExternalPlugins, profile: opts.profile },
      backendName,
      backendOptions: opts.backendOptions ?? {},
      onResult,
      ...(onProgress && { onProgress }),
      shouldStop: () => opts.interrupted?.value === true,
    });
  } catch (e) {
    opts.progress?.stop();
    if (done === 0) {
      // Nothing completed: leave no trace, as for input refused before the run.
      partial.discard();
      if (createdOut) rmSync(outDir, { recursive: true, force: true });
    } else {
      partial.commit(done);
      partial.closeFiles();
    }
    // errors found while running (a transfer that cannot finish) name a field of the experiment
    throw locate(locator(experiment.file), e);
  } finally {
    if (!opts.session) await backend.close?.();
  }
  partial.commit(done);
  opts.progress?.stop();
  const completed = done === positions.length;
  const runSeconds = (performance.now() - tRun) / 1000;
  if (!completed) {
    partial.closeFiles();
    return { experiment, outDir, completed, wallSeconds: (performance.now() - t0) / 1000, runSeconds, writeSeconds: 0, runsExecuted: done - skip, runsFailed: failed, skipped };
  }
  const tWrite = performance.now();
  opts.progress?.writing?.(opts.shard ? "writing rows and manifest" : opts.plots !== false ? "writing summary, plots and manifest" : "writing summary and manifest");
  const index = partial.index;
  // the previous run's outputs go only now: an interrupted or failed run leaves them whole
  removePreviousOutputs(outDir);
  partial.finish();
  await writeReports({
    experiment,
    outDir,
    shard: opts.shard,
    backend: backendName,
    traces,
    index,
    started,
    argv: opts.argv ?? process.argv.slice(2),
    plots: opts.plots !== false,
  });
  const end = performance.now();
  return { experiment, outDir, completed, wallSeconds: (end - t0) / 1000, runSeconds, writeSeconds: (end - tWrite) / 1000, runsExecuted: done - skip, runsFailed: failed, skipped };
}

/** Creates the output folder; returns whether it was created (a bad --out is an InputError). */
function makeOutDir(dir: string): boolean {
  const existed = existsSync(dir);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new InputError(`cannot create the output folder ${dir} (${code}); expected a folder path`, { field: "--out" });
  }
  if (!statSync(dir).isDirectory()) throw new InputError(`${dir} is not a folder; expected a folder path`, { field: "--out" });
  return !existed;
}

/** A digest of everything that determines the rows, so --resume never mixes two plans. */
function planKey(exp: Experiment, shard: Shard | undefined, backend: string, fromRun: number): string {
  return createHash("sha256")
    .update(JSON.stringify({ doc: exp.document, seed: exp.seed, draws: DRAWS_VERSION, runs: exp.runs, shard, backend, size: planSize(exp), ...(fromRun > 0 && { fromRun }) }))
    .digest("hex");
}
