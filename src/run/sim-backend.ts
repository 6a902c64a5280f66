/**
 * The simulator backend as `--backend sim` makes it. Its own module so that a worker thread of a
 * simulated sweep can make it without loading the testbed's modules (ssh2, the driver protocol),
 * which the backend registry imports.
 */
import { SimBackend } from "../../backends/sim/backend.ts";
import type { BackendOptions } from "./backend-registry.ts";

export function simBackend(options: BackendOptions): SimBackend {
  return new SimBackend({ trace: options.trace ?? false });
}
