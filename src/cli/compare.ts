/** `migsim compare FILE --testbed URL`: the experiment on the simulator and on a testbed, and the simulator's error. */
import type { CommandModule } from "yargs";
import { checkTestbedAddress } from "../run/index.ts";
import { compareBackends } from "../validation/index.ts";
import { progressReporter } from "./progress.ts";
import { experimentOptions, reportFailedRuns, testbedOptions, type ExperimentArgs } from "./run.ts";

type CompareArgs = ExperimentArgs & { "skip-precopy": boolean };

export const compareCommand: CommandModule<object, CompareArgs> = {
  command: "compare <file>",
  describe: "run an experiment on the simulator and on a Mininet testbed and report the simulator's error",
  builder: (y) =>
    experimentOptions(y, "out/<experiment>-compare").option("skip-precopy", {
      type: "boolean",
      default: false,
      describe:
        "when the testbed cannot run pre-copy (a kernel without soft-dirty tracking), run the other cells and list the pre-copy cells as skipped in validation.md (without it such an experiment is refused before any run)",
    }) as never,
  handler: async (args) => {
    if (args.testbed !== undefined) checkTestbedAddress(args.testbed);
    const r = await compareBackends({
      file: args.file,
      runs: args.runs,
      seed: args.seed,
      set: args.set,
      out: args.out,
      testbed: args.testbed,
      allowExternalPlugins: args["allow-external-plugins"],
      profile: args.profile,
      skipPrecopy: args["skip-precopy"],
      backendOptions: testbedOptions(args),
      progress: progressReporter("compare"),
      argv: process.argv.slice(2),
    });
    process.stdout.write(`validation report: ${r.outDir}/validation.md\n`);
    for (const row of r.rows.filter((x) => x.metric === "total_s")) {
      process.stdout.write(`  ${row.cell} ${row.policy}: sim ${row.sim.mean.toFixed(2)} s, testbed ${row.emu.mean.toFixed(2)} s, error ${row.errorPct.toFixed(1)}%\n`);
    }
    if (r.skipped.length > 0) {
      process.stdout.write(`  skipped on the testbed: ${r.skipped.length} cell(s) of mode ${[...new Set(r.skipped.map((c) => c.mode))].join(", ")} (${r.skipped[0]!.reason})\n`);
    }
    reportFailedRuns(r.failed.length, r.emulatedRuns, `${r.outDir}/mininet`);
  },
};
