/**
 * The NetSoft 2019 migration protocol as a kernel process, with the JoWUA 2019 metrics:
 * trigger -> decision (policy plan; MTD key requests) -> MIGRATE (manager -> source) ->
 * checkpoint -> RESTART + checkpoint files (source -> destination) -> restore -> SUCCESS
 * (destination -> source) -> source stops its container -> traffic redirected.
 * Every message and file crosses the network model, so load on the path shows in every phase.
 * The four modes differ only in what is moved when and in where downtime starts and ends
 * (docs/migration.md has the definitions).
 */
import type { ProcessBody, Simulator, Waitable } from "../kernel/index.ts";
import type { Flow, NetworkModel } from "../network/network-model.ts";
import type { PolicyPlan, SetupMessage } from "../policies/policy-types.ts";
import type { CostParams, MigrationSpec, PhaseMarks, RunRecord, Transport } from "../formats/runspec.ts";
import { checkpointSeconds, restoreSeconds, wireBytes } from "./costs.ts";
import { formatMbps } from "../core/units.ts";
import { chainedSetUp } from "./setup-chain.ts";
import { type Connection, command, openConnection, sendBytes } from "./transport.ts";

/** CRIU's MAX_XFER_LEN (uffd.c): the largest range one lazy-pages request asks for */
const MAX_PULL_CHUNK = 4 << 20;
const PAGE_BYTES = 4096;

export type Phase =
  | "waiting for trigger"
  | "decision"
  | "set-up"
  | "key retrieval"
  | "MIGRATE"
  | "prepare"
  | "kill"
  | "checkpoint"
  | "connection"
  | "transfer"
  | "pre-copy round"
  | "stop-and-copy"
  | "restore"
  | "start"
  | "page pull"
  | "SUCCESS"
  | "done";

/** Where a migration is, for the horizon error message. */
export interface Progress {
  phase: Phase;
  flow: Flow | undefined;
}

/** What the protocol needs from the run around it. */
export interface MigrationEnv {
  readonly sim: Simulator;
  readonly model: NetworkModel;
  readonly costs: CostParams;
  readonly manager: string;
  /** runs the policy for migration `index` now (the decision instant) */
  decide(index: number): PolicyPlan;
  /** restores in progress per destination host (for the multi-container restore growth) */
  readonly restoring: Map<string, number>;
  /** moves the container's service traffic from source to destination */
  redirect(container: string, source: string, destination: string): void;
  /** re-keys under way or done, by period index, for plans that re-key once per period */
  readonly rekeys: Map<number, Waitable<unknown>>;
}

/** The part of a runs.csv row the protocol measures (the backend adds run identity). */
export type MigrationMeasures = Omit<RunRecord, "experiment" | "cell" | "backend" | "policy" | "run" | "seed">;

export interface MigrationResult {
  measures: MigrationMeasures;
  marks: PhaseMarks;
}

/** What a mode measures between MIGRATE and SUCCESS (seconds are durations, the rest instants). */
interface ModeOutcome {
  checkpointS: number;
  transferS: number;
  restoreS: number;
  prepareS: number;
  downStart: number;
  downEnd: number;
  checkpointed: number;
  transferred: number;
  restored: number;
  rounds: number;
  converged: boolean;
  /** why a pre-copy stopped early, for the record's note */
  note?: string;
}

/**
 * One migration's moves between MIGRATE and SUCCESS, shared by the modes: checkpoint costs,
 * the RESTART connection, file transfers (counting the wire bytes) and restores.
 */
class Steps {
  /** bytes put on the wire by every transfer so far */
  wire = 0;

  constructor(
    private readonly env: MigrationEnv,
    readonly m: MigrationSpec,
    private readonly destination: string,
    private readonly progress: Progress,
  ) {}

  get now(): number {
    return this.env.sim.now;
  }

  get costs(): CostParams {
    return this.env.costs;
  }

  /** Enters `phase` and spends `seconds` there (CPU time of CRIU, Docker, the hosts). */
  *spend(phase: Phase, seconds: number): ProcessBody<number> {
    this.progress.phase = phase;
    yield seconds;
    return seconds;
  }

  /** CRIU dumps `bytes` of the container. */
  checkpoint(phase: Phase, bytes: number): ProcessBody<number> {
    return this.spend(phase, checkpointSeconds(this.costs, bytes, this.m.mode === "post-copy" ? "post-copy" : "other"));
  }

  /**
   * Source -> destination connection carrying RESTART. Where RESTART is a remote command of its
   * own (`remoteCommand`: a stateless move, no copy follows) an SSH connection also pays the
   * command session's host time; a copy's connection pays the copy tool's start-up instead.
   */
  *connect(remoteCommand = false): ProcessBody<number> {
    this.progress.phase = "connection";
    let seconds = yield* openConnection(this.env.model, this.costs, this.m.transport, this.m.source, this.destination);
    // a zero wait is not yielded: it would reorder simultaneous events and change outputs
    if (remoteCommand && this.m.transport === "ssh" && this.costs.sshCommand > 0) seconds += yield* this.spend("connection", this.costs.sshCommand);
    return seconds;
  }

  /**
   * Source -> destination copy: the connection (RESTART), then the host time to start the copy
   * tool: the tcp transport's sender and receiver, or scp with its key exchange and authentication
   * (two different programs, so two costs); both are 0 in the paper's fit (a testbed profile sets them).
   */
  *openCopy(): ProcessBody<number> {
    let seconds = yield* this.connect();
    const setup = this.m.transport === "ssh" ? this.costs.sshSetup : this.costs.transferSetup;
    // a zero wait is not yielded: it would reorder simultaneous events and change outputs
    if (setup > 0) seconds += yield* this.spend("connection", setup);
    return seconds;
  }

  /**
   * Post-copy's background pull, as CRIU's lazy-pages daemon does it: the destination asks the
   * source for a range, the source sends it, the next request follows the answer. A request is
   * `postcopyChunk` bytes, one chunk larger after each answer with no fault in between, back to
   * one chunk when the restored container faults (every postcopyFaultInterval, or on every page
   * it dirties: one fault per page at its dirty rate). So each request pays the reverse path's
   * queue: beside flows that fill the destination -> source direction, the pull is bound by
   * round trips, not by the data path's rate. After the last page the daemon closes its session
   * with the page server, which on a testbed takes postcopyClose.
   */
  *pullPages(bytes: number): ProcessBody<number> {
    const t0 = this.now;
    const { postcopyChunk: step, postcopyFaultInterval, controlBytes } = this.costs;
    const dirty = this.m.container.dirtyRate;
    const faultEvery = dirty > 0 ? Math.min(postcopyFaultInterval, PAGE_BYTES / dirty) : postcopyFaultInterval;
    let left = bytes;
    let chunk = step;
    let lastFault = this.now;
    // every answer comes over the page server's one TCP connection
    const pageServer: Connection = { last: undefined };
    while (left > 0) {
      const n = Math.min(chunk, left);
      yield this.env.model.message(this.destination, this.m.source, controlBytes);
      // the page server's own TCP connection whatever carried the image: a byte stream (no files:
      // no tar framing, no SFTP requests)
      yield* this.send("page pull", n, { transport: "tcp", label: `pages:${this.m.container.name}`, files: 0, connection: pageServer });
      // the destination's lazy-pages daemon copies the answer into the process (a zero wait is not
      // yielded: it would reorder simultaneous events and change outputs)
      if (this.costs.postcopyRequestCpu > 0) yield this.costs.postcopyRequestCpu;
      left -= n;
      if (this.now - lastFault >= faultEvery) {
        chunk = step;
        lastFault = this.now;
      } else chunk = Math.min(chunk + step, MAX_PULL_CHUNK);
    }
    // the pull ends when the daemon's close handshake with the page server does (postcopyClose)
    if (this.costs.postcopyClose > 0) yield this.costs.postcopyClose;
    return this.now - t0;
  }

  /**
   * Post-copy: CRIU's lazy-pages daemon connects to the source's page server before the lazy
   * restore starts; a new TCP connection from the destination over the path of the moment (a
   * queue the flows fill towards the source delays it), counted in the restore.
   */
  *pageServerConnection(): ProcessBody<number> {
    this.progress.phase = "restore";
    const t0 = this.now;
    yield command(this.env.model, this.costs, this.destination, this.m.source);
    return this.now - t0;
  }

  /**
   * Sends `bytes` of checkpoint files (compressed and framed on the wire): by default the
   * checkpoint folder's files over the migration's transport.
   */
  *send(phase: Phase, bytes: number, via: { transport?: Transport; label?: string; files?: number; connection?: Connection } = {}): ProcessBody<number> {
    this.progress.phase = phase;
    const onWire = wireBytes(this.costs, bytes);
    this.wire += onWire;
    const { transport = this.m.transport, label = `checkpoint:${this.m.container.name}`, files = this.costs.checkpointFiles, connection } = via;
    return yield* sendBytes(this.env.model, this.costs, transport, this.m.source, this.destination, onWire, label, this.progress, files, connection);
  }

  /** CRIU restores `bytes` at the destination, slower while other restores run there. */
  *restore(phase: Phase, bytes: number): ProcessBody<number> {
    this.progress.phase = phase;
    const restoring = this.env.restoring;
    const k = (restoring.get(this.destination) ?? 0) + 1;
    restoring.set(this.destination, k);
    const d = restoreSeconds(this.costs, bytes, k, this.m.mode === "post-copy" ? "post-copy" : "other");
    yield d;
    restoring.set(this.destination, restoring.get(this.destination)! - 1);
    return d;
  }
}

/**
 * JoWUA's stateless clock: prepare (before the kill) -> kill -> SSH to the destination, remove
 * stale containers, remote start -> start. Downtime runs from the kill's start to the start's end.
 */
function* stateless(s: Steps): ProcessBody<ModeOutcome> {
  const { costs } = s;
  yield* s.spend("prepare", costs.statelessPrepare);
  const downStart = s.now;
  const checkpointS = yield* s.spend("kill", costs.killDuration);
  const checkpointed = s.now;
  const transferS = yield* s.connect(true);
  yield* s.spend("prepare", costs.statelessSwitchover);
  const transferred = s.now;
  const restoreS = yield* s.spend("start", costs.startDuration);
  const downEnd = s.now;
  return {
    checkpointS,
    transferS,
    restoreS,
    prepareS: costs.statelessPrepare + costs.statelessSwitchover,
    downStart,
    downEnd,
    checkpointed,
    transferred,
    restored: downEnd,
    rounds: 0,
    converged: true,
  };
}

/** Stop, checkpoint, connect (RESTART), send the image, restore: down from checkpoint to restore. */
function* cold(s: Steps): ProcessBody<ModeOutcome> {
  const image = s.m.container.checkpoint;
  const downStart = s.now;
  const checkpointS = yield* s.checkpoint("checkpoint", image);
  const checkpointed = s.now;
  let transferS = yield* s.openCopy();
  // the folder also holds CRIU's process images beyond the named checkpoint (imageOverhead)
  transferS += yield* s.send("transfer", image + s.costs.imageOverhead);
  const transferred = s.now;
  const restoreS = yield* s.restore("restore", image);
  const downEnd = s.now;
  return { checkpointS, transferS, restoreS, prepareS: 0, downStart, downEnd, checkpointed, transferred, restored: downEnd, rounds: 0, converged: true };
}

/**
 * Rounds while the container runs: dump (CRIU pre-dump) then send; the next round re-sends what
 * was dirtied meanwhile (never more than the container's page set). Then stop-and-copy of the
 * rest; the restore loads the whole image.
 */
function* preCopy(s: Steps): ProcessBody<ModeOutcome> {
  const { costs, m } = s;
  const image = m.container.checkpoint;
  let transferS = yield* s.openCopy();
  let checkpointS = 0;
  const cap = m.container.memory > 0 ? Math.min(m.container.memory, image) : image;
  let bytes = image;
  let dirty = 0;
  let rounds = 0;
  let converged = true;
  let note: string | undefined;
  for (;;) {
    const d = yield* s.checkpoint("pre-copy round", bytes);
    checkpointS += d;
    const t = yield* s.send("pre-copy round", bytes);
    transferS += t;
    rounds++;
    const lastRate = t > 0 ? (wireBytes(costs, bytes) * 8) / t : Infinity;
    dirty = Math.min(cap, m.container.dirtyRate * (d + t));
    if (dirty <= costs.precopyThreshold) break;
    if (rounds >= costs.precopyMaxRounds) {
      converged = false;
      const dirtyBps = m.container.dirtyRate * 8 * costs.compression;
      note =
        dirtyBps >= lastRate
          ? `pre-copy stopped at the round limit (${costs.precopyMaxRounds}): dirty rate ${formatMbps(dirtyBps)} on the wire >= path rate ${formatMbps(lastRate)}, the dirty set cannot shrink`
          : `pre-copy stopped at the round limit (${costs.precopyMaxRounds}) with ${dirty} B still dirty (threshold ${costs.precopyThreshold} B)`;
      break;
    }
    bytes = dirty;
  }
  const downStart = s.now;
  checkpointS += yield* s.checkpoint("stop-and-copy", dirty);
  const checkpointed = s.now;
  transferS += yield* s.send("stop-and-copy", dirty + costs.imageOverhead);
  const transferred = s.now;
  const restoreS = yield* s.restore("restore", image);
  const downEnd = s.now;
  return { checkpointS, transferS, restoreS, prepareS: 0, downStart, downEnd, checkpointed, transferred, restored: downEnd, rounds, converged, note };
}

/** Minimal state first (CRIU lazy pages), restore and resume, then the pages are pulled by request. */
function* postCopy(s: Steps): ProcessBody<ModeOutcome> {
  const image = s.m.container.checkpoint;
  const downStart = s.now;
  const minimal = Math.min(s.costs.postcopyMinimal, image);
  const checkpointS = yield* s.checkpoint("checkpoint", minimal);
  const checkpointed = s.now;
  let transferS = yield* s.openCopy();
  // the minimal image folder has files of its own (fewer than a whole dump's), each its SFTP requests
  transferS += yield* s.send("transfer", minimal, { files: s.costs.postcopyFiles });
  const restoreS = (yield* s.pageServerConnection()) + (yield* s.restore("restore", minimal));
  const downEnd = s.now;
  transferS += yield* s.pullPages(image - minimal);
  const transferred = s.now;
  return { checkpointS, transferS, restoreS, prepareS: 0, downStart, downEnd, checkpointed, transferred, restored: downEnd, rounds: 0, converged: true };
}

const MODES: Record<MigrationSpec["mode"], (s: Steps) => ProcessBody<ModeOutcome>> = {
  stateless,
  cold,
  "pre-copy": preCopy,
  "post-copy": postCopy,
};

interface Decision {
  plan: PolicyPlan;
  setupS: number;
  keyRetrieval: number;
}

/**
 * The policy's plan; MTD set-up: by default the manager re-keys before every migration (a fresh
 * secret and table is what moves the target), sending each host its table and key material over
 * an authenticated session, one host after the other; plan.rekey may batch it (docs/policies.md;
 * also reported alone as setup_s); the plan's
 * key requests one after the other from the source; then the computation (manager + plan:
 * hashing, share reconstruction, table decryption).
 */
function* decide(env: MigrationEnv, m: MigrationSpec, index: number, progress: Progress): ProcessBody<Decision> {
  const { sim, model, costs } = env;
  progress.phase = "decision";
  const plan = env.decide(index);
  progress.phase = "set-up";
  const setupStart = sim.now;
  yield* setUp(env, plan);
  const setupS = sim.now - setupStart;
  progress.phase = "key retrieval";
  const keysStart = sim.now;
  for (const kr of plan.keyRequests) {
    yield model.exchange(m.source, kr.host, kr.requestBytes, kr.responseBytes, { newConnection: kr.newConnection });
    if (costs.mtdSession > 0) yield costs.mtdSession;
  }
  const keyRetrieval = sim.now - keysStart;
  progress.phase = "decision";
  const compute = costs.decisionCompute + plan.computeSeconds;
  if (compute > 0) yield compute;
  return { plan, setupS, keyRetrieval };
}

/**
 * Runs one migration from its trigger instant (the process must be started when the trigger
 * fires). `progress` is updated as phases change.
 */
export function* migrationProcess(env: MigrationEnv, m: MigrationSpec, index: number, progress: Progress): ProcessBody<MigrationResult> {
  const { sim, model, costs } = env;
  const trigger = sim.now;
  const source = m.source;

  const { plan, setupS, keyRetrieval } = yield* decide(env, m, index, progress);
  const destination = plan.destination;
  const decided = sim.now;

  // MIGRATE and SUCCESS are commands over a new connection each
  progress.phase = "MIGRATE";
  if (env.manager !== source) yield command(model, costs, env.manager, source);
  let control = sim.now - decided;

  const steps = new Steps(env, m, destination, progress);
  const o = yield* MODES[m.mode](steps);

  progress.phase = "SUCCESS";
  const beforeSuccess = sim.now;
  yield command(model, costs, destination, source);
  control += sim.now - beforeSuccess;
  const success = sim.now;
  // The source stops its container (already stopped in every mode here: the final checkpoint
  // stopped it) and the controller redirects the service's traffic at once.
  env.redirect(m.container.name, source, destination);
  progress.phase = "done";
  progress.flow = undefined;

  const path = model.route(source, destination);
  let note = plan.note ?? "";
  if (o.note !== undefined) note = join(note, o.note);
  return {
    measures: {
      container: m.container.name,
      source,
      destination,
      trigger_s: trigger,
      decision_s: decided - trigger,
      key_retrieval_s: keyRetrieval,
      setup_s: setupS,
      checkpoint_s: o.checkpointS,
      transfer_s: o.transferS,
      restore_s: o.restoreS,
      downtime_s: o.downEnd - o.downStart,
      total_s: success - trigger,
      checkpoint_bytes: m.mode === "stateless" ? 0 : m.container.checkpoint,
      transferred_bytes: steps.wire,
      path_hops: path.hops,
      bottleneck_bps: path.bottleneck,
      mode: m.mode,
      transport: m.transport,
      rounds: o.rounds,
      converged: o.converged,
      note,
      control_s: control,
      prepare_s: o.prepareS,
      redirect_s: success,
    },
    marks: {
      container: m.container.name,
      trigger,
      decided,
      checkpointed: o.checkpointed,
      transferred: o.transferred,
      restored: o.restored,
      success,
      downStart: o.downStart,
      downEnd: o.downEnd,
    },
  };
}

function* setUp(env: MigrationEnv, plan: PolicyPlan): ProcessBody<void> {
  const { sim, model, costs } = env;
  // each set-up message is an SSH session that runs a command: its round trips, then its host time
  const exchange = (msg: SetupMessage): Waitable<number> => model.exchange(msg.from, msg.to, msg.bytes, costs.controlBytes, { newConnection: true, handshakeRtts: costs.sshHandshakeRtts });
  const session = function* (msg: SetupMessage): ProcessBody<void> {
    yield exchange(msg);
    yield costs.sshCommand;
  };
  const send = (msg: SetupMessage): Waitable<unknown> => (costs.sshCommand > 0 ? sim.process(session(msg), "set-up") : exchange(msg));
  // (the policy's list itself where it has no message to the manager itself: decisions share it)
  const messages = plan.setup.some((msg) => msg.from === msg.to) ? plan.setup.filter((msg) => msg.from !== msg.to) : plan.setup;
  const parallel = plan.rekey?.parallel ?? false;
  const every = plan.rekey?.every ?? 0;
  const sequential = function* (): ProcessBody<void> {
    for (const msg of messages) yield send(msg);
  };
  const all = (): Waitable<unknown> => (parallel ? sim.allOf(messages.map(send)) : sim.process(sequential(), "re-key"));
  if (every > 0) {
    const period = Math.floor(sim.now / every);
    let rekey = env.rekeys.get(period);
    if (!rekey) env.rekeys.set(period, (rekey = all()));
    if (!rekey.fired) yield rekey;
  } else if (parallel) {
    yield all();
  } else if (model.exchangeSeconds && costs.sshCommand === 0) {
    // (the default: each message an exchange the process waits for, nothing between two)
    yield* chainedSetUp(sim, model, costs, messages);
  } else {
    yield* sequential();
  }
}

function join(a: string, b: string): string {
  return a ? `${a}; ${b}` : b;
}
