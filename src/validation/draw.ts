/**
 * The distribution `migsim validate --random` draws its scenarios from: small networks of the
 * kinds researchers build (tree, linear, star, dumbbell, diamond), one migration across them with
 * a bottleneck somewhere on its path, background TCP flows placed relative to that migration, an
 * optional UDP stream and loaded probes. Each draw is an ordinary experiment document, so a
 * scenario can be rerun by hand; the draw is a pure function of (seed, index, attempt).
 * docs/validation-random.md ("The distribution") states it; keep the two together.
 */
import { deriveSeed, makeRng, type Rng } from "../core/random.ts";

export const TOPOLOGY_KINDS = ["tree", "linear", "star", "dumbbell", "diamond"] as const;
export type ScenarioTopologyKind = (typeof TOPOLOGY_KINDS)[number];
/** Where a background flow runs relative to the migration (source -> destination). */
export const FLOW_PLACEMENTS = ["with-migration", "against-migration", "into-destination", "any"] as const;
export type FlowPlacement = (typeof FLOW_PLACEMENTS)[number];
/** Modes drawn, with their weights; pre-copy joins only where the testbed's kernel runs it. */
const MODE_WEIGHTS = { cold: 0.5, stateless: 0.2, "post-copy": 0.3 } as const;
const LB_POLICIES = ["shortest-path", "bandwidth", "random"] as const;
const POLICIES = [...LB_POLICIES, "mtd-shamir", "mtd-fountain", "mtd-random"] as const;
const MTD_K = 3;
/** testbed runs of a drawn scenario (and simulated runs: the same seeds), unless --runs says otherwise */
export const DRAW_RUNS = 3;

export interface DrawOptions {
  /** include pre-copy among the modes (only on a testbed whose kernel has soft-dirty tracking) */
  precopy?: boolean;
  runs?: number;
}

/** Every drawn parameter of a scenario: the columns validation.csv carries beside the errors. */
export interface ScenarioParameters {
  topology: ScenarioTopologyKind;
  hosts: number;
  bottleneck_at: "access" | "core";
  bottleneck_mbps: number;
  other_links_mbps: number;
  queue_pkt: number;
  congestion_control: "cubic" | "bbr";
  tcp_flows: number;
  flow_placements: string;
  flow_leads_s: string;
  udp_mbps: number;
  checkpoint_mb: number;
  dirty_mbps: number;
  mode: string;
  transport: string;
  probes: number;
  candidates: number;
  policy: string;
}

export interface Scenario {
  name: string;
  parameters: ScenarioParameters;
  /** the experiment document (YAML-ready: quantities as strings with their units) */
  experiment: Record<string, unknown>;
}

interface Link {
  a: string;
  b: string;
  capacity?: string;
}

interface Net {
  hosts: string[];
  switches: string[];
  links: Link[];
  /** host -> its switch */
  attach: Map<string, string>;
  /** switch-to-switch links, as indices into links, between the two hosts' switches (first one = bottleneck candidate) */
  corePath: (a: string, b: string) => number[];
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.min(xs.length - 1, Math.floor(rng() * xs.length))]!;
const intIn = (rng: Rng, lo: number, hi: number): number => lo + Math.min(hi - lo, Math.floor(rng() * (hi - lo + 1)));
const logUniform = (rng: Rng, lo: number, hi: number): number => Math.exp(Math.log(lo) + rng() * (Math.log(hi) - Math.log(lo)));
/** two significant digits: files stay readable and the value is what both sides use */
const round2 = (x: number): number => Number(x.toPrecision(2));

function weighted<K extends string>(rng: Rng, weights: Readonly<Record<K, number>>): K {
  const entries = Object.entries(weights) as Array<[K, number]>;
  const total = entries.reduce((s, [, w]) => s + w, 0);
  let u = rng() * total;
  for (const [k, w] of entries) {
    u -= w;
    if (u < 0) return k;
  }
  return entries[entries.length - 1]![0];
}

/** Hosts h1..hn, each on one switch, and the switches' own links, for each kind. */
function buildNet(kind: ScenarioTopologyKind, rng: Rng): Net {
  const links: Link[] = [];
  const attach = new Map<string, string>();
  const switches: string[] = [];
  const hosts: string[] = [];
  const addHost = (sw: string) => {
    const h = `h${hosts.length + 1}`;
    hosts.push(h);
    attach.set(h, sw);
    links.push({ a: h, b: sw });
  };
  // switch graph as parent pointers (a tree) plus, for the diamond, a second branch
  const parent = new Map<string, string>();
  const sw = (name: string, up?: string) => {
    switches.push(name);
    if (up) {
      parent.set(name, up);
      links.push({ a: up, b: name });
    }
  };
  if (kind === "star") {
    sw("s1");
    const n = intIn(rng, 3, 12);
    for (let i = 0; i < n; i++) addHost("s1");
  } else if (kind === "linear") {
    const n = intIn(rng, 3, 8);
    for (let i = 1; i <= n; i++) {
      sw(`s${i}`, i > 1 ? `s${i - 1}` : undefined);
      addHost(`s${i}`);
    }
  } else if (kind === "tree") {
    // depth 2: a root switch, 2-3 edge switches, 2-4 hosts on each (at most 12)
    const edges = intIn(rng, 2, 3);
    const per = intIn(rng, 2, Math.min(4, Math.floor(12 / edges)));
    sw("s1");
    for (let e = 0; e < edges; e++) {
      sw(`s${e + 2}`, "s1");
      for (let i = 0; i < per; i++) addHost(`s${e + 2}`);
    }
  } else if (kind === "dumbbell") {
    const left = intIn(rng, 2, 6);
    const right = intIn(rng, 2, 6);
    sw("s1");
    sw("s2", "s1");
    for (let i = 0; i < left; i++) addHost("s1");
    for (let i = 0; i < right; i++) addHost("s2");
  } else {
    // diamond: s1 -> s2 -> s4 (short) and s1 -> s3 -> s5 -> s4 (long); hosts on s1 and s4
    sw("s1");
    sw("s2", "s1");
    sw("s4", "s2");
    switches.push("s3", "s5");
    links.push({ a: "s1", b: "s3" }, { a: "s3", b: "s5" }, { a: "s5", b: "s4" });
    const left = intIn(rng, 2, 6);
    const right = intIn(rng, 1, 6);
    for (let i = 0; i < left; i++) addHost("s1");
    for (let i = 0; i < right; i++) addHost("s4");
  }
  const ancestors = (s: string): string[] => {
    const out = [s];
    for (let p = parent.get(s); p; p = parent.get(p)) out.push(p);
    return out;
  };
  const linkIndex = (x: string, y: string): number => links.findIndex((l) => (l.a === x && l.b === y) || (l.a === y && l.b === x));
  // the tree path between two switches (the diamond's short branch is its tree: Linux bridges'
  // spanning tree and the simulator's hop routing both keep it)
  const corePath = (a: string, b: string): number[] => {
    const sa = attach.get(a)!;
    const sb = attach.get(b)!;
    const up = ancestors(sa);
    const down = ancestors(sb);
    const meet = up.find((s) => down.includes(s))!;
    const path: number[] = [];
    for (let i = 0; up[i] !== meet; i++) path.push(linkIndex(up[i]!, up[i + 1]!));
    for (let i = 0; down[i] !== meet; i++) path.push(linkIndex(down[i]!, down[i + 1]!));
    return path;
  };
  return { hosts, switches, links, attach, corePath };
}

/** The scenario at position `index` of the draw with this seed (attempt > 0: a redraw). */
export function drawScenario(seed: number, index: number, attempt = 0, opts: DrawOptions = {}): Scenario {
  const rng = makeRng(deriveSeed("validate-random", seed, index, attempt));
  const kind = pick(rng, TOPOLOGY_KINDS);
  const net = buildNet(kind, rng);
  const { hosts } = net;
  // the migration: a source, 1-3 candidates elsewhere (the policy picks among them)
  const source = pick(rng, hosts);
  const others = hosts.filter((h) => h !== source);
  const nCand = Math.min(others.length, intIn(rng, 1, 3));
  const candidates: string[] = [];
  while (candidates.length < nCand) {
    const h = pick(rng, others);
    if (!candidates.includes(h)) candidates.push(h);
  }
  // the MTD policies' default k = 3 needs key holders besides the source (fountain: their symbols)
  const policy = nCand === 1 ? pick(rng, ["shortest-path", "bandwidth"] as const) : pick(rng, hosts.length > MTD_K + 1 ? POLICIES : LB_POLICIES);
  // capacities: every link `other`, one link on the way to the first candidate the bottleneck
  const other = round2(logUniform(rng, 5, 100));
  const bottleneck = round2(logUniform(rng, 1, other));
  const target = candidates[0]!;
  const core = net.corePath(source, target);
  const at: "access" | "core" = core.length > 0 && rng() < 0.5 ? "core" : "access";
  const accessOf = (h: string) => net.links.findIndex((l) => l.a === h);
  const bIndex = at === "core" ? pick(rng, core) : pick(rng, [accessOf(source), accessOf(target)]);
  net.links.forEach((l, i) => {
    l.capacity = `${i === bIndex ? bottleneck : other}Mbps`;
  });
  const queue = Math.round(logUniform(rng, 50, 1000));
  const cc = rng() < 0.5 ? "cubic" : "bbr";
  // background TCP flows placed relative to the migration, established before it
  const nFlows = intIn(rng, 0, 3);
  const leads: number[] = [];
  const placements: FlowPlacement[] = [];
  const traffic: Array<Record<string, unknown>> = [];
  const otherThan = (...xs: string[]) => hosts.filter((h) => !xs.includes(h));
  for (let f = 0; f < nFlows; f++) {
    const placement = pick(rng, FLOW_PLACEMENTS);
    let from: string;
    let to: string;
    const spare = otherThan(source, target);
    if (placement === "with-migration") {
      from = spare.length && rng() < 0.5 ? pick(rng, spare) : source;
      to = target;
    } else if (placement === "against-migration") {
      from = target;
      to = source;
    } else if (placement === "into-destination") {
      from = pick(rng, otherThan(target));
      to = target;
    } else {
      from = pick(rng, hosts);
      to = pick(rng, otherThan(from));
    }
    placements.push(placement);
    leads.push(round2(rng() * 30));
    traffic.push({ from, to, kind: "tcp" });
  }
  const lead = Math.max(0, ...leads);
  const trigger = round2(lead + 2);
  traffic.forEach((t, i) => {
    t["start"] = `${round2(trigger - leads[i]!)}s`;
  });
  // a UDP stream below the capacity of every link it crosses (at most half the slowest)
  let udp = 0;
  if (rng() < 0.3) {
    const from = pick(rng, hosts);
    const to = pick(rng, otherThan(from));
    const crosses = [accessOf(from), accessOf(to), ...net.corePath(from, to)];
    const slowest = Math.min(...crosses.map((i) => (i === bIndex ? bottleneck : other)));
    udp = round2(slowest * (0.1 + 0.4 * rng()));
    traffic.push({ from, to, kind: "udp", rate: `${udp}Mbps`, start: "0s" });
  }
  const modes: Record<string, number> = { ...MODE_WEIGHTS, ...(opts.precopy ? { "pre-copy": 0.2 } : {}) };
  const mode = weighted(rng, modes);
  const checkpoint = round2(logUniform(rng, 1, 50));
  const live = mode === "post-copy" || mode === "pre-copy";
  const dirty = live && rng() < 0.5 ? round2(logUniform(rng, 0.1, 2)) : 0;
  const transport = rng() < 0.5 ? "ssh" : "tcp";
  const container: Record<string, unknown> = { name: "app" };
  if (mode !== "stateless") container["checkpoint"] = `${checkpoint}MB`;
  if (dirty > 0) container["dirty-rate"] = `${dirty}MBps`;
  if (mode === "pre-copy") container["memory"] = `${checkpoint}MB`;
  // probes under load: across the migration's path while the flows run
  const probes: Array<Record<string, unknown>> = [];
  if (nFlows > 0 && rng() < 0.5) {
    probes.push({ from: source, to: target, at: `${round2(Math.max(1, trigger - 1))}s`, every: "1s", count: 5, bytes: "100B" });
  }
  const name = `random-${seed}-${String(index + 1).padStart(3, "0")}`;
  const parameters: ScenarioParameters = {
    topology: kind,
    hosts: hosts.length,
    bottleneck_at: at,
    bottleneck_mbps: bottleneck,
    other_links_mbps: other,
    queue_pkt: queue,
    congestion_control: cc,
    tcp_flows: nFlows,
    flow_placements: placements.join(" "),
    flow_leads_s: leads.join(" "),
    udp_mbps: udp,
    checkpoint_mb: mode === "stateless" ? 0 : checkpoint,
    dirty_mbps: dirty,
    mode,
    transport,
    probes: probes.length,
    candidates: nCand,
    policy,
  };
  const experiment: Record<string, unknown> = {
    name,
    description: `drawn by migsim validate --random (seed ${seed}, scenario ${index + 1}${attempt ? `, redraw ${attempt}` : ""})`,
    topology: {
      name: `${kind}-${hosts.length}`,
      defaults: { capacity: `${other}Mbps`, latency: "0s", queue: `${queue}pkt`, mtu: "1500B" },
      switches: net.switches,
      hosts,
      links: net.links,
    },
    runs: opts.runs ?? DRAW_RUNS,
    seed: deriveSeed("validate-random-runs", seed, index),
    horizon: "900s",
    network: { model: "tcp-fluid", "congestion-control": cc, "host-stack": "emulated" },
    ...(traffic.length ? { traffic } : {}),
    ...(probes.length ? { probes } : {}),
    migrations: [{ container, source, candidates, trigger: { at: `${trigger}s` }, mode, transport }],
    policies: [policy],
  };
  return { name, parameters, experiment };
}
