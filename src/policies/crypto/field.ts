/** Arithmetic in the prime field GF(p), p = 2^521 - 1 (a Mersenne prime), with BigInt. */

/** The field of Shamir sharing: large enough for a 256-bit secret and for key points. */
export const P521 = (1n << 521n) - 1n;
/** bytes of a field element on the wire */
export const P521_BYTES = 66;

export function mod(a: bigint, p: bigint = P521): bigint {
  const r = a % p;
  return r < 0n ? r + p : r;
}

/** modular inverse by the extended Euclidean algorithm; throws on 0 */
export function inverse(a: bigint, p: bigint = P521): bigint {
  let [r0, r1] = [mod(a, p), p];
  if (r0 === 0n) throw new RangeError("inverse of zero");
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new RangeError("not invertible");
  return mod(s0, p);
}

/** value at x of the polynomial with the given coefficients (constant term first), Horner */
export function evaluate(coefficients: readonly bigint[], x: bigint, p: bigint = P521): bigint {
  let acc = 0n;
  for (let i = coefficients.length - 1; i >= 0; i--) acc = mod(acc * x + coefficients[i]!, p);
  return acc;
}

/** Lagrange interpolation of the points at `at` (0 for Shamir reconstruction) */
export function interpolate(points: ReadonlyArray<readonly [bigint, bigint]>, at: bigint, p: bigint = P521): bigint {
  let sum = 0n;
  for (let i = 0; i < points.length; i++) {
    const [xi, yi] = points[i]!;
    let num = 1n;
    let den = 1n;
    for (let j = 0; j < points.length; j++) {
      if (i === j) continue;
      const xj = points[j]![0];
      num = mod(num * (at - xj), p);
      den = mod(den * (xi - xj), p);
    }
    sum = mod(sum + yi * num * inverse(den, p), p);
  }
  return sum;
}
