/**
 * YAML documents that remember where each value came from, so every validation error can name
 * the file, line and column of the offending field. Validation itself is zod's; this module maps
 * zod issue paths back to source positions.
 */
import { readFileSync } from "node:fs";
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import type { ZodError, ZodType } from "zod";
import { InputError, type InputLocation } from "./errors.ts";
import { describe } from "./units.ts";

export type FieldPath = ReadonlyArray<string | number>;

export class YamlSource {
  private constructor(
    readonly file: string,
    readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    readonly data: unknown,
  ) {}

  static fromFile(file: string): YamlSource {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new InputError(code === "ENOENT" ? "no such file" : `cannot read the file (${code ?? String(e)})`, { file });
    }
    return YamlSource.fromText(text, file);
  }

  static fromText(text: string, file = "<inline>"): YamlSource {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const err = doc.errors[0];
    if (err) {
      const pos = err.linePos?.[0];
      const msg = err.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?.*$/, "");
      throw new InputError(`YAML syntax error: ${msg}`, { file, line: pos?.line, column: pos?.col });
    }
    const data: unknown = doc.toJS({ maxAliasCount: 100 });
    return new YamlSource(file, doc, lines, data);
  }

  /** Source position of the value at `path` (or of the closest existing parent). */
  locate(path: FieldPath): InputLocation {
    let node: unknown = this.doc.contents;
    let best: Node | undefined = node as Node | undefined;
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => String((p.key as { value?: unknown } | null)?.value ?? p.key) === String(key));
        if (!pair) break;
        node = pair.value ?? pair.key;
      } else if (isSeq(node) && typeof key === "number") {
        node = node.items[key];
      } else break;
      if (node && typeof node === "object" && "range" in node) best = node as Node;
    }
    const offset = best?.range?.[0];
    const field = formatPath(path);
    if (offset === undefined) return { file: this.file, field };
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, column: col, field };
  }

  /** An InputError located at `path`. */
  error(path: FieldPath, detail: string): InputError {
    return new InputError(detail, this.locate(path));
  }

  /** Validates `value` (default: the whole document) with a zod schema; the first issue becomes the error. */
  parse<T>(schema: ZodType<T>, value: unknown = this.data, base: FieldPath = []): T {
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    throw this.fromZod(r.error, base, value);
  }

  fromZod(error: ZodError, base: FieldPath, root: unknown): InputError {
    const issue = error.issues[0]!;
    const path = [...base, ...(issue.path as Array<string | number>)];
    return this.error(path, explainIssue(issue, valueAt(root, issue.path as Array<string | number>)));
  }
}

export function formatPath(path: FieldPath): string {
  return path.map(String).join(".");
}

function valueAt(root: unknown, path: ReadonlyArray<string | number>): unknown {
  let v = root;
  for (const k of path) {
    if (v && typeof v === "object") v = (v as Record<string | number, unknown>)[k];
    else return undefined;
  }
  return v;
}

interface IssueLike {
  code: string;
  message: string;
  keys?: string[];
  expected?: string;
  values?: unknown[];
}

function explainIssue(issue: IssueLike, got: unknown): string {
  switch (issue.code) {
    case "unrecognized_keys":
      return `unknown field${(issue.keys?.length ?? 0) > 1 ? "s" : ""} ${(issue.keys ?? []).map((k) => `"${k}"`).join(", ")}`;
    case "invalid_type":
      if (got === undefined) return `missing; expected ${issue.expected ?? "a value"}`;
      return `expected ${issue.expected ?? "another type"}, got ${describe(got)}`;
    case "invalid_value":
      return `expected one of ${(issue.values ?? []).map((v) => JSON.stringify(v)).join(", ")}, got ${describe(got)}`;
    default:
      return issue.message;
  }
}

/** Runs `fn` and gives any InputError it throws the location of `path` in `source`. */
export function at<T>(source: YamlSource | undefined, path: FieldPath, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof InputError) {
      const loc = source ? source.locate(path) : { field: formatPath(path) };
      throw new InputError(e.detail, { ...loc, field: e.location.field ? `${loc.field}.${e.location.field}` : loc.field });
    }
    throw e;
  }
}
