/**
 * Leave-one-measurement-out cross-validation of a calibration: each measurement is predicted by
 * the fit of all the others (what it says about work the fit never saw), beside its training
 * error (the fit of everything, it included) and the built-in defaults' error. A measurement the
 * fit cannot do without (its only source of a parameter) has no held-out error.
 *
 * It also decides which fitted values the profile keeps: a group of values fitted together (one
 * fit step) falls back to its built-in defaults when, on the measurements it was fitted on, each
 * left out in turn, the defaults predict total_s better than the values the other measurements
 * gave (rms, by more than FALL_BACK_MARGIN, everything else as fitted). Judged on those
 * measurements only: over all of them a group's change would be judged by errors it has no part
 * in (a copy's start-up time moving a post-copy measurement the fit misses by 90%). A group fitted
 * on one measurement cannot be judged and stays.
 * The errors reported are those of the profile as written, fall-backs applied.
 */
import { mean } from "../core/stats.ts";
import type { Calibration, Observed, Params, Simulate } from "./fit.ts";

export interface HeldOutError {
  /** the measurement's mean total_s on the testbed */
  measured_s: number;
  /** (predicted - measured) / measured of total_s under the fit of every measurement */
  fitted_error: number;
  /** the same under the fit of the others; null when the fit needs this one */
  held_out_error: number | null;
  /** the same under the built-in defaults (the paper profile) */
  default_error: number;
}

/** The values one fit step set, and the measurements it fitted them on. */
export interface FitGroup {
  keys: readonly string[];
  measurements: readonly string[];
}

/** A fit group whose defaults predicted its left-out measurements better: the profile keeps the defaults. */
export interface FallBack {
  keys: readonly string[];
  /** rms of the left-out total_s errors with the group as the other measurements fitted it */
  withFit: number;
  /** the same with the group at its defaults */
  withDefaults: number;
  /** the measurements judged (those it was fitted on that a fit of the others exists for) */
  n: number;
}

export interface CrossValidation {
  perMeasurement: Record<string, HeldOutError>;
  /** root mean square over the measurements that have all three */
  rms: { fitted: number; heldOut: number; defaults: number; n: number };
  fallBacks: FallBack[];
}

type FitAll = (observed: ReadonlyMap<string, Observed>) => Promise<Calibration>;

async function totalError(o: Observed, params: Params, simulate: Simulate): Promise<number> {
  const measured = mean(o.records.map((r) => r.total_s));
  const predicted = mean((await simulate(o.measurement, params)).records.map((r) => r.total_s));
  return (predicted - measured) / measured;
}

const without = (params: Params, keys: Iterable<string>): Params => {
  const p = new Map(params);
  for (const k of keys) p.delete(k);
  return p;
};

/**
 * How much better (rms of total_s, absolute) the defaults must predict for a group to fall back:
 * a smaller difference is within the fit's noise (a group fitted back to its defaults differs from
 * them in the fourth digit).
 */
const FALL_BACK_MARGIN = 0.01;

const rms = (xs: readonly number[]): number => Math.sqrt(mean(xs.map((x) => x * x)));

/**
 * `groups`: the keys of `full.params` each fit step set, the unit that falls back (values fitted
 * together, like a checkpoint's base and rate, stand or fall together), with their measurements.
 */
export async function crossValidate(observed: ReadonlyMap<string, Observed>, full: Calibration, groups: readonly FitGroup[], fitAll: FitAll, simulate: Simulate): Promise<CrossValidation> {
  // the fit of the others, for each measurement that has one
  const rest = new Map<string, Params>();
  for (const [id, o] of observed) {
    if (o.records.length === 0) continue;
    try {
      rest.set(id, (await fitAll(new Map([...observed].filter(([k]) => k !== id)))).params);
    } catch {
      // the only measurement of something the fit needs: nothing to predict it from
    }
  }
  const leftOut = async (ids: readonly string[], drop: readonly string[]): Promise<number[]> => {
    const errors: number[] = [];
    for (const id of ids) errors.push(await totalError(observed.get(id)!, without(rest.get(id)!, drop), simulate));
    return errors;
  };
  const fallBacks: FallBack[] = [];
  for (const { keys, measurements } of groups) {
    const judged = measurements.filter((id) => rest.has(id));
    if (judged.length < 2) continue;
    const withFit = rms(await leftOut(judged, []));
    const withDefaults = rms(await leftOut(judged, keys));
    if (withDefaults < withFit - FALL_BACK_MARGIN) fallBacks.push({ keys, withFit, withDefaults, n: judged.length });
  }
  const fallen = fallBacks.flatMap((f) => f.keys);
  const perMeasurement: Record<string, HeldOutError> = {};
  const sq = { fitted: [] as number[], heldOut: [] as number[], defaults: [] as number[] };
  for (const [id, o] of observed) {
    if (o.records.length === 0) continue;
    const others = rest.get(id);
    const heldOut = others ? await totalError(o, without(others, fallen), simulate) : null;
    const e: HeldOutError = {
      measured_s: mean(o.records.map((r) => r.total_s)),
      fitted_error: await totalError(o, without(full.params, fallen), simulate),
      held_out_error: heldOut,
      default_error: await totalError(o, new Map(), simulate),
    };
    perMeasurement[id] = e;
    if (heldOut !== null) {
      sq.fitted.push(e.fitted_error);
      sq.heldOut.push(heldOut);
      sq.defaults.push(e.default_error);
    }
  }
  return { perMeasurement, rms: { fitted: rms(sq.fitted), heldOut: rms(sq.heldOut), defaults: rms(sq.defaults), n: sq.heldOut.length }, fallBacks };
}
