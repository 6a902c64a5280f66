/**
 * Modes a backend cannot run, checked before the first run: an experiment with a cell that needs
 * one is refused with the backend's one-line reason (nothing runs, nothing is written), unless
 * the caller asked to skip that mode's cells (`migsim compare --skip-precopy`), which are then
 * left out of the experiment and listed.
 */
import { InputError } from "../core/errors.ts";
import type { Backend } from "../formats/runspec.ts";
import type { Experiment } from "../load/read-experiment.ts";

export interface SkippedCell {
  cell: string;
  mode: string;
  /** why the backend cannot run the mode (its preflight's line) */
  reason: string;
}

/** The experiment without the cells to skip, and those cells; throws when a cell needs a refused mode not in `skip`. */
export async function checkModes(experiment: Experiment, backend: Backend, skip: readonly string[] = []): Promise<{ experiment: Experiment; skipped: SkippedCell[] }> {
  const refused = (await backend.unavailableModes?.()) ?? new Map<string, string>();
  if (refused.size === 0) return { experiment, skipped: [] };
  const skipped: SkippedCell[] = [];
  const kept = experiment.cells.filter((cell) => {
    const i = cell.base.migrations.findIndex((m) => refused.has(m.mode));
    if (i < 0) return true;
    const mode = cell.base.migrations[i]!.mode;
    const reason = refused.get(mode)!;
    if (!skip.includes(mode)) {
      const cells = experiment.cells.filter((c) => c.base.migrations.some((m) => m.mode === mode)).length;
      throw new InputError(`the ${backend.name} backend cannot run mode ${mode} (${cells} of ${experiment.cells.length} cells use it; ` + `refused before any run): ${reason}`, {
        file: experiment.file,
        field: `migrations.${i}.mode`,
      });
    }
    skipped.push({ cell: cell.id, mode, reason });
    return false;
  });
  if (kept.length === 0) {
    throw new InputError(`every cell uses a mode the ${backend.name} backend cannot run (${[...new Set(skipped.map((c) => c.mode))].join(", ")}): nothing left to run`, { file: experiment.file });
  }
  return { experiment: { ...experiment, cells: kept }, skipped };
}
