/**
 * Comparing the simulator with a testbed: one experiment on both backends (`migsim compare`), the
 * held-out validation set and randomly drawn validation scenarios (`migsim validate`).
 */
export { compareBackends } from "./compare-backends.ts";
export { TARGETS, validateHeldOut } from "./heldout.ts";
export { worstError } from "./pairs.ts";
export { DEFAULT_BUDGET_S, validateRandom } from "./random-validation.ts";
export { DRAW_RUNS } from "./draw.ts";
export { rejudgeRandom } from "./rejudge.ts";
