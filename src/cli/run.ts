/** `migsim run FILE`: run an experiment (a sweep of cells x policies x runs) on a backend. */
import type { Argv, CommandModule } from "yargs";
import { BACKEND_NAMES, type BackendOptions } from "../run/index.ts";
import { parseShard, resumeCommand } from "../outputs/index.ts";
import { runExperiment } from "../run/index.ts";
import { invokedAs } from "./invocation.ts";
import { progressReporter } from "./progress.ts";

/** What every command that runs an experiment file accepts (run, compare). */
export interface ExperimentArgs {
  file: string;
  testbed?: string;
  "testbed-key"?: string;
  "known-hosts"?: string;
  fingerprint?: string;
  runs?: number;
  seed?: number;
  out?: string;
  set: string[];
  "allow-external-plugins": boolean;
  profile?: string;
}

export interface RunArgs extends ExperimentArgs {
  backend: string;
  jobs: number;
  shard?: string;
  resume: boolean;
  trace: boolean;
  quiet: boolean;
  plots: boolean;
}

/** The options that reach a testbed (run --backend mininet, compare, calibrate, validate). */
export function testbedFlags<T>(y: Argv<T>): Argv<T> {
  return y
    .option("testbed", { type: "string", describe: "ssh://user@host[:port] of a Mininet testbed (default: the local one of setup-testbed.sh)" })
    .option("testbed-key", { type: "string", describe: "private key for the testbed (default: the one setup-testbed.sh wrote)" })
    .option("known-hosts", { type: "string", describe: "known_hosts file to check the testbed's host key against" })
    .option("fingerprint", { type: "string", describe: "pinned host key fingerprint SHA256:..." }) as Argv<T>;
}

export function experimentOptions<T>(y: Argv<T>, outDefault: string): Argv<T & ExperimentArgs> {
  return testbedFlags(y.positional("file", { type: "string", demandOption: true, describe: "experiment YAML" }))
    .option("runs", { type: "number", describe: "runs per cell and policy (overrides the file)" })
    .option("seed", { type: "number", describe: "experiment seed (overrides the file)" })
    .option("out", { type: "string", describe: `output folder (default ${outDefault})` })
    .option("set", { type: "string", array: true, default: [], describe: "override a field: path=value (repeatable)" })
    .option("profile", { type: "string", describe: "testbed profile (a file from migsim calibrate, or the built-in paper) under the experiment's network and costs; wins over the file's profile:" })
    .option("allow-external-plugins", { type: "boolean", default: false, describe: "load policy plugins from outside the experiment's folder" }) as unknown as Argv<T & ExperimentArgs>;
}

/** The testbed connection options as the backends take them. */
export function testbedOptions(args: Pick<ExperimentArgs, "testbed" | "testbed-key" | "known-hosts" | "fingerprint">): BackendOptions {
  return { testbed: args.testbed, testbedKey: args["testbed-key"], knownHosts: args["known-hosts"], fingerprint: args.fingerprint };
}

function runOptions<T>(y: Argv<T>): Argv<T & RunArgs> {
  return experimentOptions(y, "out/<experiment>")
    .option("backend", { choices: BACKEND_NAMES, default: "sim", describe: "where runs execute" })
    .option("jobs", { type: "number", default: 1, describe: "worker threads" })
    .option("shard", { type: "string", describe: "run only shard i of N (i/N, 1-based); merge with migsim merge" })
    .option("resume", { type: "boolean", default: false, describe: "continue an interrupted run in the same folder" })
    .option("trace", { type: "boolean", default: false, describe: "record host bandwidth over time for the Fig. 4 plot" })
    .option("quiet", { type: "boolean", default: false, describe: "no progress output" })
    .option("plots", { type: "boolean", default: true, describe: "render plots/ as SVG and PNG (--no-plots: no plot, only the tables; faster)" }) as unknown as Argv<T & RunArgs>;
}

/** Exit code of a command whose runs completed but some of them failed (failed.csv lists them). */
const EXIT_RUNS_FAILED = 3;

export function reportFailedRuns(failed: number, executed: number, outDir: string): void {
  if (failed === 0) return;
  process.stderr.write(`migsim: ${failed} of ${executed} runs failed; ${outDir}/failed.csv lists each one's cell, policy, run and phase\n`);
  process.exitCode = EXIT_RUNS_FAILED;
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: "run <file>",
  describe: "run an experiment and write runs.csv, probes.csv, summary, plots and manifest",
  builder: (y) => runOptions(y),
  handler: async (args) => {
    const interrupted = { value: false };
    const onSigint = (): void => {
      if (interrupted.value) process.exit(130);
      interrupted.value = true;
      process.stderr.write("\nmigsim: interrupted; finishing the runs in flight (Ctrl-C again to abort)\n");
    };
    process.on("SIGINT", onSigint);
    try {
      const outcome = await runExperiment({
        file: args.file,
        set: args.set,
        runs: args.runs,
        seed: args.seed,
        jobs: args.jobs,
        out: args.out,
        shard: args.shard === undefined ? undefined : parseShard(args.shard),
        resume: args.resume,
        backend: args.backend,
        backendOptions: { ...testbedOptions(args), trace: args.trace },
        allowExternalPlugins: args["allow-external-plugins"],
        profile: args.profile,
        progress: args.quiet ? undefined : progressReporter("run"),
        plots: args.plots,
        interrupted,
        argv: process.argv.slice(2),
        previousRuns: "refuse",
        notice: (text) => process.stderr.write(`migsim: note: ${text}\n`),
      });
      if (!outcome.completed) {
        process.stderr.write(`migsim: stopped after ${outcome.runsExecuted} runs; continue with: ${resumeCommand(process.argv.slice(2), invokedAs())}\n`);
        process.exitCode = 130;
        return;
      }
      if (outcome.experiment.referenceDropped) process.stderr.write(`migsim: note: ${outcome.experiment.referenceDropped}\n`);
      // total: since the process started (loading modules and checking the input included)
      const total = performance.now() / 1000;
      const written = args.shard !== undefined ? "rows and manifest (a shard: migsim merge writes the summary and plots)" : args.plots ? "summary, plots and manifest" : "summary and manifest";
      process.stdout.write(
        `${outcome.experiment.name}: ${outcome.runsExecuted} runs in ${outcome.runSeconds.toFixed(2)} s, ${written} in ${outcome.writeSeconds.toFixed(2)} s,` +
          ` ${total.toFixed(2)} s in all -> ${outcome.outDir}\n`,
      );
      reportFailedRuns(outcome.runsFailed, outcome.runsExecuted, outcome.outDir);
    } finally {
      process.off("SIGINT", onSigint);
    }
  },
};
