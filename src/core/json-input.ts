/**
 * A JSON file migsim wrote and a user hands back (a manifest, a calibration's machine record),
 * checked against its schema: bad input is one InputError naming the file and the first field
 * that breaks the schema.
 */
import type { z } from "zod";
import { InputError } from "./errors.ts";

/** `mismatch` opens the message when the JSON is well formed but not what `schema` describes. */
export function parseJsonInput<S extends z.ZodType>(text: string, schema: S, file: string, mismatch: string): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(`invalid JSON: ${(e as Error).message}`, { file });
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new InputError(`${mismatch}: ${issue.message}`, { file, field: issue.path.join(".") || undefined });
  }
  return r.data as z.infer<S>;
}
