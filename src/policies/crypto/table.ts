/**
 * The MTD lookup table (index -> host) encrypted with AES-256-GCM under a key derived from the
 * master secret by HKDF-SHA256, and formula (1) of the paper that picks the index.
 */
import { createCipheriv, createDecipheriv, createHash } from "node:crypto";
import { bigIntToBytes, bytesToBigInt, type Drbg, hkdfSha256, SecretBytes } from "./secret.ts";

const AAD = Buffer.from("migsim-mtd-lookup-table-v1");
const IV_BYTES = 12;
/** AES-GCM's authentication tag (getAuthTag's default length) */
const TAG_BYTES = 16;

/** The encrypted table as it travels to the hosts: public data. */
export interface EncryptedTable {
  readonly iv: Uint8Array;
  readonly ciphertext: Uint8Array;
  readonly tag: Uint8Array;
}

export function tableBytes(t: EncryptedTable): number {
  return t.iv.length + t.ciphertext.length + t.tag.length;
}

/**
 * `tableBytes` of any table over these slots, without encrypting: AES-GCM's ciphertext is as
 * long as the plaintext, the JSON of the slots, whose length does not depend on their order
 */
export function tableBytesOf(slots: ReadonlyArray<string | null>): number {
  return IV_BYTES + Buffer.byteLength(JSON.stringify(slots)) + TAG_BYTES;
}

/** AES-256 key for the table: HKDF-SHA256(ikm = S, salt = "migsim-mtd", info = "lookup-table") */
function tableKey(secret: SecretBytes): SecretBytes {
  return new SecretBytes("table-key", hkdfSha256(secret.reveal(), "migsim-mtd", "lookup-table"));
}

/** slots[i] is the host of index i; null marks an empty slot (the "+1" slot N of formula (1)) */
export function encryptTable(slots: ReadonlyArray<string | null>, secret: SecretBytes, drbg: Drbg): EncryptedTable {
  return encryptTableWith(slots, secret, drawTableIv(drbg));
}

/** the table's IV: the draw `encryptTable` makes */
export function drawTableIv(drbg: Drbg): Uint8Array {
  return drbg.bytes(IV_BYTES);
}

/** `encryptTable` with its IV drawn beforehand (drawTableIv): a set-up may encrypt only when asked */
export function encryptTableWith(slots: ReadonlyArray<string | null>, secret: SecretBytes, iv: Uint8Array): EncryptedTable {
  const c = createCipheriv("aes-256-gcm", tableKey(secret).reveal(), iv);
  c.setAAD(AAD);
  const ciphertext = Buffer.concat([c.update(JSON.stringify(slots), "utf8"), c.final()]);
  return { iv, ciphertext: new Uint8Array(ciphertext), tag: new Uint8Array(c.getAuthTag()) };
}

/** Raised when the table does not authenticate under the key: the secret was wrong. */
export class TableAuthError extends Error {
  constructor() {
    super("lookup table failed AES-GCM authentication (wrong key)");
    this.name = "TableAuthError";
  }
}

export function decryptTable(table: EncryptedTable, secret: SecretBytes): Array<string | null> {
  const d = createDecipheriv("aes-256-gcm", tableKey(secret).reveal(), table.iv);
  d.setAAD(AAD);
  d.setAuthTag(table.tag);
  let plain: Buffer;
  try {
    plain = Buffer.concat([d.update(table.ciphertext), d.final()]);
  } catch {
    // never chain the original error: keep key material out of messages and causes
    throw new TableAuthError();
  }
  return JSON.parse(plain.toString("utf8")) as Array<string | null>;
}

/**
 * Formula (1): index = SHA-256(R + X*Y) mod (N + 1).
 * Encoding: v = R + X*Y as a non-negative BigInt, hashed as its minimal big-endian unsigned
 * bytes (at least one byte: 0 is 0x00); the 32-byte digest is read as a big-endian unsigned
 * integer and reduced mod N + 1.
 */
export function formulaIndex(r: bigint, x: bigint, y: bigint, n: number): number {
  const v = r + x * y;
  if (v < 0n) throw new RangeError("formula (1): R + X*Y must be non-negative");
  const digest = createHash("sha256").update(bigIntToBytes(v)).digest();
  return Number(bytesToBigInt(digest) % BigInt(n + 1));
}
