/**
 * The data that crosses from planning to backends and back: a RunSpec (everything one run needs,
 * fully resolved, serialisable) and the records a run produces (the rows of runs.csv and probes.csv).
 * Both backends take the same RunSpec; nothing here depends on how a run is executed.
 */
import type { NetworkParams } from "../network/network-model.ts";
import type { Topology } from "../network/topology/topology-types.ts";

import type { MigrationMode, Transport } from "./modes.ts";
import type { ProbeRecord, RunFailure, RunRecord } from "./records.ts";

export type { MigrationMode, Transport } from "./modes.ts";
export type { ProbeRecord, RunFailure, RunRecord } from "./records.ts";

export interface ContainerSpec {
  name: string;
  /** checkpoint image size, bytes (cold: all of it; pre-copy: the first round) */
  checkpoint: number;
  /** memory of the container, bytes (pre/post-copy page set) */
  memory: number;
  /** bytes per second re-dirtied while the container runs (pre-copy) */
  dirtyRate: number;
}

export type TriggerSpec = { kind: "at"; at: number } | { kind: "port"; port: string; above: number; samples: number } | { kind: "switch"; switch: string; above: number; samples: number };

export interface MigrationSpec {
  container: ContainerSpec;
  source: string;
  candidates: string[];
  destination?: string | undefined;
  trigger: TriggerSpec;
  mode: MigrationMode;
  transport: Transport;
}

export interface TrafficSpec {
  from: string;
  to: string;
  kind: "tcp" | "udp";
  /** udp rate, bits per second */
  rate?: number | undefined;
  /** bytes for a finite tcp transfer; undefined = endless */
  bytes?: number | undefined;
  start: number;
  stop?: number | undefined;
  /** name of the container this flow talks to: redirected with it when it migrates */
  service?: string | undefined;
}

export interface ProbeSpec {
  from: string;
  to: string;
  at: number;
  bytes: number;
  every: number;
  count: number;
  /** open a new connection for every request (else one connection, opened once) */
  newConnection: boolean;
}

export interface PolicySpec {
  name: string;
  params: Record<string, unknown>;
  /** absolute path of a plugin module, for user policies */
  plugin?: string | undefined;
}

/** Cost-model parameters (all in base units); each has a documented default. */
export interface CostParams {
  /** seconds of fixed work per checkpoint (docker checkpoint create) */
  checkpointBase: number;
  /** bytes per second the checkpoint is written at */
  checkpointRate: number;
  restoreBase: number;
  restoreRate: number;
  /** growth of restore time per additional container restored at once (fraction) */
  restorePerContainer: number;
  /** compressed size / raw size of the checkpoint archive */
  compression: number;
  /** SSH: round trips before data flows (TCP + key exchange + auth + SFTP open) */
  sshHandshakeRtts: number;
  /** SSH: cipher throughput cap, bits per second */
  sshCipherRate: number;
  /** files in a checkpoint folder (SFTP pays its per-file requests for each) */
  checkpointFiles: number;
  /** SFTP: request/response round trips per file (open, close, attributes...) over the open connection */
  sftpFileRtts: number;
  /** SFTP: host time per file beyond its round trips, seconds */
  sftpFileCpu: number;
  /** seconds for the policy decision itself (computation at the manager) */
  decisionCompute: number;
  /** stateless: kill and start durations, seconds */
  killDuration: number;
  startDuration: number;
  /** stateless: fixed preparation before the kill (SSH connection, public-key auth), seconds */
  statelessPrepare: number;
  /** stateless: fixed work between kill and start (removing stale containers, remote start), seconds */
  statelessSwitchover: number;
  /** pre-copy: stop when the remaining dirty set is below this many bytes */
  precopyThreshold: number;
  precopyMaxRounds: number;
  /** post-copy: bytes of minimal state moved before restore */
  postcopyMinimal: number;
  /** files of post-copy's minimal image: the SFTP requests of its copy over ssh */
  postcopyFiles: number;
  /**
   * post-copy: bytes of the first page request of the background pull, and the step by which
   * each request without a fault since grows (CRIU lazy-pages: 64 KiB, up to 4 MiB)
   */
  postcopyChunk: number;
  /**
   * post-copy: host time per page request of the background pull beyond the network (the
   * lazy-pages daemon handling the fault, reading the answer, copying it into the process), seconds
   */
  postcopyRequestCpu: number;
  /**
   * post-copy: seconds from the last page to the end of the pull: the lazy-pages daemon's close
   * handshake with the page server (its flush request and the server's answer), measured on a testbed
   */
  postcopyClose: number;
  /** post-copy: seconds between the restored container's faults on pages not pulled yet (each resets the request size) */
  postcopyFaultInterval: number;
  /**
   * fixed cost of one MTD key request beyond its network round trips: the key holder
   * authenticating the source and deriving its answer, seconds
   */
  mtdSession: number;
  /**
   * host time to start a checkpoint copy over the `tcp` transport (the sender's and the receiver's
   * processes, their sockets) before its first byte, beyond the connection's round trips, seconds
   */
  transferSetup: number;
  /**
   * host time to start a checkpoint copy over `ssh` (scp, key exchange and authentication, the
   * SFTP server) beyond the handshake's round trips, seconds; in place of transferSetup
   */
  sshSetup: number;
  /**
   * host time of an SSH login that runs a remote command (the stateless RESTART, an MTD set-up
   * session) beyond its round trips: client start, key exchange, authentication, the session and
   * the command's shell, seconds. A copy's own SSH start-up is sshSetup.
   */
  sshCommand: number;
  /** post-copy: fixed cost of dumping the minimal state for a lazy restore (CRIU under runc), seconds */
  postcopyCheckpointBase: number;
  /** post-copy: fixed cost of the lazy restore up to the container running again, seconds */
  postcopyRestoreBase: number;
  /** bytes a checkpoint folder holds beyond the container's named checkpoint (CRIU's process images) */
  imageOverhead: number;
  /** control message sizes (MIGRATE, RESTART, SUCCESS), bytes */
  controlBytes: number;
}

export interface MeasurementParams {
  /** collector polling period, seconds */
  period: number;
}

export interface RunSpec {
  experiment: string;
  /** cell id: a stable string from the sweep axis values */
  cell: string;
  /** index of the cell in the plan (for ordering outputs) */
  cellIndex: number;
  run: number;
  /** the run's seed (derived from the experiment seed and the run index: random.ts runSeed) */
  seed: number;
  /** sweep axis values as written in the file, column name -> value */
  axes: Record<string, string>;
  topology: Topology;
  network: NetworkParams;
  costs: CostParams;
  measurement: MeasurementParams;
  traffic: TrafficSpec[];
  migrations: MigrationSpec[];
  probes: ProbeSpec[];
  policy: PolicySpec;
  /** manager host (sends MIGRATE, holds the MTD secret) */
  manager: string;
  /** simulated time limit, seconds */
  horizon: number;
}

/** A time series sample for plots (Fig. 4: host bandwidth around a migration). */
export interface TraceSample {
  t: number;
  host: string;
  /** bits per second sent + received at the host over the last period */
  bps: number;
}

/** Phase boundaries of a migration, for marking plots. */
export interface PhaseMarks {
  container: string;
  trigger: number;
  decided: number;
  checkpointed: number;
  transferred: number;
  restored: number;
  success: number;
  /** downtime interval (service stopped .. resumed), absolute seconds */
  downStart: number;
  downEnd: number;
}

export interface RunResult {
  records: RunRecord[];
  probes: ProbeRecord[];
  /** set when the run failed (its records and probes are then empty) */
  failure?: RunFailure;
  /** optional host bandwidth trace and phase marks (collected on request) */
  trace?: TraceSample[];
  marks?: PhaseMarks[];
}

/** What a testbed host runs and how busy it is (checkpoint and restore times depend on both). */
export interface HostState {
  kernel: string;
  cpus: number;
  /** CPU model name */
  cpu: string;
  /** the CRIU the testbed proved at set-up ("" if none) */
  criu: string;
  /** load average over 1 and 5 minutes */
  load1: number;
  load5: number;
}

/** How far a run in flight has come: what a backend reports during a long run. */
export interface RunProgress {
  /** simulated seconds so far (the simulator's clock) */
  simulated: number;
  /** the run's horizon, seconds of simulated time */
  horizon: number;
  /** migrations finished so far, and in the run */
  migrationsDone: number;
  migrations: number;
}

/** What every backend implements. */
export interface Backend {
  readonly name: string;
  /** runs can fail one by one (a testbed): the others go on, and the output folder lists them in failed.csv */
  readonly runsCanFail?: boolean;
  /** its runs share one machine (a testbed) and execute one at a time, whatever --jobs says */
  readonly oneRunAtATime?: boolean;
  /**
   * Runs one spec. A backend that can tell how far a long run has come calls `onProgress` now and
   * then during it (the simulator: about every 100 ms of wall time; never for a short run).
   */
  execute(spec: RunSpec, onProgress?: (progress: RunProgress) => void): Promise<RunResult> | RunResult;
  /** the machine the runs execute on, now (testbed backends) */
  host?(): Promise<HostState>;
  /**
   * Migration modes this backend cannot run, each with its one-line reason (a testbed's preflight:
   * e.g. pre-copy on a kernel without soft-dirty tracking); asked once, before the first run.
   */
  unavailableModes?(): Promise<ReadonlyMap<string, string>>;
  /** releases connections (the testbed's SSH session); called once when a command is done */
  close?(): Promise<void>;
}
