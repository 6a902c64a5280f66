/** `migsim validate --profile FILE [--testbed URL]`: the held-out validation set on the simulator and the testbed, judged against the targets. */
import type { CommandModule } from "yargs";
import { checkTestbedAddress } from "../run/index.ts";
import { TARGETS, validateHeldOut } from "../validation/index.ts";
import { DEFAULT_BUDGET_S, DRAW_RUNS, validateRandom } from "../validation/index.ts";
import { rejudgeRandom, worstError } from "../validation/index.ts";
import { InputError } from "../core/index.ts";
import { progressReporter } from "./progress.ts";
import { reportFailedRuns, testbedFlags, testbedOptions, type ExperimentArgs } from "./run.ts";

interface ValidateArgs extends Pick<ExperimentArgs, "testbed" | "testbed-key" | "known-hosts" | "fingerprint" | "runs"> {
  files?: string[];
  profile: string;
  out: string;
  doc?: string;
  set: string[];
  random?: number;
  rejudge?: string;
  seed?: number;
  budget: number;
  precopy: boolean;
  "fail-above"?: number;
  "max-runs"?: number;
}

/** Share of (scenario, policy) pairs of a random validation that must meet the targets. */
const RANDOM_PASS_SHARE = 0.9;

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
      .option("doc", { type: "string", describe: "also write the report here (e.g. docs/validation.md), plots in img/validation/ beside it" })
      .option("random", { type: "number", describe: "instead of the held-out set: draw N scenarios (docs/validation-random.md) and compare each" })
      .option("rejudge", {
        type: "string",
        describe:
          "simulate the scenarios of an earlier --random validation (its --out folder, or the folder its --doc published) again and judge them against its testbed records: a development check, not a validation",
      })
      .option("seed", { type: "number", describe: "seed of the random draw (--random; required with it)" })
      .option("budget", { type: "number", default: DEFAULT_BUDGET_S, describe: "seconds of simulated time a drawn run may take; longer draws are redrawn (--random)" })
      .option("max-runs", {
        type: "number",
        describe:
          "top up a drawn pair whose first testbed runs spread too much to judge by: as many runs in all as an exact model needs to meet the targets with 95% probability, up to N (--random; default: no top-up)",
      })
      .option("precopy", { type: "boolean", default: false, describe: "draw pre-copy scenarios too (only on a testbed whose kernel has soft-dirty tracking)" })
      .option("fail-above", {
        type: "number",
        describe:
          "exit 4 if any drawn pair is censored, has no finished testbed run, or misses by more than this fraction on total or a phase (e.g. 0.5); default: exit 4 below 90% of pairs within target",
      }) as never,
  handler: async (args) => {
    if (args.testbed !== undefined) checkTestbedAddress(args.testbed);
    if (args.rejudge !== undefined) return rejudgeHandler(args);
    if (args.random !== undefined) return validateRandomHandler(args);
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

async function rejudgeHandler(args: ValidateArgs): Promise<void> {
  if (args.random !== undefined || args.files?.length || args.set.length || args.testbed !== undefined) {
    throw new InputError("--rejudge uses the scenarios and testbed records of the folder it names: give no --random, files, --set or --testbed with it", { field: "--rejudge" });
  }
  const r = await rejudgeRandom({ dir: args.rejudge!, profile: args.profile, out: args.out, log: (line) => process.stderr.write(`validate: ${line}\n`), argv: process.argv.slice(2) });
  const met = r.pairs.filter((p) => p.status === "met").length;
  process.stdout.write(`re-judged (not a validation: these testbed records were seen before): ${met} of ${r.pairs.length} pairs meet the targets: ${r.reportFile}\n`);
}

async function validateRandomHandler(args: ValidateArgs): Promise<void> {
  const n = args.random!;
  if (!Number.isInteger(n) || n < 1) throw new InputError(`--random: expected a number of scenarios >= 1, got ${n}`);
  if (args.seed === undefined || !Number.isInteger(args.seed) || args.seed < 0) throw new InputError("--seed: --random needs a seed (an integer >= 0), so the draw can be repeated");
  if (args.files?.length) throw new InputError("--random draws its own scenarios: give no experiment files with it");
  if (args.set.length) throw new InputError("--set: the drawn scenarios are run as drawn (rerun one by hand with migsim compare to override a field)");
  if (!(args.budget > 0)) throw new InputError(`--budget: expected seconds > 0, got ${args.budget}`);
  const failAbove = args["fail-above"];
  if (failAbove !== undefined && !(failAbove > 0)) throw new InputError(`--fail-above: expected a fraction > 0, got ${failAbove}`);
  const maxRuns = args["max-runs"];
  if (maxRuns !== undefined && !(Number.isInteger(maxRuns) && maxRuns >= (args.runs ?? DRAW_RUNS)))
    throw new InputError(`--max-runs: expected a whole number of runs >= the runs of a draw (${args.runs ?? DRAW_RUNS}), got ${maxRuns}`, { field: "--max-runs" });
  const r = await validateRandom({
    count: n,
    seed: args.seed,
    profile: args.profile,
    out: args.out,
    doc: args.doc,
    runs: args.runs,
    maxRuns,
    budgetS: args.budget,
    precopy: args.precopy,
    backendOptions: testbedOptions(args),
    log: (line) => process.stderr.write(`validate: ${line}\n`),
    progress: (label) => progressReporter(label),
    argv: process.argv.slice(2),
  });
  const met = r.pairs.filter((p) => p.status === "met").length;
  process.stdout.write(
    `seed ${args.seed}: ${met} of ${r.pairs.length} drawn (scenario, policy) pairs meet the targets (total ${100 * TARGETS.total_s}%, phases ${100 * TARGETS.checkpoint_s}%); ` +
      `${r.pairs.filter((p) => p.censored).length} censored, ${r.redrawn} redrawn over the budget${r.refused ? `, ${r.refused} refused by the simulator and redrawn` : ""}: ${r.reportFile}\n`,
  );
  const bad =
    failAbove !== undefined
      ? r.pairs.filter((p) => p.status === "censored" || p.status === "failed" || worstError(p) > failAbove)
      : met < RANDOM_PASS_SHARE * r.pairs.length
        ? r.pairs.filter((p) => p.status !== "met")
        : [];
  for (const p of bad) process.stdout.write(`  ${p.scenario} ${p.policy}: ${p.status} ${p.misses.join(", ")}\n`);
  if (bad.length && process.exitCode === undefined) process.exitCode = EXIT_TARGET_MISSED;
}
