/**
 * Secret-holding values and the deterministic key generator of the MTD policies.
 *
 * Secrets (the master secret S, Shamir shares, fountain symbols, keys) live in private class
 * fields, so JSON.stringify, util.inspect, template strings and spreading never show them; only
 * an explicit `reveal()` does. Plans, notes and errors are built from public data only.
 */
import { createCipheriv, hkdfSync } from "node:crypto";
import { inspect } from "node:util";
import type { Rng } from "../../random.ts";

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
  readonly #value: bigint;
  readonly label: string;
  constructor(label: string, value: bigint) {
    this.label = label;
    this.#value = value;
  }
  reveal(): bigint {
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
 * Shamir, fountain decoding) is real and runs on every decision.
 */
export class Drbg {
  readonly #cipher: ReturnType<typeof createCipheriv>;
  /** keystream produced ahead (a CTR keystream is the same however it is cut) */
  #ahead: Buffer = Buffer.alloc(0);
  #pos = 0;

  private constructor(key: Uint8Array) {
    this.#cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  }

  /** 256 bits of seed material from eight 32-bit draws of the run Rng, expanded with HKDF. */
  static fromRng(rng: Rng, purpose: string): Drbg {
    const ikm = Buffer.alloc(32);
    for (let i = 0; i < 8; i++) ikm.writeUInt32BE(Math.floor(rng() * 2 ** 32) >>> 0, 4 * i);
    const key = new Uint8Array(hkdfSync("sha256", ikm, "migsim-mtd-drbg", purpose, 32));
    return new Drbg(key);
  }

  bytes(n: number): Uint8Array {
    if (this.#pos + n > this.#ahead.length) {
      const rest = this.#ahead.subarray(this.#pos);
      this.#ahead = Buffer.concat([rest, this.#cipher.update(Buffer.alloc(Math.max(AHEAD, n - rest.length)))]);
      this.#pos = 0;
    }
    const out = new Uint8Array(this.#ahead.subarray(this.#pos, this.#pos + n));
    this.#pos += n;
    return out;
  }

  /** uniform integer in [0, n) by rejection (no modulo bias) */
  int(n: number): number {
    if (n <= 0 || n > 2 ** 32) throw new Error(`Drbg.int: bad range ${n}`);
    const limit = Math.floor(2 ** 32 / n) * n;
    for (;;) {
      const b = this.bytes(4);
      const v = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
      if (v < limit) return v % n;
    }
  }

  /** uniform BigInt in [0, p) by rejection on the bit length of p */
  below(p: bigint): bigint {
    let bits = BIT_LENGTHS.get(p);
    if (bits === undefined) BIT_LENGTHS.set(p, (bits = p.toString(2).length));
    const nbytes = Math.ceil(bits / 8);
    const topMask = 0xff >> (nbytes * 8 - bits);
    for (;;) {
      const b = this.bytes(nbytes);
      b[0] = b[0]! & topMask;
      const v = bytesToBigInt(b);
      if (v < p) return v;
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

/** bytes of keystream a Drbg produces at a time: one cipher call per many small draws */
const AHEAD = 4096;

/** bit lengths of the bounds `below` was asked for (a handful: the field primes, 2^256) */
const BIT_LENGTHS = new Map<bigint, number>();

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
