/**
 * The built-in defaults as a baseline for a random validation: each scenario simulated again with
 * no profile (tcp-fluid's and the costs' own defaults), as many runs as the testbed ran and with
 * the same seeds, and judged against the same testbed records. A calibrated profile earns its fit
 * only where it predicts these unseen draws better than that, so the report sets the two side by
 * side (docs/validation-random.md, "Against the built-in defaults").
 */
import { join } from "node:path";
import type { RunFailure, RunRecord } from "../formats/runspec.ts";
import { writeFileAtomic } from "../outputs/atomic.ts";
import { runExperiment } from "../run/run-experiment.ts";
import { backendOut } from "./compare-backends.ts";
import type { Scenario } from "./draw.ts";
import { judgeScenario, type PairResult } from "./pairs.ts";
import { readRecords, runsRun, scenarioDir } from "./testbed-records.ts";
import { BASELINE_CSV, randomValidationCsv } from "./validation-report.ts";

/** where a scenario's simulation under the built-in defaults goes, in a validation's --out folder */
export const baselineSimDir = (folder: string, scenario: string): string => backendOut(join(scenarioDir(folder, scenario), "defaults"), "sim");

/**
 * The scenario in `file` on the simulator under `profile` (undefined: the built-in defaults), as
 * many runs as the testbed ran (a top-up's too) with the same seeds, written to `simDir` and
 * judged against the testbed's records.
 */
export async function simulateAndJudge(
  scenario: Scenario,
  file: string,
  shownFile: string,
  profile: string | undefined,
  simDir: string,
  testbed: { records: readonly RunRecord[]; failed: readonly RunFailure[] },
): Promise<PairResult[]> {
  await runExperiment({ file, profile, backend: "sim", out: simDir, plots: false, runs: Math.max(1, runsRun(testbed.records, testbed.failed)) });
  return judgeScenario(scenario.name, shownFile, scenario.parameters, readRecords(join(simDir, "runs.csv")), testbed.records, testbed.failed);
}

/** writes the baseline's pair table into `out`; returns its path */
export function writeBaselineTable(out: string, pairs: readonly PairResult[]): string {
  const file = join(out, BASELINE_CSV);
  writeFileAtomic(file, randomValidationCsv(pairs));
  return file;
}
