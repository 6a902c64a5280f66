/**
 * Leave-one-measurement-out cross-validation of a calibration: each measurement is predicted by
 * the fit of all the others (what it says about work the fit never saw), beside its training
 * error (the fit of everything, it included) and the built-in defaults' error. A measurement the
 * fit cannot do without (its only source of a parameter) has no held-out error.
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

export interface CrossValidation {
  perMeasurement: Record<string, HeldOutError>;
  /** root mean square over the measurements that have all three */
  rms: { fitted: number; heldOut: number; defaults: number; n: number };
}

type FitAll = (observed: ReadonlyMap<string, Observed>) => Promise<Calibration>;

async function totalError(o: Observed, params: Params, simulate: Simulate): Promise<number> {
  const measured = mean(o.records.map((r) => r.total_s));
  const predicted = mean((await simulate(o.measurement, params)).records.map((r) => r.total_s));
  return (predicted - measured) / measured;
}

export async function crossValidate(observed: ReadonlyMap<string, Observed>, full: Calibration, fitAll: FitAll, simulate: Simulate): Promise<CrossValidation> {
  const perMeasurement: Record<string, HeldOutError> = {};
  const sq = { fitted: [] as number[], heldOut: [] as number[], defaults: [] as number[] };
  for (const [id, o] of observed) {
    if (o.records.length === 0) continue;
    const rest = new Map([...observed].filter(([k]) => k !== id));
    let heldOut: number | null = null;
    try {
      heldOut = await totalError(o, (await fitAll(rest)).params, simulate);
    } catch {
      // the only measurement of something the fit needs: nothing to predict it from
    }
    const e: HeldOutError = {
      measured_s: mean(o.records.map((r) => r.total_s)),
      fitted_error: await totalError(o, full.params, simulate),
      held_out_error: heldOut,
      default_error: await totalError(o, new Map(), simulate),
    };
    perMeasurement[id] = e;
    if (heldOut !== null) {
      sq.fitted.push(e.fitted_error ** 2);
      sq.heldOut.push(heldOut ** 2);
      sq.defaults.push(e.default_error ** 2);
    }
  }
  const rms = (xs: number[]) => Math.sqrt(mean(xs));
  return { perMeasurement, rms: { fitted: rms(sq.fitted), heldOut: rms(sq.heldOut), defaults: rms(sq.defaults), n: sq.heldOut.length } };
}
