/** `migsim compare FILE --testbed URL`: the experiment on the simulator and on a testbed, and the simulator's error. */
import type { CommandModule } from "yargs";
import { compareBackends } from "../experiment/compare.ts";
import { parseTestbedUrl } from "../../backends/mininet/ssh.ts";
import { progressReporter } from "./progress.ts";

interface CompareArgs {
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
}

export const compareCommand: CommandModule<object, CompareArgs> = {
  command: "compare <file>",
  describe: "run an experiment on the simulator and on a Mininet testbed and report the simulator's error",
  builder: (y) =>
    y
      .positional("file", { type: "string", demandOption: true, describe: "experiment YAML" })
      .option("testbed", { type: "string", describe: "ssh://user@host[:port] (default: the local testbed of setup-testbed.sh)" })
      .option("testbed-key", { type: "string", describe: "private key for the testbed" })
      .option("known-hosts", { type: "string", describe: "known_hosts file for the testbed's host key" })
      .option("fingerprint", { type: "string", describe: "pinned host key fingerprint SHA256:..." })
      .option("runs", { type: "number", describe: "runs per cell and policy (overrides the file)" })
      .option("seed", { type: "number", describe: "experiment seed" })
      .option("out", { type: "string", describe: "output folder (default out/<experiment>-compare)" })
      .option("set", { type: "string", array: true, default: [], describe: "override a field: path=value" })
      .option("allow-external-plugins", { type: "boolean", default: false }) as never,
  handler: async (args) => {
    if (args.testbed !== undefined) parseTestbedUrl(args.testbed, "--testbed");
    const r = await compareBackends({
      file: args.file,
      runs: args.runs,
      seed: args.seed,
      set: args.set,
      out: args.out,
      testbed: args.testbed,
      allowExternalPlugins: args["allow-external-plugins"],
      backendOptions: { testbed: args.testbed, testbedKey: args["testbed-key"], knownHosts: args["known-hosts"], fingerprint: args.fingerprint },
      progress: progressReporter("compare"),
      argv: process.argv.slice(2),
    });
    process.stdout.write(`validation report: ${r.outDir}/validation.md\n`);
    for (const row of r.rows.filter((x) => x.metric === "total_s")) {
      process.stdout.write(`  ${row.cell} ${row.policy}: sim ${row.sim.mean.toFixed(2)} s, testbed ${row.emu.mean.toFixed(2)} s, error ${row.errorPct.toFixed(1)}%\n`);
    }
  },
};
