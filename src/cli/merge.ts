/** `migsim merge DIR... --out DIR`: join shard outputs into what one process would have written. */
import type { CommandModule } from "yargs";
import { mergeShards } from "../outputs/index.ts";

interface MergeArgs {
  dirs: string[];
  out: string;
  png: boolean;
}

export const mergeCommand: CommandModule<object, MergeArgs> = {
  command: "merge <dirs..>",
  describe: "join the output folders of the shards of one sweep (runs.csv, probes.csv, summary, plots)",
  builder: (y) =>
    y
      .positional("dirs", { type: "string", array: true, demandOption: true, describe: "shard output folders (any order)" })
      .option("out", { type: "string", demandOption: true, describe: "folder for the merged output" })
      .option("png", { type: "boolean", default: true, describe: "also render PNG plots (--no-png: SVG only)" }) as never,
  handler: async (args) => {
    const r = await mergeShards(args.dirs, args.out, { command: process.argv.slice(2), plots: args.png ? "svg+png" : "svg" });
    for (const w of r.warnings) process.stderr.write(`migsim: warning: ${w}\n`);
    process.stdout.write(`merged ${args.dirs.length} shards: ${r.runs} runs, ${r.runRows} rows in ${args.out}/runs.csv\n`);
  },
};
