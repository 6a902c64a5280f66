/** Every command of the CLI, in the order `migsim --help` lists them. */
import type { CommandModule } from "yargs";
import { replayCommand } from "./replay.ts";
import { topoCommand } from "./topo.ts";

export const commands: ReadonlyArray<CommandModule<object, never>> = [
  topoCommand as CommandModule<object, never>,
  replayCommand as CommandModule<object, never>,
];
