/** `migsim calibrate --testbed URL --out FILE [--quick]`: a testbed profile fitted on measurements of that testbed. */
import type { CommandModule } from "yargs";
import { checkTestbedAddress } from "../run/index.ts";
import { calibrate } from "../calibrate/index.ts";
import { progressReporter } from "./progress.ts";
import { reportFailedRuns, testbedFlags, testbedOptions, type ExperimentArgs } from "./run.ts";

interface CalibrateArgs extends Omit<ExperimentArgs, "file" | "set" | "allow-external-plugins"> {
  out: string;
  quick: boolean;
  refit?: string;
}

export const calibrateCommand: CommandModule<object, CalibrateArgs> = {
  command: "calibrate",
  describe: "measure a Mininet testbed and fit the simulator to it: writes a testbed profile (docs/profiles.md)",
  builder: (y) =>
    testbedFlags(y)
      .option("out", { type: "string", default: "testbed-profile.yaml", describe: "profile file to write (its measurements go to FILE.measurements/)" })
      .option("quick", { type: "boolean", default: false, describe: "a reduced set (fewer sizes, runs and loaded cases): under 3 minutes, for CI" })
      .option("refit", { type: "string", describe: "fit again from an earlier calibration's measurements folder (FILE.measurements) without running anything on the testbed" }) as never,
  handler: async (args) => {
    if (args.testbed !== undefined) checkTestbedAddress(args.testbed);
    const t0 = performance.now();
    const r = await calibrate({
      out: args.out,
      quick: args.quick,
      refit: args.refit,
      backendOptions: testbedOptions(args),
      log: (line) => process.stderr.write(`calibrate: ${line}\n`),
      progress: (label) => progressReporter(label),
      argv: process.argv.slice(2),
    });
    const fits = Object.entries(r.document.fits ?? {});
    for (const [field, f] of fits) process.stdout.write(`  ${field} = ${f.value}  (${f.error})\n`);
    process.stdout.write(`profile ${r.document.profile}: ${fits.length} fitted values -> ${r.profileFile} (${((performance.now() - t0) / 1000).toFixed(0)} s; measurements in ${r.measurementsDir})\n`);
    reportFailedRuns(r.failedRuns, r.testbedRuns, r.measurementsDir);
  },
};
