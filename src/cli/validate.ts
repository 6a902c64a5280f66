/** `migsim validate --profile FILE [--testbed URL]`: the held-out validation set on the simulator and the testbed, judged against the targets. */
import type { CommandModule } from "yargs";
import { checkTestbedAddress } from "../experiment/backends.ts";
import { TARGETS, validateHeldOut } from "../experiment/heldout.ts";
import { progressReporter } from "./progress.ts";
import { reportFailedRuns, testbedFlags, testbedOptions, type ExperimentArgs } from "./run.ts";

interface ValidateArgs extends Pick<ExperimentArgs, "testbed" | "testbed-key" | "known-hosts" | "fingerprint" | "runs"> {
  files?: string[];
  profile: string;
  out: string;
  doc?: string;
  set: string[];
}

/** Exit code when the comparison ran but some cell misses a target. */
const EXIT_TARGET_MISSED = 4;

export const validateCommand: CommandModule<object, ValidateArgs> = {
  command: "validate [files..]",
  describe: "compare the simulator with a testbed on the held-out validation set (experiments/validation/) under a testbed profile",
  builder: (y) =>
    testbedFlags(y)
      .positional("files", { type: "string", array: true, describe: "validation experiments (default: every file of experiments/validation/)" })
      .option("profile", { type: "string", demandOption: true, describe: "testbed profile from migsim calibrate (or paper)" })
      .option("runs", { type: "number", describe: "runs per cell and policy (overrides the files)" })
      .option("set", { type: "string", array: true, default: [], describe: "override a field in every file: path=value (repeatable; the report lists it)" })
      .option("out", { type: "string", default: "out/validation", describe: "output folder: one compare folder per experiment and validation.md" })
      .option("doc", { type: "string", describe: "also write the report here (e.g. docs/validation.md), plots in img/validation/ beside it" }) as never,
  handler: async (args) => {
    if (args.testbed !== undefined) checkTestbedAddress(args.testbed);
    const r = await validateHeldOut({
      files: args.files,
      profile: args.profile,
      out: args.out,
      doc: args.doc,
      runs: args.runs,
      set: args.set,
      backendOptions: testbedOptions(args),
      log: (line) => process.stderr.write(`validate: ${line}\n`),
      progress: (label) => progressReporter(label),
      argv: process.argv.slice(2),
    });
    for (const v of r.verdicts) {
      const t = v.errors.total_s;
      process.stdout.write(`  ${v.experiment} ${v.cell} ${v.policy}: total ${t === undefined ? "n/a" : `${(100 * t).toFixed(1)}%`} ${v.misses.length ? `MISS (${v.misses.join(", ")})` : "met"}\n`);
    }
    const met = r.verdicts.filter((v) => v.misses.length === 0).length;
    process.stdout.write(
      `${met} of ${r.verdicts.length} cells meet the targets (total ${100 * TARGETS.total_s}%, phases ${100 * TARGETS.transfer_s}%, probes ${100 * TARGETS.probe_rtt}%): ${r.reportFile}\n`,
    );
    reportFailedRuns(r.failed.length, r.testbedRuns, args.out);
    if (met < r.verdicts.length && process.exitCode === undefined) process.exitCode = EXIT_TARGET_MISSED;
  },
};
