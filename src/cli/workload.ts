/** `migsim workload --hosts N --transfers M --out FILE`: make a replay workload (docs/format.md). */
import type { CommandModule } from "yargs";
import { InputError } from "../core/index.ts";
import { generateWorkload, TREE } from "../workload/index.ts";
import { writeFileAtomic } from "../outputs/index.ts";

interface WorkloadArgs {
  hosts: number;
  transfers: number;
  seed: number;
  "hosts-per-rack": number;
  out: string;
}

export const workloadCommand: CommandModule<object, WorkloadArgs> = {
  command: "workload",
  describe: "make a replay workload: a two-level tree and Poisson transfers, deterministic by seed",
  builder: (y) =>
    y
      .option("hosts", { type: "number", demandOption: true, describe: "hosts (a multiple of --hosts-per-rack)" })
      .option("transfers", { type: "number", demandOption: true, describe: "transfers" })
      .option("seed", { type: "number", default: 42, describe: "seed" })
      .option("hosts-per-rack", { type: "number", default: TREE.hostsPerRack, describe: "hosts per rack switch" })
      .option("out", { type: "string", demandOption: true, describe: "workload JSON file to write" })
      .example("$0 workload --hosts 1000 --transfers 10000 --out wl.json", "the replay benchmark's N=1,000 M=10,000 case") as never,
  handler: (args) => {
    const whole = (field: string, v: number, min: number): void => {
      if (!(Number.isSafeInteger(v) && v >= min)) throw new InputError(`expected a whole number >= ${min}, got ${v}`, { field });
    };
    whole("--hosts-per-rack", args["hosts-per-rack"], 1);
    whole("--hosts", args.hosts, 2);
    whole("--transfers", args.transfers, 0);
    whole("--seed", args.seed, 0);
    if (args.hosts % args["hosts-per-rack"] !== 0) {
      throw new InputError(`expected a multiple of --hosts-per-rack (${args["hosts-per-rack"]}), got ${args.hosts}`, { field: "--hosts" });
    }
    const doc = generateWorkload({ hosts: args.hosts, transfers: args.transfers, seed: args.seed, hostsPerRack: args["hosts-per-rack"] });
    writeFileAtomic(args.out, JSON.stringify(doc));
    const transfers = doc.transfers as Array<{ start: number }>;
    const last = transfers.length ? transfers[transfers.length - 1]!.start : 0;
    process.stdout.write(`${args.transfers} transfers on ${args.hosts} hosts (seed ${args.seed}), last start ${last.toFixed(3)}s -> ${args.out}\n`);
  },
};
