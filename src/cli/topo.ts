/** `migsim topo FILE`: validate and summarise a topology. */
import type { CommandModule } from "yargs";
import { loadTopologyFile } from "../network/load.ts";

interface TopoArgs {
  file: string;
}

export const topoCommand: CommandModule<object, TopoArgs> = {
  command: "topo <file>",
  describe: "validate and summarise a topology file",
  builder: (y) => y.positional("file", { type: "string", demandOption: true, describe: "topology YAML" }) as never,
  handler: (args) => {
    const t = loadTopologyFile(args.file);
    process.stdout.write(`${t.name}: ${t.hosts.length} hosts, ${t.switches.length} switches, ${t.links.length} links\n`);
  },
};
