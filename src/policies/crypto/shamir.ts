/**
 * Shamir's K-of-N secret sharing over GF(2^521 - 1): the secret is the constant term of a random
 * polynomial of degree K - 1; share i is the point (x_i, f(x_i)). Any K shares give f(0) by
 * Lagrange interpolation; K - 1 shares are consistent with every possible secret.
 */
import { bigIntToBytes, bytesToBigInt, type Drbg, SecretBigInt, SecretBytes } from "./secret.ts";
import { evaluate, interpolate, P521, P521_BYTES } from "./field.ts";

/** A share: public abscissa x, secret ordinate y. */
export interface Share {
  readonly x: bigint;
  readonly y: SecretBigInt;
}

/** bytes of a share on the wire: 2-byte x + 66-byte y */
export const SHARE_BYTES = 2 + P521_BYTES;

/**
 * Splits `secret` (at most 64 bytes, so it is below p) into shares at x = 1..n
 * (the x of a host is its position among the key holders, plus one).
 */
export function split(secret: SecretBytes, n: number, k: number, drbg: Drbg): Share[] {
  const coefficients = polynomial(secret, n, k, drbg);
  // f at x = 1..n by forward differences: f(x + 1) = f(x) + D1(x), D1(x + 1) = D1(x) + D2(x), ...
  // (the differences of a degree K - 1 polynomial at unit steps; exact field additions, so the
  // same values as Horner's rule at every x, with K additions per share instead of K products)
  const first = Math.min(k, n);
  const diff: bigint[] = [];
  for (let i = 1; i <= first; i++) diff.push(evaluate(coefficients, BigInt(i)));
  for (let j = 1; j < first; j++) for (let i = first - 1; i >= j; i--) diff[i] = subMod(diff[i]!, diff[i - 1]!);
  const shares: Share[] = [];
  for (let i = 1; i <= n; i++) {
    shares.push({ x: BigInt(i), y: new SecretBigInt(`share-${i}`, diff[0]!) });
    for (let j = 0; j < first - 1; j++) diff[j] = addMod(diff[j]!, diff[j + 1]!);
  }
  return shares;
}

/**
 * The polynomial of a split into n shares: the secret, then K - 1 coefficients drawn from `drbg`
 * (the draws `split` makes). Secret material: keep it inside the set-up that drew it.
 */
export function polynomial(secret: SecretBytes, n: number, k: number, drbg: Drbg): bigint[] {
  if (!(k >= 1 && k <= n)) throw new RangeError(`shamir: need 1 <= k <= n, got k=${k}, n=${n}`);
  if (n >= 2 ** 16) throw new RangeError("shamir: at most 65535 shares");
  const s = bytesToBigInt(secret.reveal());
  if (s >= P521) throw new RangeError("shamir: secret larger than the field");
  const coefficients = [s];
  for (let i = 1; i < k; i++) coefficients.push(drbg.below(P521));
  return coefficients;
}

/** The share at x (1..n) of a polynomial, by Horner's rule: the share `split` gives there. */
export function shareAt(coefficients: readonly bigint[], x: number): Share {
  return { x: BigInt(x), y: new SecretBigInt(`share-${x}`, evaluate(coefficients, BigInt(x))) };
}

function addMod(a: bigint, b: bigint): bigint {
  const s = a + b;
  return s >= P521 ? s - P521 : s;
}

function subMod(a: bigint, b: bigint): bigint {
  const s = a - b;
  return s < 0n ? s + P521 : s;
}

/** f(0) from the given shares, as `length` bytes; only correct with at least K distinct shares. */
export function combine(shares: readonly Share[], length: number, label = "secret"): SecretBytes {
  const xs = new Set(shares.map((s) => s.x));
  if (xs.size !== shares.length) throw new RangeError("shamir: shares must have distinct x");
  const value = interpolate(
    shares.map((s) => [s.x, s.y.reveal()] as const),
    0n,
  );
  // With fewer than K shares the interpolated value is a random field element, usually too large.
  const bytes = value < 1n << BigInt(8 * length) ? bigIntToBytes(value, length) : bigIntToBytes(value).slice(-length);
  return new SecretBytes(label, bytes);
}
