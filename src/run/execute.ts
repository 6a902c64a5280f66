/**
 * Executes plan positions on a backend, in this thread (--jobs 1) or in worker threads, and hands
 * each position's result to `onResult` in plan order whatever order the workers finish in.
 * Workers load the experiment file themselves and receive only plan positions: a RunSpec is never
 * serialised per run, and a result comes back as its CSV text (RunRows), so the main thread only
 * appends text and the messaging cost of a sweep stays far below the simulation cost.
 */
import { Worker } from "node:worker_threads";
import { InputError, type InputLocation } from "../core/errors.ts";
import type { Backend, RunProgress, RunResult, RunSpec } from "../formats/runspec.ts";
import type { BackendOptions } from "./backend-registry.ts";
import type { Experiment, LoadOptions } from "../load/read-experiment.ts";
import { groupOf, inRun, specAt } from "./plan.ts";
import { runRows, type RunRows } from "./rows.ts";

export interface ExecuteOptions {
  jobs: number;
  /** how to load the experiment in a worker (same file and options as the caller used) */
  file: string;
  load: LoadOptions;
  backendName: string;
  backendOptions: BackendOptions;
  /** called in plan order */
  onResult: (position: number, rows: RunRows) => void | Promise<void>;
  /**
   * how far a run in flight has come (long runs only; from workers too), and `undefined` once a run
   * that reported has finished (a worker's results come back a batch at a time, later)
   */
  onProgress?: (position: number, progress: RunProgress | undefined) => void;
  /** polled between batches; true stops dispatching (Ctrl-C) */
  shouldStop?: () => boolean;
}

export async function executePositions(exp: Experiment, positions: number[], backend: Backend, opts: ExecuteOptions): Promise<void> {
  if (opts.jobs <= 1 || positions.length <= 1) {
    let lastYield = performance.now();
    for (const k of positions) {
      // Simulated runs resolve without touching the event loop; yield to it now and then so a
      // Ctrl-C (SIGINT handler) can be noticed between runs.
      if (performance.now() - lastYield > 50) {
        await new Promise((r) => setImmediate(r));
        lastYield = performance.now();
      }
      if (opts.shouldStop?.()) return;
      let result: RunResult;
      const onProgress = opts.onProgress;
      try {
        result = await executeReporting(backend, specAt(exp, k), onProgress && ((p) => onProgress(k, p)));
      } catch (e) {
        throw inRun(exp, k, e);
      }
      await opts.onResult(k, runRows(exp, k, result));
    }
    return;
  }
  await executeInWorkers(exp, positions, opts);
}

/**
 * `backend.execute`, telling `onProgress` how far the run has come and, only when it did tell (a
 * long run), `undefined` once the run has ended: an end notice for every short run would cost a
 * sweep a message per run. (This thread and the workers alike.)
 */
export async function executeReporting(backend: Backend, spec: RunSpec, onProgress?: (progress: RunProgress | undefined) => void): Promise<RunResult> {
  if (!onProgress) return backend.execute(spec);
  let reported = false;
  const result = await backend.execute(spec, (p) => {
    reported = true;
    onProgress(p);
  });
  if (reported) onProgress(undefined);
  return result;
}

/** Batches of positions of the same (cell, policy) group: the unit of work sent to a worker. */
function batches(exp: Experiment, positions: number[], size: number): number[][] {
  const out: number[][] = [];
  let cur: number[] = [];
  let group = -1;
  for (const k of positions) {
    const g = groupOf(exp, k);
    if (cur.length >= size || (g !== group && cur.length > 0 && cur.length >= size / 2)) {
      out.push(cur);
      cur = [];
    }
    group = g;
    cur.push(k);
  }
  if (cur.length) out.push(cur);
  return out;
}

interface WorkerError {
  message: string;
  input: boolean;
  stack?: string;
  /** for InputErrors: what and where, so the main thread can locate and print them */
  detail?: string;
  location?: InputLocation;
}

interface WorkerReply {
  batch: number;
  results?: RunRows[];
  error?: WorkerError;
}

/** what a worker posts during a long run, when asked to (workerData.progress); null: it finished */
export interface WorkerProgress {
  position: number;
  progress: RunProgress | null;
}

async function executeInWorkers(exp: Experiment, positions: number[], opts: ExecuteOptions): Promise<void> {
  const work = batches(exp, positions, 64);
  const here = new URL(import.meta.url);
  const fromSource = here.pathname.endsWith(".ts");
  const workerUrl = new URL(fromSource ? "./worker.ts" : "./worker.js", here);
  const jobs = Math.min(opts.jobs, work.length);
  const pending = new Map<number, RunRows[]>();
  let nextToEmit = 0;
  let nextToSend = 0;
  let failure: Error | undefined;
  const workers: Worker[] = [];

  const emitReady = async (): Promise<void> => {
    while (pending.has(nextToEmit)) {
      const results = pending.get(nextToEmit)!;
      pending.delete(nextToEmit);
      const batch = work[nextToEmit]!;
      for (let i = 0; i < batch.length; i++) await opts.onResult(batch[i]!, results[i]!);
      nextToEmit++;
    }
  };

  await new Promise<void>((resolveAll, rejectAll) => {
    let alive = 0;
    let chain = Promise.resolve();
    const finish = (): void => {
      if (--alive === 0) chain.then(() => (failure ? rejectAll(failure) : resolveAll()), rejectAll);
    };
    // batches sent and not yet answered, per worker: each worker has one queued behind the one it
    // runs, so it never waits for a round trip through the main thread between batches
    const inFlight = new Map<Worker, number>();
    const send = (w: Worker): void => {
      if (failure || nextToSend >= work.length || opts.shouldStop?.()) {
        if (!inFlight.get(w)) void w.terminate();
        return;
      }
      const b = nextToSend++;
      inFlight.set(w, (inFlight.get(w) ?? 0) + 1);
      w.postMessage({ batch: b, positions: work[b] });
    };
    for (let j = 0; j < jobs; j++) {
      const w = new Worker(workerUrl, {
        workerData: { file: opts.file, load: opts.load, backend: opts.backendName, backendOptions: opts.backendOptions, progress: opts.onProgress !== undefined },
        execArgv: fromSource ? ["--import", "tsx"] : [],
      });
      workers.push(w);
      alive++;
      w.on("message", (msg: WorkerReply | WorkerProgress) => {
        if ("progress" in msg) {
          opts.onProgress?.(msg.position, msg.progress ?? undefined);
          return;
        }
        if (msg.error) {
          failure ??= rebuildError(msg.error);
          void w.terminate();
          return;
        }
        inFlight.set(w, inFlight.get(w)! - 1);
        pending.set(msg.batch, msg.results!);
        chain = chain.then(emitReady);
        chain.catch((e: Error) => {
          failure ??= e;
        });
        send(w);
      });
      w.on("error", (e) => {
        failure ??= e;
      });
      w.on("exit", finish);
      send(w);
      send(w);
    }
  });
}

function rebuildError(e: WorkerError): Error {
  return e.input ? new WorkerInputError(e.detail ?? e.message, e.location ?? {}) : Object.assign(new Error(e.message), { stack: e.stack });
}

/** An InputError raised inside a worker, re-raised with its detail and location intact. */
class WorkerInputError extends InputError {
  constructor(detail: string, location: InputLocation) {
    super(detail, location);
  }
}
