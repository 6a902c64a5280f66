/**
 * How well a calibration's repeated runs agree with each other: the median coefficient of variation
 * (sample std / mean) of checkpoint_s, restore_s and total_s over the measurements run more than
 * once. Host costs follow how busy the host is (docs/profiles.md), so a calibration on a loaded
 * host fits values that hold only as loaded, and its runs spread: on the calibrations of
 * 2026-12-07 the median was 2.5-4.3% on an idle host and 5.7% and 13.3% while other work kept the
 * load average at 5-41 on 2 CPUs. Above NOISY_SPREAD the profile says it is noisy.
 */
import { mean, median, sampleStd } from "../core/stats.ts";
import type { Observed } from "./fit.ts";

export const NOISY_SPREAD = 0.05;

export interface Repeatability {
  /** median std / mean over (measurement run twice or more, phase) */
  medianCv: number;
  /** measurements run more than once */
  measurements: number;
  noisy: boolean;
}

export function repeatability(observed: Iterable<Observed>): Repeatability | undefined {
  const cvs: number[] = [];
  let measurements = 0;
  for (const o of observed) {
    if (o.records.length < 2) continue;
    measurements++;
    for (const phase of ["checkpoint_s", "restore_s", "total_s"] as const) {
      const xs = o.records.map((r) => r[phase]);
      const m = mean(xs);
      if (m > 0) cvs.push(sampleStd(xs) / m);
    }
  }
  if (cvs.length === 0) return undefined;
  const medianCv = median(cvs);
  return { medianCv, measurements, noisy: medianCv > NOISY_SPREAD };
}
