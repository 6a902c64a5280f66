/**
 * `migsim slurm FILE --shards N`: write a Slurm job array (one shard per task) and a dependent
 * merge job, plus submit.sh, to OUT/slurm/. Nothing is submitted: run OUT/slurm/submit.sh.
 */
import { basename } from "node:path";
import type { CommandModule } from "yargs";
import { loadExperiment } from "../load/index.ts";
import { validatePolicies } from "../run/index.ts";
import { writeSlurmScripts } from "../cluster/index.ts";

interface SlurmArgs {
  file: string;
  shards: number;
  out?: string;
  partition?: string;
  time?: string;
  runs?: number;
  seed?: number;
  migsim?: string[];
  "run-command"?: string[];
}

export const slurmCommand: CommandModule<object, SlurmArgs> = {
  command: "slurm <file>",
  describe: "write sbatch scripts that run an experiment as a sharded Slurm job array and merge it",
  builder: (y) =>
    y
      .positional("file", { type: "string", demandOption: true, describe: "experiment YAML" })
      .option("shards", { type: "number", demandOption: true, describe: "number of array tasks (shards)" })
      .option("out", { type: "string", describe: "merged output folder (default out/<file name>); shards go to OUT/shard-<t>" })
      .option("partition", { type: "string", describe: "Slurm partition" })
      .option("time", { type: "string", describe: "time limit per task (Slurm format, e.g. 1:00:00)" })
      .option("runs", { type: "number", describe: "runs per cell, forwarded to migsim run" })
      .option("seed", { type: "number", describe: "experiment seed, forwarded to migsim run" })
      .option("migsim", {
        type: "string",
        array: true,
        describe: "program words that start migsim on the nodes (default: this node and bin/migsim.js)",
      })
      .option("run-command", { type: "string", array: true, hidden: true, describe: "testing: program run by the array tasks instead of migsim" }) as never,
  handler: async (args) => {
    // Bad input would otherwise surface on the cluster, once per array task: refuse it here.
    await validatePolicies(loadExperiment(args.file, { runs: args.runs, seed: args.seed }));
    const out = args.out ?? `out/${basename(args.file).replace(/\.ya?ml$/i, "")}`;
    const s = writeSlurmScripts({
      file: args.file,
      shards: args.shards,
      out,
      partition: args.partition,
      time: args.time,
      runs: args.runs,
      seed: args.seed,
      migsim: args.migsim,
      runCommand: args["run-command"],
    });
    process.stdout.write(`wrote ${s.arrayScript}, ${s.mergeScript}\nsubmit with: ${s.submitScript}\n`);
  },
};
