/**
 * The backends an experiment can run on, by name (`--backend sim|mininet`). Experiment code
 * sits above the backends (cli -> experiment -> backends -> model), so the registry lives here.
 * The testbed's modules (ssh2 and the driver protocol) load only when a testbed backend is made:
 * a worker thread of a simulated sweep starts without them.
 */
import { InputError } from "../errors.ts";
import type { Backend } from "../runspec.ts";
import { SimBackend } from "../../backends/sim/backend.ts";

export interface BackendOptions {
  /** collect host bandwidth traces and phase marks for the Fig. 4 plot */
  trace?: boolean | undefined;
  /** `ssh://user@host[:port]` of the testbed, for the mininet backend */
  testbed?: string | undefined;
  /** private key for the testbed (default: the one setup-testbed.sh wrote) */
  testbedKey?: string | undefined;
  knownHosts?: string | undefined;
  /** pinned host key fingerprint `SHA256:...` */
  fingerprint?: string | undefined;
}

export const BACKEND_NAMES = ["sim", "mininet"] as const;

export async function createBackend(name: string, options: BackendOptions): Promise<Backend> {
  switch (name) {
    case "sim":
      return new SimBackend({ trace: options.trace ?? false });
    case "mininet":
      return (await import("./testbed-backend.ts")).mininetBackend(options);
    default:
      throw new InputError(`--backend: expected one of ${BACKEND_NAMES.join(", ")}, got "${name}"`);
  }
}
