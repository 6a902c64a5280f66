/** `migsim reproduce`: the paper's Tables I-III, simulated beside the published values. */
import type { CommandModule } from "yargs";
import { reproduce } from "../run/index.ts";

interface ReproduceArgs {
  out?: string;
  jobs: number;
  plots: boolean;
  profile: string;
}

export const reproduceCommand: CommandModule<object, ReproduceArgs> = {
  command: "reproduce",
  describe: "reproduce Tables I-III of the policy-based migration paper and write tables.md",
  builder: (y) =>
    y
      .option("out", { type: "string", describe: "output folder (default out/reproduce)" })
      .option("jobs", { type: "number", default: 1, describe: "worker threads" })
      .option("profile", {
        type: "string",
        default: "paper",
        describe: "profile under the tables' network and costs: the built-in paper fit, or a testbed profile file (the tables then show what that testbed would give)",
      })
      .option("plots", { type: "boolean", default: true, describe: "render each table's plots/ as SVG and PNG, as run does (--no-plots: no plot, only the tables; faster)" }) as never,
  handler: async (args) => {
    const r = await reproduce({ out: args.out, jobs: args.jobs, plots: args.plots, profile: args.profile, argv: process.argv.slice(2) });
    process.stdout.write(`${r.markdown}\nwritten to ${r.outDir}/tables.md\n${r.verdict}\n`);
  },
};
