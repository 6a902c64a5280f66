/**
 * The simulator backend: executes one RunSpec on the kernel with a flow-level network model.
 * One run = background traffic + probes + measurement (collectors, VIB, triggers) + the
 * migrations, each a protocol process; it ends when every migration and probe is done, or fails
 * with a clear error at the horizon. Runs are deterministic (same spec => same records) and
 * cheap: compiled topologies and resolved policies are cached across runs, and collectors poll
 * continuously only when a threshold trigger or a trace needs it.
 */
import { UnreachableResultError } from "../../src/core/errors.ts";
import { Simulator, type ProcessBody, type Waitable } from "../../src/kernel/index.ts";
import { Collector } from "../../src/measurement/collectors.ts";
import { hostLoad, ThresholdTrigger, triggerKey, type ThresholdSpec } from "../../src/measurement/triggers.ts";
import { Vib } from "../../src/measurement/vib.ts";
import { migrationProcess, type MigrationEnv, type MigrationResult, type Progress } from "../../src/migration/protocol.ts";
import { validateRunSpec } from "../../src/migration/validate.ts";
import { compiledOf, routerOf } from "../../src/network/topology/shared.ts";
import { toGraph, type TopologyGraph } from "../../src/network/topology/graph.ts";
import { createNetworkModel, type RouteFn } from "../../src/network/index.ts";
import type { Router } from "../../src/network/topology/routing.ts";
import { policyInput, validationContext } from "../../src/policies/input.ts";
import { resolvePolicy } from "../../src/policies/registry.ts";
import { blockage, type Flow, type FlowSpec, type NetworkModel, type NetworkParams } from "../../src/network/network-model.ts";
import type { CompiledTopology } from "../../src/network/topology/topology-types.ts";
import type { NetworkView, Policy, PolicyPlan } from "../../src/policies/policy-types.ts";
import { formatMbps, formatMegabytes } from "../../src/core/units.ts";
import type { Backend, MigrationSpec, PhaseMarks, PolicySpec, ProbeRecord, RunProgress, RunRecord, RunResult, RunSpec, TraceSample, TrafficSpec } from "../../src/formats/runspec.ts";

/** Makes the run's network model, which must route with `route` (the policies' view assumes it). */
export type ModelFactory = (
  sim: Simulator,
  topo: CompiledTopology,
  params: NetworkParams,
  route: RouteFn,
  /** the Router `route` routes with (ModelOptions.router) */
  router?: Router,
) => NetworkModel;
export type PolicyResolver = (spec: PolicySpec) => Promise<Policy>;

export interface SimBackendOptions {
  /** network model factory (default: createNetworkModel, the model the spec names) */
  createModel?: ModelFactory;
  /** policy resolver (default: the registry: builtins and plugins) */
  resolvePolicy?: PolicyResolver;
  /** collect the host bandwidth trace and phase marks (Fig. 4); polls every measurement period */
  trace?: boolean;
  /** wall-clock milliseconds between two turns of Node's event loop during a run (default 100) */
  yieldEveryMs?: number;
}

export class SimBackend implements Backend {
  readonly name = "sim";
  private readonly policies = new Map<string, Promise<Policy>>();

  private readonly options: Required<Pick<SimBackendOptions, "createModel" | "resolvePolicy">> & SimBackendOptions;

  constructor(options: SimBackendOptions = {}) {
    this.options = {
      ...options,
      createModel: options.createModel ?? ((sim, topo, params, route, router) => createNetworkModel(sim, topo, params, { route, router })),
      resolvePolicy: options.resolvePolicy ?? resolvePolicy,
    };
  }

  /**
   * A run, handing Node's event loop a turn every 100 ms of a long one (a data-center run takes
   * minutes), so that signals and timers are seen during it: a second Ctrl-C aborts at once; at
   * each turn `onProgress` learns how far the run has come. The same result as `run`.
   */
  async execute(spec: RunSpec, onProgress?: (progress: RunProgress) => void): Promise<RunResult> {
    validateRunSpec(spec);
    const policy = await this.policy(spec.policy);
    policy.validate?.(spec.policy.params, validationContext(spec));
    const run = this.prepare(spec, policy);
    await run.simulateYielding(this.options.yieldEveryMs ?? 100, onProgress);
    return run.result();
  }

  /** the synchronous core, for callers that resolved the policy already */
  run(spec: RunSpec, policy: Policy): RunResult {
    const run = this.prepare(spec, policy);
    run.simulate();
    return run.result();
  }

  private prepare(spec: RunSpec, policy: Policy): Run {
    // Compiled topology and routes are pure functions of the Topology object: shared across runs
    // (and with the loader's and the pre-run check's, topology/shared.ts).
    return new Run(spec, policy, compiledOf(spec.topology), routerOf(spec.topology, spec.network.routing), this.options);
  }

  private policy(spec: PolicySpec): Promise<Policy> {
    const key = JSON.stringify([spec.name, spec.plugin ?? "", spec.params]);
    let p = this.policies.get(key);
    if (!p) {
      p = this.options.resolvePolicy(spec);
      this.policies.set(key, p);
    }
    return p;
  }
}

interface Background {
  spec: TrafficSpec;
  flow: Flow | undefined;
  src: string;
  dst: string;
  /** bytes still to send (finite tcp) */
  left: number | undefined;
}

class Run {
  private readonly sim = new Simulator();
  private readonly model: NetworkModel;
  private readonly vib: Vib;
  /** false when no poll feeds the VIB (a policy that does not read it, fixed-time triggers) */
  private vibPolled = true;
  private readonly collector: Collector;
  private readonly results: Array<MigrationResult | undefined>;
  private readonly progress: Progress[];
  private readonly probes: ProbeRecord[] = [];
  private readonly background: Background[] = [];
  private readonly trace: TraceSample[] = [];
  private migrationsLeft: number;
  private probesLeft = 0;

  constructor(
    private readonly spec: RunSpec,
    private readonly policy: Policy,
    private readonly topo: CompiledTopology,
    private readonly router: Router,
    private readonly options: SimBackendOptions & { createModel: ModelFactory },
  ) {
    this.model = options.createModel(this.sim, topo, spec.network, (a, b) => router.route(a, b), router);
    this.vib = new Vib((l) => topo.capacity[l]!, topo.portName);
    this.collector = new Collector(this.sim, this.model, this.vib, spec.measurement.period);
    this.results = new Array(spec.migrations.length);
    this.progress = spec.migrations.map(() => ({ phase: "waiting for trigger", flow: undefined }));
    this.migrationsLeft = spec.migrations.length;
  }

  simulate(): void {
    if (this.start()) this.sim.run(this.spec.horizon);
  }

  async simulateYielding(everyMs: number, onProgress?: (progress: RunProgress) => void): Promise<void> {
    if (!this.start()) return;
    const report = onProgress && ((): void => onProgress(this.progressNow()));
    await this.sim.runYielding(this.spec.horizon, everyMs, report);
  }

  private progressNow(): RunProgress {
    const migrations = this.spec.migrations.length;
    return { simulated: this.sim.now, horizon: this.spec.horizon, migrationsDone: migrations - this.migrationsLeft, migrations };
  }

  /** starts everything the run schedules; false when nothing is left to simulate */
  private start(): boolean {
    // Collectors first: their polls at a decision instant must run before the decision.
    this.startMeasurement();
    this.startTraffic();
    this.startProbes();
    this.startMigrations();
    return this.migrationsLeft > 0 || this.probesLeft > 0;
  }

  /** the run's records, once simulated (errors for what the horizon left unfinished) */
  result(): RunResult {
    const { spec } = this;
    if (this.migrationsLeft > 0) this.horizonError();
    if (this.probesLeft > 0) {
      throw new UnreachableResultError(`${this.probesLeft} probe request(s) unfinished at the horizon ${spec.horizon}s; ${horizonHint(spec.horizon)}, or lower the probe count`, { field: "probes" });
    }

    const records: RunRecord[] = this.results.map((r) => ({
      experiment: spec.experiment,
      cell: spec.cell,
      backend: "sim",
      policy: spec.policy.name,
      run: spec.run,
      seed: spec.seed,
      ...r!.measures,
    }));
    const result: RunResult = { records, probes: this.probes };
    if (this.options.trace) {
      result.trace = this.trace;
      result.marks = this.results.map((r) => r!.marks) as PhaseMarks[];
    }
    return result;
  }

  private startMeasurement(): void {
    const { spec, collector } = this;
    const thresholds = spec.migrations.some((m) => m.trigger.kind !== "at");
    if (thresholds || this.options.trace) collector.continuous();
    else if (this.policy.readsVib !== false)
      for (const m of spec.migrations)
        if (m.trigger.kind === "at") collector.window(m.trigger.at);
        // (a policy that decides without measurements, at fixed times, makes the polls pointless)
        else this.vibPolled = false;
    if (this.options.trace) {
      const hosts = spec.topology.hosts;
      collector.onSample.push((t) => {
        for (const host of hosts) this.trace.push({ t, host, bps: hostLoad(this.vib, this.topo, host) });
      });
    }
  }

  private startTraffic(): void {
    const { sim, model } = this;
    for (const spec of this.spec.traffic) {
      const b: Background = { spec, flow: undefined, src: spec.from, dst: spec.to, left: spec.bytes };
      this.background.push(b);
      const j = this.background.length - 1;
      sim.scheduleAt(spec.start, () => {
        this.attributed(
          `traffic.${j}`,
          () => `traffic ${j} (${spec.kind} ${spec.from} -> ${spec.to})`,
          () => {
            b.flow = model.startFlow(this.flowSpec(b));
          },
        );
      });
      if (spec.stop !== undefined) {
        sim.scheduleAt(spec.stop, () => {
          if (b.flow && !b.flow.done.fired) model.stopFlow(b.flow);
          b.flow = undefined;
        });
      }
    }
  }

  private flowSpec(b: Background): FlowSpec {
    return { src: b.src, dst: b.dst, kind: b.spec.kind, rate: b.spec.rate, bytes: b.left, label: b.spec.service ? `service:${b.spec.service}` : "background" };
  }

  /**
   * Redirect: flows of the migrated container's service that end at the source move to the
   * destination (a finite transfer keeps only its remaining bytes). Other flows are untouched.
   */
  private redirect(container: string, source: string, destination: string): void {
    const { model } = this;
    for (const b of this.background) {
      if (b.spec.service !== container || (b.src !== source && b.dst !== source)) continue;
      if (b.src === source) b.src = destination;
      if (b.dst === source) b.dst = destination;
      if (!b.flow || b.flow.done.fired) continue;
      if (b.left !== undefined) b.left -= model.deliveredBytes(b.flow);
      model.stopFlow(b.flow);
      b.flow = b.left !== undefined && b.left <= 0 ? undefined : model.startFlow(this.flowSpec(b));
    }
  }

  private startProbes(): void {
    const { sim, model } = this;
    this.spec.probes.forEach((p, i) => {
      for (let k = 0; k < p.count; k++) {
        this.probesLeft++;
        sim.scheduleAt(p.at + k * p.every, () => {
          const sent = sim.now;
          const exchange = this.attributed(
            `probes.${i}`,
            () => `probe ${i} (${p.from} -> ${p.to}, request ${k + 1} of ${p.count})`,
            () => model.exchange(p.from, p.to, p.bytes, p.bytes, { newConnection: p.newConnection || k === 0 }),
          );
          exchange.onFire(() => {
            const s = this.spec;
            this.probes.push({ experiment: s.experiment, cell: s.cell, backend: "sim", run: s.run, from: p.from, to: p.to, sent_s: sent, rtt_s: sim.now - sent });
            if (--this.probesLeft === 0) this.maybeEnd();
          });
        });
      }
    });
  }

  private startMigrations(): void {
    const { spec, sim } = this;
    const groups = new Map<string, { spec: ThresholdSpec; pending: number[] }>();
    spec.migrations.forEach((m, i) => {
      if (m.trigger.kind === "at") sim.scheduleAt(m.trigger.at, () => this.launch(i));
      else {
        const key = triggerKey(m.trigger);
        let g = groups.get(key);
        if (!g) groups.set(key, (g = { spec: m.trigger, pending: [] }));
        g.pending.push(i);
      }
    });
    for (const g of groups.values()) {
      const trigger = new ThresholdTrigger(this.vib, g.spec, () => {
        if (g.pending.length === 0) return;
        // The container whose host carries the most measured traffic moves first.
        let best = 0;
        let bestLoad = -1;
        g.pending.forEach((i, j) => {
          const load = hostLoad(this.vib, this.topo, spec.migrations[i]!.source);
          if (load > bestLoad) {
            bestLoad = load;
            best = j;
          }
        });
        const [i] = g.pending.splice(best, 1);
        this.launch(i!);
      });
      this.collector.onSample.push((t) => trigger.check(t));
    }
  }

  private launch(i: number): void {
    const env: MigrationEnv = {
      sim: this.sim,
      model: this.model,
      costs: this.spec.costs,
      manager: this.spec.manager,
      decide: (index) => this.decide(index),
      restoring: this.restoring,
      redirect: (c, s, d) => this.redirect(c, s, d),
      rekeys: this.rekeys,
    };
    const m = this.spec.migrations[i]!;
    const body = migrationProcess(env, m, i, this.progress[i]!);
    const p = this.sim.process(
      this.attributedProcess(`migrations.${i}`, () => `migration ${i} (${m.container.name} from ${m.source}, phase "${this.progress[i]!.phase}")`, body),
      `migration:${i}`,
    );
    p.onFire((r) => {
      this.results[i] = r;
      this.migrationDone();
    });
  }

  private readonly restoring = new Map<string, number>();
  private readonly rekeys = new Map<number, Waitable<unknown>>();

  private migrationDone(): void {
    if (--this.migrationsLeft === 0) this.maybeEnd();
  }

  private maybeEnd(): void {
    if (this.migrationsLeft === 0 && this.probesLeft === 0) {
      this.collector.stop();
      this.sim.stop();
    }
  }

  private view(): NetworkView {
    const { model, topo, router } = this;
    let graph: TopologyGraph | undefined;
    return {
      topo,
      get graph() {
        return (graph ??= toGraph(topo.topology));
      },
      route: (a, b) => model.route(a, b),
      // the model routes with this router (ModelFactory), so its tables describe the same routes
      routesFrom: (a) => router.table(a),
      // The controller's estimate: propagation + the queueing it would measure now.
      latency: (a, b) => model.pathDelay(a, b),
      vib: this.vibPolled ? this.vib : undefined,
      now: this.sim.now,
    };
  }

  private decide(i: number): PolicyPlan {
    const m = this.spec.migrations[i]!;
    const plan = this.policy.decide(policyInput(this.spec, i, this.view()));
    if (plan.destination === m.source || !(m.candidates.includes(plan.destination) || plan.destination === m.destination)) {
      throw new Error(`policy ${this.policy.name} chose ${plan.destination} for ${m.container.name}, which is not a candidate other than the source`);
    }
    return plan;
  }

  private horizonError(): never {
    const { spec, model, topo } = this;
    const i = this.results.findIndex((r, j) => r === undefined && j < spec.migrations.length);
    const m = spec.migrations[i];
    if (!m) throw new UnreachableResultError(`the policy's set-up messages were not delivered by the horizon ${spec.horizon}s; ${horizonHint(spec.horizon)}`, { field: "horizon" });
    const pr = this.progress[i]!;
    let detail = `migration ${i} (${m.container.name} from ${m.source}, ${m.mode}) unfinished at the horizon ${spec.horizon}s, in phase "${pr.phase}"`;
    if (pr.phase === "waiting for trigger") {
      detail += `: its trigger never fired (${describeTrigger(m)})`;
    } else if (pr.flow) {
      const f = pr.flow;
      let worst = f.path.links[0]!;
      let worstUse = -1;
      for (const l of f.path.links) {
        const use = model.linkRate(l) / topo.capacity[l]!;
        if (use > worstUse || (use === worstUse && topo.capacity[l]! < topo.capacity[worst]!)) {
          worst = l;
          worstUse = use;
        }
      }
      const left = (f.spec.bytes ?? 0) - model.deliveredBytes(f);
      detail += `: ${formatMegabytes(left)} left at ${formatMbps(model.rateOf(f))}; bottleneck link ${topo.names[topo.from[worst]!]}->${topo.names[topo.to[worst]!]} (${topo.portName[worst]}) ${formatMbps(topo.capacity[worst]!)} carrying ${formatMbps(model.linkRate(worst))}`;
      const hogs = this.udpOn(worst);
      if (hogs) {
        // the transfer is blocked by constant-rate traffic: a longer horizon would not help
        throw new UnreachableResultError(`${detail}; ${hogs.detail}`, { field: hogs.field });
      }
    }
    throw new UnreachableResultError(`${detail}; ${horizonHint(spec.horizon)}, or check the traffic`, { field: `migrations.${i}` });
  }

  /** Runs `fn`; an error it raises is attributed to the experiment entry at `field`. */
  private attributed<T>(field: string, what: () => string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw this.attribute(e, field, what());
    }
  }

  /** The process `body`, its errors attributed to the experiment entry at `field`. */
  private *attributedProcess<T>(field: string, what: () => string, body: ProcessBody<T>): ProcessBody<T> {
    try {
      return yield* body;
    } catch (e) {
      throw this.attribute(e, field, what());
    }
  }

  /**
   * A transfer that cannot finish, as the user can act on it: the entry whose transfer it is
   * (a starved flow names its own owner, whoever's event found it) and, when constant-rate
   * traffic fills the blocking link, that traffic entry and the rate to lower.
   */
  private attribute(e: unknown, field: string, what: string): unknown {
    if (!(e instanceof UnreachableResultError) || e.location.field !== undefined) return e;
    const blocked = blockage(e);
    if (blocked?.flow) {
      const j = this.background.findIndex((b) => b.flow === blocked.flow);
      const k = this.progress.findIndex((p) => p.flow === blocked.flow);
      if (j >= 0) [field, what] = [`traffic.${j}`, `traffic ${j} (${this.spec.traffic[j]!.kind} ${this.spec.traffic[j]!.from} -> ${this.spec.traffic[j]!.to})`];
      else if (k >= 0) [field, what] = [`migrations.${k}`, `migration ${k} (${this.spec.migrations[k]!.container.name} from ${this.spec.migrations[k]!.source}, phase "${this.progress[k]!.phase}")`];
    }
    const hogs = blocked ? this.udpOn(blocked.link) : undefined;
    if (hogs) return new UnreachableResultError(`${what}: ${e.detail}; ${hogs.detail}`, { field: hogs.field });
    return new UnreachableResultError(`${what}: ${e.detail}`, { field });
  }

  /** The udp traffic entries crossing link `l` when they leave nothing of it to other transfers. */
  private udpOn(l: number): { field: string; detail: string } | undefined {
    const { topo } = this;
    const on = this.background.map((b, j) => ({ b, j })).filter(({ b }) => b.spec.kind === "udp" && b.flow !== undefined && !b.flow.done.fired && b.flow.path.links.includes(l));
    const total = on.reduce((a, { b }) => a + (b.spec.rate ?? 0), 0);
    const capacity = topo.capacity[l]!;
    if (on.length === 0 || total < capacity) return undefined;
    const names = on.map(({ j }) => `traffic.${j}`).join(", ");
    const link = `${topo.names[topo.from[l]!]}->${topo.names[topo.to[l]!]}`;
    return {
      field: `traffic.${on[0]!.j}.rate`,
      detail:
        `the udp traffic ${names} sends ${formatMbps(total)} over link ${link}, which carries ${formatMbps(capacity)}: constant-rate traffic takes ` +
        `all of a link it fills and nothing else can cross it; lower ${on.length > 1 ? "their rates" : `traffic.${on[0]!.j}.rate`} below ${formatMbps(capacity)} ` +
        "(or give the traffic a stop time before the migration)",
    };
  }
}

/** What `horizon` is and how to raise it, for errors of runs that did not finish in time. */
function horizonHint(horizon: number): string {
  return `horizon is the simulated time after which a run is given up (default 3600s); raise it in the experiment file (horizon: ${horizon * 10}s) or with --set horizon=${horizon * 10}s`;
}

function describeTrigger(m: MigrationSpec): string {
  const t = m.trigger;
  if (t.kind === "port") return `port ${t.port} never above ${formatMbps(t.above)} for ${t.samples} samples`;
  if (t.kind === "switch") return `switch ${t.switch} never above ${t.above} pps for ${t.samples} samples`;
  return `at ${t.at}s`;
}
