/**
 * Errors found after loading (policy parameters, a run that cannot finish) carry a field path but
 * no position; this gives them the file, line and column of that field in the experiment file.
 */
import { readYamlFile } from "./read-yaml.ts";
import { InputError, type InputLocation } from "../core/errors.ts";
import type { YamlSource, FieldPath } from "../core/yamlsource.ts";

export type Locator = (path: FieldPath) => InputLocation;

/** Positions in `file`, read again only when an error needs one. */
export function locator(file: string): Locator {
  let source: YamlSource | null | undefined;
  return (path) => {
    if (source === undefined) {
      try {
        source = readYamlFile(file);
      } catch {
        source = null;
      }
    }
    return source ? source.locate(path) : { file, field: path.join(".") };
  };
}

/** `e` located at its field (below `base`) when it names no file yet; other errors unchanged. */
export function locate(where: Locator, e: unknown, base: FieldPath = []): unknown {
  if (!(e instanceof InputError) || e.location.file) return e;
  const inner = (e.location.field ?? "")
    .split(".")
    .filter((k) => k !== "")
    .map((k) => (/^[0-9]+$/.test(k) ? Number(k) : k));
  // the same kind of error (an unreachable result stays one), now located
  const Kind = e.constructor as typeof InputError;
  return new Kind(e.detail, where([...base, ...inner]));
}
