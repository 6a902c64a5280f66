/**
 * Checks a RunSpec before anything runs: every refusal is one InputError naming the field
 * (dotted path as in the experiment file) and what was expected. The experiment loader calls it
 * too (and adds file and line with InputError.withLocation).
 */
import { InputError } from "../core/errors.ts";
import { MIGRATION_MODES, TRANSPORTS } from "../formats/modes.ts";
import type { CostParams, RunSpec } from "../formats/runspec.ts";
import type { Topology } from "../network/topology/topology-types.ts";
import { COST_FIELDS } from "./costs.ts";

type Check = (ok: boolean, field: string, detail: string) => void;

/** candidate lists found to be hosts of a topology (the last one each was checked against) */
const hostsChecked = new WeakMap<readonly string[], Topology>();

/**
 * Records that every name of `list` is a host of `topology`, for a list its maker built from
 * that topology's hosts (the loader's candidate lists): validateRunSpec need not look them up.
 */
export function hostsOf(list: readonly string[], topology: Topology): void {
  hostsChecked.set(list, topology);
}

export function validateRunSpec(spec: RunSpec): void {
  const check: Check = (ok, field, detail) => {
    if (!ok) throw new InputError(detail, { field });
  };
  const hosts = new Set(spec.topology.hosts);
  const switches = new Set(spec.topology.switches);
  const isHost = (field: string, name: unknown): void => check(typeof name === "string" && hosts.has(name), field, `expected a host of topology ${spec.topology.name}, got ${show(name)}`);
  const nonNeg = (field: string, v: unknown): void => check(typeof v === "number" && Number.isFinite(v) && v >= 0, field, `expected a finite value >= 0, got ${show(v)}`);
  const pos = (field: string, v: unknown): void => check(typeof v === "number" && v > 0 && !Number.isNaN(v), field, `expected a value > 0, got ${show(v)}`);
  const count = (field: string, v: unknown, min: number): void => check(typeof v === "number" && Number.isInteger(v) && v >= min, field, `expected a whole number >= ${min}, got ${show(v)}`);

  isHost("manager", spec.manager);
  pos("horizon", spec.horizon);
  pos("measurement.period", spec.measurement.period);
  validateCosts(spec.costs, check, nonNeg, pos, count);

  spec.migrations.forEach((m, i) => {
    const f = `migrations.${i}`;
    check(typeof m.container.name === "string" && m.container.name.length > 0, `${f}.container.name`, "expected a container name");
    nonNeg(`${f}.container.checkpoint`, m.container.checkpoint);
    nonNeg(`${f}.container.memory`, m.container.memory);
    nonNeg(`${f}.container.dirty-rate`, m.container.dirtyRate);
    isHost(`${f}.source`, m.source);
    check(m.candidates.length > 0, `${f}.candidates`, "expected at least one candidate host");
    // the field name is built only for a bad candidate: a data-center run has 10^5 of them, and
    // every run of a cell the same list (checked once per list and topology)
    if (hostsChecked.get(m.candidates) !== spec.topology) {
      m.candidates.forEach((c, j) => (typeof c === "string" && hosts.has(c) ? undefined : isHost(`${f}.candidates.${j}`, c)));
      hostsChecked.set(m.candidates, spec.topology);
    }
    check(
      m.candidates.some((c) => c !== m.source),
      `${f}.candidates`,
      `expected a candidate other than the source ${m.source}`,
    );
    if (m.destination !== undefined) {
      isHost(`${f}.destination`, m.destination);
      check(m.destination !== m.source, `${f}.destination`, `expected a host other than the source ${m.source}`);
    }
    if (spec.policy.name === "fixed") check(m.destination !== undefined, `${f}.destination`, "the fixed policy needs a destination");
    check(MIGRATION_MODES.includes(m.mode), `${f}.mode`, `expected ${MIGRATION_MODES.slice(0, -1).join(", ")} or ${MIGRATION_MODES.at(-1)}, got ${show(m.mode)}`);
    check(TRANSPORTS.includes(m.transport), `${f}.transport`, `expected ${TRANSPORTS.join(" or ")}, got ${show(m.transport)}`);
    if (m.mode !== "stateless") pos(`${f}.container.checkpoint`, m.container.checkpoint);
    if (m.mode === "pre-copy") {
      pos(`${f}.container.memory`, m.container.memory);
      check(typeof m.container.dirtyRate === "number" && Number.isFinite(m.container.dirtyRate), `${f}.container.dirty-rate`, "pre-copy needs the container's dirty rate (e.g. 5MBps)");
    }
    if (m.mode === "post-copy") {
      check(
        spec.costs.postcopyMinimal <= m.container.checkpoint,
        `${f}.container.checkpoint`,
        `post-copy needs a checkpoint of at least costs.postcopy-minimal (${spec.costs.postcopyMinimal} B), got ${m.container.checkpoint} B`,
      );
    }
    const t = m.trigger;
    if (t.kind === "at") nonNeg(`${f}.trigger.at`, t.at);
    else if (t.kind === "port") {
      const ports = portsOf(spec.topology);
      check(ports.has(t.port), `${f}.trigger.port`, `no port ${show(t.port)} in topology ${spec.topology.name} (ports are named like ${[...ports].slice(0, 2).join(", ")})`);
      nonNeg(`${f}.trigger.above`, t.above);
      count(`${f}.trigger.for`, t.samples, 1);
    } else if (t.kind === "switch") {
      check(switches.has(t.switch), `${f}.trigger.switch`, `no switch ${show(t.switch)} in topology ${spec.topology.name}`);
      nonNeg(`${f}.trigger.above`, t.above);
      count(`${f}.trigger.for`, t.samples, 1);
    } else check(false, `${f}.trigger`, "expected { at }, { port, above, for } or { switch, above, for }");
  });

  spec.traffic.forEach((t, i) => {
    const f = `traffic.${i}`;
    isHost(`${f}.from`, t.from);
    isHost(`${f}.to`, t.to);
    check(t.from !== t.to, `${f}.to`, "expected a host other than `from`");
    nonNeg(`${f}.start`, t.start);
    if (t.stop !== undefined) check(t.stop > t.start, `${f}.stop`, `expected a stop after start (${t.start}s), got ${show(t.stop)}`);
    if (t.kind === "udp") pos(`${f}.rate`, t.rate);
    else if (t.kind === "tcp") {
      if (t.bytes !== undefined) pos(`${f}.bytes`, t.bytes);
      if (t.rate !== undefined) check(false, `${f}.rate`, "a tcp flow is elastic: give no rate (use kind: udp for a constant rate)");
    } else check(false, `${f}.kind`, `expected tcp or udp, got ${show(t.kind)}`);
  });

  spec.probes.forEach((p, i) => {
    const f = `probes.${i}`;
    isHost(`${f}.from`, p.from);
    isHost(`${f}.to`, p.to);
    nonNeg(`${f}.at`, p.at);
    nonNeg(`${f}.bytes`, p.bytes);
    count(`${f}.count`, p.count, 1);
    if (p.count > 1) pos(`${f}.every`, p.every);
  });
}

const NON_NEGATIVE_COSTS = [
  "checkpointBase",
  "restoreBase",
  "restorePerContainer",
  "decisionCompute",
  "killDuration",
  "startDuration",
  "statelessPrepare",
  "statelessSwitchover",
  "precopyThreshold",
  "postcopyMinimal",
  "controlBytes",
  "sftpFileRtts",
  "sftpFileCpu",
  "transferSetup",
  "sshSetup",
  "sshCommand",
  "imageOverhead",
  "postcopyCheckpointBase",
  "postcopyRestoreBase",
  "postcopyRequestCpu",
  "postcopyClose",
] as const;
const POSITIVE_COSTS = ["checkpointRate", "restoreRate", "sshCipherRate", "postcopyChunk", "postcopyFaultInterval"] as const;
/** CostParams field -> its key in the experiment file's `costs:` block */
const COST_KEY = Object.fromEntries(Object.entries(COST_FIELDS).map(([key, f]) => [f.field, `costs.${key}`])) as Record<keyof CostParams, string>;

function validateCosts(c: CostParams, check: Check, nonNeg: (f: string, v: unknown) => void, pos: (f: string, v: unknown) => void, count: (f: string, v: unknown, min: number) => void): void {
  for (const k of NON_NEGATIVE_COSTS) nonNeg(COST_KEY[k], c[k]);
  for (const k of POSITIVE_COSTS) pos(COST_KEY[k], c[k]);
  check(typeof c.compression === "number" && c.compression > 0 && c.compression <= 1, "costs.compression", `expected a compressed/raw size ratio in (0, 1], got ${show(c.compression)}`);
  count(COST_KEY.sshHandshakeRtts, c.sshHandshakeRtts, 0);
  count(COST_KEY.checkpointFiles, c.checkpointFiles, 1);
  count(COST_KEY.postcopyFiles, c.postcopyFiles, 1);
  count(COST_KEY.precopyMaxRounds, c.precopyMaxRounds, 1);
}

/** the port names of each topology, built when a port trigger is first checked against it */
const portSets = new WeakMap<Topology, ReadonlySet<string>>();

function portsOf(topology: Topology): ReadonlySet<string> {
  let ports = portSets.get(topology);
  if (!ports) portSets.set(topology, (ports = new Set(portNames(topology))));
  return ports;
}

/** The port names compileTopology gives (Mininet style), without compiling. */
function portNames(topology: Topology): string[] {
  const hosts = new Set(topology.hosts);
  const counter = new Map<string, number>();
  const out: string[] = [];
  for (const l of topology.links) {
    for (const n of [l.a, l.b]) {
      const k = counter.get(n) ?? 0;
      counter.set(n, k + 1);
      out.push(`${n}-eth${k + (hosts.has(n) ? 0 : 1)}`);
    }
  }
  return out;
}

function show(v: unknown): string {
  if (typeof v === "string") return `"${v}"`;
  if (v === undefined) return "nothing";
  return String(v);
}
