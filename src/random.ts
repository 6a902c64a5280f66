/**
 * Seeded randomness. Every random choice in migsim comes from an Rng made here, so a run is a
 * pure function of its inputs and seed. Seeds of runs are derived by hashing, never by drawing
 * from a shared generator, so results do not depend on execution order, --jobs or sharding.
 */
import { createHash } from "node:crypto";
import seedrandom from "seedrandom";

export type Rng = () => number;

/** A fast seeded generator (xor4096) returning uniform numbers in [0, 1). */
export function makeRng(seed: number | string): Rng {
  const g = seedrandom.xor4096(String(seed));
  return () => g();
}

/** A 32-bit seed derived from the parts (e.g. experiment seed, cell id, run index). */
export function deriveSeed(...parts: Array<string | number>): number {
  const h = createHash("sha256").update(parts.map(String).join("\u001f")).digest();
  return h.readUInt32BE(0);
}

/** An independent stream for one purpose within a run (`policy`, `traffic`, ...). */
export function subRng(seed: number, purpose: string): Rng {
  return makeRng(deriveSeed(seed, purpose));
}

/** Exponential variate with the given mean. */
export function exponential(rng: Rng, mean: number): number {
  return -mean * Math.log(1 - rng());
}

/** Uniform integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.min(n - 1, Math.floor(rng() * n));
}
