/**
 * `migsim topo FILE`: validate and summarise a topology (hosts, switches, links, host-to-host
 * diameter, capacity and latency ranges), optionally list shortest paths and draw it as SVG or PNG.
 */
import { loadTopologyFile } from "../load/index.ts";
import { basename, extname } from "node:path";
import type { CommandModule } from "yargs";
import { InputError } from "../core/index.ts";
import { hostDiameter, rangeOf } from "../network/topology/analysis.ts";
import { compileTopology } from "../network/topology/compile.ts";
import { allShortestPaths, kShortestPaths, pathAlong, toGraph } from "../network/topology/graph.ts";
import { Router } from "../network/topology/routing.ts";
import type { CompiledTopology, Path } from "../network/topology/topology-types.ts";
import { writeFileAtomic } from "../outputs/index.ts";
import { drawTopology } from "../reports/index.ts";
import { svgToPng } from "../reports/index.ts";
import { formatDuration, formatRate, formatSignificant } from "../core/index.ts";

interface TopoArgs {
  file: string;
  paths?: string | undefined;
  k?: number | undefined;
  json: boolean;
  seed: number;
  draw?: string | undefined;
}

export const topoCommand: CommandModule<object, TopoArgs> = {
  command: "topo <file>",
  describe: "validate and summarise a topology file",
  builder: (y) =>
    y
      .positional("file", { type: "string", demandOption: true, describe: "topology YAML" })
      .option("paths", {
        type: "string",
        describe: "print the route between every host pair, or every shortest path (by hops) between one pair: --paths h1,h3",
      })
      .option("k", { type: "number", describe: "with --paths a,b: the k shortest loop-free paths instead (by hops)" })
      .option("json", { type: "boolean", default: false, describe: "print the summary (and paths) as JSON" })
      .option("seed", { type: "number", default: 1, describe: "seed for generated topologies with drawn link properties" })
      .option("draw", { type: "string", describe: "draw the topology to this file: SVG, or PNG when it ends in .png" })
      .example("$0 topo topologies/tree.yaml", "summary")
      .example("$0 topo topologies/tree.yaml --paths h1,h9", "every shortest path between two hosts")
      .example("$0 topo topologies/fat-tree.yaml --paths h1,h16 --k 8", "the 8 shortest paths")
      .example("$0 topo topologies/fat-tree.yaml --draw out/fat-tree.svg", "drawing")
      .example("$0 topo topologies/fat-tree.yaml --draw out/fat-tree.png", "drawing as PNG") as never,
  handler: (args) => {
    if (!Number.isInteger(args.seed)) throw new InputError(`expected an integer seed, got ${args.seed}`, { field: "--seed" });
    const topology = loadTopologyFile(args.file, args.seed);
    const compiled = compileTopology(topology);
    const summary = summarise(compiled, args.file);
    if (args.k !== undefined && (args.paths === undefined || args.paths.trim() === "")) {
      throw new InputError("expected --paths a,b with --k (the k shortest paths between two nodes)", { field: "--k" });
    }
    if (args.k !== undefined && !(Number.isInteger(args.k) && args.k >= 1)) {
      throw new InputError(`expected a positive integer, got ${args.k}`, { field: "--k" });
    }
    const format = args.draw === undefined ? undefined : drawingFormat(args.draw);
    const paths = args.paths === undefined ? undefined : routes(compiled, args.paths, args.k);
    if (args.draw !== undefined) {
      const svg = drawTopology(compiled);
      writeDrawing(args.draw, format === "png" ? svgToPng(svg) : svg);
    }
    if (args.json) {
      const json: Record<string, unknown> = { ...summary, seed: args.seed };
      if (paths) json.paths = paths.map(pathJson(compiled));
      process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      return;
    }
    process.stdout.write(formatSummary(summary));
    if (paths) for (const p of paths) process.stdout.write(`${formatPath(compiled, p)}\n`);
    if (args.draw !== undefined) process.stdout.write(`drawn to ${args.draw}\n`);
  },
};

export interface TopologySummary {
  name: string;
  file: string;
  hosts: number;
  switches: number;
  links: number;
  /** hops of the longest shortest path between two hosts, with a pair that far apart */
  diameter: { hops: number; from: string; to: string };
  capacity_bps: { min: number; max: number };
  latency_s: { min: number; max: number };
  queue_pkts: { min: number; max: number };
}

function summarise(t: CompiledTopology, file: string): TopologySummary {
  const queue = t.topology.links.length ? rangeOf(Float64Array.from(t.topology.links, (l) => l.queue)) : { min: 0, max: 0 };
  return {
    name: t.topology.name,
    file,
    hosts: t.hostCount,
    switches: t.nodeCount - t.hostCount,
    links: t.from.length / 2,
    diameter: hostDiameter(t),
    capacity_bps: rangeOf(t.capacity),
    latency_s: rangeOf(t.latency),
    queue_pkts: queue,
  };
}

function formatSummary(s: TopologySummary): string {
  const range = (r: { min: number; max: number }, f: (x: number) => string): string => (r.min === r.max ? f(r.min) : `${f(r.min)} .. ${f(r.max)}`);
  return [
    `${s.name} (${s.file}): valid`,
    `  hosts      ${s.hosts}`,
    `  switches   ${s.switches}`,
    `  links      ${s.links}`,
    `  diameter   ${s.diameter.hops} hops between hosts (${s.diameter.from} to ${s.diameter.to})`,
    `  capacity   ${range(s.capacity_bps, formatRate)}`,
    `  latency    ${range(s.latency_s, formatDuration)}`,
    `  queue      ${range(s.queue_pkts, (q) => `${formatSignificant(q)}pkt`)}`,
    "",
  ].join("\n");
}

/** All-pairs listings beyond this would print gigabytes. */
const MAX_ALL_PAIRS = 1_000_000;
/** Paths listed for one pair at most (a large fat-tree has more equal-cost paths than anyone reads). */
const MAX_PAIR_PATHS = 10_000;

/**
 * `--paths`: the route of every unordered host pair (what the simulator's hop-count routing
 * uses); `--paths a,b`: every shortest path between a and b, or with `--k` the k shortest.
 */
function routes(t: CompiledTopology, spec: string, k: number | undefined): Path[] {
  const router = new Router(t, "hops");
  const hosts = t.topology.hosts;
  if (spec.trim() === "") {
    const pairs = (hosts.length * (hosts.length - 1)) / 2;
    if (pairs > MAX_ALL_PAIRS) {
      throw new InputError(`${hosts.length} hosts make ${pairs} pairs; expected at most ${MAX_ALL_PAIRS} for --paths without a pair (use --paths a,b)`, { field: "--paths" });
    }
    const out: Path[] = [];
    for (let i = 0; i < hosts.length; i++) for (let j = i + 1; j < hosts.length; j++) out.push(router.route(hosts[i]!, hosts[j]!));
    return out;
  }
  const pair = spec.split(",").map((s) => s.trim());
  if (pair.length !== 2) throw new InputError(`expected two node names separated by a comma (e.g. h1,h3), got "${spec}"`, { field: "--paths" });
  for (const n of pair) {
    if (!t.index.has(n)) throw new InputError(`unknown node "${n}" (expected a host or switch of ${t.topology.name})`, { field: "--paths" });
  }
  const graph = toGraph(t.topology);
  const [a, b] = pair as [string, string];
  const found = k === undefined ? allShortestPaths(graph, a, b, MAX_PAIR_PATHS) : kShortestPaths(graph, a, b, Math.min(k, MAX_PAIR_PATHS));
  if (found.length === 0) throw new InputError(`no path from ${a} to ${b}`, { field: "--paths" });
  return found.map((names) => pathAlong(t, names));
}

function formatPath(t: CompiledTopology, p: Path): string {
  const names = p.nodes.map((n) => t.names[n]!);
  return `${names[0]} -> ${names[names.length - 1]}: ${names.join(" ")} (${p.hops} hops, ${p.switches} switches, bottleneck ${formatRate(p.bottleneck)}, propagation ${formatDuration(p.propagation)})`;
}

function pathJson(t: CompiledTopology): (p: Path) => Record<string, unknown> {
  return (p) => ({
    from: t.names[p.nodes[0]!],
    to: t.names[p.nodes[p.nodes.length - 1]!],
    nodes: p.nodes.map((n) => t.names[n]),
    ports: p.links.map((l) => t.portName[l]),
    hops: p.hops,
    switches: p.switches,
    bottleneck_bps: p.bottleneck,
    propagation_s: p.propagation,
  });
}

/** The drawing's format from its file name: a .png holds a PNG, a .svg an SVG; others are refused. */
function drawingFormat(file: string): "svg" | "png" {
  const ext = extname(file).toLowerCase();
  if (ext === ".png" || ext === ".svg") return ext === ".png" ? "png" : "svg";
  throw new InputError(`expected a file name ending in .svg or .png, got "${basename(file)}"`, { field: "--draw" });
}

/** A reader never sees half a drawing; a missing folder is the user's typo, not created. */
function writeDrawing(file: string, text: string | Uint8Array): void {
  try {
    writeFileAtomic(file, text, false);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EACCES" || code === "EISDIR" || code === "ENOTDIR") {
      throw new InputError(`cannot write the drawing (${code}); expected a writable file path`, { file, field: "--draw" });
    }
    throw e;
  }
}
