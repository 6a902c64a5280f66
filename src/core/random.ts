/**
 * Seeded randomness. Every random choice in migsim comes from an Rng made here, so a run is a
 * pure function of its inputs and seed. Seeds are derived by hashing, never by drawing from a
 * shared generator, so results do not depend on execution order, --jobs or sharding.
 *
 * Common random numbers across the whole experiment: a run's seed depends on the experiment seed
 * and the run index only (runSeed), not on the cell or the policy, and every purpose a run draws
 * for has its own named stream of that seed (runStream). Two runs with the same index, in any
 * cell and under any policy, therefore see the same draws wherever they draw for the same
 * purpose in the same way, and a new consumer, drawing from a stream of its own, shifts no
 * other consumer's draws (docs/outputs.md, "What is paired with what").
 */
import { createHash } from "node:crypto";
import seedrandom from "seedrandom";

export type Rng = () => number;

/** A fast seeded generator (xor4096) returning uniform numbers in [0, 1). */
export function makeRng(seed: number | string): Rng {
  const g = seedrandom.xor4096(String(seed));
  return () => g();
}

/** A 32-bit seed derived from the parts (e.g. experiment seed, purpose, index). */
export function deriveSeed(...parts: Array<string | number>): number {
  const h = createHash("sha256").update(parts.map(String).join("\u001f")).digest();
  return h.readUInt32BE(0);
}

/** An independent stream for one purpose (`topology:<name>:capacity`, ...). */
export function subRng(seed: number, purpose: string): Rng {
  return makeRng(deriveSeed(seed, purpose));
}

/**
 * Which way runs draw (seeds, stream names, what each purpose draws): part of the plan --resume
 * checks, so a resumed run never mixes rows drawn two ways. Changes with any of them.
 */
export const DRAWS_VERSION = 2;

/** The seed of run `run` of an experiment: the same in every cell and for every policy. */
export function runSeed(experimentSeed: number, run: number): number {
  return deriveSeed(experimentSeed, "run", run);
}

/**
 * What a run draws for, each from its own stream. `decision`: a policy's choices for one
 * migration (the destination of `random`, tie-breaks, which MTD key holders are asked);
 * `keys`: the MTD key material of one migration (master secret, lookup table, shares, R).
 * Background traffic, host costs and the network models draw nothing today; a consumer added
 * there takes a purpose of its own here.
 */
export type StreamPurpose = "decision" | "keys";

/**
 * The stream of `purpose` for migration `index` of the run with seed `seed`. It is seeded on its
 * first draw, so a policy that never draws never pays for the generator.
 */
export function runStream(seed: number, purpose: StreamPurpose, index: number): Rng {
  let g: Rng | undefined;
  return () => (g ??= subRng(seed, `${purpose}:${index}`))();
}

/** Uniform integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.min(n - 1, Math.floor(rng() * n));
}
