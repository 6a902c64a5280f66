/** Every command of the CLI, in the order `migsim --help` lists them. */
import type { CommandModule } from "yargs";
import { topoCommand } from "./topo.ts";

export const commands: ReadonlyArray<CommandModule<object, never>> = [
  topoCommand as CommandModule<object, never>,
];
