/**
 * The backends an experiment can run on, by name (`--backend sim|mininet`). Experiment code
 * sits above the backends (cli -> experiment -> backends -> model), so the registry lives here.
 */
import { InputError } from "../core/errors.ts";
import { policyInput } from "../policies/input.ts";
import { resolvePolicy } from "../policies/registry.ts";
import { staticView } from "../policies/static-view.ts";
import type { PolicyPlan } from "../policies/policy-types.ts";
import type { Backend, RunSpec } from "../formats/runspec.ts";
import { faultFromEnvironment, MininetBackend, testbedFromEnvironment } from "../../backends/mininet/backend.ts";
import { parseTestbedUrl } from "../../backends/mininet/ssh.ts";
import { simBackend } from "./sim-backend.ts";

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
  /** seconds a testbed run may take before the driver ends it (default: from the run's transfers, generous) */
  runTimeoutS?: number | undefined;
}

export const BACKEND_NAMES = ["sim", "mininet"] as const;

/** Checks a `--testbed ssh://user@host[:port]` address before anything runs (the CLI reaches backends only through here). */
export function checkTestbedAddress(text: string): void {
  parseTestbedUrl(text, "--testbed");
}

export function createBackend(name: string, options: BackendOptions): Backend {
  switch (name) {
    case "sim":
      return simBackend(options);
    case "mininet":
      return mininetBackend(options);
    default:
      throw new InputError(`--backend: expected one of ${BACKEND_NAMES.join(", ")}, got "${name}"`);
  }
}

function mininetBackend(options: BackendOptions): MininetBackend {
  const local = testbedFromEnvironment();
  const testbed = options.testbed ?? local?.testbed;
  if (!testbed) {
    throw new InputError("--backend mininet needs --testbed ssh://user@host[:port] (or run backends/mininet/setup-testbed.sh for a local one)");
  }
  const privateKeyFile = options.testbedKey ?? local?.privateKeyFile;
  if (!privateKeyFile) throw new InputError("--testbed-key: expected the private key file for the testbed");
  return new MininetBackend({
    testbed,
    privateKeyFile,
    knownHostsFile: options.knownHosts ?? local?.knownHostsFile,
    fingerprint: options.fingerprint,
    decide: decideBeforeRun,
    // an image other than the set-up's (docs/testbed.md): to try a workload before setup-testbed.sh builds it
    image: process.env.MIGSIM_TESTBED_IMAGE || undefined,
    onWarning: warnOnce(),
    faultInjection: faultFromEnvironment(),
    runTimeoutS: options.runTimeoutS,
  });
}

/** Testbed warnings repeat for every run (same topology): print each distinct one once. */
function warnOnce(): (message: string) => void {
  const seen = new Set<string>();
  return (m) => {
    if (seen.has(m)) return;
    seen.add(m);
    process.stderr.write(`migsim: testbed: ${m}\n`);
  };
}

/**
 * Testbed decisions are made before the run, from the topology (no live measurements), with the
 * same policy code and the same per-migration random stream as the simulator uses.
 */
async function decideBeforeRun(spec: RunSpec, i: number): Promise<PolicyPlan> {
  const policy = await resolvePolicy(spec.policy);
  return policy.decide(policyInput(spec, i, staticView(spec.topology, spec.network.routing)));
}
