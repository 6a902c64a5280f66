/**
 * The emulation backend: replays a RunSpec on a Mininet + Docker + CRIU testbed over SSH.
 * The policy decision is injected (`decide`), so this module depends on no policy code: the caller
 * runs the same policies as the simulator and hands their plans here. The testbed side is
 * driver/migsim_driver.py, uploaded with a JSON plan; its JSON lines become RunRecords/ProbeRecords.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { InputError } from "../../src/core/errors.ts";
import type { Router } from "../../src/network/topology/routing.ts";
import { routerOf } from "../../src/network/topology/shared.ts";
import type { PolicyPlan } from "../../src/policies/policy-types.ts";
import type { Backend, HostState, ProbeRecord, RunFailure, RunRecord, RunResult, RunSpec } from "../../src/formats/runspec.ts";
import { DriverHostSchema, DriverPreflightSchema, parseDriverLine, TESTBED_IMAGE, type DriverLine, type DriverPlan, type DriverRecord } from "../../src/formats/driver.ts";
import { shellCommand } from "../../src/core/shell.ts";
import { type ExecResult, parseTestbedUrl, safeName, SshCommandTimeout, SshSession, type TestbedAddress } from "./ssh.ts";

export type DecideFn = (spec: RunSpec, migrationIndex: number) => Promise<PolicyPlan> | PolicyPlan;

export interface MininetBackendOptions {
  /** `ssh://user@host[:port]` */
  testbed: string;
  privateKeyFile: string;
  knownHostsFile?: string | undefined;
  /** pinned host key fingerprint `SHA256:...` (instead of known_hosts) */
  fingerprint?: string | undefined;
  decide: DecideFn;
  /** local busybox image on the testbed (default TESTBED_IMAGE, which setup-testbed.sh builds, with the live workload) */
  image?: string | undefined;
  connectTimeoutMs?: number | undefined;
  /** overrides the run time limit computed from the spec, seconds */
  runTimeoutS?: number | undefined;
  /** driver warnings (e.g. "no netem"); default: ignored, they are also in `warnings` */
  onWarning?: ((message: string) => void) | undefined;
  /** clean the testbed up on Ctrl-C (SIGINT) while a run is in flight; default true */
  handleSigint?: boolean | undefined;
  /** seconds the driver gets to clean up and say `cleaned` once this side gave up on a run (default 90) */
  cleanupGraceS?: number | undefined;
  /** For the testbed's own tests only (see FaultInjection). */
  faultInjection?: FaultInjection | undefined;
}

/**
 * A fault the testbed injects on purpose, to prove that a hang is undone: "criu-hang" makes the
 * testbed's CRIU block in the checkpoint the way a hung `criu dump` does (setup-testbed.sh's CRIU
 * wrapper), in the given runs (all when `runs` is absent). From the environment:
 * MIGSIM_TESTBED_FAULT=criu-hang or criu-hang:run=0,2.
 */
export interface FaultInjection {
  kind: "criu-hang";
  runs?: number[] | undefined;
}

export function faultFromEnvironment(env: NodeJS.ProcessEnv = process.env): FaultInjection | undefined {
  const text = env.MIGSIM_TESTBED_FAULT;
  if (!text) return undefined;
  const m = text.match(/^criu-hang(?::run=(\d+(?:,\d+)*))?$/);
  if (!m) throw new InputError(`MIGSIM_TESTBED_FAULT: expected criu-hang or criu-hang:run=N[,N...], got ${JSON.stringify(text)}`);
  return { kind: "criu-hang", runs: m[1]?.split(",").map(Number) };
}

/** What the default set-up (backends/mininet/setup-testbed.sh) writes for clients. */
export const DEFAULT_TESTBED_STATE = "/var/lib/migsim-testbed";

export interface TestbedCredentials {
  testbed: string;
  privateKeyFile: string;
  knownHostsFile: string;
}

/**
 * The local testbed, if one is configured: `MIGSIM_TESTBED` (with MIGSIM_TESTBED_KEY and
 * MIGSIM_TESTBED_KNOWN_HOSTS, defaulting to the files setup-testbed.sh writes), or the address
 * file setup-testbed.sh writes.
 */
export function testbedFromEnvironment(env: NodeJS.ProcessEnv = process.env): TestbedCredentials | undefined {
  const state = env.MIGSIM_TESTBED_STATE ?? DEFAULT_TESTBED_STATE;
  const addressFile = join(state, "address");
  const testbed = env.MIGSIM_TESTBED ?? (existsSync(addressFile) ? readFileSync(addressFile, "utf8").trim() : "");
  if (!testbed) return undefined;
  return {
    testbed,
    privateKeyFile: env.MIGSIM_TESTBED_KEY ?? join(state, "client_ed25519"),
    knownHostsFile: env.MIGSIM_TESTBED_KNOWN_HOSTS ?? join(state, "known_hosts"),
  };
}

/** The driver's folder sits beside this module in the source tree; the build (dist/) leaves it in backends/. */
function driverDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, "driver"), join(here, "..", "..", "..", "backends", "mininet", "driver")];
  const found = candidates.find((d) => existsSync(join(d, "migsim_driver.py")));
  if (!found) throw new Error(`testbed driver not found (looked in ${candidates.join(", ")})`);
  return found;
}

/** The driver's modules (uploaded together: migsim_driver.py imports the others) and the JSON Schemas it checks against. */
function driverFiles(): { name: string; data: Buffer }[] {
  const dir = driverDir();
  const modules = readdirSync(dir)
    .filter((f) => /^[a-z_]+\.py$/.test(f))
    .sort();
  const schemas = readdirSync(join(dir, DRIVER_SCHEMAS))
    .filter((f) => /^[a-z]+\.schema\.json$/.test(f))
    .sort()
    .map((f) => `${DRIVER_SCHEMAS}/${f}`);
  return [...modules, ...schemas].map((name) => ({ name, data: readFileSync(join(dir, name)) }));
}

/** The driver's schema folder (driver/contract.py reads it beside itself). */
const DRIVER_SCHEMAS = "schemas";

/** Everything the driver reported for one run, beyond the records. */
export interface MininetRunDetails {
  warnings: string[];
  /** raw driver lines (phase details such as control-message times and CRIU counters) */
  lines: Record<string, unknown>[];
}

export class MininetBackend implements Backend {
  readonly name = "mininet";
  readonly runsCanFail = true;
  readonly oneRunAtATime = true;
  readonly address: TestbedAddress;
  /** details of the last execute() */
  lastRun: MininetRunDetails = { warnings: [], lines: [] };
  private session: SshSession | undefined;
  private remoteDir: string | undefined;
  /** live modes this testbed cannot run, with the preflight's one-line reason */
  private refusedModes = new Map<string, string>();

  constructor(private readonly options: MininetBackendOptions) {
    this.address = parseTestbedUrl(options.testbed);
  }

  /** Connects, checks the testbed has what runs need, uploads the driver. Idempotent. */
  async connect(): Promise<SshSession> {
    if (this.session) return this.session;
    const session = await SshSession.connect(this.address, {
      privateKeyFile: this.options.privateKeyFile,
      knownHostsFile: this.options.knownHostsFile,
      fingerprint: this.options.fingerprint,
      connectTimeoutMs: this.options.connectTimeoutMs,
    });
    try {
      const mk = await session.exec(shellCommand("mktemp", "-d", "/tmp/migsim-tb-XXXXXXXX"), { timeoutMs: 15_000 });
      const dir = mk.stdout.trim();
      if (mk.code !== 0 || !/^\/tmp\/migsim-tb-[A-Za-z0-9]{8}$/.test(dir)) {
        throw new InputError(`testbed ${this.address.url}: cannot create a work folder: ${mk.stderr.trim()}`);
      }
      this.remoteDir = dir;
      const mkSchemas = await session.exec(shellCommand("mkdir", "--", `${dir}/${DRIVER_SCHEMAS}`), { timeoutMs: 15_000 });
      if (mkSchemas.code !== 0) throw new InputError(`testbed ${this.address.url}: cannot create ${dir}/${DRIVER_SCHEMAS}: ${mkSchemas.stderr.trim()}`);
      for (const f of driverFiles()) await session.upload(`${dir}/${f.name}`, f.data, 0o700);
      await this.preflight(session);
    } catch (e) {
      if (this.remoteDir) {
        await session.exec(shellCommand("rm", "-rf", "--", this.remoteDir), { timeoutMs: 15_000 }).catch(() => undefined);
        this.remoteDir = undefined;
      }
      session.close();
      throw e;
    }
    this.session = session;
    return session;
  }

  /** Live modes this testbed cannot run, with the preflight's one-line reason (connects first). */
  async unavailableModes(): Promise<ReadonlyMap<string, string>> {
    await this.connect();
    return this.refusedModes;
  }

  private async preflight(session: SshSession): Promise<void> {
    const py = await session.exec(shellCommand("test", "-x", "/usr/bin/python3"), { timeoutMs: 15_000 });
    if (py.code !== 0) {
      throw new InputError(`testbed ${this.address.url} has no /usr/bin/python3: apt-get install python3 mininet`);
    }
    const image = this.options.image ?? TESTBED_IMAGE;
    if (!/^[A-Za-z0-9_.:/-]+$/.test(image)) throw new InputError(`invalid image name ${JSON.stringify(image)}`);
    const r = await session.exec(shellCommand("/usr/bin/python3", this.driverPath(), "preflight", "--image", image), { timeoutMs: 60_000 });
    const line = r.stdout.split("\n").find((l) => l.startsWith("{"));
    if (r.code !== 0 || !line) {
      throw new InputError(`testbed ${this.address.url}: preflight check failed: ${r.stderr.trim().split("\n").pop()}`);
    }
    const res = parseDriverLine(line, DriverPreflightSchema);
    if (res.missing.length > 0) {
      throw new InputError(`testbed ${this.address.url} is missing ` + res.missing.map((m) => `${m.what} (fix: ${m.fix})`).join("; "));
    }
    this.refusedModes = new Map(Object.entries(res.modes ?? {}).filter((e): e is [string, string] => typeof e[1] === "string"));
  }

  async host(): Promise<HostState> {
    const session = await this.connect();
    const r = await session.exec(shellCommand("/usr/bin/python3", this.driverPath(), "host"), { timeoutMs: 15_000 });
    const line = r.stdout.split("\n").find((l) => l.startsWith("{"));
    if (r.code !== 0 || !line) throw new Error(`testbed ${this.address.url}: cannot describe the host: ${r.stderr.trim().split("\n").pop()}`);
    const { type: _type, ...host } = parseDriverLine(line, DriverHostSchema);
    return host;
  }

  private driverPath(): string {
    if (!this.remoteDir) throw new Error("not connected");
    return `${this.remoteDir}/migsim_driver.py`;
  }

  /** Removes the uploaded files and closes the connection. */
  async close(): Promise<void> {
    if (!this.session) return;
    if (this.remoteDir) {
      await this.session.exec(shellCommand("rm", "-rf", "--", this.remoteDir), { timeoutMs: 15_000 }).catch(() => undefined);
    }
    this.session.close();
    this.session = undefined;
    this.remoteDir = undefined;
  }

  async execute(spec: RunSpec): Promise<RunResult> {
    validateForTestbed(spec);
    const plans: PolicyPlan[] = [];
    for (let i = 0; i < spec.migrations.length; i++) {
      const plan = await this.options.decide(spec, i);
      checkPlan(spec, i, plan);
      plans.push(plan);
    }
    const session = await this.connect();
    spec.migrations.forEach((m, i) => {
      const why = this.refusedModes.get(m.mode);
      if (why) throw new InputError(`testbed ${this.address.url} cannot run mode ${m.mode}: ${why}`, { field: `migrations.${i}.mode` });
    });
    const planName = `plan-${safeName("cell", spec.cell.replace(/[^A-Za-z0-9_.-]/g, "_"))}-${spec.run}.json`;
    const planPath = `${this.remoteDir}/${planName}`;
    const fault = this.options.faultInjection;
    const inject = fault && (fault.runs === undefined || fault.runs.includes(spec.run)) ? fault.kind : undefined;
    const plan: DriverPlan = { spec, plans, options: { image: this.options.image ?? TESTBED_IMAGE, faultInjection: inject } };
    await session.upload(planPath, JSON.stringify(plan));
    const limit = this.options.runTimeoutS ?? runTimeLimit(spec);
    const graceS = this.options.cleanupGraceS ?? 90;
    const details: MininetRunDetails = { warnings: [], lines: [] };
    this.lastRun = details;
    const records: RunRecord[] = [];
    const probes: ProbeRecord[] = [];
    let rundir: string | undefined;
    let error: { message: string; phase: string; migration: number | null } | undefined;
    let contractError: Error | undefined;
    let cleaned = false;
    const router = routerOf(spec.topology);
    const censored = new Map<number, { phase: string; elapsed_s: number; bytes_moved: number }>();
    const failure = (phase: string, message: string, migration = -1): RunResult => {
      const c = censored.get(migration);
      return {
        records: [],
        probes: [],
        failure: {
          experiment: spec.experiment,
          cell: spec.cell,
          backend: this.name,
          policy: spec.policy.name,
          run: spec.run,
          seed: spec.seed,
          migration,
          phase: c?.phase ?? phase,
          message,
          ...(c ? { censored_after_s: c.elapsed_s, bytes_moved: c.bytes_moved } : {}),
        } satisfies RunFailure,
      };
    };

    const abort = new AbortController();
    let interrupted = false;
    const onSigint = () => {
      interrupted = true;
      abort.abort();
    };
    if (this.options.handleSigint !== false) process.once("SIGINT", onSigint);
    try {
      const cmd = shellCommand("/usr/bin/python3", this.driverPath(), "run", planPath, "--deadline", String(limit));
      let result: ExecResult;
      try {
        result = await session.exec(cmd, {
          timeoutMs: (limit + 60) * 1000,
          keepStdinOpen: true,
          signal: abort.signal,
          // On Ctrl-C or this side's timeout the driver is told (stdin EOF, SIGTERM) and gets time to
          // release containers and tear the network down; its `cleaned` line says it did.
          stopGraceMs: graceS * 1000,
          onLine: (text) => {
            if (!text.startsWith("{")) return;
            let line: DriverLine;
            try {
              line = parseDriverLine(text);
            } catch (e) {
              contractError ??= e as Error;
              return;
            }
            details.lines.push(line as Record<string, unknown>);
            switch (line.type) {
              case "start":
                rundir = line.rundir;
                break;
              case "warning":
                details.warnings.push(line.message);
                this.options.onWarning?.(line.message);
                break;
              case "record":
                records.push(toRunRecord(spec, plans, router, line));
                break;
              case "probe":
                probes.push({
                  experiment: spec.experiment,
                  cell: spec.cell,
                  backend: this.name,
                  run: spec.run,
                  from: line.from,
                  to: line.to,
                  sent_s: line.sent_s,
                  rtt_s: line.rtt_s,
                });
                break;
              case "error":
                error = line;
                break;
              case "censored":
                censored.set(line.migration, line);
                break;
              case "cleaned":
                cleaned = true;
                break;
            }
          },
        });
      } catch (e) {
        if (!(e instanceof SshCommandTimeout) || interrupted) throw e;
        return failure(
          "deadline",
          `the testbed run did not end within ${limit + 60} s (its deadline ${limit} s + 60 s)` +
            (cleaned ? "; the driver cleaned up" : "; the driver did not confirm its clean-up, removed from its state file"),
        );
      }
      if (interrupted) throw new InputError("interrupted (Ctrl-C): the testbed run was stopped and cleaned up");
      if (contractError) throw contractError;
      if (error !== undefined) {
        return failure(error.phase, `testbed run ${spec.cell}#${spec.run} failed: ${error.message}`, error.migration ?? -1);
      }
      if (result.code !== 0) {
        return failure("driver", `testbed driver exited with ${result.code ?? result.signal}: ` + `${result.stderr.trim().split("\n").slice(-3).join(" | ")}`);
      }
      return { records, probes };
    } finally {
      process.removeListener("SIGINT", onSigint);
      // The driver cleans up on every exit path it sees; if it could not (killed, connection lost),
      // remove what its state file lists (that stops a driver still running, and releases containers).
      if (!cleaned && rundir && this.session) {
        await this.session.exec(shellCommand("/usr/bin/python3", this.driverPath(), "cleanup", rundir), { timeoutMs: graceS * 1000 }).catch(() => undefined);
      }
      await session.exec(shellCommand("rm", "-f", "--", planPath), { timeoutMs: 15_000 }).catch(() => undefined);
      if (interrupted) {
        await this.close();
        // Default Ctrl-C behaviour once the testbed is clean.
        process.kill(process.pid, "SIGINT");
      }
    }
  }
}

/** Seconds the driver gets for one run: the last scheduled event, plus transfers at the bottleneck. */
export function runTimeLimit(spec: RunSpec): number {
  let last = 0;
  for (const m of spec.migrations) last = Math.max(last, m.trigger.kind === "at" ? m.trigger.at : spec.horizon);
  for (const p of spec.probes) last = Math.max(last, p.at + p.every * p.count);
  const router = routerOf(spec.topology);
  let transfers = 0;
  for (const m of spec.migrations) {
    let slowest = Infinity;
    for (const c of m.candidates) if (c !== m.source) slowest = Math.min(slowest, router.route(m.source, c).bottleneck);
    if (!Number.isFinite(slowest)) slowest = 1e6;
    // Late TCP flows on this emulator can get a few percent of a busy link: allow 20x the ideal time.
    transfers += ((m.container.checkpoint * 8) / slowest) * 20 + 30;
  }
  return Math.ceil(last + transfers + 90);
}

function validateForTestbed(spec: RunSpec): void {
  const field = (f: string) => ({ field: f });
  for (const h of [...spec.topology.hosts, ...spec.topology.switches]) safeName("node", h);
  for (const m of spec.migrations) safeName("container", m.container.name);
  for (const [i, t] of spec.traffic.entries()) {
    if (t.kind === "udp" && !(t.rate && t.rate > 0)) {
      throw new InputError("udp traffic needs a rate", field(`traffic.${i}.rate`));
    }
  }
}

function checkPlan(spec: RunSpec, i: number, plan: PolicyPlan): void {
  const hosts = new Set(spec.topology.hosts);
  const m = spec.migrations[i]!;
  if (!hosts.has(plan.destination) || plan.destination === m.source) {
    throw new InputError(`policy ${spec.policy.name} chose destination ${JSON.stringify(plan.destination)}, ` + `which is not a host other than the source ${m.source}`, { field: `migrations.${i}` });
  }
  for (const k of plan.keyRequests) {
    if (!hosts.has(k.host)) throw new InputError(`key request to unknown host ${k.host}`, { field: `migrations.${i}` });
  }
  for (const s of plan.setup) {
    if (!hosts.has(s.from) || !hosts.has(s.to)) {
      throw new InputError(`set-up message ${s.from} -> ${s.to} names an unknown host`, { field: `migrations.${i}` });
    }
  }
}

function toRunRecord(spec: RunSpec, plans: PolicyPlan[], router: Router, r: DriverRecord): RunRecord {
  const path = router.route(r.source, r.destination);
  const plan = plans[r.index];
  // Columns some versions of RunRecord add after the contract ones (MIGRATE + SUCCESS time,
  // fixed stateless steps, when the service's traffic was redirected).
  const extra = { control_s: r.control_s, prepare_s: r.prepare_s, redirect_s: r.redirect_s };
  return {
    ...extra,
    experiment: spec.experiment,
    cell: spec.cell,
    backend: "mininet",
    policy: spec.policy.name,
    run: spec.run,
    seed: spec.seed,
    container: r.container,
    source: r.source,
    destination: r.destination,
    trigger_s: r.trigger_s,
    decision_s: r.decision_s,
    key_retrieval_s: r.key_retrieval_s,
    checkpoint_s: r.checkpoint_s,
    transfer_s: r.transfer_s,
    restore_s: r.restore_s,
    downtime_s: r.downtime_s,
    total_s: r.total_s,
    checkpoint_bytes: r.checkpoint_bytes,
    transferred_bytes: r.transferred_bytes,
    path_hops: path.hops,
    bottleneck_bps: path.bottleneck,
    mode: r.mode,
    transport: r.transport,
    setup_s: r.setup_s,
    rounds: r.rounds,
    converged: r.converged,
    note: [plan?.note, r.note].filter(Boolean).join("; "),
  };
}
