/**
 * Struct-of-arrays storage made from one list of fields: a field list names each column and its
 * typed-array kind once, and the columns, their growth and their size in bytes all follow from it.
 * Typed arrays keep the solver's per-flow and per-link numbers unboxed and contiguous.
 */
import type { Arena } from "../../core/arena.ts";

type ColumnKind = Float64ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor | Uint8ArrayConstructor;

/** a field list: column name -> typed-array kind */
export type FieldList = Readonly<Record<string, ColumnKind>>;

/** the columns of a field list, one typed array per field */
export type Columns<F extends FieldList> = { [K in keyof F]: InstanceType<F[K]> };

/** bytes of `n` rows of every column */
export function rowBytes(fields: FieldList, n: number): number {
  let bytes = 0;
  for (const k in fields) bytes += fields[k]!.BYTES_PER_ELEMENT * n;
  return bytes;
}

function carve(arena: Arena, kind: ColumnKind, n: number): Float64Array | Int32Array | Uint32Array | Uint8Array {
  if (kind === Float64Array) return arena.float64(n);
  if (kind === Int32Array) return arena.int32(n);
  if (kind === Uint32Array) return arena.uint32(n);
  return arena.uint8(n);
}

/** `n` zeroed rows of every column, carved out of `arena` */
export function makeColumns<F extends FieldList>(fields: F, n: number, arena: Arena): Columns<F> {
  // (one object, its properties added in the field list's order: every instance shares one shape)
  const columns: Record<string, Float64Array | Int32Array | Uint32Array | Uint8Array> = {};
  for (const k in fields) columns[k] = carve(arena, fields[k]!, n);
  return columns as Columns<F>;
}

/** grows every column to `n` rows in place of the old arrays, keeping their contents */
export function growColumns<F extends FieldList>(fields: F, columns: Columns<F>, n: number): void {
  const all = columns as Record<string, Float64Array | Int32Array | Uint32Array | Uint8Array>;
  for (const k in fields) {
    const grown = new fields[k]!(n);
    grown.set(all[k]!);
    all[k] = grown;
  }
}
