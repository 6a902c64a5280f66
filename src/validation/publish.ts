/**
 * What `validate --random --doc` publishes beside its report, so that a reader can check the report
 * without a testbed and a later model can be judged against the same measurements: each scenario's
 * experiment file, the testbed's records of it (NAME/mininet/runs.csv and failed.csv, and its
 * top-up's, NAME/top-up/mininet/: testbed-records.ts), the pair
 * tables (validation.csv, and validation-defaults.csv: the same pairs under the built-in defaults), and the profile the simulator ran under with the calibration measurements
 * it was fitted on. `migsim validate --rejudge FOLDER --profile FOLDER/profile.yaml` simulates the
 * scenarios again and judges them against those records (rejudge.ts).
 */
import { copyFileSync, cpSync, existsSync, mkdirSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { FAILED_FILE } from "../outputs/failed.ts";
import { backendOut } from "./compare-backends.ts";
import { measurementsDirOf, type Profile } from "../load/read-profile.ts";
import { recordFolders } from "./testbed-records.ts";
import { BASELINE_CSV } from "./validation-report.ts";

/** the profile's copy in a published folder (its bytes unchanged, so the report's sha256 names it) */
export const PUBLISHED_PROFILE = "profile.yaml";
/** the calibration measurements the published profile was fitted on (`migsim calibrate --refit` reads them) */
export const PUBLISHED_MEASUREMENTS = "profile.measurements";
const RECORD_FILES = ["runs.csv", FAILED_FILE];

/**
 * Copies into `folder` the scenario files and testbed records of a validation written to `out`,
 * its validation.csv, and the profile (a file, not a built-in) with its measurements folder.
 */
export function publishValidation(out: string, folder: string, scenarioFiles: readonly string[], profile: Profile): void {
  mkdirSync(folder, { recursive: true });
  for (const file of scenarioFiles) {
    const name = basename(file, ".yaml");
    copyFileSync(file, join(folder, basename(file)));
    for (const dir of recordFolders(out, name)) {
      const from = backendOut(dir, "mininet");
      const to = join(folder, relative(out, from));
      for (const f of RECORD_FILES) {
        if (!existsSync(join(from, f))) continue;
        mkdirSync(to, { recursive: true });
        copyFileSync(join(from, f), join(to, f));
      }
    }
  }
  copyFileSync(join(out, "validation.csv"), join(folder, "validation.csv"));
  if (existsSync(join(out, BASELINE_CSV))) copyFileSync(join(out, BASELINE_CSV), join(folder, BASELINE_CSV));
  if (profile.file === null) return;
  copyFileSync(profile.file, join(folder, PUBLISHED_PROFILE));
  const measurements = measurementsDirOf(profile.file);
  if (existsSync(measurements)) cpSync(measurements, join(folder, PUBLISHED_MEASUREMENTS), { recursive: true });
}
