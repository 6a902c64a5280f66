/** Worker thread of `executePositions`: loads the experiment once, runs the batches it is sent. */
import { parentPort, workerData } from "node:worker_threads";
import { InputError } from "../core/errors.ts";
import type { RunProgress } from "../formats/runspec.ts";
import type { BackendOptions } from "./backend-registry.ts";
import { loadExperiment, type LoadOptions } from "../load/read-experiment.ts";
import { inRun, specAt } from "./plan.ts";
import { runRows } from "./rows.ts";
import { executeReporting, type WorkerProgress } from "./execute.ts";
import { simBackend } from "./sim-backend.ts";

const data = workerData as { file: string; load: LoadOptions; backend: string; backendOptions: BackendOptions; progress: boolean };
const exp = loadExperiment(data.file, data.load);
// (workers run simulated sweeps; the registry, which loads the testbed's modules, only otherwise)
const backend = data.backend === "sim" ? simBackend(data.backendOptions) : (await import("./backend-registry.ts")).createBackend(data.backend, data.backendOptions);

parentPort!.on("message", async (msg: { batch: number; positions: number[] }) => {
  try {
    const results = [];
    for (const k of msg.positions) {
      try {
        const post = (progress: RunProgress | undefined): void => parentPort!.postMessage({ position: k, progress: progress ?? null } satisfies WorkerProgress);
        const result = await executeReporting(backend, specAt(exp, k), data.progress ? post : undefined);
        results.push(runRows(exp, k, result));
      } catch (e) {
        throw inRun(exp, k, e);
      }
    }
    parentPort!.postMessage({ batch: msg.batch, results });
  } catch (e) {
    const err = e as Error;
    const input = e instanceof InputError ? { detail: e.detail, location: e.location } : undefined;
    parentPort!.postMessage({ batch: msg.batch, error: { message: err.message, input: input !== undefined, stack: err.stack, ...input } });
  }
});
