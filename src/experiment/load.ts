/**
 * Loads an experiment file into an Experiment: validated, units converted, hosts and ports
 * checked against the topology, sweep axes expanded into cells. Nothing runs on bad input:
 * every refusal is an InputError naming the file, line, field and what was expected.
 */
import { realpathSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { InputError } from "../errors.ts";
import { DEFAULT_NETWORK_PARAMS, type NetworkParams } from "../network/model.ts";
import { compileTopology } from "../network/compile.ts";
import { loadTopology } from "../network/load.ts";
import { Router } from "../network/routing.ts";
import type { Topology } from "../network/types.ts";
import { costsFromBlock } from "../migration/costs.ts";
import type {
  CostParams, MigrationSpec, PolicySpec, ProbeSpec, RunSpec, TrafficSpec, TriggerSpec,
} from "../runspec.ts";
import { checked, describe, parseBytes, parseDuration, parseRate } from "../units.ts";
import { at, formatPath, YamlSource, type FieldPath } from "../yamlsource.ts";
import { getPath, label, parseAssignment, setPath, splitPath, type RawDoc } from "./overrides.ts";
import { CELL_FIELDS, EXPERIMENT_SCHEMA, type ExperimentDocument } from "./schema.ts";
import { isKnownPolicy, knownPolicyNames } from "./policies.ts";

export interface SweepAxis {
  path: string;
  values: unknown[];
  labels: string[];
}

export interface ReferenceValue {
  mean: number;
  ci?: number | undefined;
}

export interface Reference {
  source?: string | undefined;
  /** policy -> metric column (total_s, downtime_s, ...) -> published value */
  values: Record<string, Record<string, ReferenceValue>>;
}

/** One cell of the sweep: the axis values and everything a run needs but the policy, run and seed. */
export interface Cell {
  id: string;
  index: number;
  axes: Record<string, string>;
  base: Omit<RunSpec, "policy" | "run" | "seed">;
}

export interface Experiment {
  name: string;
  file: string;
  seed: number;
  runs: number;
  policies: PolicySpec[];
  axes: SweepAxis[];
  cells: Cell[];
  reference: Reference | undefined;
  /** the document after --set overrides, for the manifest */
  document: RawDoc;
  /** other files the experiment read (topologies, policy plugins), for the manifest */
  inputFiles: string[];
}

export interface LoadOptions {
  /** `--set path=value` assignments, applied in order */
  set?: readonly string[];
  runs?: number | undefined;
  seed?: number | undefined;
  /** allow policy plugins outside the experiment's folder */
  allowExternalPlugins?: boolean;
}

const DEFAULT_RUNS = 20;
const DEFAULT_SEED = 1;
const DEFAULT_HORIZON = 3600;
const DEFAULT_PERIOD = 1;

export function loadExperiment(file: string, options: LoadOptions = {}): Experiment {
  const source = YamlSource.fromFile(file);
  if (!source.data || typeof source.data !== "object" || Array.isArray(source.data)) {
    throw new InputError("expected a mapping with name, topology, migrations, policies ...", { file });
  }
  let raw = source.data as RawDoc;
  const sets: Array<{ path: string; text: string }> = [];
  for (const text of options.set ?? []) {
    const { path, value } = parseAssignment(text);
    try {
      raw = setPath(raw, path, value);
    } catch (e) {
      throw e instanceof InputError ? new InputError(`--set ${path}: ${e.detail}`) : e;
    }
    sets.push({ path, text });
  }
  return withSetLocation(source.file, sets, () => resolveExperiment(source, raw, options));
}

/**
 * An error in a value that `--set` put there belongs to the command line, not to the line of the
 * file that held the old value.
 */
function withSetLocation<T>(file: string, sets: ReadonlyArray<{ path: string; text: string }>, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof InputError) || sets.length === 0 || (e.location.file !== undefined && e.location.file !== file)) throw e;
    const field = e.location.field ?? "";
    const set = [...sets].reverse().find((s) => field === s.path || field.startsWith(`${s.path}.`));
    if (!set) throw e;
    throw new InputError(e.detail, { field: `--set ${set.text}` });
  }
}

function resolveExperiment(source: YamlSource, raw: RawDoc, options: LoadOptions): Experiment {
  const doc = source.parse(EXPERIMENT_SCHEMA, raw);
  const runs = options.runs ?? doc.runs ?? DEFAULT_RUNS;
  if (!(Number.isInteger(runs) && runs >= 1)) throw new InputError(`--runs: expected a whole number >= 1, got ${runs}`);
  const seed = options.seed ?? doc.seed ?? DEFAULT_SEED;
  const policies = resolvePolicies(source, doc, options);
  const axes = resolveAxes(source, doc);
  const reference = resolveReference(doc);

  const topologies = new Map<string, Topology>();
  const cells: Cell[] = [];
  const combos = cartesian(axes.map((a) => a.values.length));
  combos.forEach((combo, index) => {
    let cellDoc = raw;
    const cellAxes: Record<string, string> = {};
    combo.forEach((j, a) => {
      const axis = axes[a]!;
      cellDoc = setPath(cellDoc, axis.path, axis.values[j]);
      cellAxes[axis.path] = axis.labels[j]!;
    });
    const id = axes.length === 0 ? "default" : axes.map((a) => `${a.path}=${cellAxes[a.path]}`).join("&");
    const base = withSweepLocation(source, axes, combo, () => resolveCell(source, cellDoc, seed, topologies));
    cells.push({ id, index, axes: cellAxes, base: { ...base, experiment: doc.name, cell: id, cellIndex: index, axes: cellAxes } });
  });
  const inputFiles = [
    ...new Set([...topologies.values()].map((t) => t.file).filter((f): f is string => f !== undefined && f !== source.file)),
    ...policies.flatMap((p) => (p.plugin ? [p.plugin] : [])),
  ];
  return { name: doc.name, file: source.file, seed, runs, policies, axes, cells, reference, document: raw, inputFiles };
}

/** Every combination of indices, the first axis varying slowest (the order a reader expects). */
function cartesian(sizes: number[]): number[][] {
  let out: number[][] = [[]];
  for (const n of sizes) out = out.flatMap((prefix) => Array.from({ length: n }, (_, j) => [...prefix, j]));
  return out;
}

function resolveAxes(source: YamlSource, doc: ExperimentDocument): SweepAxis[] {
  const axes: SweepAxis[] = [];
  for (const [path, values] of Object.entries(doc.sweep ?? {})) {
    const loc = ["sweep", path];
    at(source, loc, () => splitPath(path));
    // runs, seed or policies swept would make cells that all run the same thing
    if (!(CELL_FIELDS as readonly string[]).includes(path.split(".")[0]!)) {
      throw source.error(loc, `cannot sweep over "${path}" (expected a field under ${CELL_FIELDS.join(", ")}, such as migrations.0.container.checkpoint)`);
    }
    // The axis must name a field the format knows: set its first value and validate the result.
    const probe = at(source, loc, () => setPath(source.data as RawDoc, path, values[0]));
    const check = EXPERIMENT_SCHEMA.safeParse(probe);
    if (!check.success) {
      const issue = check.error.issues[0]!;
      if (issue.code === "unrecognized_keys") {
        throw source.error(loc, `sweep axis "${path}" names a field that does not exist (${issue.message})`);
      }
    }
    if (getPath(probe, splitPath(path)) === undefined) {
      throw source.error(loc, `sweep axis "${path}" names a field that does not exist`);
    }
    axes.push({ path, values, labels: values.map(label) });
  }
  return axes;
}

function withSweepLocation<T>(source: YamlSource, axes: SweepAxis[], combo: number[], fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof InputError) || axes.length === 0) throw e;
    // An error inside a swept field belongs to the sweep value that put it there.
    const field = e.location.field ?? "";
    const a = axes.findIndex((ax) => field === ax.path || field.startsWith(`${ax.path}.`));
    if (a < 0) throw e;
    const loc = source.locate(["sweep", axes[a]!.path, combo[a]!]);
    throw new InputError(e.detail, { ...loc, field: `sweep.${axes[a]!.path}.${combo[a]!}` });
  }
}

function resolveReference(doc: ExperimentDocument): Reference | undefined {
  if (!doc.reference) return undefined;
  const values: Record<string, Record<string, ReferenceValue>> = {};
  for (const [k, v] of Object.entries(doc.reference)) {
    if (k === "source" || typeof v === "string") continue;
    values[k] = "mean" in v ? { total_s: v as ReferenceValue } : (v as Record<string, ReferenceValue>);
  }
  return { source: doc.reference.source, values };
}

function resolvePolicies(source: YamlSource, doc: ExperimentDocument, options: LoadOptions): PolicySpec[] {
  const entries = doc.policies ?? [];
  if (entries.length === 0) throw source.error(["policies"], "expected a list of at least one policy");
  const seen = new Set<string>();
  const dir = dirname(resolve(source.file));
  return entries.map((entry, i) => {
    const path: FieldPath = ["policies", i];
    let name: string;
    let params: Record<string, unknown>;
    if (typeof entry === "string") {
      name = entry;
      params = {};
    } else {
      const keys = Object.keys(entry);
      if (keys.length !== 1) throw source.error(path, `expected one policy name with its parameters, got ${keys.length} keys`);
      name = keys[0]!;
      params = { ...(entry[name] ?? {}) };
    }
    if (seen.has(name)) throw source.error(path, `policy "${name}" listed twice`);
    seen.add(name);
    let plugin: string | undefined;
    if (typeof params.plugin === "string") {
      plugin = resolve(dir, params.plugin);
      if (!options.allowExternalPlugins && !isInside(dir, plugin)) {
        throw source.error([...path, name, "plugin"], `the plugin "${params.plugin}" is outside the experiment's folder; pass --allow-external-plugins to load it`);
      }
      delete params.plugin;
    } else if (params.plugin !== undefined) {
      throw source.error([...path, name, "plugin"], `expected a path to a policy module, got ${describe(params.plugin)}`);
    } else if (!isKnownPolicy(name)) {
      throw source.error(path, `unknown policy "${name}" (expected one of ${knownPolicyNames().join(", ")}, or { name: { plugin: ./file.js } })`);
    }
    return { name, params, plugin };
  });
}

/**
 * Whether `file` lies in `dir` or below, also after following symbolic links: a link in the
 * experiment's folder to a module elsewhere counts as elsewhere.
 */
function isInside(dir: string, file: string): boolean {
  const within = (d: string, f: string): boolean => {
    const rel = relative(d, f);
    return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
  };
  if (!within(dir, file)) return false;
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return true; // no such file: the plugin loader says so, naming the path
  }
  return within(realpathSync(dir), real);
}

function resolveCell(source: YamlSource, raw: RawDoc, seed: number, topologies: Map<string, Topology>): Omit<RunSpec, "policy" | "run" | "seed" | "experiment" | "cell" | "cellIndex" | "axes"> {
  const doc = source.parse(EXPERIMENT_SCHEMA, raw);
  const topology = resolveTopology(source, doc, seed, topologies);
  const compiled = compileTopology(topology);
  const router = new Router(compiled);
  const hosts = new Set(topology.hosts);
  const host = (path: FieldPath, name: string): string => {
    if (!hosts.has(name)) {
      const hint = topology.switches.includes(name) ? ` ("${name}" is a switch)` : "";
      throw source.error(path, `unknown host "${name}"${hint} (expected one of ${preview(topology.hosts)})`);
    }
    return name;
  };
  const dur = (path: FieldPath, v: unknown, sign: "positive" | "non-negative" = "non-negative"): number =>
    at(source, path, () => checked(parseDuration, v, sign));
  const bytes = (path: FieldPath, v: unknown, sign: "positive" | "non-negative" = "positive"): number =>
    at(source, path, () => checked(parseBytes, v, sign));
  const rate = (path: FieldPath, v: unknown, sign: "positive" | "non-negative" = "positive"): number =>
    at(source, path, () => checked(parseRate, v, sign));

  const network: NetworkParams = {
    ...DEFAULT_NETWORK_PARAMS,
    ...(doc.network?.model && { model: doc.network.model }),
    ...(doc.network?.["congestion-control"] && { congestionControl: doc.network["congestion-control"] }),
    ...(doc.network?.["host-stack"] && { hostStack: doc.network["host-stack"] }),
    ...(doc.network?.routing && { routing: doc.network.routing }),
    ...(doc.network?.efficiency !== undefined && { efficiency: doc.network.efficiency }),
    ...(doc.network?.["tcp-handshake-rtts"] !== undefined && { tcpHandshakeRtts: doc.network["tcp-handshake-rtts"] }),
    ...(doc.network?.extra !== undefined && { extra: { ...doc.network.extra } }),
  };

  const costs: CostParams = costsAt(source, doc.costs ?? {});

  const traffic: TrafficSpec[] = (doc.traffic ?? []).map((t, i) => {
    const p: FieldPath = ["traffic", i];
    host([...p, "from"], t.from);
    host([...p, "to"], t.to);
    if (t.from === t.to) throw source.error(p, `a flow from "${t.from}" to itself`);
    reachable(source, router, [...p, "to"], t.from, t.to);
    const start = t.start === undefined ? 0 : dur([...p, "start"], t.start);
    const stop = t.stop === undefined ? undefined : dur([...p, "stop"], t.stop);
    if (stop !== undefined && stop <= start) throw source.error([...p, "stop"], `expected stop after start (${start}s)`);
    if (t.kind === "udp" && t.rate === undefined) throw source.error(p, "a udp flow needs a rate (e.g. rate: 2Mbps)");
    if (t.kind === "tcp" && t.rate !== undefined) throw source.error([...p, "rate"], "a tcp flow is elastic: give bytes (or nothing for an endless flow), not a rate");
    return {
      from: t.from, to: t.to, kind: t.kind, start, stop, service: t.service,
      rate: t.rate === undefined ? undefined : rate([...p, "rate"], t.rate),
      bytes: t.bytes === undefined ? undefined : bytes([...p, "bytes"], t.bytes),
    };
  });

  const sources = new Set<string>();
  const migrations: MigrationSpec[] = (doc.migrations ?? []).map((m, i) => {
    const p: FieldPath = ["migrations", i];
    host([...p, "source"], m.source);
    sources.add(m.source);
    const mode = m.mode ?? "cold";
    const checkpoint = m.container.checkpoint === undefined
      ? (mode === "stateless" ? 0 : (() => { throw source.error([...p, "container"], `a ${mode} migration needs container.checkpoint (e.g. 10MB)`); })())
      : bytes([...p, "container", "checkpoint"], m.container.checkpoint, mode === "stateless" ? "non-negative" : "positive");
    const memory = m.container.memory === undefined ? checkpoint : bytes([...p, "container", "memory"], m.container.memory, "non-negative");
    const dirtyRate = m.container["dirty-rate"] === undefined ? 0 : rate([...p, "container", "dirty-rate"], m.container["dirty-rate"], "non-negative") / 8;
    if (mode === "pre-copy" && m.container.memory === undefined) {
      throw source.error([...p, "container"], "a pre-copy migration needs container.memory (the pages sent in the first round)");
    }
    let candidates: string[];
    if (m.candidates === undefined || m.candidates === "all") {
      candidates = topology.hosts.filter((h) => h !== m.source);
    } else {
      if (m.candidates.length === 0) throw source.error([...p, "candidates"], "expected at least one candidate host (or all), got an empty list");
      candidates = m.candidates.map((h, j) => host([...p, "candidates", j], h));
      const dup = candidates.find((h, j) => candidates.indexOf(h) !== j);
      if (dup) throw source.error([...p, "candidates"], `candidate "${dup}" listed twice`);
      if (candidates.includes(m.source)) throw source.error([...p, "candidates"], `the source "${m.source}" cannot be a candidate`);
    }
    candidates = candidates.filter((h) => router.reachable(m.source, h));
    if (candidates.length === 0) throw source.error([...p, "candidates"], `no candidate host reachable from the source "${m.source}" (expected at least one)`);
    if (m.destination !== undefined) {
      host([...p, "destination"], m.destination);
      if (m.destination === m.source) throw source.error([...p, "destination"], "the destination cannot be the source");
      reachable(source, router, [...p, "destination"], m.source, m.destination);
    }
    return {
      container: { name: m.container.name, checkpoint, memory, dirtyRate },
      source: m.source,
      candidates,
      destination: m.destination,
      trigger: resolveTrigger(source, [...p, "trigger"], m.trigger, compiled.portIndex, new Set(topology.switches)),
      mode,
      transport: m.transport ?? "ssh",
    };
  });
  const names = migrations.map((m) => m.container.name);
  const dupName = names.find((n, i) => names.indexOf(n) !== i);
  if (dupName) throw source.error(["migrations"], `container name "${dupName}" used by two migrations`);
  traffic.forEach((t, i) => {
    if (t.service === undefined) return;
    const m = migrations.find((x) => x.container.name === t.service);
    if (!m) throw source.error(["traffic", i, "service"], `no migrated container "${t.service}" (expected one of ${names.join(", ") || "none"})`);
    if (t.from !== m.source && t.to !== m.source) {
      throw source.error(["traffic", i, "service"], `the flow ${t.from} -> ${t.to} does not end at "${m.source}", where "${t.service}" runs`);
    }
  });

  const probes: ProbeSpec[] = (doc.probes ?? []).map((pr, i) => {
    const p: FieldPath = ["probes", i];
    host([...p, "from"], pr.from);
    host([...p, "to"], pr.to);
    if (pr.from === pr.to) throw source.error(p, `a probe from "${pr.from}" to itself`);
    reachable(source, router, [...p, "to"], pr.from, pr.to);
    return {
      from: pr.from, to: pr.to,
      at: dur([...p, "at"], pr.at),
      bytes: pr.bytes === undefined ? 100 : bytes([...p, "bytes"], pr.bytes),
      every: pr.every === undefined ? 1 : dur([...p, "every"], pr.every, "positive"),
      count: pr.count ?? 1,
      newConnection: pr["new-connection"] ?? false,
    };
  });

  if (migrations.length === 0 && probes.length === 0 && traffic.length === 0) {
    throw source.error([], "expected something to simulate: migrations, probes or traffic");
  }
  const manager = doc.manager === undefined ? topology.hosts[0]! : host(["manager"], doc.manager);
  const horizon = doc.horizon === undefined ? DEFAULT_HORIZON : dur(["horizon"], doc.horizon, "positive");
  const period = doc.measurement?.period === undefined ? DEFAULT_PERIOD : dur(["measurement", "period"], doc.measurement.period, "positive");
  return { topology, network, costs, measurement: { period }, traffic, migrations, probes, manager, horizon };
}

function resolveTopology(source: YamlSource, doc: ExperimentDocument, seed: number, cache: Map<string, Topology>): Topology {
  const key = typeof doc.topology === "string" ? `file:${doc.topology}` : `inline:${JSON.stringify(doc.topology)}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let topology: Topology;
  if (typeof doc.topology === "string") {
    const file = resolve(dirname(resolve(source.file)), doc.topology);
    const topoSource = at(source, ["topology"], () => {
      try {
        return YamlSource.fromFile(file);
      } catch (e) {
        if (e instanceof InputError && e.detail === "no such file") throw new InputError(`no topology file ${file}`);
        throw e;
      }
    });
    topology = loadTopology(topoSource, [], undefined, seed);
  } else {
    topology = loadTopology(source, ["topology"], doc.topology, seed);
  }
  cache.set(key, topology);
  return topology;
}

function resolveTrigger(source: YamlSource, path: FieldPath, t: ExperimentDocument["migrations"] extends (infer M)[] | undefined ? M extends { trigger: infer T } ? T : never : never, ports: ReadonlyMap<string, number>, switches: Set<string>): TriggerSpec {
  if ("at" in t) return { kind: "at", at: at(source, [...path, "at"], () => checked(parseDuration, t.at, "non-negative")) };
  if ("port" in t) {
    if (!ports.has(t.port)) {
      throw source.error([...path, "port"], `unknown port "${t.port}" (expected a port such as ${preview([...ports.keys()])})`);
    }
    return { kind: "port", port: t.port, above: at(source, [...path, "above"], () => checked(parseRate, t.above, "non-negative")), samples: t.for ?? 1 };
  }
  if (!switches.has(t.switch)) throw source.error([...path, "switch"], `unknown switch "${t.switch}"`);
  return { kind: "switch", switch: t.switch, above: at(source, [...path, "above"], () => parsePacketRate(t.above)), samples: t.for ?? 1 };
}

function costsAt(source: YamlSource, block: Record<string, unknown>): CostParams {
  try {
    return costsFromBlock(block);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    const key = e.location.field?.split(".")[1];
    throw new InputError(e.detail, { ...source.locate(key === undefined ? ["costs"] : ["costs", key]) });
  }
}

function parsePacketRate(v: unknown): number {
  const m = typeof v === "string" ? /^\s*([0-9]+(?:\.[0-9]+)?)\s*(k?)pps\s*$/.exec(v) : null;
  if (!m) throw new InputError(`expected a packet rate with a unit (e.g. 500pps, 2kpps), got ${describe(v)}`);
  return Number(m[1]) * (m[2] === "k" ? 1e3 : 1);
}

function reachable(source: YamlSource, router: Router, path: FieldPath, a: string, b: string): void {
  if (!router.reachable(a, b)) throw source.error(path, `"${b}" cannot be reached from "${a}" (the network has no path between them)`);
}

function preview(names: readonly string[]): string {
  return names.length <= 6 ? names.join(", ") : `${names.slice(0, 5).join(", ")}, ... (${names.length} in all)`;
}

export { formatPath };
