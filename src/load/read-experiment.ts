/**
 * Loads an experiment file into an Experiment: validated, units converted, hosts and ports
 * checked against the topology, sweep axes expanded into cells. Nothing runs on bad input:
 * every refusal is an InputError naming the file, line, field and what was expected.
 */
import { readYamlFile } from "./read-yaml.ts";
import { realpathSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { InputError } from "../core/errors.ts";
import type { Topology } from "../network/topology/topology-types.ts";
import type { PolicySpec, RunSpec } from "../formats/runspec.ts";
import { describe } from "../core/units.ts";
import { at, type YamlSource, type FieldPath } from "../core/yamlsource.ts";
import { getPath, label, parseAssignment, setAssignment, setPath, splitPath, sweepOver, sweptFieldError, type RawDoc } from "./overrides.ts";
import { CELL_FIELDS, EXPERIMENT_DEFAULTS, EXPERIMENT_SCHEMA, type ExperimentDocument } from "../formats/experiment.ts";
import { applyProfile, loadProfile, PAPER_PROFILE, profileOf, type Profile, type ProfileRef } from "./read-profile.ts";
import { isKnownPolicy, knownPolicyNames } from "./policy-names.ts";
import { resolveCell } from "./resolve-cell.ts";
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
  return withoutChangedReference(
    withProfile,
    sets.map((s) => s.path),
  );
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
  const changes = [...setPaths.filter((p) => !SCENARIO_NEUTRAL.has(p) && !p.startsWith("reference")).map((p) => `--set ${p}`), ...exp.axes.map((a) => `the sweep over ${a.path}`)];
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
    axes.forEach((other, b) => {
      if (b !== a) doc = setPath(doc, other.path, other.values[0]);
    });
    try {
      resolve(doc);
    } catch (e) {
      const field = e instanceof InputError ? (e.location.field ?? "") : "";
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
