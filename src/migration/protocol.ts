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
import type { Flow, NetworkModel } from "../network/model.ts";
import type { PolicyPlan, SetupMessage } from "../policies/types.ts";
import type { CostParams, MigrationSpec, PhaseMarks, RunRecord } from "../runspec.ts";
import { checkpointSeconds, restoreSeconds, wireBytes } from "./costs.ts";
import { openConnection, sendBytes } from "./transport.ts";

export type Phase =
  | "waiting for trigger" | "decision" | "set-up" | "key retrieval" | "MIGRATE" | "prepare" | "kill" | "checkpoint"
  | "connection" | "transfer" | "pre-copy round" | "stop-and-copy" | "restore" | "start" | "page pull"
  | "SUCCESS" | "done";

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

/**
 * Runs one migration from its trigger instant (the process must be started when the trigger
 * fires). `progress` is updated as phases change.
 */
export function* migrationProcess(env: MigrationEnv, m: MigrationSpec, index: number, progress: Progress): ProcessBody<MigrationResult> {
  const { sim, model, costs } = env;
  const trigger = sim.now;
  const source = m.source;

  // Decision: the policy's plan, then its key requests one after the other from the source,
  // then the computation (manager + plan: hashing, share reconstruction, table decryption).
  progress.phase = "decision";
  const plan = env.decide(index);
  const destination = plan.destination;
  // MTD set-up: by default the manager re-keys before every migration (a fresh secret and table
  // is what moves the target), sending each host its table and key material over an
  // authenticated session, one host after the other; plan.rekey may batch it (docs/policies.md).
  // Part of the decision; also reported alone as setup_s.
  progress.phase = "set-up";
  const setupStart = sim.now;
  yield* setUp(env, plan);
  const setupS = sim.now - setupStart;
  progress.phase = "key retrieval";
  const keysStart = sim.now;
  for (const kr of plan.keyRequests) {
    yield model.exchange(source, kr.host, kr.requestBytes, kr.responseBytes, { newConnection: kr.newConnection });
    if (costs.mtdSession > 0) yield costs.mtdSession;
  }
  const keyRetrieval = sim.now - keysStart;
  progress.phase = "decision";
  const compute = costs.decisionCompute + plan.computeSeconds;
  if (compute > 0) yield compute;
  const decided = sim.now;

  progress.phase = "MIGRATE";
  if (env.manager !== source) yield model.message(env.manager, source, costs.controlBytes);
  const migrateAt = sim.now;
  let control = migrateAt - decided;

  let checkpointS = 0;
  let transferS = 0;
  let restoreS = 0;
  let prepareS = 0;
  let downStart = 0;
  let downEnd = 0;
  let checkpointed = 0;
  let transferred = 0;
  let wire = 0;
  let rounds = 0;
  let converged = true;
  let note = plan.note ?? "";
  const raw = m.container.checkpoint;

  const restore = function* (bytes: number, phase: Phase): ProcessBody<number> {
    progress.phase = phase;
    const k = (env.restoring.get(destination) ?? 0) + 1;
    env.restoring.set(destination, k);
    const d = restoreSeconds(costs, bytes, k);
    yield d;
    env.restoring.set(destination, env.restoring.get(destination)! - 1);
    return d;
  };
  const connect = function* (): ProcessBody<number> {
    progress.phase = "connection";
    return yield* openConnection(model, costs, m.transport, source, destination);
  };
  const send = function* (bytes: number, phase: Phase): ProcessBody<number> {
    progress.phase = phase;
    const onWire = wireBytes(costs, bytes);
    wire += onWire;
    return yield* sendBytes(model, costs, m.transport, source, destination, onWire, `checkpoint:${m.container.name}`, progress);
  };

  switch (m.mode) {
    case "stateless": {
      // JoWUA clock: prepare (before the kill) -> kill -> SSH to the destination, remove stale
      // containers, remote start -> start. Downtime runs from the kill's start to the start's end.
      progress.phase = "prepare";
      yield costs.statelessPrepare;
      progress.phase = "kill";
      downStart = sim.now;
      yield costs.killDuration;
      checkpointS = costs.killDuration;
      checkpointed = sim.now;
      transferS = yield* connect();
      progress.phase = "prepare";
      yield costs.statelessSwitchover;
      prepareS = costs.statelessPrepare + costs.statelessSwitchover;
      transferred = sim.now;
      progress.phase = "start";
      yield costs.startDuration;
      restoreS = costs.startDuration;
      downEnd = sim.now;
      break;
    }
    case "cold": {
      progress.phase = "checkpoint";
      downStart = sim.now;
      checkpointS = checkpointSeconds(costs, raw);
      yield checkpointS;
      checkpointed = sim.now;
      transferS = yield* connect();
      transferS += yield* send(raw, "transfer");
      transferred = sim.now;
      restoreS = yield* restore(raw, "restore");
      downEnd = sim.now;
      break;
    }
    case "pre-copy": {
      // Rounds while the container runs: dump (CRIU pre-dump) then send; the next round re-sends
      // what was dirtied meanwhile. The dirty set cannot exceed the container's page set.
      transferS = yield* connect();
      const cap = m.container.memory > 0 ? Math.min(m.container.memory, raw) : raw;
      let bytes = raw;
      let dirty = 0;
      let lastRate = Infinity;
      for (;;) {
        progress.phase = "pre-copy round";
        const d = checkpointSeconds(costs, bytes);
        yield d;
        checkpointS += d;
        const t = yield* send(bytes, "pre-copy round");
        transferS += t;
        rounds++;
        lastRate = t > 0 ? (wireBytes(costs, bytes) * 8) / t : Infinity;
        dirty = Math.min(cap, m.container.dirtyRate * (d + t));
        if (dirty <= costs.precopyThreshold) break;
        if (rounds >= costs.precopyMaxRounds) {
          converged = false;
          const dirtyBps = m.container.dirtyRate * 8 * costs.compression;
          note = join(note, dirtyBps >= lastRate
            ? `pre-copy stopped at the round limit (${costs.precopyMaxRounds}): dirty rate ${mbps(dirtyBps)} on the wire >= path rate ${mbps(lastRate)}, the dirty set cannot shrink`
            : `pre-copy stopped at the round limit (${costs.precopyMaxRounds}) with ${dirty} B still dirty (threshold ${costs.precopyThreshold} B)`);
          break;
        }
        bytes = dirty;
      }
      // Stop-and-copy of the rest; the restore loads the whole image.
      progress.phase = "stop-and-copy";
      downStart = sim.now;
      const d = checkpointSeconds(costs, dirty);
      yield d;
      checkpointS += d;
      checkpointed = sim.now;
      transferS += yield* send(dirty, "stop-and-copy");
      transferred = sim.now;
      restoreS = yield* restore(raw, "restore");
      downEnd = sim.now;
      break;
    }
    case "post-copy": {
      // Minimal state first (CRIU lazy pages), resume, then the pages are pulled as one flow.
      progress.phase = "checkpoint";
      downStart = sim.now;
      const minimal = Math.min(costs.postcopyMinimal, raw);
      checkpointS = checkpointSeconds(costs, minimal);
      yield checkpointS;
      checkpointed = sim.now;
      transferS = yield* connect();
      transferS += yield* send(minimal, "transfer");
      restoreS = yield* restore(minimal, "restore");
      downEnd = sim.now;
      transferS += yield* send(raw - minimal, "page pull");
      transferred = sim.now;
      break;
    }
  }
  const restored = m.mode === "post-copy" ? downEnd : sim.now;

  progress.phase = "SUCCESS";
  const beforeSuccess = sim.now;
  yield model.message(destination, source, costs.controlBytes);
  control += sim.now - beforeSuccess;
  const success = sim.now;
  // The source stops its container (already stopped in every mode here: the final checkpoint
  // stopped it) and the controller redirects the service's traffic at once.
  env.redirect(m.container.name, source, destination);
  progress.phase = "done";
  progress.flow = undefined;

  const path = model.route(source, destination);
  return {
    measures: {
      container: m.container.name,
      source,
      destination,
      trigger_s: trigger,
      decision_s: decided - trigger,
      key_retrieval_s: keyRetrieval,
      setup_s: setupS,
      checkpoint_s: checkpointS,
      transfer_s: transferS,
      restore_s: restoreS,
      downtime_s: downEnd - downStart,
      total_s: success - trigger,
      checkpoint_bytes: m.mode === "stateless" ? 0 : raw,
      transferred_bytes: wire,
      path_hops: path.hops,
      bottleneck_bps: path.bottleneck,
      mode: m.mode,
      transport: m.transport,
      rounds,
      converged,
      note,
      control_s: control,
      prepare_s: prepareS,
      redirect_s: success,
    },
    marks: {
      container: m.container.name,
      trigger,
      decided,
      checkpointed,
      transferred,
      restored,
      success,
      downStart,
      downEnd,
    },
  };
}

function* setUp(env: MigrationEnv, plan: PolicyPlan): ProcessBody<void> {
  const { sim, model, costs } = env;
  const send = (msg: SetupMessage): Waitable<number> =>
    model.exchange(msg.from, msg.to, msg.bytes, costs.controlBytes, { newConnection: true, handshakeRtts: costs.sshHandshakeRtts });
  const messages = plan.setup.filter((msg) => msg.from !== msg.to);
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
  } else {
    yield* sequential();
  }
}

function mbps(bps: number): string {
  return `${Number((bps / 1e6).toPrecision(4))}Mbps`;
}

function join(a: string, b: string): string {
  return a ? `${a}; ${b}` : b;
}
