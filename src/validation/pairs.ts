/**
 * One (scenario, policy) pair of a randomly drawn validation: the simulated and testbed means per
 * phase, the relative errors, and the verdict against the targets. A testbed run ended at its
 * deadline is a censored observation: its time so far is a lower bound on its total, so the pair
 * is a miss whose error is at most the one computed from that bound ("at least -93%").
 */
import { mean } from "../core/stats.ts";
import type { RunFailure, RunRecord } from "../formats/runspec.ts";
import { relativeErrorPct } from "./compare-backends.ts";
import { TARGETS } from "./heldout.ts";
import type { ScenarioParameters } from "./draw.ts";

export const JUDGED_PHASES = ["checkpoint_s", "transfer_s", "restore_s", "downtime_s"] as const;
export type JudgedPhase = (typeof JUDGED_PHASES)[number];
/** every phase has the held-out set's phase target (25%); total has 15% */
export const PHASE_TARGET = TARGETS.checkpoint_s;
export const TOTAL_TARGET = TARGETS.total_s;
/** the target a quantity is judged by */
export const targetOf = (q: string): number => (q === "total_s" ? TOTAL_TARGET : PHASE_TARGET);

/** whether an error of quantity q misses its target (NaN: not judged, so no miss) */
export const pastTarget = (e: number, q: string): boolean => Number.isFinite(e) && Math.abs(e) > targetOf(q);

export type PairStatus = "met" | "miss" | "censored" | "failed";

export interface PairResult {
  scenario: string;
  /** the scenario's experiment file, relative to the output folder */
  file: string;
  policy: string;
  parameters: ScenarioParameters;
  simRuns: number;
  testbedRuns: number;
  testbedFailed: number;
  censored: boolean;
  /** simulated means per quantity */
  sim: Record<"total_s" | JudgedPhase, number>;
  /** testbed means over finished runs; for a censored pair, total is a lower bound (finished totals and censored times so far) */
  testbed: Record<"total_s" | JudgedPhase, number>;
  /** the finished testbed runs' values per quantity, in run order (the testbed's own spread: repeatability.ts) */
  testbedValues: Record<"total_s" | JudgedPhase, number[]>;
  /** (sim - testbed) / testbed; NaN where the phase does not apply (or no testbed run finished) */
  errors: Record<"total_s" | JudgedPhase, number>;
  status: PairStatus;
  /** why it missed: the quantities past their target */
  misses: string[];
}

const QUANTITIES = ["total_s", ...JUDGED_PHASES] as const;

/** A phase that does not exist in the pair's mode is not judged: a stateless move copies nothing. */
function applies(phase: JudgedPhase, mode: string): boolean {
  return !(phase === "transfer_s" && mode === "stateless");
}

/** Every policy's pair of one scenario: its simulated runs against its testbed runs and failures. */
export function judgeScenario(scenario: string, file: string, parameters: ScenarioParameters, sim: readonly RunRecord[], testbed: readonly RunRecord[], failed: readonly RunFailure[]): PairResult[] {
  return [...new Set(sim.map((x) => x.policy))].map((policy) =>
    judgePair(
      scenario,
      file,
      parameters,
      policy,
      sim.filter((x) => x.policy === policy),
      testbed.filter((x) => x.policy === policy),
      failed.filter((x) => x.policy === policy),
    ),
  );
}

export function judgePair(
  scenario: string,
  file: string,
  parameters: ScenarioParameters,
  policy: string,
  sim: readonly RunRecord[],
  testbed: readonly RunRecord[],
  failed: readonly RunFailure[],
): PairResult {
  const censoredRuns = failed.filter((f) => f.censored_after_s !== undefined);
  const censored = censoredRuns.length > 0;
  const simMeans = {} as PairResult["sim"];
  const tbMeans = {} as PairResult["testbed"];
  const tbValues = {} as PairResult["testbedValues"];
  const errors = {} as PairResult["errors"];
  for (const q of QUANTITIES) {
    simMeans[q] = mean(sim.map((r) => r[q]));
    tbValues[q] = testbed.map((r) => r[q]);
    tbMeans[q] = mean(tbValues[q]);
  }
  if (censored) tbMeans.total_s = mean([...testbed.map((r) => r.total_s), ...censoredRuns.map((f) => f.censored_after_s!)]);
  const misses: string[] = [];
  for (const q of QUANTITIES) {
    const judged = q === "total_s" || applies(q, parameters.mode);
    const e = judged && (testbed.length > 0 || (q === "total_s" && censored)) ? relativeErrorPct(simMeans[q], tbMeans[q]) / 100 : Number.NaN;
    errors[q] = e;
    if (pastTarget(e, q)) misses.push(`${q.replace(/_s$/, "")} ${censored && q === "total_s" ? "at most " : ""}${pct(e)}`);
  }
  let status: PairStatus;
  if (censored) status = "censored";
  else if (testbed.length === 0) status = "failed";
  else status = misses.length ? "miss" : "met";
  return {
    scenario,
    file,
    policy,
    parameters,
    simRuns: sim.length,
    testbedRuns: testbed.length + failed.length,
    testbedFailed: failed.length,
    censored,
    sim: simMeans,
    testbed: tbMeans,
    testbedValues: tbValues,
    errors,
    status,
    misses,
  };
}

export const pct = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}%` : "n/a");

/** The largest |error| of the pair over total and its phases (NaN-free; 0 when nothing was judged). */
export function worstError(p: PairResult): number {
  let w = 0;
  for (const q of QUANTITIES) if (Number.isFinite(p.errors[q])) w = Math.max(w, Math.abs(p.errors[q]));
  return w;
}

export { QUANTITIES };
