/** Every command of the CLI, in the order `migsim --help` lists them. */
import type { CommandModule } from "yargs";
import { calibrateCommand } from "./calibrate.ts";
import { compareCommand } from "./compare.ts";
import { mergeCommand } from "./merge.ts";
import { replayCommand } from "./replay-flows.ts";
import { reproduceCommand } from "./reproduce.ts";
import { runCommand } from "./run.ts";
import { slurmCommand } from "./slurm.ts";
import { topoCommand } from "./topo.ts";
import { validateCommand } from "./validation.ts";
import { workloadCommand } from "./workload.ts";

export const commands: ReadonlyArray<CommandModule<object, never>> = [
  reproduceCommand as CommandModule<object, never>,
  runCommand as CommandModule<object, never>,
  compareCommand as CommandModule<object, never>,
  calibrateCommand as CommandModule<object, never>,
  validateCommand as CommandModule<object, never>,
  topoCommand as CommandModule<object, never>,
  replayCommand as CommandModule<object, never>,
  workloadCommand as CommandModule<object, never>,
  mergeCommand as CommandModule<object, never>,
  slurmCommand as CommandModule<object, never>,
];
