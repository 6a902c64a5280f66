/**
 * Policy parameters as the experiment file writes them (`{ mtd-shamir: { k: 3, compute: 2ms } }`):
 * declared per policy with a kind and a default, unknown names refused, units required where a
 * unit belongs (sizes, durations). Errors are InputErrors whose field is `<policy>.<parameter>`.
 */
import { InputError } from "../core/errors.ts";
import { describe, parseBytes, parseDuration } from "../core/units.ts";

export type ParamKind = "int" | "bytes" | "duration" | "boolean";

export interface ParamDef {
  kind: ParamKind;
  /** smallest allowed value (ints, sizes, durations) */
  min?: number;
  doc: string;
}

export type ParamDefs = Readonly<Record<string, ParamDef>>;

/** Reads the declared parameters; absent ones are left out (the policy applies its defaults). */
export function readParams(policy: string, defs: ParamDefs, params: Readonly<Record<string, unknown>>): Record<string, number | boolean> {
  const out: Record<string, number | boolean> = {};
  for (const [key, value] of Object.entries(params ?? {})) {
    const def = defs[key];
    const field = `${policy}.${key}`;
    if (!def) {
      const known = Object.keys(defs);
      throw new InputError(`unknown parameter "${key}" of policy ${policy} (${known.length ? `known: ${known.join(", ")}` : "it takes no parameters"})`, { field });
    }
    try {
      out[key] = readOne(def, value);
    } catch (e) {
      if (e instanceof InputError) throw new InputError(e.detail, { field });
      throw e;
    }
  }
  return out;
}

function readOne(def: ParamDef, value: unknown): number | boolean {
  if (def.kind === "boolean") {
    if (typeof value !== "boolean") throw new InputError(`expected true or false, got ${describe(value)}`);
    return value;
  }
  let x: number;
  if (def.kind === "int") {
    if (typeof value !== "number" || !Number.isInteger(value)) throw new InputError(`expected an integer, got ${describe(value)}`);
    x = value;
  } else if (def.kind === "bytes") {
    x = parseBytes(value);
  } else {
    x = parseDuration(value);
  }
  if (def.min !== undefined && x < def.min) {
    throw new InputError(`expected a value of at least ${def.min}${def.kind === "int" ? "" : def.kind === "bytes" ? " bytes" : " s"}, got ${describe(value)}`);
  }
  return x;
}

export function num(p: Record<string, number | boolean>, key: string, fallback: number): number {
  const v = p[key];
  return typeof v === "number" ? v : fallback;
}

export function bool(p: Record<string, number | boolean>, key: string, fallback: boolean): boolean {
  const v = p[key];
  return typeof v === "boolean" ? v : fallback;
}
