/** Exponential variates for the kernel tests' random workloads (no production code draws them). */
import type { Rng } from "../../src/core/random.ts";

/** Exponential variate with the given mean. */
export function exponential(rng: Rng, mean: number): number {
  return -mean * Math.log(1 - rng());
}
