/**
 * The simulator backend: executes one RunSpec on the kernel with a flow-level network model.
 * One run = background traffic + probes + measurement (collectors, VIB, triggers) + the
 * migrations, each a protocol process; it ends when every migration and probe is done, or fails
 * with a clear error at the horizon. Runs are deterministic (same spec => same records) and
 * cheap: compiled topologies and resolved policies are cached across runs, and collectors poll
 * continuously only when a threshold trigger or a trace needs it.
 */
import { UnreachableResultError } from "../../src/errors.ts";
import { Simulator, type Waitable } from "../../src/kernel/index.ts";
import { Collector } from "../../src/measurement/collectors.ts";
import { hostLoad, ThresholdTrigger, triggerKey, type ThresholdSpec } from "../../src/measurement/triggers.ts";
import { Vib } from "../../src/measurement/vib.ts";
import { migrationProcess, type MigrationEnv, type MigrationResult, type Progress } from "../../src/migration/protocol.ts";
import { validateRunSpec } from "../../src/migration/validate.ts";
import { compileTopology } from "../../src/network/compile.ts";
import { createNetworkModel, type RouteFn } from "../../src/network/index.ts";
import { Router } from "../../src/network/routing.ts";
import { resolvePolicy } from "../../src/policies/registry.ts";
import type { Flow, FlowSpec, NetworkModel, NetworkParams } from "../../src/network/model.ts";
import type { CompiledTopology, Topology } from "../../src/network/types.ts";
import type { NetworkView, Policy, PolicyInput, PolicyPlan } from "../../src/policies/types.ts";
import { subRng, type Rng } from "../../src/random.ts";
import type {
  Backend, MigrationSpec, PhaseMarks, PolicySpec, ProbeRecord, RunRecord, RunResult, RunSpec, TraceSample, TrafficSpec,
} from "../../src/runspec.ts";

/** Makes the run's network model, which must route with `route` (the policies' view assumes it). */
export type ModelFactory = (sim: Simulator, topo: CompiledTopology, params: NetworkParams, route: RouteFn) => NetworkModel;
export type PolicyResolver = (spec: PolicySpec) => Promise<Policy>;

export interface SimBackendOptions {
  /** network model factory (default: createNetworkModel, the model the spec names) */
  createModel?: ModelFactory;
  /** policy resolver (default: the registry: builtins and plugins) */
  resolvePolicy?: PolicyResolver;
  /** collect the host bandwidth trace and phase marks (Fig. 4); polls every measurement period */
  trace?: boolean;
  /** return the VIB's samples as CSV rows (RunResult.vib); polls every measurement period */
  keepVib?: boolean;
}

export class SimBackend implements Backend {
  readonly name = "sim";
  private readonly compiled = new WeakMap<Topology, { topo: CompiledTopology; routers: Map<string, Router> }>();
  private readonly policies = new Map<string, Promise<Policy>>();

  private readonly options: Required<Pick<SimBackendOptions, "createModel" | "resolvePolicy">> & SimBackendOptions;

  constructor(options: SimBackendOptions = {}) {
    this.options = {
      ...options,
      createModel: options.createModel ?? ((sim, topo, params, route) => createNetworkModel(sim, topo, params, { route })),
      resolvePolicy: options.resolvePolicy ?? resolvePolicy,
    };
  }

  async execute(spec: RunSpec): Promise<RunResult> {
    validateRunSpec(spec);
    const policy = await this.policy(spec.policy);
    if (policy.validate) {
      const candidates = spec.migrations.length ? Math.min(...spec.migrations.map((m) => m.candidates.filter((c) => c !== m.source).length)) : 0;
      policy.validate(spec.policy.params, { hosts: spec.topology.hosts.length, candidates });
    }
    return this.run(spec, policy);
  }

  /** the synchronous core, for callers that resolved the policy already */
  run(spec: RunSpec, policy: Policy): RunResult {
    // Compiled topology and routes are pure functions of the Topology object: shared across runs.
    let c = this.compiled.get(spec.topology);
    if (!c) this.compiled.set(spec.topology, (c = { topo: compileTopology(spec.topology), routers: new Map() }));
    let router = c.routers.get(spec.network.routing);
    if (!router) c.routers.set(spec.network.routing, (router = new Router(c.topo, spec.network.routing)));
    return new Run(spec, policy, c.topo, router, this.options).execute();
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
    this.model = options.createModel(this.sim, topo, spec.network, (a, b) => router.route(a, b));
    this.vib = new Vib((l) => topo.capacity[l]!, topo.portName);
    this.collector = new Collector(this.sim, this.model, this.vib, spec.measurement.period);
    this.results = new Array(spec.migrations.length);
    this.progress = spec.migrations.map(() => ({ phase: "waiting for trigger", flow: undefined }));
    this.migrationsLeft = spec.migrations.length;
  }

  execute(): RunResult {
    const { spec, sim } = this;
    // Collectors first: their polls at a decision instant must run before the decision.
    this.startMeasurement();
    this.startTraffic();
    this.startProbes();
    this.startMigrations();
    if (this.migrationsLeft > 0 || this.probesLeft > 0) sim.run(spec.horizon);
    if (this.migrationsLeft > 0) this.horizonError();
    if (this.probesLeft > 0) {
      throw new UnreachableResultError(`probes unfinished at the horizon ${spec.horizon}s: raise horizon or lower the probe count`, { field: "horizon" });
    }

    const records: RunRecord[] = this.results.map((r) => ({
      experiment: spec.experiment, cell: spec.cell, backend: "sim", policy: spec.policy.name, run: spec.run, seed: spec.seed,
      ...r!.measures,
    }));
    const result: RunResult = { records, probes: this.probes };
    if (this.options.trace) {
      result.trace = this.trace;
      result.marks = this.results.map((r) => r!.marks) as PhaseMarks[];
    }
    if (this.options.keepVib) result.vib = this.vib.toRows();
    return result;
  }

  private startMeasurement(): void {
    const { spec, collector } = this;
    const thresholds = spec.migrations.some((m) => m.trigger.kind !== "at");
    if (thresholds || this.options.trace || this.options.keepVib) collector.continuous();
    else for (const m of spec.migrations) if (m.trigger.kind === "at") collector.window(m.trigger.at);
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
      sim.scheduleAt(spec.start, () => {
        b.flow = model.startFlow(this.flowSpec(b));
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
    for (const p of this.spec.probes) {
      for (let k = 0; k < p.count; k++) {
        this.probesLeft++;
        sim.scheduleAt(p.at + k * p.every, () => {
          const sent = sim.now;
          model.exchange(p.from, p.to, p.bytes, p.bytes, { newConnection: p.newConnection || k === 0 }).onFire(() => {
            const s = this.spec;
            this.probes.push({ experiment: s.experiment, cell: s.cell, backend: "sim", run: s.run, from: p.from, to: p.to, sent_s: sent, rtt_s: sim.now - sent });
            if (--this.probesLeft === 0) this.maybeEnd();
          });
        });
      }
    }
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
    const p = this.sim.process(migrationProcess(env, this.spec.migrations[i]!, i, this.progress[i]!), `migration:${i}`);
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
    const { model, router } = this;
    return {
      topo: this.topo,
      route: (a, b) => model.route(a, b),
      // the model routes with this router (ModelFactory), so its tables describe the same routes
      routesFrom: (a) => router.table(a),
      // The controller's estimate: propagation + the queueing it would measure now.
      latency: (a, b) => model.pathDelay(a, b),
      vib: this.vib,
      now: this.sim.now,
    };
  }

  private input(i: number, m: MigrationSpec, rng: () => number): PolicyInput {
    return {
      view: this.view(),
      rng,
      source: m.source,
      candidates: candidatesOf(m),
      container: { name: m.container.name, checkpoint: m.container.checkpoint, memory: m.container.memory },
      params: this.spec.policy.params,
      manager: this.spec.manager,
      fixedDestination: m.destination,
    };
  }

  private decide(i: number): PolicyPlan {
    const m = this.spec.migrations[i]!;
    const plan = this.policy.decide(this.input(i, m, lazyRng(this.spec.seed, `policy:${i}`)));
    if (plan.destination === m.source || !(m.candidates.includes(plan.destination) || plan.destination === m.destination)) {
      throw new Error(`policy ${this.policy.name} chose ${plan.destination} for ${m.container.name}, which is not a candidate other than the source`);
    }
    return plan;
  }

  private horizonError(): never {
    const { spec, model, topo } = this;
    const i = this.results.findIndex((r, j) => r === undefined && j < spec.migrations.length);
    const m = spec.migrations[i];
    if (!m) throw new UnreachableResultError(`the policy's set-up messages were not delivered by the horizon ${spec.horizon}s`, { field: "horizon" });
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
      detail += `: ${fmtBytes(left)} left at ${mbps(model.rateOf(f))}; bottleneck link ${topo.names[topo.from[worst]!]}->${topo.names[topo.to[worst]!]} (${topo.portName[worst]}) ${mbps(topo.capacity[worst]!)} carrying ${mbps(model.linkRate(worst))}`;
    }
    throw new UnreachableResultError(`${detail}; raise horizon or check the traffic`, { field: "horizon" });
  }
}

const candidateLists = new WeakMap<MigrationSpec, string[]>();

/**
 * The candidates other than the source, one array per migration of a cell: every run and policy
 * deciding for it passes the same array, so the policies' candidate lists are shared too.
 */
function candidatesOf(m: MigrationSpec): string[] {
  let c = candidateLists.get(m);
  if (!c) candidateLists.set(m, (c = m.candidates.filter((h) => h !== m.source)));
  return c;
}

/** subRng(seed, purpose), seeded on the first draw: deterministic policies never pay for it */
function lazyRng(seed: number, purpose: string): Rng {
  let g: Rng | undefined;
  return () => (g ??= subRng(seed, purpose))();
}

function describeTrigger(m: MigrationSpec): string {
  const t = m.trigger;
  if (t.kind === "port") return `port ${t.port} never above ${mbps(t.above)} for ${t.samples} samples`;
  if (t.kind === "switch") return `switch ${t.switch} never above ${t.above} pps for ${t.samples} samples`;
  return `at ${t.at}s`;
}

function mbps(bps: number): string {
  return `${Number((bps / 1e6).toPrecision(4))}Mbps`;
}

function fmtBytes(b: number): string {
  return `${Number((b / 1e6).toPrecision(4))}MB`;
}
