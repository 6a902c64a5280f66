/**
 * The testbed host's state around a calibration or validation. Checkpoint and restore times follow
 * how busy the host is (docs/profiles.md: the same calibration fitted checkpoint-base 0.342 s on
 * an idle machine and 0.961 s under other work), so a profile and a validation report say what
 * the host ran and how loaded it was, and a busy host gets a warning before the measurements.
 */
import type { Backend, HostState } from "../formats/runspec.ts";
import { createBackend, type BackendOptions } from "./backend-registry.ts";

/**
 * Runs `body` on one testbed session (calibrate and validate run all their experiments on one
 * connection): the host described before (a busy one warned about) and after, the session closed
 * whatever happens. `machine` is the record of both ends (machineRecord).
 */
export async function onTestbedSession<T>(
  backendOptions: BackendOptions,
  what: string,
  log: (line: string) => void,
  body: (session: Backend, before: HostState | undefined) => Promise<T>,
): Promise<{ value: T; machine: Record<string, string> | undefined }> {
  const session = createBackend("mininet", backendOptions);
  try {
    const before = await session.host?.();
    const busy = before && busyWarning(before, what);
    if (busy) log(busy);
    const value = await body(session, before);
    const after = await session.host?.();
    return { value, machine: before && after ? machineRecord(before, after) : undefined };
  } finally {
    await session.close?.();
  }
}

/** A 1-minute load average above half the CPUs: other work shares the cores CRIU and Docker need. */
export function busyWarning(h: HostState, what: string): string | undefined {
  if (h.load1 <= h.cpus / 2) return undefined;
  return (
    `warning: the testbed host is busy (load average ${h.load1.toFixed(2)} over 1 min on ${h.cpus} CPUs): ` +
    `checkpoint and restore times measured now come out slower than on an idle host; ${what} is best run with nothing else on the machine`
  );
}

/** The profile's `machine` block: what the host runs and its load at the start and the end. */
export function machineRecord(before: HostState, after: HostState): Record<string, string> {
  return {
    kernel: before.kernel,
    cpu: `${before.cpus} x ${before.cpu}`,
    criu: before.criu,
    "load-average": `${before.load1.toFixed(2)} at the start, ${after.load1.toFixed(2)} at the end (1 min, ${before.cpus} CPUs)`,
  };
}

/** Where the validation host differs from the one the profile was fitted on (kernel, CRIU, CPU). */
export function machineDifferences(profileMachine: Readonly<Record<string, string>> | undefined, now: HostState): string[] {
  if (!profileMachine) return [];
  const current = machineRecord(now, now);
  return (["kernel", "criu", "cpu"] as const)
    .filter((k) => profileMachine[k] !== undefined && profileMachine[k] !== current[k])
    .map((k) => `${k}: profile ${profileMachine[k]}, testbed now ${current[k]}`);
}
