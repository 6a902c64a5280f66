/**
 * The moving-target-defense policies of the paper (section IV.B): mtd-shamir, mtd-fountain,
 * mtd-random, with the real cryptography (node:crypto and BigInt arithmetic):
 *
 * 1. Set-up by the manager: a fresh 32-byte master secret S, a lookup table index -> host
 *    (a secret permutation of the N hosts in slots 0..N-1, slot N empty) encrypted with
 *    AES-256-GCM under HKDF(S), and key material per key holder, all sent to the key holders
 *    (the hosts other than the manager) as SetupMessages with their real byte sizes.
 * 2. The source gets a random R and computes index = SHA-256(R + X*Y) mod (N + 1) with its own
 *    key point (X, Y) (formula (1)).
 * 3. It recovers S from other hosts (Shamir shares from K disjoint hosts, or fountain symbols
 *    from hosts drawn with replacement by formula (2)), decrypts the table and reads the slot.
 * 4. If the slot is empty, the source, or not a free reachable candidate, it re-draws with
 *    R + 1, R + 2, ... (attempts counted); after `max-redraws` draws it walks the table forward
 *    from the last index to the next candidate slot. So the destination is always a candidate
 *    and never the source.
 *
 * The run's seeded `keyRng` keys everything (see Drbg): reproducible, and a simulation keying choice.
 *
 * A set-up draws everything above, in this order, on every decision (the draws decide the rest
 * of the stream, so the run is the same whatever is computed), but computes only what the
 * decision reads: the table's slots, R, the source's key point, the coefficient vectors of the
 * symbols asked for (their rank decides how many requests are made) and the plan's sizes. The
 * material that only proves the scheme works (encrypting the table, recovering S from the shares
 * or symbols, decrypting and authenticating the table with it) is computed on every decision
 * with the parameter `verify: true`, and on first read otherwise. Both give the same plan.
 */
import { createHmac } from "node:crypto";
import { inspect } from "node:util";
import { InputError } from "../core/errors.ts";
import { randomInt } from "../core/random.ts";
import { type CandidateView, reachableCandidates, reachableNodes, reaches } from "./common.ts";
import { P521, P521_BYTES } from "./crypto/field.ts";
import { blockLength, type CodedSymbol, Decoder, recode, symbolMaker } from "./crypto/fountain.ts";
import { belowAccepts, bigIntToBytes, bytesToBigInt, Drbg, SecretBigInt, SecretBytes } from "./crypto/secret.ts";
import { combine, polynomial, type Share, SHARE_BYTES, shareAt } from "./crypto/shamir.ts";
import { decryptTable, drawTableIv, type EncryptedTable, encryptTableWith, formulaIndex, tableBytesOf } from "./crypto/table.ts";
import { LazyMap } from "./lazy-map.ts";
import { bool, type ParamDefs, num, readParams } from "./params.ts";
import type { MtdSummary, NetworkView, Policy, PolicyInput, PolicyPlan, RekeySchedule, Rng, SetupMessage } from "./types.ts";

const SECRET_BYTES = 32;
/** bits of the random number R the manager gives the source */
const R_BITS = 256n;

/** documented defaults (docs/policies.md) */
export const MTD_DEFAULTS = {
  k: 3,
  requestBytes: 64,
  newConnection: true,
  compute: 1e-3,
  computeRandom: 1e-4,
  maxRedraws: 64,
  maxRequests: 1000,
} as const;

const COMMON: ParamDefs = {
  compute: { kind: "duration", min: 0, doc: "computation at the source for hashing, reconstruction and decryption" },
  "rekey-every": { kind: "duration", min: 0, doc: "re-key at most once per this period (default 0s: before every migration)" },
  "rekey-parallel": { kind: "boolean", doc: "send the set-up messages to all holders at once (default false: one after the other)" },
};

/** the plan's `rekey`, left out at the default (before every migration, one host after the other) */
function rekey(p: Record<string, number | boolean>): { rekey?: RekeySchedule } {
  const every = num(p, "rekey-every", 0);
  const parallel = bool(p, "rekey-parallel", false);
  return every === 0 && !parallel ? {} : { rekey: { every, parallel } };
}
const KEYED: ParamDefs = {
  ...COMMON,
  k: { kind: "int", min: 2, doc: "shares (Shamir threshold) or independent symbols (fountain) needed to recover S" },
  "request-bytes": { kind: "bytes", min: 0, doc: "size of a key request" },
  "share-bytes": { kind: "bytes", min: 0, doc: "size of an answer (default: the real encoded share or symbol)" },
  "new-connection": { kind: "boolean", doc: "open a new connection for every key request" },
  "max-redraws": { kind: "int", min: 1, doc: "draws of R before walking the table" },
  verify: {
    kind: "boolean",
    doc: "recover S and decrypt the lookup table with it on every decision (default false: the plaintext table; the same destinations and timings)",
  },
};
const SHAMIR_PARAMS: ParamDefs = KEYED;
const FOUNTAIN_PARAMS: ParamDefs = {
  ...KEYED,
  "symbols-per-host": { kind: "int", min: 1, doc: "coded symbols each host holds (default k - 1)" },
  "max-requests": { kind: "int", min: 1, doc: "give up after this many key requests" },
};
const RANDOM_PARAMS: ParamDefs = COMMON;

// ---------------------------------------------------------------------------------------------
// Set-up (manager side)

/** A host's key point (X, Y) for formula (1). X is public, Y is secret. */
export interface KeyPoint {
  readonly x: bigint;
  readonly y: SecretBigInt;
}

export interface TableSetup {
  /** N of formula (1): number of hosts of the topology */
  readonly n: number;
  /** hosts that receive key material: every host but the manager (the source always) */
  readonly holders: readonly string[];
  readonly secret: SecretBytes;
  /** the lookup table as the holders receive it (encrypted when first read) */
  readonly table: EncryptedTable;
  /** the table's plaintext, as the manager made it */
  readonly lookup: LookupTable;
  readonly keys: ReadonlyMap<string, KeyPoint>;
  readonly r: SecretBigInt;
}

/**
 * The manager's lookup table: its slots (secret: they say where every container may go), its
 * encryption under S made when first asked for, and its size on the wire, which does not need it.
 */
export class LookupTable {
  readonly #slots: ReadonlyArray<string | null>;
  readonly #secret: SecretBytes;
  readonly #iv: Uint8Array;
  #encrypted: EncryptedTable | undefined;
  /** bytes of the encrypted table (tableBytes of `encrypted`) */
  readonly bytes: number;

  constructor(slots: ReadonlyArray<string | null>, secret: SecretBytes, iv: Uint8Array, bytes: number) {
    this.#slots = slots;
    this.#secret = secret;
    this.#iv = iv;
    this.bytes = bytes;
  }

  get encrypted(): EncryptedTable {
    this.#encrypted ??= encryptTableWith(this.#slots, this.#secret, this.#iv);
    return this.#encrypted;
  }

  /** the plaintext slots: index -> host, null for the empty slot */
  reveal(): ReadonlyArray<string | null> {
    return this.#slots;
  }

  toJSON(): string {
    return "lookup-table:[redacted]";
  }
  [inspect.custom](): string {
    return "LookupTable([redacted])";
  }
}

export interface ShamirSetup extends TableSetup {
  readonly shares: ReadonlyMap<string, Share>;
}

export interface FountainSetup extends TableSetup {
  readonly stock: ReadonlyMap<string, readonly CodedSymbol[]>;
  readonly drbg: Drbg;
}

/** `build()` for (owner, key), built once while `owner` lives: what decisions of a cell share */
function shared<O extends object, V>(cache: WeakMap<O, Map<string, V>>, owner: O, key: string, build: () => V): V {
  let byKey = cache.get(owner);
  if (!byKey) cache.set(owner, (byKey = new Map()));
  let value = byKey.get(key);
  if (value === undefined) byKey.set(key, (value = build()));
  return value;
}

/**
 * Key holders by host list and manager: every host but the manager, or all of them when the
 * manager is the source (the same list for every other source, so decisions share it)
 */
const holderLists = new WeakMap<readonly string[], Map<string, readonly string[]>>();

function keyHolders(hosts: readonly string[], manager: string, source: string): readonly string[] {
  return shared(holderLists, hosts, manager === source ? `=${manager}` : manager, () => hosts.filter((h) => h !== manager || h === source));
}

/** each holder's position in a (shared) list of key holders: one map per list */
const holderPositions = new WeakMap<readonly string[], ReadonlyMap<string, number>>();

function positionsIn(holders: readonly string[]): ReadonlyMap<string, number> {
  let positions = holderPositions.get(holders);
  if (!positions) holderPositions.set(holders, (positions = new Map(holders.map((h, i) => [h, i]))));
  return positions;
}

/** Fisher-Yates with the DRBG: the table order must be unpredictable without S's generator. */
function shuffle<T>(xs: readonly T[], drbg: Drbg): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = drbg.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** the size of an encrypted table over each host list (the same for every order of its slots) */
const tableSizes = new WeakMap<readonly string[], number>();

function tableSetup(drbg: Drbg, hosts: readonly string[], manager: string, source: string): Omit<TableSetup, "keys" | "table"> {
  const secret = new SecretBytes("master-secret", drbg.bytes(SECRET_BYTES));
  const slots: Array<string | null> = shuffle(hosts, drbg);
  slots.push(null);
  let bytes = tableSizes.get(hosts);
  if (bytes === undefined) tableSizes.set(hosts, (bytes = tableBytesOf(slots)));
  const lookup = new LookupTable(slots, secret, drawTableIv(drbg), bytes);
  const r = new SecretBigInt("R", drbg.below(1n << R_BITS));
  return { n: hosts.length, holders: keyHolders(hosts, manager, source), secret, lookup, r };
}

/** Shamir set-up: the key point of holder i is its share (i + 1, f(i + 1)). */
export function setupShamir(rng: Rng, hosts: readonly string[], manager: string, source: string, k: number): ShamirSetup {
  const drbg = Drbg.fromRng(rng, "mtd-shamir");
  const base = tableSetup(drbg, hosts, manager, source);
  if (k > base.holders.length) throw new RangeError("k larger than the number of key holders");
  const coefficients = polynomial(base.secret, base.holders.length, k, drbg);
  // holder i's share is the point at x = i + 1; only the shares a decision reads are computed
  const shares = new LazyMap(base.holders, positionsIn(base.holders), (i) => shareAt(coefficients, i + 1));
  const { n, holders, secret, lookup, r } = base;
  return {
    n, holders, secret, lookup, r, shares, keys: shares,
    get table() {
      return lookup.encrypted;
    },
  };
}

/**
 * Fountain set-up: a random key point per holder, and `perHost` coded symbols of S each.
 * `allKeys` false keeps the source's key point only (the same draws): `keys` then throws for
 * any other holder.
 */
export function setupFountain(rng: Rng, hosts: readonly string[], manager: string, source: string, k: number, perHost: number, allKeys = true): FountainSetup {
  const drbg = Drbg.fromRng(rng, "mtd-fountain");
  const base = tableSetup(drbg, hosts, manager, source);
  const holders = base.holders;
  // Every holder's Y and symbol coefficients are drawn, in holder order (the draws decide the
  // rest of the DRBG's stream). The coefficients are kept in one buffer; a Y is kept only with
  // `allKeys` (else the source's alone: no decision reads another holder's). A key point becomes
  // a BigInt and a symbol gets its payload only when a decision reads that holder's.
  const positions = positionsIn(holders);
  const sourceAt = positions.get(source)!;
  const ys = new Uint8Array((allKeys ? holders.length : 1) * P521_BYTES);
  const yAt = (i: number): number => (allKeys ? i * P521_BYTES : 0);
  const coefficients = new Uint8Array(holders.length * perHost * k);
  // Read out of one view of the keystream while every Y is accepted at the first draw (a Y is
  // rejected with probability 2^-521), then drawn one by one from the first rejected Y on.
  const perHolder = perHost * k;
  const stride = P521_BYTES + perHolder;
  const block = drbg.peek(holders.length * stride);
  let i = 0;
  for (; i < holders.length; i++) {
    const at = i * stride;
    if (!belowAccepts(P521, block, at, allKeys || i === sourceAt ? ys : undefined, yAt(i))) break;
    for (let j = 0; j < perHolder; j++) coefficients[i * perHolder + j] = block[at + P521_BYTES + j]!;
  }
  drbg.skip(i * stride);
  for (; i < holders.length; i++) {
    if (allKeys || i === sourceAt) drbg.belowInto(P521, ys, yAt(i));
    else drbg.skipBelow(P521);
    for (let j = 0; j < perHost; j++) drbg.bytesInto(coefficients, (i * perHost + j) * k, k);
  }
  const keys = new LazyMap<KeyPoint>(holders, positions, (i) => {
    if (!allKeys && i !== sourceAt) throw new Error(`setupFountain: the key point of ${holders[i]} was not kept (allKeys false)`);
    return { x: BigInt(i + 1), y: SecretBigInt.fromBytes(`key-${holders[i]}`, ys, yAt(i), P521_BYTES) };
  });
  const symbol = symbolMaker(base.secret, k);
  const stock = new LazyMap<readonly CodedSymbol[]>(holders, positions, (i) =>
    Array.from({ length: perHost }, (_, j) => symbol(coefficients.slice((i * perHost + j) * k, (i * perHost + j + 1) * k))),
  );
  const { n, secret, lookup, r } = base;
  return {
    n, holders, secret, lookup, r, keys, stock, drbg,
    get table() {
      return lookup.encrypted;
    },
  };
}

/** set-up message lists by holder list, manager and size: decisions with the same ones share a list */
const messageLists = new WeakMap<readonly string[], Map<string, readonly SetupMessage[]>>();

/** the manager's message of `bytes` to every holder but itself */
function setupMessages(manager: string, holders: readonly string[], bytes: number): readonly SetupMessage[] {
  return shared(messageLists, holders, `${manager}\n${bytes}`, () => holders.filter((h) => h !== manager).map((h) => ({ from: manager, to: h, bytes })));
}

// ---------------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------------
// Formula (2)

/**
 * P(i, k) = 1 / sum_{j != i} latency(i,k)/latency(i,j) = (1/latency(i,k)) / sum_j 1/latency(i,j).
 * Zero latencies are the limit of that formula: the zero-latency hosts share all the probability.
 */
function fountainWeights(view: NetworkView, source: string, hosts: NodeList): Float64Array {
  // one array, rewritten in place: a data center's source weighs thousands of holders per decision
  const w = new Float64Array(hosts.size);
  const byNode = view.latencyByNode?.(source);
  let zeros = 0;
  for (let i = 0; i < hosts.size; i++) {
    const l = byNode ? byNode(hosts.node(i)) : view.latency(source, hosts.host(i));
    if (!(l >= 0) || !Number.isFinite(l)) throw new InputError(`mtd-fountain: latency from ${source} to ${hosts.host(i)} is not a finite non-negative number`);
    w[i] = l;
    if (l === 0) zeros++;
  }
  if (zeros > 0) {
    for (let i = 0; i < w.length; i++) w[i] = w[i] === 0 ? 1 / zeros : 0;
    return w;
  }
  let sum = 0;
  for (let i = 0; i < w.length; i++) sum += (w[i] = 1 / w[i]!);
  for (let i = 0; i < w.length; i++) w[i] = w[i]! / sum;
  return w;
}

function sample(weights: Float64Array, rng: Rng): number {
  const u = rng();
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i]!;
    if (u < acc) return i;
  }
  // rounding: the last host with positive weight
  for (let i = weights.length - 1; i >= 0; i--) if (weights[i]! > 0) return i;
  return weights.length - 1;
}

// ---------------------------------------------------------------------------------------------
// Policies

interface Context {
  readonly hosts: readonly string[];
  /** the candidates the policy may choose (reachable, not the manager), in candidate order */
  readonly choices: HostList;
  /** the same, as a set */
  readonly allowed: HostSet;
  /** reachable key holders other than the source, in topology order */
  readonly others: NodeList;
}

/** hosts by position, with their node indices */
interface NodeList extends HostList {
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

function context(name: string, input: PolicyInput): Context {
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
  return new InputError(
    `policy ${name}: the only reachable candidate is the manager ${input.manager}, which an MTD policy never chooses; add candidates or move the manager`,
  );
}

/** the hosts of a list as a set, one byte per node of the topology (a data center has thousands) */
function hostSet(view: NetworkView, list: HostList | NodeList): HostSet {
  const index = view.topo.index;
  const marks = new Uint8Array(view.topo.names.length);
  if ("node" in list) for (let i = 0; i < list.size; i++) marks[list.node(i)] = 1;
  else for (let i = 0; i < list.size; i++) marks[index.get(list.host(i))!] = 1;
  return { has: (host) => marks[index.get(host) ?? -1] === 1 };
}

function tooFew(name: string, k: number, input: PolicyInput, others: number, what: string): InputError {
  return new InputError(
    `${name}: k = ${k} but only ${others} ${what} reachable from the source ${input.source}` +
      ` (key holders are all hosts but the source and the manager ${input.manager}); lower k`,
    { field: `${name}.k` },
  );
}

function validateKeyed(name: string, defs: ParamDefs) {
  return (params: Readonly<Record<string, unknown>>, ctx: { hosts: number; candidates: number }): void => {
    const p = readParams(name, defs, params);
    const k = num(p, "k", MTD_DEFAULTS.k);
    if (name === "mtd-fountain") {
      // symbols may come from fewer than k hosts: what matters is how many symbols exist
      const perHost = num(p, "symbols-per-host", Math.max(1, k - 1));
      if ((ctx.hosts - 1) * perHost < k) {
        throw new InputError(
          `${name}: k = ${k} needs at least ${k} symbols, the ${ctx.hosts - 1} hosts besides the source hold ${(ctx.hosts - 1) * perHost}; lower k or raise symbols-per-host`,
          { field: `${name}.k` },
        );
      }
      return;
    }
    if (k > ctx.hosts - 1) {
      throw new InputError(`${name}: k = ${k} needs at least ${k} hosts besides the source, the topology has ${ctx.hosts} hosts; lower k`, {
        field: `${name}.k`,
      });
    }
  };
}

function verifiedTable(table: EncryptedTable, recovered: SecretBytes, name: string): Array<string | null> {
  try {
    return decryptTable(table, recovered);
  } catch {
    // a reconstruction bug, not user input; the message carries no key material
    throw new Error(`${name}: the recovered secret did not decrypt the lookup table`);
  }
}

export const mtdShamirPolicy: Policy = {
  name: "mtd-shamir",
  readsVib: false,
  validate: validateKeyed("mtd-shamir", SHAMIR_PARAMS),
  decide(input): PolicyPlan {
    const p = readParams("mtd-shamir", SHAMIR_PARAMS, input.params);
    const k = num(p, "k", MTD_DEFAULTS.k);
    const ctx = context("mtd-shamir", input);
    if (k > ctx.others.size) throw tooFew("mtd-shamir", k, input, ctx.others.size, "key holders are");
    const verify = bool(p, "verify", false);
    const st = setupShamir(input.keyRng, ctx.hosts, input.manager, input.source, k);
    const setup = setupMessages(input.manager, st.holders, st.lookup.bytes + SHARE_BYTES);

    // K disjoint hosts, uniformly among the reachable holders other than the source (far ones too)
    // (the first K steps of a Fisher-Yates shuffle of the holders, positions moved kept aside)
    const moved = new Map<number, number>();
    const asked: string[] = [];
    for (let i = 0; i < k; i++) {
      const j = i + randomInt(input.rng, ctx.others.size - i);
      const picked = moved.get(j) ?? j;
      moved.set(j, moved.get(i) ?? i);
      asked.push(ctx.others.host(picked));
    }
    const responseBytes = num(p, "share-bytes", SHARE_BYTES);
    const keyRequests = asked.map((host) => ({
      host,
      requestBytes: num(p, "request-bytes", MTD_DEFAULTS.requestBytes),
      responseBytes,
      newConnection: bool(p, "new-connection", MTD_DEFAULTS.newConnection),
    }));
    const slots = verify
      ? verifiedTable(st.table, combine(asked.map((h) => st.shares.get(h)!), SECRET_BYTES, "recovered-secret"), "mtd-shamir")
      : st.lookup.reveal();
    const found = lookup(slots, ctx.allowed, st.r.reveal(), st.keys.get(input.source)!, st.n, num(p, "max-redraws", MTD_DEFAULTS.maxRedraws));
    const mtd: MtdSummary = {
      index: found.index, draws: found.draws, walked: found.walked, requests: keyRequests.length, dependentAnswers: 0,
      verified: verify, setupBytes: setup.reduce((a, m) => a + m.bytes, 0),
    };
    return {
      destination: found.destination, keyRequests, setup, mtd, ...rekey(p),
      computeSeconds: num(p, "compute", MTD_DEFAULTS.compute),
      note: `shamir ${k}-of-${st.holders.length}: shares from ${asked.join(", ")}; index ${found.index} after ${found.draws} draw(s)${found.walked ? ", table walked" : ""}`,
    };
  },
};

export const mtdFountainPolicy: Policy = {
  name: "mtd-fountain",
  readsVib: false,
  validate: validateKeyed("mtd-fountain", FOUNTAIN_PARAMS),
  decide(input): PolicyPlan {
    const p = readParams("mtd-fountain", FOUNTAIN_PARAMS, input.params);
    const k = num(p, "k", MTD_DEFAULTS.k);
    const perHost = num(p, "symbols-per-host", Math.max(1, k - 1));
    const maxRequests = num(p, "max-requests", MTD_DEFAULTS.maxRequests);
    const ctx = context("mtd-fountain", input);
    if (ctx.others.size === 0) throw tooFew("mtd-fountain", k, input, 0, "key holders are");
    const verify = bool(p, "verify", false);
    const st = setupFountain(input.keyRng, ctx.hosts, input.manager, input.source, k, perHost, false);
    const symbolBytes = k + blockLength(SECRET_BYTES, k);
    const setup = setupMessages(input.manager, st.holders, st.lookup.bytes + 2 + P521_BYTES + perHost * symbolBytes);

    // the reachable hosts' symbols must span the secret, else no number of requests decodes it
    const span = new Decoder(k);
    // (once the rank is k, further symbols cannot change the verdict)
    for (let i = 0; i < ctx.others.size && span.rank < k; i++) {
      for (const s of st.stock.get(ctx.others.host(i))!) span.add(s);
    }
    if (span.rank < k) {
      throw new InputError(
        `mtd-fountain: the ${ctx.others.size} key holders reachable from ${input.source} hold symbols of rank ${span.rank} < k = ${k};` +
          " raise symbols-per-host or lower k",
        { field: "mtd-fountain.k" },
      );
    }

    const weights = fountainWeights(input.view, input.source, ctx.others);
    const decoder = new Decoder(k);
    const keyRequests = [];
    let dependent = 0;
    const responseBytes = num(p, "share-bytes", symbolBytes);
    while (decoder.rank < k) {
      if (keyRequests.length >= maxRequests) {
        throw new InputError(`mtd-fountain: no decodable set of symbols after ${maxRequests} requests; raise max-requests or symbols-per-host`, {
          field: "mtd-fountain.max-requests",
        });
      }
      const host = ctx.others.host(sample(weights, input.rng));
      keyRequests.push({
        host,
        requestBytes: num(p, "request-bytes", MTD_DEFAULTS.requestBytes),
        responseBytes,
        newConnection: bool(p, "new-connection", MTD_DEFAULTS.newConnection),
      });
      if (!decoder.add(recode(st.stock.get(host)!, st.drbg))) dependent++;
    }
    const slots = verify ? verifiedTable(st.table, decoder.decode(SECRET_BYTES, "recovered-secret")!, "mtd-fountain") : st.lookup.reveal();
    const found = lookup(slots, ctx.allowed, st.r.reveal(), st.keys.get(input.source)!, st.n, num(p, "max-redraws", MTD_DEFAULTS.maxRedraws));
    const mtd: MtdSummary = {
      index: found.index, draws: found.draws, walked: found.walked, requests: keyRequests.length, dependentAnswers: dependent,
      verified: verify, setupBytes: setup.reduce((a, m) => a + m.bytes, 0),
    };
    const counts = new Map<string, number>();
    for (const r of keyRequests) counts.set(r.host, (counts.get(r.host) ?? 0) + 1);
    return {
      destination: found.destination, keyRequests, setup, mtd, ...rekey(p),
      computeSeconds: num(p, "compute", MTD_DEFAULTS.compute),
      note:
        `fountain k=${k}: ${keyRequests.length} requests (${dependent} dependent) to ` +
        `${[...counts].map(([h, c]) => (c > 1 ? `${h} x${c}` : h)).join(", ")}; index ${found.index} after ${found.draws} draw(s)${found.walked ? ", table walked" : ""}`,
    };
  },
};

/** mtd-random set-up: one 32-byte PRF key, sent to every host. */
export function setupRandom(rng: Rng): { key: SecretBytes; r: SecretBigInt } {
  const drbg = Drbg.fromRng(rng, "mtd-random");
  return { key: new SecretBytes("prf-key", drbg.bytes(32)), r: new SecretBigInt("R", drbg.below(1n << R_BITS)) };
}

export const mtdRandomPolicy: Policy = {
  name: "mtd-random",
  readsVib: false,
  validate(params) {
    readParams("mtd-random", RANDOM_PARAMS, params);
  },
  decide(input): PolicyPlan {
    const p = readParams("mtd-random", RANDOM_PARAMS, input.params);
    const cs = context("mtd-random", input).choices;
    const st = setupRandom(input.keyRng);
    const hosts = input.view.topo.topology.hosts;
    const setup = setupMessages(input.manager, keyHolders(hosts, input.manager, input.source), 32);
    // HMAC-SHA256(key, R as 32 bytes) read as a 256-bit integer, mod the number of candidates
    const mac = createHmac("sha256", st.key.reveal()).update(bigIntToBytes(st.r.reveal(), 32)).digest();
    const i = Number(bytesToBigInt(mac) % BigInt(cs.size));
    const mtd: MtdSummary = {
      draws: 1, walked: false, requests: 0, dependentAnswers: 0, verified: false, setupBytes: setup.reduce((a, m) => a + m.bytes, 0),
    };
    return {
      destination: cs.host(i), keyRequests: [], setup, mtd, ...rekey(p),
      computeSeconds: num(p, "compute", MTD_DEFAULTS.computeRandom),
      note: `pseudo-random function over ${cs.size} reachable candidates; no key retrieval`,
    };
  },
};
