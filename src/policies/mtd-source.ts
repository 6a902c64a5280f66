/**
 * The source's side of an MTD decision: the hosts it may ask for key material and may choose
 * (what it reaches, never the manager), and the destination lookup of formula (1) in the table
 * it decrypted (section IV.B, steps 2 and 4).
 */
import { InputError } from "../core/errors.ts";
import { type CandidateView, reachableCandidates, reachableNodes, reaches } from "./common.ts";
import type { SecretBytes } from "./crypto/secret.ts";
import { decryptTable, type EncryptedTable, formulaIndex } from "./crypto/table.ts";
import { MTD_DEFAULTS, rekey } from "./mtd-params.ts";
import { type KeyPoint, keyHolders, type TableSetup } from "./mtd-setup.ts";
import { num } from "./policy-params.ts";
import type { KeyRequest, MtdSummary, NetworkView, PolicyInput, PolicyPlan, SetupMessage } from "./policy-types.ts";

/** what every MTD decision for one source among the same candidates reads */
export interface Context {
  readonly hosts: readonly string[];
  /** the candidates the policy may choose (reachable, not the manager), in candidate order */
  readonly choices: HostList;
  /** the same, as a set */
  readonly allowed: HostSet;
  /** reachable key holders other than the source, in topology order */
  readonly others: NodeList;
}

/** hosts by position, with their node indices */
export interface NodeList extends HostList {
  node(i: number): number;
}

/** membership of host names, as `lookup` asks it */
interface HostSet {
  has(host: string): boolean;
}

/** host names by position */
type HostList = Pick<CandidateView, "size" | "host">;

/**
 * Contexts by reachable node list (the shared one of reachableNodes: one per route table and
 * migration) and manager: every MTD decision for the same source among the same candidates
 * reads the same sets, so they are built once per migration of a cell, not once per decision.
 * Node indices, not names or Candidate objects: a k=32 fat-tree's 1,000 migrations among 8,191
 * hosts each would otherwise keep hundreds of MB of sets.
 */
const contexts = new WeakMap<Int32Array, Map<string, Context>>();

export function context(name: string, input: PolicyInput): Context {
  const key = reachableNodes(name, input);
  let byManager = key && contexts.get(key);
  const hit = byManager?.get(input.manager);
  if (hit) return hit;
  const hosts = input.view.topo.topology.hosts;
  const choices = key && key.length > 0 ? choiceNodes(name, input, key) : choiceObjects(name, input);
  const ctx = { hosts, choices, allowed: hostSet(input.view, choices), others: reachableHolders(input) };
  // only a list shared through a route table is the same for every decision of this migration
  if (key) {
    if (!byManager) contexts.set(key, (byManager = new Map()));
    byManager.set(input.manager, ctx);
  }
  return ctx;
}

/** node indices of the hosts of a (shared) list of key holders */
const holderNodes = new WeakMap<readonly string[], Int32Array>();

/**
 * The key holders other than the source that the source reaches, in topology order. Kept per
 * migration: when the source reaches every holder (a data center), a view of the shared holder
 * list that skips the source, not a list of its own per migration.
 */
function reachableHolders(input: PolicyInput): NodeList {
  const { view, source } = input;
  const holders = keyHolders(view.topo.topology.hosts, input.manager, source);
  let nodes = holderNodes.get(holders);
  if (!nodes) holderNodes.set(holders, (nodes = Int32Array.from(holders, (h) => view.topo.index.get(h)!)));
  const self = view.topo.index.get(source)!;
  const table = view.routesFrom?.(source);
  const reached = table ? (n: number) => Number.isFinite(table.hops[n]!) : (n: number) => reaches(view, source, view.topo.names[n]!);
  const kept: number[] = [];
  let skip = -1;
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    if (n === self) skip = i;
    else if (reached(n)) kept.push(i);
  }
  const names = view.topo.names;
  if (kept.length === nodes.length - (skip >= 0 ? 1 : 0)) {
    const all = nodes;
    const at = (i: number): number => (skip >= 0 && i >= skip ? i + 1 : i);
    return { size: kept.length, node: (i) => all[at(i)]!, host: (i) => names[all[at(i)]!]! };
  }
  const some = Int32Array.from(kept, (i) => nodes[i]!);
  return { size: some.length, node: (i) => some[i]!, host: (i) => names[some[i]!]! };
}

/**
 * The reachable candidates an MTD policy may choose: never the manager, which holds the master
 * secret and every host's table (a container moved there would sit on the one host whose
 * compromise reveals all destinations). A table slot or PRF draw naming it is re-drawn.
 */
function choiceNodes(name: string, input: PolicyInput, reachable: Int32Array): NodeList {
  const manager = input.view.topo.index.get(input.manager);
  const skip = reachable.indexOf(manager ?? -1);
  const size = reachable.length - (skip >= 0 ? 1 : 0);
  if (size === 0) throw onlyTheManager(name, input);
  const names = input.view.topo.names;
  // the shared list without the manager's position, not a copy per migration
  const at = (i: number): number => reachable[skip >= 0 && i >= skip ? i + 1 : i]!;
  return { size, node: at, host: (i) => names[at(i)]! };
}

/** choiceNodes for a view without route tables */
function choiceObjects(name: string, input: PolicyInput): HostList {
  const cs = reachableCandidates(name, input).filter((c) => c.host !== input.manager);
  if (cs.length === 0) throw onlyTheManager(name, input);
  return { size: cs.length, host: (i) => cs[i]!.host };
}

function onlyTheManager(name: string, input: PolicyInput): InputError {
  return new InputError(`policy ${name}: the only reachable candidate is the manager ${input.manager}, which an MTD policy never chooses; add candidates or move the manager`);
}

/** the hosts of a list as a set, one byte per node of the topology (a data center has thousands) */
function hostSet(view: NetworkView, list: HostList | NodeList): HostSet {
  const index = view.topo.index;
  const marks = new Uint8Array(view.topo.names.length);
  if ("node" in list) for (let i = 0; i < list.size; i++) marks[list.node(i)] = 1;
  else for (let i = 0; i < list.size; i++) marks[index.get(list.host(i))!] = 1;
  return { has: (host) => marks[index.get(host) ?? -1] === 1 };
}

// Destination lookup (source side, after decryption)

/**
 * Formula (1) with re-draws: attempt a uses R + a. The first slot that names a free reachable
 * candidate wins; after `maxRedraws` failed draws the table is walked forward (cyclically) from
 * the last index to the first candidate slot, which exists because every host has a slot.
 */
export function lookup(
  slots: ReadonlyArray<string | null>,
  allowed: HostSet,
  r: bigint,
  key: KeyPoint,
  n: number,
  maxRedraws: number,
): { destination: string; index: number; draws: number; walked: boolean } {
  let index = 0;
  for (let a = 0; a < maxRedraws; a++) {
    index = formulaIndex(r + BigInt(a), key.x, key.y.reveal(), n);
    const host = slots[index];
    if (host != null && allowed.has(host)) return { destination: host, index, draws: a + 1, walked: false };
  }
  for (let step = 1; step <= slots.length; step++) {
    const i = (index + step) % slots.length;
    const host = slots[i];
    if (host != null && allowed.has(host)) return { destination: host, index: i, draws: maxRedraws, walked: true };
  }
  throw new Error("lookup: no candidate in the table (a bug: every host has a slot)");
}

/** the table decrypted with the secret the source recovered (the `verify` parameter) */
export function verifiedTable(table: EncryptedTable, recovered: SecretBytes, name: string): Array<string | null> {
  try {
    return decryptTable(table, recovered);
  } catch {
    // a reconstruction bug, not user input; the message carries no key material
    throw new Error(`${name}: the recovered secret did not decrypt the lookup table`);
  }
}

/**
 * A keyed policy's plan: the destination formula (1) finds in `slots` with the source's key
 * point, after the key requests and the set-up that let the source read the table.
 */
export function keyedPlan(
  input: PolicyInput,
  p: Record<string, number | boolean>,
  ctx: Context,
  st: TableSetup,
  slots: ReadonlyArray<string | null>,
  asked: { keyRequests: KeyRequest[]; dependentAnswers: number; verified: boolean; setup: readonly SetupMessage[] },
  note: string,
): PolicyPlan {
  const { keyRequests, setup } = asked;
  const found = lookup(slots, ctx.allowed, st.r.reveal(), st.keys.get(input.source)!, st.n, num(p, "max-redraws", MTD_DEFAULTS.maxRedraws));
  const mtd: MtdSummary = {
    index: found.index,
    draws: found.draws,
    walked: found.walked,
    requests: keyRequests.length,
    dependentAnswers: asked.dependentAnswers,
    verified: asked.verified,
    setupBytes: setup.reduce((a, m) => a + m.bytes, 0),
  };
  return {
    destination: found.destination,
    keyRequests,
    setup,
    mtd,
    ...rekey(p),
    computeSeconds: num(p, "compute", MTD_DEFAULTS.compute),
    note: `${note}; index ${found.index} after ${found.draws} draw(s)${found.walked ? ", table walked" : ""}`,
  };
}
