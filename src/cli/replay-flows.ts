/** `migsim replay WORKLOAD.json --out DIR`: replay a flow-level workload on a network model. */
import type { CommandModule } from "yargs";
import { InputError } from "../core/index.ts";
import { MODEL_NAMES, type ModelName } from "../network/network-model.ts";
import { loadWorkloadFile } from "../workload/index.ts";
import { replayWorkload } from "../network/replay.ts";
import { writeTransfersCsv } from "../outputs/index.ts";
import { progressReporter } from "./progress.ts";

interface ReplayArgs {
  workload: string;
  model: ModelName;
  out: string;
  efficiency?: number | undefined;
  quiet: boolean;
}

export const replayCommand: CommandModule<object, ReplayArgs> = {
  command: "replay <workload>",
  describe: "replay a flow workload (JSON, as migsim workload makes; docs/format.md) and write DIR/transfers.csv",
  builder: (y) =>
    y
      .positional("workload", { type: "string", demandOption: true, describe: "workload JSON (flow-workload-v1)" })
      .option("model", { choices: MODEL_NAMES, default: "max-min" as ModelName, describe: "network model" })
      .option("out", { type: "string", demandOption: true, describe: "output folder" })
      .option("efficiency", { type: "number", describe: "goodput / link rate of elastic flows (default: the model's, 0.96)" })
      .option("quiet", { type: "boolean", default: false, describe: "no progress output" }) as never,
  handler: (args) => {
    if (args.efficiency !== undefined && !(args.efficiency > 0 && args.efficiency <= 1)) {
      throw new InputError(`expected a number in (0, 1], got ${args.efficiency}`, { field: "--efficiency" });
    }
    const t0 = performance.now();
    const w = loadWorkloadFile(args.workload);
    const t1 = performance.now();
    // (progress on stderr: a bar on a terminal, a line every 10% in logs; stdout keeps the summary)
    const progress = args.quiet ? undefined : progressReporter("replay", process.stderr, "transfers");
    progress?.start(w.ids.length, 0);
    let r: ReturnType<typeof replayWorkload>;
    try {
      // ticks every 0.1% of the transfers: the bar's own formatting would cost more than many flows
      const every = Math.max(1, Math.floor(w.ids.length / 1000));
      const tick =
        progress &&
        ((n: number): void => {
          if (n % every === 0 || n === w.ids.length) progress.tick(n);
        });
      r = replayWorkload(w, args.model, args.efficiency === undefined ? {} : { efficiency: args.efficiency }, {}, tick);
    } finally {
      progress?.stop();
    }
    const file = writeTransfersCsv(args.out, w, r);
    const t2 = performance.now();
    let last = 0;
    let unfinished = 0;
    for (const e of r.end) {
      if (Number.isNaN(e)) unfinished++;
      else if (e > last) last = e;
    }
    process.stdout.write(
      `${w.ids.length} transfers on ${w.hostNames.length} hosts, ${args.model}: simulated until ${last.toFixed(3)} s, ` +
        `${r.events} events; load ${((t1 - t0) / 1000).toFixed(2)} s, simulate ${r.simulateSeconds.toFixed(2)} s, ` +
        `total ${((t2 - t0) / 1000).toFixed(2)} s -> ${file}${unfinished ? ` (${unfinished} unfinished)` : ""}\n`,
    );
  },
};
