/**
 * One cell of an experiment resolved into the parts of a RunSpec that every run of it shares:
 * topology, network, costs, traffic, migrations and probes, units converted and every host, port
 * and route checked against the topology (errors located at their field).
 */
import { readYamlFile } from "./read-yaml.ts";
import { dirname, resolve } from "node:path";
import { InputError } from "../core/errors.ts";
import { DEFAULT_NETWORK_PARAMS, type NetworkParams } from "../network/network-model.ts";
import { loadTopology } from "../network/topology/load.ts";
import type { Router } from "../network/topology/routing.ts";
import { compiledOf, routerOf } from "../network/topology/shared.ts";
import type { CompiledTopology, Topology } from "../network/topology/topology-types.ts";
import { costsAt } from "./costs-at.ts";
import { hostsOf } from "../migration/validate.ts";
import type { CostParams, MigrationSpec, ProbeSpec, RunSpec, TrafficSpec, TriggerSpec } from "../formats/runspec.ts";
import { checked, describe, formatRate, parseBytes, parseDuration, parseRate } from "../core/units.ts";
import { at, type YamlSource, type FieldPath } from "../core/yamlsource.ts";
import type { RawDoc } from "./overrides.ts";
import { EXPERIMENT_DEFAULTS, EXPERIMENT_SCHEMA, type ExperimentDocument } from "../formats/experiment.ts";

const D = EXPERIMENT_DEFAULTS;

/** What a cell resolves to: a RunSpec without the run, policy and plan position. */
export type CellSpec = Omit<RunSpec, "policy" | "run" | "seed" | "experiment" | "cell" | "cellIndex" | "axes">;
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

export function resolveCell(source: YamlSource, raw: RawDoc, seed: number, topologies: Map<string, Topology>, checkLoad = true): CellSpec {
  const doc = source.parse(EXPERIMENT_SCHEMA, raw);
  const topology = resolveTopology(source, doc, seed, topologies);
  const compiled = compiledOf(topology);
  const cx: CellContext = {
    source,
    topology,
    compiled,
    router: routerOf(topology),
    hosts: new Set(topology.hosts),
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
    from: t.from,
    to: t.to,
    kind: t.kind,
    start,
    stop,
    service: t.service,
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
    trigger: resolveTrigger(source, [...p, "trigger"], m.trigger, cx.compiled.portIndex, cx.topology.switches),
    mode,
    transport: m.transport ?? D.transport,
  };
}

function resolveContainer(cx: CellContext, m: Entry<"migrations">, p: FieldPath, mode: MigrationSpec["mode"]): MigrationSpec["container"] {
  const c = m.container;
  const checkpoint =
    c.checkpoint === undefined
      ? mode === "stateless"
        ? 0
        : (() => {
            throw cx.source.error([...p, "container"], `a ${mode} migration needs container.checkpoint (e.g. 10MB)`);
          })()
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
  // (hops by node index: a data center's migrations each check thousands of candidates; from the
  // source's route table, which the policies' trial decisions and the runs read next, where a
  // search tree of each of a k=32 data center's 1,000 sources would be searched again for them)
  const dist = cx.router.table(m.source).hops;
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
  // (every name was found among the hosts above: a k=32 file's 8 million are not looked up again)
  hostsOf(candidates, cx.topology);
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
      const what =
        sharing.length > 1
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
    from: pr.from,
    to: pr.to,
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

function resolveTrigger(source: YamlSource, path: FieldPath, t: Entry<"migrations">["trigger"], ports: ReadonlyMap<string, number>, switches: readonly string[]): TriggerSpec {
  if ("at" in t) return { kind: "at", at: at(source, [...path, "at"], () => checked(parseDuration, t.at, "non-negative")) };
  if ("port" in t) {
    if (!ports.has(t.port)) {
      throw source.error([...path, "port"], `unknown port "${t.port}" (expected a port such as ${preview([...ports.keys()])})`);
    }
    return { kind: "port", port: t.port, above: at(source, [...path, "above"], () => checked(parseRate, t.above, "non-negative")), samples: t.for ?? D.triggerSamples };
  }
  if (!switches.includes(t.switch)) throw source.error([...path, "switch"], `unknown switch "${t.switch}"`);
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
