/** Helpers every policy shares: reachable candidates, seeded tie-breaking, plan checks. */
import { InputError } from "../core/errors.ts";
import { randomInt } from "../core/random.ts";
import type { RouteTable } from "../network/topology/routing.ts";
import type { Path } from "../network/topology/topology-types.ts";
import type { NetworkView, PolicyInput, PolicyPlan, Rng } from "./policy-types.ts";

/** the route, or undefined when the network has none */
export function tryRoute(view: NetworkView, src: string, dst: string): Path | undefined {
  try {
    return view.route(src, dst);
  } catch {
    return undefined;
  }
}

/** the node index of `name` when it is a host of the topology */
function hostNode(view: NetworkView, name: string): number | undefined {
  const n = view.topo.index.get(name);
  return n !== undefined && view.topo.isHost(n) ? n : undefined;
}

function isHost(view: NetworkView, name: string): boolean {
  return hostNode(view, name) !== undefined;
}

/** A candidate a policy may choose, with what its route offers (no Path is built to score it). */
export interface Candidate {
  host: string;
  /** smallest nominal capacity on the route, bits per second */
  bottleneck: number;
  /** switches on the route */
  switches: number;
  /** the route itself, built on demand */
  path(): Path;
}

const VIEW = Symbol("view");
const SOURCE = Symbol("source");
interface RoutedCandidate extends Candidate {
  [VIEW]: NetworkView;
  [SOURCE]: string;
}
function routeToHost(this: RoutedCandidate): Path {
  return this[VIEW].route(this[SOURCE], this.host);
}

/**
 * The reachable candidates of a source among a candidate list, as node indices in list order,
 * by route table (one per topology, routing and source) and list (the same array for every run
 * of a migration): every policy and run that decides for the same source among the same
 * candidates shares one. Four bytes a candidate: a k=32 fat-tree's 1,000 migrations among 8,191
 * hosts each keep 32 MB here, where Candidate objects would take 800 MB.
 */
const nodeLists = new WeakMap<RouteTable, WeakMap<readonly string[], Int32Array>>();

/**
 * Candidate objects built from a node list, kept while their topology's budget lasts (per
 * topology, so a cell's budget goes with it): a data-center cell of 200 migrations among 1,023
 * hosts keeps all of its lists, a larger one builds those past the budget at each decision
 * (which costs time, not results).
 */
const candidateObjects = new WeakMap<Int32Array, readonly Candidate[]>();
const objectsLeft = new WeakMap<object, { left: number }>();
const CANDIDATE_OBJECTS_KEPT = 1_000_000;

/**
 * The node list `reachableCandidates` draws from, shared by every decision for the same source
 * among the same candidates (so it also keys what a policy derives from them); undefined when
 * the view has no route tables. Throws an InputError for a source or candidate that is not a host.
 */
export function reachableNodes(policy: string, input: PolicyInput): Int32Array | undefined {
  const { view, source, candidates } = input;
  if (!isHost(view, source)) throw new InputError(`policy ${policy}: source ${source} is not a host of the topology`);
  const table = view.routesFrom?.(source);
  if (!table) return undefined;
  let byList = nodeLists.get(table);
  let nodes = byList?.get(candidates);
  if (!nodes) {
    nodes = Int32Array.from(candidateNodes(policy, view, source, candidates).filter((n) => Number.isFinite(table.hops[n]!)));
    if (!byList) nodeLists.set(table, (byList = new WeakMap()));
    byList.set(candidates, nodes);
  }
  return nodes;
}

/** the candidates' node indices in list order, without the source and duplicates; a name that is not a host is an InputError */
function candidateNodes(policy: string, view: NetworkView, source: string, candidates: readonly string[]): number[] {
  const out: number[] = [];
  // (by node index rather than a Set of names: this runs for every host of a data center)
  const seen = new Uint8Array(view.topo.names.length);
  const s = hostNode(view, source);
  for (const c of candidates) {
    const n = hostNode(view, c);
    if (n === undefined) throw new InputError(`policy ${policy}: candidate ${c} is not a host of the topology`);
    if (n === s || seen[n]) continue;
    seen[n] = 1;
    out.push(n);
  }
  return out;
}

/**
 * The candidates a policy may choose, in the experiment's order with their routes: the source,
 * duplicates and unreachable hosts are dropped; none left is an InputError naming the policy.
 */
export function reachableCandidates(policy: string, input: PolicyInput): readonly Candidate[] {
  const { view, source, candidates } = input;
  const nodes = reachableNodes(policy, input);
  let out: readonly Candidate[] | undefined = nodes && candidateObjects.get(nodes);
  if (!out) out = nodes ? routedCandidates(view, source, nodes) : probedCandidates(policy, input);
  if (out.length === 0) {
    const listed = candidates.filter((c) => c !== source);
    throw new InputError(
      `policy ${policy}: no candidate host is reachable from the source ${source}` + (listed.length ? ` (candidates: ${listed.join(", ")})` : " (no candidates other than the source)"),
    );
  }
  return out;
}

/**
 * The reachable candidates of a decision by position (the order of reachableCandidates), with
 * what their routes offer: for policies that score every candidate, without an object per
 * candidate when the view has route tables (a data-center decision has thousands).
 */
export interface CandidateView {
  readonly size: number;
  host(i: number): string;
  /** smallest nominal capacity on the route, bits per second */
  bottleneck(i: number): number;
  /** switches on the route */
  switches(i: number): number;
}

/** reachableCandidates by position: the same candidates, the same order, the same errors */
export function reachableView(policy: string, input: PolicyInput): CandidateView {
  const nodes = reachableNodes(policy, input);
  if (!nodes || nodes.length === 0) {
    const cs = reachableCandidates(policy, input);
    return { size: cs.length, host: (i) => cs[i]!.host, bottleneck: (i) => cs[i]!.bottleneck, switches: (i) => cs[i]!.switches };
  }
  const table = input.view.routesFrom!(input.source);
  const names = input.view.topo.names;
  return { size: nodes.length, host: (i) => names[nodes[i]!]!, bottleneck: (i) => table.bottleneck[nodes[i]!]!, switches: (i) => table.switches[nodes[i]!]! };
}

/** the Candidates of a node list, from the source's route table; kept while the budget lasts */
function routedCandidates(view: NetworkView, source: string, nodes: Int32Array): readonly Candidate[] {
  const table = view.routesFrom!(source);
  const names = view.topo.names;
  const out: RoutedCandidate[] = [];
  for (const n of nodes) out.push({ host: names[n]!, bottleneck: table.bottleneck[n]!, switches: table.switches[n]!, path: routeToHost, [VIEW]: view, [SOURCE]: source });
  let budget = objectsLeft.get(view.topo);
  if (!budget) objectsLeft.set(view.topo, (budget = { left: CANDIDATE_OBJECTS_KEPT }));
  if (budget.left >= out.length) {
    budget.left -= out.length;
    candidateObjects.set(nodes, out);
  }
  return out;
}

/** the candidates of a view without route tables, each routed on its own (not kept) */
function probedCandidates(policy: string, input: PolicyInput): Candidate[] {
  const { view, source, candidates } = input;
  const out: Candidate[] = [];
  for (const n of candidateNodes(policy, view, source, candidates)) {
    const host = view.topo.names[n]!;
    const path = tryRoute(view, source, host);
    if (path) out.push({ host, bottleneck: path.bottleneck, switches: path.switches, path: () => path });
  }
  return out;
}

/** whether `host` can be reached from `source` (from the route table when the view has one) */
export function reaches(view: NetworkView, source: string, host: string): boolean {
  const table = view.routesFrom?.(source);
  if (!table) return tryRoute(view, source, host) !== undefined;
  const n = view.topo.index.get(host);
  return n !== undefined && Number.isFinite(table.hops[n]!);
}

/** relative tolerance for "equal" capacities and scores */
const TIE = 1e-9;

/**
 * The items with the largest score, one of them drawn uniformly with the seeded rng.
 * One draw is always made, so the stream advances the same way whatever the number of ties.
 */
export function pickMax<T>(items: readonly T[], score: (t: T) => number, rng: Rng): { chosen: T; ties: T[] } {
  const { chosen, ties } = pickMaxAt(items.length, (i) => score(items[i]!), rng);
  return { chosen: items[chosen]!, ties: ties.map((i) => items[i]!) };
}

/** pickMax over positions 0 .. size - 1 (of a CandidateView) */
export function pickMaxAt(size: number, score: (i: number) => number, rng: Rng): { chosen: number; ties: number[] } {
  let best = -Infinity;
  for (let i = 0; i < size; i++) best = Math.max(best, score(i));
  const ties: number[] = [];
  for (let i = 0; i < size; i++) {
    const s = score(i);
    if (s === best || Math.abs(s - best) <= TIE * Math.max(Math.abs(s), Math.abs(best))) ties.push(i);
  }
  return { chosen: ties[randomInt(rng, ties.length)]!, ties };
}

/**
 * Checks a plan against the contract: the destination is a reachable candidate and not the
 * source; requests and set-up messages are well formed. Used for builtins and plugins alike.
 */
export function planProblem(plan: unknown, input: PolicyInput): string | undefined {
  if (typeof plan !== "object" || plan === null) return `returned ${plan === null ? "null" : typeof plan} instead of a plan object`;
  const p = plan as Partial<PolicyPlan>;
  if (typeof p.destination !== "string") return "returned a plan without a destination (a host name)";
  if (p.destination === input.source) return `returned the source ${input.source} as the destination`;
  if (!input.candidates.includes(p.destination)) {
    return `returned ${p.destination}, which is not a candidate (candidates: ${input.candidates.join(", ")})`;
  }
  // (from the route table when the view has one: a Path per check would build the source's tree)
  if (!reaches(input.view, input.source, p.destination)) return `returned ${p.destination}, which the source ${input.source} cannot reach`;
  if (!Array.isArray(p.keyRequests)) return "returned a plan whose keyRequests is not a list";
  for (const r of p.keyRequests) {
    if (typeof r?.host !== "string" || !isHost(input.view, r.host)) return `has a key request to an unknown host ${String(r?.host)}`;
    if (!(r.requestBytes >= 0 && r.responseBytes >= 0)) return `has a key request to ${r.host} with negative or missing sizes`;
    if (typeof r.newConnection !== "boolean") return `has a key request to ${r.host} without newConnection`;
  }
  if (!Array.isArray(p.setup)) return "returned a plan whose setup is not a list";
  for (const m of p.setup) {
    if (typeof m?.from !== "string" || typeof m?.to !== "string" || !(m.bytes >= 0)) return "has a malformed setup message";
  }
  if (typeof p.computeSeconds !== "number" || !(p.computeSeconds >= 0) || !Number.isFinite(p.computeSeconds)) {
    return "returned a plan whose computeSeconds is not a finite non-negative number";
  }
  if (p.note !== undefined && typeof p.note !== "string") return "returned a plan whose note is not text";
  return undefined;
}
