/** GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1 (0x11b), via log/exp tables. */
const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    // multiply by the generator 3: x*2 xor x, reduced by 0x11b
    let x2 = x << 1;
    if (x2 & 0x100) x2 ^= 0x11b;
    x = x2 ^ x;
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255]!;
}

export function gfMul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return EXP[LOG[a]! + LOG[b]!]!;
}

export function gfInv(a: number): number {
  if (a === 0) throw new RangeError("GF(256): inverse of zero");
  return EXP[255 - LOG[a]!]!;
}

/** dst ^= c * src, element-wise */
export function gfAxpy(dst: Uint8Array, c: number, src: Uint8Array): void {
  if (c === 0) return;
  const lc = LOG[c]!;
  for (let i = 0; i < dst.length; i++) {
    const s = src[i]!;
    if (s !== 0) dst[i] = dst[i]! ^ EXP[lc + LOG[s]!]!;
  }
}

/** dst = c * dst, element-wise */
export function gfScale(dst: Uint8Array, c: number): void {
  for (let i = 0; i < dst.length; i++) dst[i] = gfMul(dst[i]!, c);
}
