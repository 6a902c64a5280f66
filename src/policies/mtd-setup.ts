/**
 * The MTD set-up by the manager (section IV.B, step 1): a fresh master secret S, the lookup table
 * (a secret permutation of the hosts) encrypted under HKDF(S), the key material of every key
 * holder, and the set-up messages that carry them. Key holders are every host but the manager.
 */
import { P521, P521_BYTES } from "./crypto/field.ts";
import { type CodedSymbol, symbolMaker } from "./crypto/fountain.ts";
import { belowAccepts, Drbg, SecretBigInt, SecretBytes } from "./crypto/secret.ts";
import { polynomial, type Share, shareAt } from "./crypto/shamir.ts";
import { drawTableIv, type EncryptedTable, encryptTableWith, tableBytesOf } from "./crypto/table.ts";
import { inspect } from "node:util";
import { LazyMap } from "./lazy-map.ts";
import type { Rng, SetupMessage } from "./policy-types.ts";

export const SECRET_BYTES = 32;
/** bits of the random number R the manager gives the source */
const R_BITS = 256n;

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

export function keyHolders(hosts: readonly string[], manager: string, source: string): readonly string[] {
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
    n,
    holders,
    secret,
    lookup,
    r,
    shares,
    keys: shares,
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
  const stock = new LazyMap<readonly CodedSymbol[]>(holders, positions, (i) => Array.from({ length: perHost }, (_, j) => symbol(coefficients.slice((i * perHost + j) * k, (i * perHost + j + 1) * k))));
  const { n, secret, lookup, r } = base;
  return {
    n,
    holders,
    secret,
    lookup,
    r,
    keys,
    stock,
    drbg,
    get table() {
      return lookup.encrypted;
    },
  };
}

/** set-up message lists by holder list, manager and size: decisions with the same ones share a list */
const messageLists = new WeakMap<readonly string[], Map<string, readonly SetupMessage[]>>();

/** the manager's message of `bytes` to every holder but itself */
export function setupMessages(manager: string, holders: readonly string[], bytes: number): readonly SetupMessage[] {
  return shared(messageLists, holders, `${manager}\n${bytes}`, () => holders.filter((h) => h !== manager).map((h) => ({ from: manager, to: h, bytes })));
}

/** mtd-random set-up: one 32-byte PRF key, sent to every host. */
export function setupRandom(rng: Rng): { key: SecretBytes; r: SecretBigInt } {
  const drbg = Drbg.fromRng(rng, "mtd-random");
  return { key: new SecretBytes("prf-key", drbg.bytes(32)), r: new SecretBigInt("R", drbg.below(1n << R_BITS)) };
}
