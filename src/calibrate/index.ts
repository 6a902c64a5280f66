/**
 * `migsim calibrate`: measuring a testbed with the calibration experiments and fitting a testbed
 * profile (cost and network parameters) to it, with its cross-validation.
 */
export { calibrate } from "./calibration.ts";
