/**
 * Field paths into the raw experiment document (`migrations.0.container.checkpoint`): reading and
 * writing them, for `--set path=value` and for sweep axes. Lists are never extended, and a name
 * that is not part of the format is refused by the schema, so a typo never creates a silent no-op.
 *
 * A swept field is set by its sweep in every cell, so `--set` on it (or on a field inside it or
 * around it) would change nothing: it is refused, naming the sweep. `--set sweep.AXIS=[v, ...]`
 * replaces that axis's values instead (AXIS is the sweep's key, dots and all; a new key adds an
 * axis).
 */
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { InputError } from "../core/errors.ts";
import { quote } from "../core/shell.ts";

export type RawDoc = Record<string, unknown>;

export function splitPath(path: string): Array<string | number> {
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(path)) {
    throw new InputError(`expected a field path like migrations.0.container.checkpoint, got "${path}"`);
  }
  return path.split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/**
 * Sets `value` at `path` in a deep copy of `doc`. Every parent must exist; the last key may be new
 * only on a mapping (the schema then decides whether the field is known).
 */
export function setPath(doc: RawDoc, path: string, value: unknown): RawDoc {
  const parts = splitPath(path);
  const copy = structuredClone(doc);
  let node: unknown = copy;
  for (let i = 0; i < parts.length - 1; i++) {
    const key = parts[i]!;
    let next = child(node, key);
    // An absent optional mapping (`costs`, `network`) is created; the strict schema then refuses
    // any name the format does not know, so a typo still fails.
    if (next === undefined && typeof key === "string" && typeof parts[i + 1] === "string" && node && typeof node === "object" && !Array.isArray(node)) {
      next = (node as Record<string, unknown>)[key] = {};
    }
    if (next === undefined || next === null || typeof next !== "object") {
      throw new InputError(`there is no field "${parts.slice(0, i + 1).join(".")}" in the experiment`);
    }
    node = next;
  }
  const last = parts[parts.length - 1]!;
  if (Array.isArray(node)) {
    if (typeof last !== "number" || last >= node.length) {
      throw new InputError(`the list ${parts.slice(0, -1).join(".")} has ${node.length} entries, no entry ${String(last)}`);
    }
    node[last] = value;
  } else {
    (node as Record<string, unknown>)[String(last)] = value;
  }
  return copy;
}

const SWEEP_PREFIX = "sweep.";

/**
 * `--set path=value` on the raw document: `sweep.AXIS` replaces a sweep axis's values (the
 * schema then checks them: a list of at least one), any other path goes through setPath.
 */
export function setAssignment(doc: RawDoc, path: string, value: unknown): RawDoc {
  if (!path.startsWith(SWEEP_PREFIX)) return setPath(doc, path, value);
  const axis = path.slice(SWEEP_PREFIX.length);
  splitPath(axis);
  const copy = structuredClone(doc);
  const sweep = copy["sweep"];
  copy["sweep"] = { ...(sweep && typeof sweep === "object" && !Array.isArray(sweep) ? sweep : {}), [axis]: value };
  return copy;
}

/** The sweep axis that sets `path` in every cell (the same field, one inside it or one around it), if any. */
export function sweepOver(doc: RawDoc, path: string): string | undefined {
  if (path.startsWith(SWEEP_PREFIX) || path === "sweep") return undefined;
  const sweep = doc["sweep"];
  if (!sweep || typeof sweep !== "object" || Array.isArray(sweep)) return undefined;
  return Object.keys(sweep).find((axis) => axis === path || path.startsWith(`${axis}.`) || axis.startsWith(`${path}.`));
}

/** The one-line refusal of `--set text` on a field the sweep over `axis` sets, with the override that works. */
export function sweptFieldError(doc: RawDoc, text: string, path: string, value: unknown, axis: string, where: string): InputError {
  const values = (doc["sweep"] as Record<string, unknown>)[axis];
  const example = axis === path ? [value] : Array.isArray(values) ? values.slice(0, 1) : [];
  const replacement = `sweep.${axis}=${toYaml(example, { collectionStyle: "flow", flowCollectionPadding: false }).trim()}`;
  const swept = `${where}sweep: ${axis}: ${toYaml(values, { collectionStyle: "flow", flowCollectionPadding: false }).trim()}`;
  const hint = `replace the sweep's values: --set ${quote(replacement)}`;
  const detail =
    axis === path
      ? `${path} is swept (${swept}), so the sweep sets it in every cell and this --set would change nothing; to run only some of its values, ${hint}`
      : path.startsWith(`${axis}.`)
        ? `${path} is inside the swept field ${axis} (${swept}), which the sweep replaces whole in every cell; ${hint}`
        : `${path} holds the swept field ${axis} (${swept}), which the sweep overrides in every cell; set the fields beside it one by one, or ${hint}`;
  return new InputError(detail, { field: `--set ${text}` });
}

export function getPath(doc: unknown, parts: ReadonlyArray<string | number>): unknown {
  let node = doc;
  for (const k of parts) node = child(node, k);
  return node;
}

function child(node: unknown, key: string | number): unknown {
  if (Array.isArray(node)) return typeof key === "number" ? node[key] : undefined;
  if (node && typeof node === "object") return (node as Record<string, unknown>)[String(key)];
  return undefined;
}

/** Parses `path=value` from the command line; the value is read as YAML (`10MB`, `3`, `[a, b]`). */
export function parseAssignment(text: string): { path: string; value: unknown } {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new InputError(`--set: expected path=value, got "${text}"`);
  const path = text.slice(0, eq).trim();
  splitPath(path);
  let value: unknown;
  try {
    value = parseYaml(text.slice(eq + 1));
  } catch {
    throw new InputError(`--set ${path}: the value "${text.slice(eq + 1)}" is not valid YAML`);
  }
  return { path, value: value ?? "" };
}

/** How a sweep value is written in a cell id and a CSV column: as the file wrote it. */
export function label(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}
