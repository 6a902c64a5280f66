/** Helpers every policy shares: reachable candidates, seeded tie-breaking, plan checks. */
import { InputError } from "../errors.ts";
import { randomInt } from "../random.ts";
import type { RouteTable } from "../network/topology/routing.ts";
import type { Path } from "../network/topology/types.ts";
import type { NetworkView, PolicyInput, PolicyPlan, Rng } from "./types.ts";

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
 * Candidate lists by route table (one per topology, routing and source) and candidate list
 * (the same array for every run of a migration): every policy and run that decides for the same
 * source among the same candidates shares one list.
 */
const shared = new WeakMap<RouteTable, WeakMap<readonly string[], Candidate[]>>();

/**
 * The candidates a policy may choose, in the experiment's order with their routes: the source,
 * duplicates and unreachable hosts are dropped; none left is an InputError naming the policy.
 */
export function reachableCandidates(policy: string, input: PolicyInput): readonly Candidate[] {
  const { view, source, candidates } = input;
  if (!isHost(view, source)) throw new InputError(`policy ${policy}: source ${source} is not a host of the topology`);
  const table = view.routesFrom?.(source);
  const byList = table && shared.get(table);
  let out = byList?.get(candidates);
  if (!out) {
    out = [];
    // (by node index rather than a Set of names: this runs for every host of a data center)
    const seen = new Uint8Array(view.topo.names.length);
    for (const c of candidates) {
      const n = hostNode(view, c);
      if (n === undefined) throw new InputError(`policy ${policy}: candidate ${c} is not a host of the topology`);
      if (c === source || seen[n]) continue;
      seen[n] = 1;
      if (table) {
        if (!Number.isFinite(table.hops[n]!)) continue;
        const candidate: RoutedCandidate = { host: c, bottleneck: table.bottleneck[n]!, switches: table.switches[n]!, path: routeToHost, [VIEW]: view, [SOURCE]: source };
        out.push(candidate);
      } else {
        const path = tryRoute(view, source, c);
        if (path) out.push({ host: c, bottleneck: path.bottleneck, switches: path.switches, path: () => path });
      }
    }
    if (table) {
      if (!shared.has(table)) shared.set(table, new WeakMap());
      shared.get(table)!.set(candidates, out);
    }
  }
  if (out.length === 0) {
    const listed = candidates.filter((c) => c !== source);
    throw new InputError(
      `policy ${policy}: no candidate host is reachable from the source ${source}` +
        (listed.length ? ` (candidates: ${listed.join(", ")})` : " (no candidates other than the source)"),
    );
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
  let best = -Infinity;
  for (const t of items) best = Math.max(best, score(t));
  const ties = items.filter((t) => {
    const s = score(t);
    return s === best || Math.abs(s - best) <= TIE * Math.max(Math.abs(s), Math.abs(best));
  });
  const chosen = ties[randomInt(rng, ties.length)]!;
  return { chosen, ties };
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
  if (!tryRoute(input.view, input.source, p.destination)) return `returned ${p.destination}, which the source ${input.source} cannot reach`;
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
