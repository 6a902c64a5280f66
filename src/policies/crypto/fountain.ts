/**
 * Fountain coding of the master secret by random linear network coding over GF(2^8).
 *
 * The secret is cut into K blocks. A symbol is (coefficient vector c of length K, payload
 * sum_j c_j * block_j). The manager gives every key holder a few symbols (fewer than K, so no
 * single host can decode S); a host answers each request with a FRESH symbol: a random linear
 * combination of the symbols it holds (recoding), whose coefficient vector is the same
 * combination of theirs. The source decodes by Gaussian elimination once it has K linearly
 * independent symbols; a symbol in the span of earlier ones is "dependent" and it asks again.
 */
import { inspect } from "node:util";
import { type Drbg, SecretBytes } from "./secret.ts";
import { gfAxpy, gfInv, gfScale } from "./gf256.ts";

export class CodedSymbol {
  readonly coefficients: Uint8Array;
  readonly #payload: Uint8Array;
  constructor(coefficients: Uint8Array, payload: Uint8Array) {
    this.coefficients = coefficients;
    this.#payload = payload;
  }
  /** the coded payload: secret material */
  revealPayload(): Uint8Array {
    return Uint8Array.from(this.#payload);
  }
  /** bytes on the wire: coefficients + payload */
  get wireBytes(): number {
    return this.coefficients.length + this.#payload.length;
  }
  toJSON(): string {
    return "symbol:[redacted]";
  }
  [inspect.custom](): string {
    return "FountainSymbol([redacted])";
  }
}

export function blockLength(secretBytes: number, k: number): number {
  return Math.ceil(secretBytes / k);
}

function blocks(secret: SecretBytes, k: number): Uint8Array[] {
  const raw = secret.reveal();
  const len = blockLength(raw.length, k);
  const out: Uint8Array[] = [];
  for (let j = 0; j < k; j++) {
    const b = new Uint8Array(len); // zero padding at the end of the last block
    b.set(raw.subarray(j * len, Math.min(raw.length, (j + 1) * len)));
    out.push(b);
  }
  return out;
}

/** a fresh symbol of the secret with random coefficients (the encoder at the manager) */
export function encode(secret: SecretBytes, k: number, drbg: Drbg): CodedSymbol {
  return encoder(secret, k)(drbg);
}

/** `encode` for many symbols of one secret: the blocks are cut once, not once per symbol */
export function encoder(secret: SecretBytes, k: number): (drbg: Drbg) => CodedSymbol {
  const make = symbolMaker(secret, k);
  return (drbg) => make(drbg.bytes(k));
}

/**
 * The symbol of the secret with the given K coefficients (which it keeps): a set-up can draw
 * every holder's coefficients first and make the symbols of the few holders that are read.
 */
export function symbolMaker(secret: SecretBytes, k: number): (coefficients: Uint8Array) => CodedSymbol {
  const bs = blocks(secret, k);
  return (c) => {
    const payload = new Uint8Array(bs[0]!.length);
    for (let j = 0; j < k; j++) gfAxpy(payload, c[j]!, bs[j]!);
    return new CodedSymbol(c, payload);
  };
}

/** a fresh symbol recoded from the symbols a host holds (a random combination of them) */
export function recode(held: readonly CodedSymbol[], drbg: Drbg): CodedSymbol {
  if (held.length === 0) throw new RangeError("recode: no symbols held");
  const w = drbg.bytes(held.length);
  const k = held[0]!.coefficients.length;
  const c = new Uint8Array(k);
  const payload = new Uint8Array(held[0]!.wireBytes - k);
  held.forEach((s, i) => {
    gfAxpy(c, w[i]!, s.coefficients);
    gfAxpy(payload, w[i]!, s.revealPayload());
  });
  return new CodedSymbol(c, payload);
}

/** Incremental Gaussian elimination (row echelon, reduced as rows arrive). */
export class Decoder {
  readonly k: number;
  readonly #rows: Array<{ c: Uint8Array; p: Uint8Array } | undefined>;
  #rank = 0;

  constructor(k: number) {
    this.k = k;
    this.#rows = new Array(k).fill(undefined);
  }

  get rank(): number {
    return this.#rank;
  }

  /** adds a symbol; returns true when it was independent of the earlier ones */
  add(symbol: CodedSymbol): boolean {
    const c = Uint8Array.from(symbol.coefficients);
    const p = symbol.revealPayload();
    for (let j = 0; j < this.k; j++) {
      const row = this.#rows[j];
      if (row && c[j] !== 0) {
        const f = c[j]!;
        gfAxpy(c, f, row.c);
        gfAxpy(p, f, row.p);
      }
    }
    const pivot = c.findIndex((x) => x !== 0);
    if (pivot < 0) return false;
    const inv = gfInv(c[pivot]!);
    gfScale(c, inv);
    gfScale(p, inv);
    // keep the basis fully reduced: clear the new pivot column from the other rows
    for (const row of this.#rows) {
      if (row && row.c[pivot] !== 0) {
        const f = row.c[pivot]!;
        gfAxpy(row.c, f, c);
        gfAxpy(row.p, f, p);
      }
    }
    this.#rows[pivot] = { c, p };
    this.#rank++;
    return true;
  }

  /** the secret once rank K is reached, else undefined (the blocks are underdetermined) */
  decode(secretBytes: number, label = "secret"): SecretBytes | undefined {
    if (this.#rank < this.k) return undefined;
    const out = new Uint8Array(this.#rows[0]!.p.length * this.k);
    this.#rows.forEach((row, j) => out.set(row!.p, j * row!.p.length));
    return new SecretBytes(label, out.subarray(0, secretBytes));
  }

  toJSON(): string {
    return `decoder(rank ${this.#rank}/${this.k})`;
  }
}
