/** The backends an experiment can run on, by name (`--backend sim|mininet`). */
import { InputError } from "../errors.ts";
import type { Backend } from "../runspec.ts";
import { SimBackend } from "../../backends/sim/backend.ts";

export interface BackendOptions {
  /** collect host bandwidth traces and phase marks for the Fig. 4 plot */
  trace?: boolean;
  /** `ssh://user@host[:port]` of the testbed, for the mininet backend */
  testbed?: string;
}

export const BACKEND_NAMES = ["sim", "mininet"] as const;

export function createBackend(name: string, options: BackendOptions): Backend {
  switch (name) {
    case "sim":
      return new SimBackend({ trace: options.trace ?? false });
    default:
      throw new InputError(`--backend: expected one of ${BACKEND_NAMES.join(", ")}, got "${name}"`);
  }
}
