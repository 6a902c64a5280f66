/**
 * The emulation backend: replays a RunSpec on a Mininet + Docker + CRIU testbed over SSH.
 * The policy decision is injected (`decide`), so this module depends on no policy code: the caller
 * runs the same policies as the simulator and hands their plans here. The testbed side is
 * driver/migsim_driver.py, uploaded with a JSON plan; its JSON lines become RunRecords/ProbeRecords.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { InputError } from "../../src/errors.ts";
import { compileTopology } from "../../src/network/topology/compile.ts";
import { Router } from "../../src/network/topology/routing.ts";
import type { PolicyPlan } from "../../src/policies/types.ts";
import type { Backend, ProbeRecord, RunRecord, RunResult, RunSpec } from "../../src/runspec.ts";
import { parseTestbedUrl, safeName, shellCommand, SshSession, type TestbedAddress } from "./ssh.ts";

export type DecideFn = (spec: RunSpec, migrationIndex: number) => Promise<PolicyPlan> | PolicyPlan;

export interface MininetBackendOptions {
  /** `ssh://user@host[:port]` */
  testbed: string;
  privateKeyFile: string;
  knownHostsFile?: string | undefined;
  /** pinned host key fingerprint `SHA256:...` (instead of known_hosts) */
  fingerprint?: string | undefined;
  decide: DecideFn;
  /** local busybox image on the testbed (setup-testbed.sh builds `migsim-busybox:1`) */
  image?: string | undefined;
  connectTimeoutMs?: number | undefined;
  /** overrides the run time limit computed from the spec, seconds */
  runTimeoutS?: number | undefined;
  /** driver warnings (e.g. "no netem"); default: ignored, they are also in `warnings` */
  onWarning?: ((message: string) => void) | undefined;
  /** clean the testbed up on Ctrl-C (SIGINT) while a run is in flight; default true */
  handleSigint?: boolean | undefined;
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

/** The driver sits beside this module in the source tree; the build (dist/) leaves it in backends/. */
function driverFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, "driver", "migsim_driver.py"),
    join(here, "..", "..", "..", "backends", "mininet", "driver", "migsim_driver.py")];
  const found = candidates.find((f) => existsSync(f));
  if (!found) throw new Error(`testbed driver not found (looked in ${candidates.join(", ")})`);
  return found;
}

/** Raw JSON lines of the driver, by type. */
interface DriverRecord {
  type: "record";
  index: number;
  container: string;
  source: string;
  destination: string;
  mode: RunRecord["mode"];
  transport: RunRecord["transport"];
  trigger_s: number;
  decision_s: number;
  key_retrieval_s: number;
  checkpoint_s: number;
  transfer_s: number;
  restore_s: number;
  downtime_s: number;
  total_s: number;
  checkpoint_bytes: number;
  transferred_bytes: number;
  rounds: number;
  converged: boolean;
  note: string;
  control_s: number;
  prepare_s: number;
  redirect_s: number;
}

/** Everything the driver reported for one run, beyond the records. */
export interface MininetRunDetails {
  warnings: string[];
  /** raw driver lines (phase details such as control-message times and CRIU counters) */
  lines: Record<string, unknown>[];
}

export class MininetBackend implements Backend {
  readonly name = "mininet";
  readonly address: TestbedAddress;
  /** details of the last execute() */
  lastRun: MininetRunDetails = { warnings: [], lines: [] };
  private session: SshSession | undefined;
  private remoteDir: string | undefined;

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
      await session.upload(`${dir}/migsim_driver.py`, readFileSync(driverFile()), 0o700);
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

  private async preflight(session: SshSession): Promise<void> {
    const py = await session.exec(shellCommand("test", "-x", "/usr/bin/python3"), { timeoutMs: 15_000 });
    if (py.code !== 0) {
      throw new InputError(`testbed ${this.address.url} has no /usr/bin/python3: apt-get install python3 mininet`);
    }
    const image = this.options.image ?? "migsim-busybox:1";
    if (!/^[A-Za-z0-9_.:/-]+$/.test(image)) throw new InputError(`invalid image name ${JSON.stringify(image)}`);
    const r = await session.exec(shellCommand("/usr/bin/python3", this.driverPath(), "preflight", "--image", image),
      { timeoutMs: 60_000 });
    const line = r.stdout.split("\n").find((l) => l.startsWith("{"));
    if (r.code !== 0 || !line) {
      throw new InputError(`testbed ${this.address.url}: preflight check failed: ${r.stderr.trim().split("\n").pop()}`);
    }
    const res = JSON.parse(line) as { missing: { what: string; fix: string }[] };
    if (res.missing.length > 0) {
      throw new InputError(`testbed ${this.address.url} is missing ` +
        res.missing.map((m) => `${m.what} (fix: ${m.fix})`).join("; "));
    }
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
    const planName = `plan-${safeName("cell", spec.cell.replace(/[^A-Za-z0-9_.-]/g, "_"))}-${spec.run}.json`;
    const planPath = `${this.remoteDir}/${planName}`;
    await session.upload(planPath, JSON.stringify({ spec, plans, options: { image: this.options.image } }));
    const limit = this.options.runTimeoutS ?? runTimeLimit(spec);
    const details: MininetRunDetails = { warnings: [], lines: [] };
    this.lastRun = details;
    const records: RunRecord[] = [];
    const probes: ProbeRecord[] = [];
    let rundir: string | undefined;
    let error: string | undefined;
    let cleaned = false;
    const router = new Router(compileTopology(spec.topology));

    const abort = new AbortController();
    let interrupted = false;
    const onSigint = () => {
      interrupted = true;
      abort.abort();
    };
    if (this.options.handleSigint !== false) process.once("SIGINT", onSigint);
    try {
      const cmd = shellCommand("/usr/bin/python3", this.driverPath(), "run", planPath, "--deadline", String(limit));
      const result = await session.exec(cmd, {
        timeoutMs: (limit + 60) * 1000,
        keepStdinOpen: true,
        signal: abort.signal,
        onLine: (text) => {
          if (!text.startsWith("{")) return;
          const line = JSON.parse(text) as Record<string, unknown> & { type: string };
          details.lines.push(line);
          switch (line.type) {
            case "start":
              rundir = String(line.rundir);
              break;
            case "warning":
              details.warnings.push(String(line.message));
              this.options.onWarning?.(String(line.message));
              break;
            case "record":
              records.push(toRunRecord(spec, plans, router, line as unknown as DriverRecord));
              break;
            case "probe":
              probes.push({
                experiment: spec.experiment, cell: spec.cell, backend: this.name, run: spec.run,
                from: String(line.from), to: String(line.to), sent_s: Number(line.sent_s), rtt_s: Number(line.rtt_s),
              });
              break;
            case "setup":
              for (const r of records) r.setup_s = Number(line.setup_s);
              break;
            case "error":
              error = String(line.message);
              break;
            case "cleaned":
              cleaned = true;
              break;
          }
        },
      });
      if (interrupted) throw new InputError("interrupted (Ctrl-C): the testbed run was stopped and cleaned up");
      if (error !== undefined) throw new InputError(`testbed run ${spec.cell}#${spec.run} failed: ${error}`);
      if (result.code !== 0) {
        throw new InputError(`testbed driver exited with ${result.code ?? result.signal}: ` +
          `${result.stderr.trim().split("\n").slice(-3).join(" | ")}`);
      }
      return { records, probes };
    } finally {
      process.removeListener("SIGINT", onSigint);
      // The driver cleans up on every exit path it sees; if it could not (killed, connection lost),
      // remove what its state file lists.
      if (!cleaned && rundir && this.session) {
        await this.session.exec(shellCommand("/usr/bin/python3", this.driverPath(), "cleanup", rundir),
          { timeoutMs: 60_000 }).catch(() => undefined);
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
  const router = new Router(compileTopology(spec.topology));
  let transfers = 0;
  for (const m of spec.migrations) {
    let slowest = Infinity;
    for (const c of m.candidates) if (c !== m.source) slowest = Math.min(slowest, router.route(m.source, c).bottleneck);
    if (!Number.isFinite(slowest)) slowest = 1e6;
    // Late TCP flows on this emulator can get a few percent of a busy link: allow 20x the ideal time.
    transfers += (m.container.checkpoint * 8 / slowest) * 20 + 30;
  }
  return Math.ceil(last + transfers + 90);
}

function validateForTestbed(spec: RunSpec): void {
  const field = (f: string) => ({ field: f });
  for (const h of [...spec.topology.hosts, ...spec.topology.switches]) safeName("node", h);
  spec.migrations.forEach((m, i) => {
    safeName("container", m.container.name);
    if (m.mode === "pre-copy" || m.mode === "post-copy") {
      throw new InputError(`mode ${m.mode} is not supported by the mininet backend: docker checkpoint has no ` +
        `CRIU pre-dump or lazy-pages option; use cold or stateless`, field(`migrations.${i}.mode`));
    }
  });
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
    throw new InputError(`policy ${spec.policy.name} chose destination ${JSON.stringify(plan.destination)}, ` +
      `which is not a host other than the source ${m.source}`, { field: `migrations.${i}` });
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
    setup_s: 0,
    rounds: r.rounds,
    converged: r.converged,
    note: [plan?.note, r.note].filter(Boolean).join("; "),
  };
}
