/**
 * Secret-holding values and the deterministic key generator of the MTD policies.
 *
 * Secrets (the master secret S, Shamir shares, fountain symbols, keys) live in private class
 * fields, so JSON.stringify, util.inspect, template strings and spreading never show them; only
 * an explicit `reveal()` does. Plans, notes and errors are built from public data only.
 */
import { createCipheriv, createHmac } from "node:crypto";
import { inspect } from "node:util";
import type { Rng } from "../../core/random.ts";

const REDACTED = "[redacted]";

/** Bytes that must never be printed or serialised. */
export class SecretBytes {
  readonly #bytes: Uint8Array;
  readonly label: string;
  constructor(label: string, bytes: Uint8Array) {
    this.label = label;
    this.#bytes = Uint8Array.from(bytes);
  }
  get length(): number {
    return this.#bytes.length;
  }
  /** a copy of the secret bytes: the only way to read them */
  reveal(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }
  toJSON(): string {
    return `${this.label}:${REDACTED}`;
  }
  toString(): string {
    return `${this.label}:${REDACTED}`;
  }
  [inspect.custom](): string {
    return `SecretBytes(${this.label}, ${REDACTED})`;
  }
}

/** A BigInt that must never be printed or serialised (share values, key points). */
export class SecretBigInt {
  #value: bigint | undefined;
  /** big-endian bytes of the value (`#length` of them at `#at`), read into a BigInt on the first reveal */
  #bytes: Uint8Array | undefined;
  #at = 0;
  #length = 0;
  readonly label: string;
  constructor(label: string, value: bigint) {
    this.label = label;
    this.#value = value;
  }
  /**
   * The value of the `length` big-endian unsigned bytes at `at` in `bytes` (which must not
   * change), converted when first revealed: a manager draws key points for every holder of a
   * set-up, and only the few that are used need a BigInt.
   */
  static fromBytes(label: string, bytes: Uint8Array, at = 0, length = bytes.length - at): SecretBigInt {
    const s = new SecretBigInt(label, 0n);
    s.#value = undefined;
    s.#bytes = bytes;
    s.#at = at;
    s.#length = length;
    return s;
  }
  reveal(): bigint {
    if (this.#value === undefined) {
      this.#value = bytesToBigInt(this.#bytes!.subarray(this.#at, this.#at + this.#length));
      this.#bytes = undefined;
    }
    return this.#value;
  }
  toJSON(): string {
    return `${this.label}:${REDACTED}`;
  }
  toString(): string {
    return `${this.label}:${REDACTED}`;
  }
  [inspect.custom](): string {
    return `SecretBigInt(${this.label}, ${REDACTED})`;
  }
}

/**
 * A deterministic cryptographic byte stream: AES-256-CTR keystream under a key derived by
 * HKDF-SHA256 from seed material drawn from the run's seeded Rng.
 *
 * SIMULATION KEYING CHOICE: the MTD secrets of a run are a function of the run seed, so runs are
 * reproducible byte for byte. Anyone who knows the seed can recompute them; a deployment would
 * seed this stream from crypto.randomBytes instead. The cryptography itself (HKDF, AES-GCM,
 * Shamir, fountain decoding) is real; what a decision computes of it: src/policies/mtd.ts.
 */
export class Drbg {
  readonly #cipher: ReturnType<typeof createCipheriv>;
  /** keystream produced ahead (a CTR keystream is the same however it is cut) */
  #ahead = new Uint8Array(0);
  #pos = 0;

  private constructor(key: Uint8Array) {
    this.#cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  }

  /** 256 bits of seed material from eight 32-bit draws of the run Rng, expanded with HKDF. */
  static fromRng(rng: Rng, purpose: string): Drbg {
    const ikm = Buffer.alloc(32);
    for (let i = 0; i < 8; i++) ikm.writeUInt32BE(Math.floor(rng() * 2 ** 32) >>> 0, 4 * i);
    return new Drbg(hkdfSha256(ikm, "migsim-mtd-drbg", purpose));
  }

  /** makes sure n bytes are ahead; returns where they start */
  #take(n: number): number {
    if (this.#pos + n > this.#ahead.length) this.reserve(n);
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  /**
   * Produces at least n bytes of keystream ahead in one piece (draws are unchanged): a caller
   * about to make many small draws (a set-up's draws for thousands of holders) makes one cipher
   * call instead of one per 4 KiB.
   */
  reserve(n: number): void {
    const rest = this.#ahead.subarray(this.#pos);
    if (rest.length >= n) return;
    const want = Math.max(n - rest.length, AHEAD);
    if (zeros.length < want) zeros = Buffer.alloc(want);
    const fresh = this.#cipher.update(zeros.subarray(0, want));
    if (rest.length === 0) {
      this.#ahead = fresh;
    } else {
      const next = new Uint8Array(rest.length + fresh.length);
      next.set(rest);
      next.set(fresh, rest.length);
      this.#ahead = next;
    }
    this.#pos = 0;
  }

  /**
   * The next n bytes of keystream without drawing them: a view to read before anything is drawn
   * past it. A caller that parses many draws out of it (a set-up's thousands of holders) then
   * draws what it read with `skip`.
   */
  peek(n: number): Uint8Array {
    this.reserve(n);
    return this.#ahead.subarray(this.#pos, this.#pos + n);
  }

  /** draws n bytes (read beforehand with `peek`) */
  skip(n: number): void {
    this.#take(n);
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    this.bytesInto(out, 0, n);
    return out;
  }

  /** `bytes(n)` written into `out` at `offset` (the same draws; many can share one buffer) */
  bytesInto(out: Uint8Array, offset: number, n: number): void {
    const at = this.#take(n);
    const a = this.#ahead;
    // (a loop: slice and subarray cost more than the copy for the few bytes of most draws)
    for (let i = 0; i < n; i++) out[offset + i] = a[at + i]!;
  }

  /** uniform integer in [0, n) by rejection (no modulo bias) */
  int(n: number): number {
    if (n <= 0 || n > 2 ** 32) throw new Error(`Drbg.int: bad range ${n}`);
    const limit = Math.floor(2 ** 32 / n) * n;
    for (;;) {
      const at = this.#take(4);
      const b = this.#ahead;
      const v = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
      if (v < limit) return v % n;
    }
  }

  /** uniform BigInt in [0, p) by rejection on the bit length of p */
  below(p: bigint): bigint {
    return bytesToBigInt(this.belowBytes(p));
  }

  /**
   * `below(p)` as its big-endian bytes (as long as p's): the same draws, without making the
   * BigInt, for values that may never be read.
   */
  belowBytes(p: bigint): Uint8Array {
    const out = new Uint8Array(boundOf(p).bytes.length);
    this.belowInto(p, out, 0);
    return out;
  }

  /**
   * `belowBytes(p)` written into `out` at `offset`: many draws can share one buffer (a typed
   * array longer than 64 bytes has a backing store of its own, costly by the thousand).
   */
  belowInto(p: bigint, out: Uint8Array, offset: number): void {
    const bound = boundOf(p);
    const pb = bound.bytes;
    const nbytes = pb.length;
    const topMask = 0xff >> (nbytes * 8 - bound.bits);
    for (;;) {
      const at = this.#take(nbytes);
      const a = this.#ahead;
      for (let i = 0; i < nbytes; i++) out[offset + i] = a[at + i]!;
      out[offset] = out[offset]! & topMask;
      if (lessThan(out, offset, pb)) return;
    }
  }

  /**
   * The draws of `belowInto(p, ...)` without keeping the value: a set-up draws a key point for
   * every holder, and a decision reads the source's only.
   */
  skipBelow(p: bigint): void {
    const bound = boundOf(p);
    const pb = bound.bytes;
    const topMask = 0xff >> (pb.length * 8 - bound.bits);
    for (;;) {
      const at = this.#take(pb.length);
      if (maskedLessThan(this.#ahead, at, topMask, pb)) return;
    }
  }

  /** toJSON/inspect: the generator state is key material */
  toJSON(): string {
    return `drbg:${REDACTED}`;
  }
  [inspect.custom](): string {
    return `Drbg(${REDACTED})`;
  }
}

/**
 * HKDF-SHA256 (RFC 5869) of 32 bytes: extract, then the first block of expand. The bytes of
 * node:crypto's hkdfSync("sha256", ikm, salt, info, 32), with two HMACs instead of its call,
 * which costs twice as much (a decision makes one).
 */
export function hkdfSha256(ikm: Uint8Array, salt: string, info: string): Uint8Array {
  const prk = createHmac("sha256", salt).update(ikm).digest();
  return new Uint8Array(createHmac("sha256", prk).update(info).update(ONE).digest());
}

const ONE = Uint8Array.of(1);

/** bytes of keystream a Drbg produces at a time: one cipher call per many small draws */
const AHEAD = 4096;

/** the cipher's input: the keystream is the AES-CTR encryption of zeros (never written to; grown to the largest reservation) */
let zeros = Buffer.alloc(AHEAD);

/** bit length and bytes of the bounds `below` was asked for (a handful: the field primes, 2^256) */
const BOUNDS = new Map<bigint, { bits: number; bytes: Uint8Array }>();

/** the last bound asked for: set-ups ask for the same one thousands of times in a row */
let last: { p: bigint; bound: { bits: number; bytes: Uint8Array } } | undefined;

function boundOf(p: bigint): { bits: number; bytes: Uint8Array } {
  if (last !== undefined && last.p === p) return last.bound;
  let bound = BOUNDS.get(p);
  if (bound === undefined) {
    const bits = p.toString(2).length;
    BOUNDS.set(p, (bound = { bits, bytes: bigIntToBytes(p, Math.ceil(bits / 8)) }));
  }
  last = { p, bound };
  return bound;
}

/**
 * Whether `belowInto(p, ...)` accepts the draw that starts at `at` in `bytes` (keystream from
 * `peek`); `into` then receives the value as belowInto writes it, at `intoAt`.
 */
export function belowAccepts(p: bigint, bytes: Uint8Array, at: number, into?: Uint8Array, intoAt = 0): boolean {
  const bound = boundOf(p);
  const pb = bound.bytes;
  const topMask = 0xff >> (pb.length * 8 - bound.bits);
  if (!maskedLessThan(bytes, at, topMask, pb)) return false;
  if (into) {
    for (let i = 0; i < pb.length; i++) into[intoAt + i] = bytes[at + i]!;
    into[intoAt] = into[intoAt]! & topMask;
  }
  return true;
}

/** a[at..] < b, a's first byte masked with `topMask`, for big-endian unsigned numbers of b's length */
function maskedLessThan(a: Uint8Array, at: number, topMask: number, b: Uint8Array): boolean {
  const first = a[at]! & topMask;
  if (first !== b[0]) return first < b[0]!;
  for (let i = 1; i < b.length; i++) if (a[at + i] !== b[i]) return a[at + i]! < b[i]!;
  return false;
}

/** a[at..] < b for big-endian unsigned numbers of b's length */
function lessThan(a: Uint8Array, at: number, b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (a[at + i] !== b[i]) return a[at + i]! < b[i]!;
  return false;
}

export function bytesToBigInt(b: Uint8Array): bigint {
  // through hex: shifting a growing BigInt byte by byte is quadratic in the length
  return b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex")}`);
}

/** big-endian unsigned bytes of v; `length` pads on the left (throws if v does not fit) */
export function bigIntToBytes(v: bigint, length?: number): Uint8Array {
  if (v < 0n) throw new Error("bigIntToBytes: negative value");
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const min = Buffer.from(hex, "hex");
  if (length === undefined) return new Uint8Array(min);
  if (min.length > length) throw new Error(`bigIntToBytes: value needs ${min.length} bytes, ${length} given`);
  const out = new Uint8Array(length);
  out.set(min, length - min.length);
  return out;
}
