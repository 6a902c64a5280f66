/** Reading a replay workload file (`flow-workload-v1`, docs/format.md); the model parses it. */
import { readFileSync } from "node:fs";
import { InputError } from "../errors.ts";
import { parseWorkload, type Workload } from "../network/replay.ts";

export function loadWorkloadFile(file: string): Workload {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new InputError(`cannot read workload: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`not valid JSON: ${(e as Error).message}`, { file });
  }
  return parseWorkload(raw, file);
}
