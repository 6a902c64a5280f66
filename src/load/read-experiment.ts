/**
 * Loads an experiment file into an Experiment: validated, units converted, hosts and ports
 * checked against the topology, sweep axes expanded into cells. Nothing runs on bad input:
 * every refusal is an InputError naming the file, line, field and what was expected.
 */
import { readYamlFile } from "./read-yaml.ts";
import { realpathSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { InputError } from "../core/errors.ts";
import { DEFAULT_NETWORK_PARAMS, type NetworkParams } from "../network/model.ts";
import { loadTopology } from "../network/topology/load.ts";
import type { Router } from "../network/topology/routing.ts";
import { compiledOf, routerOf } from "../network/topology/shared.ts";
import type { CompiledTopology, Topology } from "../network/topology/types.ts";
import { costsAt } from "./costs-at.ts";
import type {
  CostParams, MigrationSpec, PolicySpec, ProbeSpec, RunSpec, TrafficSpec, TriggerSpec,
} from "../formats/runspec.ts";
import { checked, describe, formatRate, parseBytes, parseDuration, parseRate } from "../core/units.ts";
import { at, type YamlSource, type FieldPath } from "../core/yamlsource.ts";
import { getPath, label, parseAssignment, setAssignment, setPath, splitPath, sweepOver, sweptFieldError, type RawDoc } from "./overrides.ts";
import { CELL_FIELDS, EXPERIMENT_DEFAULTS, EXPERIMENT_SCHEMA, type ExperimentDocument } from "../formats/experiment.ts";
import { applyProfile, loadProfile, PAPER_PROFILE, profileOf, type Profile, type ProfileRef } from "./read-profile.ts";
import { isKnownPolicy, knownPolicyNames } from "./policy-names.ts";
import type { IntervalMethod } from "../core/stats.ts";

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
  /** the policy the others are compared with in differences.csv (`baseline`, default the first) */
  baseline: string;
  /** the 95% interval the reports show (`ci`) */
  ci: IntervalMethod;
  axes: SweepAxis[];
  cells: Cell[];
  reference: Reference | undefined;
  /** why the file's reference is not compared with (a --set or sweep changed the scenario) */
  referenceDropped?: string | undefined;
  /** the document after --set overrides, for the manifest */
  document: RawDoc;
  /** other files the experiment read (topologies, policy plugins, the profile), for the manifest */
  inputFiles: string[];
  /** the testbed profile under the file's network and costs (built-in `paper` by default) */
  profile: ProfileRef;
  /** whether a profile was chosen (`--profile` or the file's `profile:`) rather than defaulted */
  profileChosen: boolean;
}

export interface LoadOptions {
  /** `--set path=value` assignments, applied in order */
  set?: readonly string[];
  runs?: number | undefined;
  seed?: number | undefined;
  /** allow policy plugins outside the experiment's folder */
  allowExternalPlugins?: boolean;
  /** `--profile`: a profile file (relative to the working directory) or a built-in name; wins over the file's `profile:` */
  profile?: string | undefined;
}

const D = EXPERIMENT_DEFAULTS;

export function loadExperiment(file: string, options: LoadOptions = {}): Experiment {
  const source = readYamlFile(file);
  if (!source.data || typeof source.data !== "object" || Array.isArray(source.data)) {
    throw new InputError("expected a mapping with name, topology, migrations, policies ...", { file });
  }
  let raw = source.data as RawDoc;
  refuseTopologyFile(source, raw);
  const sets: Array<{ path: string; text: string; value: unknown }> = [];
  for (const text of options.set ?? []) {
    const { path, value } = parseAssignment(text);
    try {
      raw = setAssignment(raw, path, value);
    } catch (e) {
      throw e instanceof InputError ? new InputError(`--set ${path}: ${e.detail}`) : e;
    }
    sets.push({ path, text, value });
  }
  // checked against the sweep as the last --set left it (a `--set sweep.AXIS=...` may come later)
  for (const set of sets) {
    const axis = sweepOver(raw, set.path);
    if (axis === undefined) continue;
    const loc = source.locate(["sweep", axis]);
    const where = loc.line === undefined ? "" : `${source.file}:${loc.line}: `;
    throw sweptFieldError(raw, set.text, set.path, set.value, axis, where);
  }
  const chosen = options.profile ?? profileOf(source.file, raw);
  const profile = withSetLocation(source.file, sets, () => chosenProfile(source, chosen, options.profile !== undefined));
  raw = applyProfile(raw, profile);
  const exp = withSetLocation(source.file, sets, () => resolveExperiment(source, raw, options));
  const ref: ProfileRef = { name: profile.name, file: profile.file, sha256: profile.sha256 };
  const withProfile = { ...exp, profile: ref, profileChosen: chosen !== undefined, inputFiles: profile.file ? [...exp.inputFiles, profile.file] : exp.inputFiles };
  return withoutChangedReference(withProfile, sets.map((s) => s.path));
}

/** fields of a topology file that an experiment file never has at its top level */
const TOPOLOGY_FIELDS = ["switches", "hosts", "links", "generate", "defaults"];

/**
 * A topology file given where an experiment belongs (`migsim run topologies/tree.yaml`) is a
 * mix-up of files, not a list of misspelt fields: said so, with the command meant for it.
 */
function refuseTopologyFile(source: YamlSource, raw: RawDoc): void {
  const own = TOPOLOGY_FIELDS.filter((k) => k in raw);
  if (own.length === 0 || "topology" in raw || "migrations" in raw || "policies" in raw) return;
  throw new InputError(
    `this looks like a topology file (${own.join(", ")}; no topology, migrations or policies): ` +
      `check it with \`migsim topo ${source.file}\`, or name it in an experiment's topology: field and run that experiment`,
    { file: source.file },
  );
}

/**
 * Loads the chosen profile; an error inside the profile file keeps its own location, a missing or
 * unreadable file is reported where it was named (`--profile` or the experiment's `profile:`).
 */
function chosenProfile(source: YamlSource, chosen: string | undefined, fromOption: boolean): Profile {
  try {
    return loadProfile(chosen ?? PAPER_PROFILE);
  } catch (e) {
    if (!(e instanceof InputError) || e.location.line !== undefined) throw e;
    const detail = `${e.detail}: ${e.location.file ?? chosen}`;
    throw fromOption ? new InputError(detail, { field: "--profile" }) : source.error(["profile"], detail);
  }
}

/** --set paths that leave the published scenario as it is (the sample, not the setting, changes) */
const SCENARIO_NEUTRAL = new Set(["runs", "seed", "name", "description", "baseline", "ci"]);

/**
 * A reference (the paper's published values) belongs to the scenario the file describes: once a
 * --set or a sweep changes it, comparing with the paper would report a deviation of a different
 * experiment (a 20 MB Table II "+105%"), so the reference is dropped, saying why.
 */
function withoutChangedReference(exp: Experiment, setPaths: readonly string[]): Experiment {
  if (!exp.reference) return exp;
  const changes = [
    ...setPaths.filter((p) => !SCENARIO_NEUTRAL.has(p) && !p.startsWith("reference")).map((p) => `--set ${p}`),
    ...exp.axes.map((a) => `the sweep over ${a.path}`),
  ];
  if (changes.length === 0) return exp;
  return {
    ...exp,
    reference: undefined,
    referenceDropped: `${changes.join(" and ")} changes the scenario of the reference (${exp.reference.source ?? "published values"}); its values are not compared`,
  };
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

function resolveExperiment(source: YamlSource, raw: RawDoc, options: LoadOptions): Omit<Experiment, "profile" | "profileChosen"> {
  const doc = source.parse(EXPERIMENT_SCHEMA, raw);
  const runs = options.runs ?? doc.runs ?? D.runs;
  if (!(Number.isInteger(runs) && runs >= 1)) throw new InputError(`--runs: expected a whole number >= 1, got ${runs}`);
  const seed = options.seed ?? doc.seed ?? D.seed;
  const policies = resolvePolicies(source, doc, options);
  const baseline = doc.baseline ?? policies[0]!.name;
  if (!policies.some((p) => p.name === baseline)) {
    throw source.error(["baseline"], `expected one of the experiment's policies (${policies.map((p) => p.name).join(", ")}), got "${baseline}"`);
  }
  const axes = resolveAxes(source, doc);
  const reference = resolveReference(doc);

  const topologies = new Map<string, Topology>();
  const cells: Cell[] = [];
  const combos = cartesian(axes.map((a) => a.values.length));
  // (a swept value's own check: whether the udp load fits is a question for each cell, not for a value no cell uses)
  checkSweptBaseValues(raw, axes, (doc) => resolveCell(source, doc, seed, topologies, false));
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
  return { name: doc.name, file: source.file, seed, runs, policies, baseline, ci: doc.ci ?? D.ci, axes, cells, reference, document: raw, inputFiles };
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

/**
 * A swept field's own value in the file is replaced in every cell, so no cell would check it; a
 * wrong one (`-50MB`, `50` without unit) is refused as it would be without the sweep. It is
 * checked in the first cell's document, so that only the value itself, not its combination
 * with the other fields (which the sweep changes), decides.
 */
function checkSweptBaseValues(raw: RawDoc, axes: SweepAxis[], resolve: (doc: RawDoc) => unknown): void {
  axes.forEach((axis, a) => {
    const base = getPath(raw, splitPath(axis.path));
    if (base === undefined) return;
    let doc = raw;
    axes.forEach((other, b) => { if (b !== a) doc = setPath(doc, other.path, other.values[0]); });
    try {
      resolve(doc);
    } catch (e) {
      const field = e instanceof InputError ? e.location.field ?? "" : "";
      if (field === axis.path || field.startsWith(`${axis.path}.`)) throw e;
    }
  });
}

function withSweepLocation<T>(source: YamlSource, axes: SweepAxis[], combo: number[], fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof InputError) || axes.length === 0) throw e;
    // An error inside a swept field belongs to the sweep value that put it there.
    const field = e.location.field ?? "";
    const a = axes.findIndex((ax) => field === ax.path || field.startsWith(`${ax.path}.`));
    if (a >= 0) {
      const loc = source.locate(["sweep", axes[a]!.path, combo[a]!]);
      throw new InputError(e.detail, { ...loc, field: `sweep.${axes[a]!.path}.${combo[a]!}` });
    }
    // A field the sweep does not touch, wrong only together with this cell's sweep values
    // (traffic to h12 when n = 4): name the cell, so the user knows which value to change.
    const values = axes.map((ax, i) => {
      const loc = source.locate(["sweep", ax.path, combo[i]!]);
      return `${ax.path}=${label(ax.values[combo[i]!])}${loc.line === undefined ? "" : ` (line ${loc.line})`}`;
    });
    throw new InputError(`${e.detail}, in the cell ${values.join(", ")} of the sweep; change that sweep value or this field`, e.location);
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

type CellSpec = Omit<RunSpec, "policy" | "run" | "seed" | "experiment" | "cell" | "cellIndex" | "axes">;
type Sign = "positive" | "non-negative";
type Entry<K extends "traffic" | "migrations" | "probes"> = NonNullable<ExperimentDocument[K]>[number];

/** What resolving a cell's fields needs: the file (for error locations) and its topology. */
interface CellContext {
  source: YamlSource;
  topology: Topology;
  compiled: CompiledTopology;
  router: Router;
  hosts: Set<string>;
  /** the compiled node index of each of topology.hosts, by position */
  hostNodes: Int32Array;
}

function resolveCell(source: YamlSource, raw: RawDoc, seed: number, topologies: Map<string, Topology>, checkLoad = true): CellSpec {
  const doc = source.parse(EXPERIMENT_SCHEMA, raw);
  const topology = resolveTopology(source, doc, seed, topologies);
  const compiled = compiledOf(topology);
  const cx: CellContext = {
    source, topology, compiled, router: routerOf(topology), hosts: new Set(topology.hosts),
    hostNodes: Int32Array.from(topology.hosts, (h) => compiled.index.get(h)!),
  };
  const network = resolveNetwork(doc);
  const costs: CostParams = costsAt(source, doc.costs ?? {});
  const traffic = (doc.traffic ?? []).map((t, i) => resolveTraffic(cx, t, ["traffic", i]));
  if (checkLoad) checkUdpLoad(cx, network.routing, traffic);
  const migrations = (doc.migrations ?? []).map((m, i) => resolveMigration(cx, m, ["migrations", i]));
  checkServices(source, traffic, migrations);
  const probes = (doc.probes ?? []).map((pr, i) => resolveProbe(cx, pr, ["probes", i]));
  if (migrations.length === 0 && probes.length === 0 && traffic.length === 0) {
    throw source.error([], "expected something to simulate: migrations, probes or traffic");
  }
  const manager = doc.manager === undefined ? topology.hosts[0]! : host(cx, ["manager"], doc.manager);
  const horizon = doc.horizon === undefined ? D.horizon : dur(cx, ["horizon"], doc.horizon, "positive");
  const period = doc.measurement?.period === undefined ? D.period : dur(cx, ["measurement", "period"], doc.measurement.period, "positive");
  return { topology, network, costs, measurement: { period }, traffic, migrations, probes, manager, horizon };
}

function host(cx: CellContext, path: FieldPath, name: string): string {
  if (!cx.hosts.has(name)) {
    const hint = cx.topology.switches.includes(name) ? ` ("${name}" is a switch)` : "";
    throw cx.source.error(path, `unknown host "${name}"${hint} (expected one of ${preview(cx.topology.hosts)})`);
  }
  return name;
}

function dur(cx: CellContext, path: FieldPath, v: unknown, sign: Sign = "non-negative"): number {
  return at(cx.source, path, () => checked(parseDuration, v, sign));
}

function bytes(cx: CellContext, path: FieldPath, v: unknown, sign: Sign = "positive"): number {
  return at(cx.source, path, () => checked(parseBytes, v, sign));
}

function rate(cx: CellContext, path: FieldPath, v: unknown, sign: Sign = "positive"): number {
  return at(cx.source, path, () => checked(parseRate, v, sign));
}

function resolveNetwork(doc: ExperimentDocument): NetworkParams {
  return {
    ...DEFAULT_NETWORK_PARAMS,
    ...(doc.network?.model && { model: doc.network.model }),
    ...(doc.network?.["congestion-control"] && { congestionControl: doc.network["congestion-control"] }),
    ...(doc.network?.["host-stack"] && { hostStack: doc.network["host-stack"] }),
    ...(doc.network?.routing && { routing: doc.network.routing }),
    ...(doc.network?.efficiency !== undefined && { efficiency: doc.network.efficiency }),
    ...(doc.network?.["tcp-handshake-rtts"] !== undefined && { tcpHandshakeRtts: doc.network["tcp-handshake-rtts"] }),
    ...(doc.network?.extra !== undefined && { extra: { ...doc.network.extra } }),
  };
}

function resolveTraffic(cx: CellContext, t: Entry<"traffic">, p: FieldPath): TrafficSpec {
  const { source } = cx;
  host(cx, [...p, "from"], t.from);
  host(cx, [...p, "to"], t.to);
  if (t.from === t.to) throw source.error(p, `a flow from "${t.from}" to itself`);
  reachable(source, cx.router, [...p, "to"], t.from, t.to);
  const start = t.start === undefined ? D.trafficStart : dur(cx, [...p, "start"], t.start);
  const stop = t.stop === undefined ? undefined : dur(cx, [...p, "stop"], t.stop);
  if (stop !== undefined && stop <= start) throw source.error([...p, "stop"], `expected stop after start (${start}s)`);
  if (t.kind === "udp" && t.rate === undefined) throw source.error(p, "a udp flow needs a rate (e.g. rate: 2Mbps)");
  if (t.kind === "tcp" && t.rate !== undefined) throw source.error([...p, "rate"], "a tcp flow is elastic: give bytes (or nothing for an endless flow), not a rate");
  return {
    from: t.from, to: t.to, kind: t.kind, start, stop, service: t.service,
    rate: t.rate === undefined ? undefined : rate(cx, [...p, "rate"], t.rate),
    bytes: t.bytes === undefined ? undefined : bytes(cx, [...p, "bytes"], t.bytes),
  };
}

function resolveMigration(cx: CellContext, m: Entry<"migrations">, p: FieldPath): MigrationSpec {
  const { source } = cx;
  host(cx, [...p, "source"], m.source);
  const mode = m.mode ?? D.mode;
  const container = resolveContainer(cx, m, p, mode);
  const candidates = resolveCandidates(cx, m, p);
  if (m.destination !== undefined) {
    host(cx, [...p, "destination"], m.destination);
    if (m.destination === m.source) throw source.error([...p, "destination"], "the destination cannot be the source");
    reachable(source, cx.router, [...p, "destination"], m.source, m.destination);
  }
  return {
    container,
    source: m.source,
    candidates,
    destination: m.destination,
    trigger: resolveTrigger(source, [...p, "trigger"], m.trigger, cx.compiled.portIndex, new Set(cx.topology.switches)),
    mode,
    transport: m.transport ?? D.transport,
  };
}

function resolveContainer(cx: CellContext, m: Entry<"migrations">, p: FieldPath, mode: MigrationSpec["mode"]): MigrationSpec["container"] {
  const c = m.container;
  const checkpoint = c.checkpoint === undefined
    ? (mode === "stateless" ? 0 : (() => { throw cx.source.error([...p, "container"], `a ${mode} migration needs container.checkpoint (e.g. 10MB)`); })())
    : bytes(cx, [...p, "container", "checkpoint"], c.checkpoint, mode === "stateless" ? "non-negative" : "positive");
  const memory = c.memory === undefined ? checkpoint : bytes(cx, [...p, "container", "memory"], c.memory, "non-negative");
  const dirtyRate = c["dirty-rate"] === undefined ? D.dirtyRate : rate(cx, [...p, "container", "dirty-rate"], c["dirty-rate"], "non-negative") / 8;
  if (mode === "pre-copy" && c.memory === undefined) {
    throw cx.source.error([...p, "container"], "a pre-copy migration needs container.memory (the pages sent in the first round)");
  }
  return { name: c.name, checkpoint, memory, dirtyRate };
}

/** The hosts a policy may choose from: listed or all but the source, and reachable from it. */
function resolveCandidates(cx: CellContext, m: Entry<"migrations">, p: FieldPath): string[] {
  const { source } = cx;
  let candidates: string[];
  // (hop distances by node index: a data center's migrations each check thousands of candidates)
  const dist = cx.router.distances(m.source);
  if (m.candidates === undefined || m.candidates === "all") {
    const hosts = cx.topology.hosts;
    const nodes = cx.hostNodes;
    candidates = [];
    for (let i = 0; i < hosts.length; i++) if (hosts[i] !== m.source && Number.isFinite(dist[nodes[i]!]!)) candidates.push(hosts[i]!);
  } else {
    if (m.candidates.length === 0) throw source.error([...p, "candidates"], "expected at least one candidate host (or all), got an empty list");
    candidates = m.candidates.map((h, j) => host(cx, [...p, "candidates", j], h));
    const dup = candidates.find((h, j) => candidates.indexOf(h) !== j);
    if (dup) throw source.error([...p, "candidates"], `candidate "${dup}" listed twice`);
    if (candidates.includes(m.source)) throw source.error([...p, "candidates"], `the source "${m.source}" cannot be a candidate`);
    candidates = candidates.filter((h) => Number.isFinite(dist[cx.compiled.index.get(h)!]!));
  }
  if (candidates.length === 0) throw source.error([...p, "candidates"], `no candidate host reachable from the source "${m.source}" (expected at least one)`);
  return candidates;
}

/**
 * Constant-rate (udp) traffic is not elastic: where the udp flows sending at the same time add
 * up to a link's capacity or more, nothing else crossing that link (a migration's transfer, its
 * messages, a probe) gets any rate and the run could never finish. That is refused here, per
 * cell, rather than found mid-run. The flow named is the one whose start fills the link; the
 * sweep value that makes it so is named by the caller (withSweepLocation).
 */
function checkUdpLoad(cx: CellContext, routing: NetworkParams["routing"], traffic: readonly TrafficSpec[]): void {
  const udp = traffic.flatMap((t, i) => (t.kind === "udp" && t.rate !== undefined ? [{ i, t, rate: t.rate, links: routerOf(cx.topology, routing).route(t.from, t.to).links }] : []));
  if (udp.length === 0) return;
  const { compiled } = cx;
  const activeAt = (t: TrafficSpec, when: number): boolean => t.start <= when && (t.stop === undefined || t.stop > when);
  for (const f of udp) {
    for (const l of f.links) {
      const sharing = udp.filter((g) => g.links.includes(l) && activeAt(g.t, f.t.start));
      const load = sharing.reduce((s, g) => s + g.rate, 0);
      const capacity = compiled.capacity[l]!;
      if (load < capacity) continue;
      const link = `${compiled.names[compiled.from[l]!]}->${compiled.names[compiled.to[l]!]}`;
      const what = sharing.length > 1
        ? `the udp traffic ${sharing.map((g) => `traffic.${g.i} (${formatRate(g.rate)})`).join(" and ")} send ${formatRate(load)} in all`
        : `the udp traffic traffic.${f.i} sends ${formatRate(load)}`;
      throw cx.source.error(["traffic", f.i, "rate"], `${what} over link ${link}, which carries ${formatRate(capacity)}: nothing else could cross it (expected a total below ${formatRate(capacity)})`);
    }
  }
}

/** Container names are unique, and a flow serving a container ends where it runs. */
function checkServices(source: YamlSource, traffic: TrafficSpec[], migrations: MigrationSpec[]): void {
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
}

function resolveProbe(cx: CellContext, pr: Entry<"probes">, p: FieldPath): ProbeSpec {
  host(cx, [...p, "from"], pr.from);
  host(cx, [...p, "to"], pr.to);
  if (pr.from === pr.to) throw cx.source.error(p, `a probe from "${pr.from}" to itself`);
  reachable(cx.source, cx.router, [...p, "to"], pr.from, pr.to);
  return {
    from: pr.from, to: pr.to,
    at: dur(cx, [...p, "at"], pr.at),
    bytes: pr.bytes === undefined ? D.probeBytes : bytes(cx, [...p, "bytes"], pr.bytes),
    every: pr.every === undefined ? D.probeEvery : dur(cx, [...p, "every"], pr.every, "positive"),
    count: pr.count ?? D.probeCount,
    newConnection: pr["new-connection"] ?? D.probeNewConnection,
  };
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
        return readYamlFile(file);
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

function resolveTrigger(source: YamlSource, path: FieldPath, t: Entry<"migrations">["trigger"], ports: ReadonlyMap<string, number>, switches: Set<string>): TriggerSpec {
  if ("at" in t) return { kind: "at", at: at(source, [...path, "at"], () => checked(parseDuration, t.at, "non-negative")) };
  if ("port" in t) {
    if (!ports.has(t.port)) {
      throw source.error([...path, "port"], `unknown port "${t.port}" (expected a port such as ${preview([...ports.keys()])})`);
    }
    return { kind: "port", port: t.port, above: at(source, [...path, "above"], () => checked(parseRate, t.above, "non-negative")), samples: t.for ?? D.triggerSamples };
  }
  if (!switches.has(t.switch)) throw source.error([...path, "switch"], `unknown switch "${t.switch}"`);
  return { kind: "switch", switch: t.switch, above: at(source, [...path, "above"], () => parsePacketRate(t.above)), samples: t.for ?? D.triggerSamples };
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

