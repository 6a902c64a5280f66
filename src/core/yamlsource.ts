/**
 * YAML documents that remember where each value came from, so every validation error can name
 * the file, line and column of the offending field. Validation itself is zod's; this module maps
 * zod issue paths back to source positions.
 */
import { isCollection, isMap, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from "yaml";
import type { ZodError, ZodType } from "zod";
import { InputError, type InputLocation } from "./errors.ts";
import { describe } from "./units.ts";
import { didYouMean } from "./suggest.ts";

export type FieldPath = ReadonlyArray<string | number>;

/** Alias expansions allowed in one document: plenty for anchors in hand-written files. */
const MAX_ALIAS_COUNT = 100;

export class YamlSource {
  private constructor(
    readonly file: string,
    readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    readonly data: unknown,
  ) {}

  static fromText(text: string, file = "<inline>"): YamlSource {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const err = doc.errors[0];
    if (err) {
      // prettyErrors would add a multi-line excerpt; the position comes from the line counter instead
      const pos = err.linePos?.[0] ?? (err.pos ? lines.linePos(err.pos[0]) : undefined);
      const msg = err.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?.*$/, "");
      throw new InputError(`YAML syntax error: ${msg}`, { file, line: pos?.line, column: pos?.col });
    }
    // A mapping or list used as a key has no JSON form (yaml would stringify it with a warning)
    let complexKey: Node | undefined;
    visit(doc, {
      Pair(_, pair) {
        if (isCollection(pair.key)) {
          complexKey = pair.key;
          return visit.BREAK;
        }
        return undefined;
      },
    });
    if (complexKey) {
      const at = complexKey.range ? lines.linePos(complexKey.range[0]) : undefined;
      throw new InputError("expected a field name as the key, got a mapping or list", { file, line: at?.line, column: at?.col });
    }
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      // yaml refuses documents whose aliases expand exponentially ("billion laughs")
      if (e instanceof ReferenceError && /alias/i.test(e.message)) {
        throw new InputError(`YAML aliases expand too much (expected at most ${MAX_ALIAS_COUNT} alias expansions)`, { file });
      }
      throw e;
    }
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
    throw this.fromZod(r.error, base, value, schema);
  }

  /**
   * The error for the most useful zod issue: an unknown (misspelt) field beats the "missing"
   * issue its typo also causes; it is located at the unknown key and lists the known ones.
   */
  fromZod(error: ZodError, base: FieldPath, root: unknown, schema?: ZodType): InputError {
    const top = error.issues.find((i) => i.code === "unrecognized_keys") ?? error.issues[0]!;
    const issue = resolveUnion(top as IssueLike);
    const rel = issue.path;
    if (issue.code === "unrecognized_keys" && issue.keys?.length) {
      const keys = issue.keys;
      const known = schema ? knownKeys(schema, rel).filter((k) => !keys.includes(k)) : [];
      const expected = known.length ? ` (expected one of ${known.join(", ")})` : "";
      const what = keys.length > 1 ? `unknown fields ${keys.map((k) => `"${k}"`).join(", ")}` : `unknown field "${keys[0]}"`;
      return this.error([...base, ...rel, keys[0]!], `${what}${expected}${didYouMean(keys[0]!, known)}`);
    }
    return this.error([...base, ...rel], explainIssue(issue, valueAt(root, rel)));
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
  path: Array<string | number>;
  keys?: string[];
  expected?: string;
  values?: unknown[];
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
  errors?: IssueLike[][];
}

/**
 * A failed union: when one alternative got past the top (its issue lies deeper, e.g. a wrong
 * type inside a mapping), that issue is the useful one; otherwise the union's issue stays and
 * explainIssue lists what each alternative expected.
 */
function resolveUnion(issue: IssueLike): IssueLike {
  if (issue.code !== "invalid_union" || !issue.errors) return issue;
  // The alternative the value was meant to be is the one with the fewest unknown and missing fields.
  const misfit = (branch: IssueLike[]): number => branch.filter((i) => i.code === "unrecognized_keys" || /received undefined$/.test(i.message)).length;
  const branches = issue.errors.map((b) => b.map(resolveUnion));
  const reached = branches.filter((b) => b.some((i) => i.path.length > 0 || i.code === "unrecognized_keys"));
  if (reached.length === 0) return issue;
  const branch = [...reached].sort((a, b) => misfit(a) - misfit(b))[0]!;
  const inner = branch.find((i) => i.code === "unrecognized_keys") ?? branch.find((i) => i.path.length > 0) ?? branch[0]!;
  return { ...inner, path: [...issue.path, ...inner.path] };
}

/** How the format names zod's types to a user. */
const TYPE_NAMES: Record<string, string> = {
  array: "a list",
  object: "a mapping",
  record: "a mapping",
  string: "text",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
};

function typeName(t: string | undefined): string {
  return t === undefined ? "a value" : (TYPE_NAMES[t] ?? t);
}

function explainIssue(issue: IssueLike, got: unknown): string {
  switch (issue.code) {
    case "unrecognized_keys":
      return `unknown field${(issue.keys?.length ?? 0) > 1 ? "s" : ""} ${(issue.keys ?? []).map((k) => `"${k}"`).join(", ")}`;
    case "invalid_type":
      if (got === undefined) return `missing; expected ${typeName(issue.expected)}`;
      return `expected ${typeName(issue.expected)}, got ${describe(got)}`;
    case "invalid_value": {
      const values = issue.values ?? [];
      const hint =
        typeof got === "string"
          ? didYouMean(
              got,
              values.filter((v): v is string => typeof v === "string"),
            )
          : "";
      return `expected one of ${values.map((v) => JSON.stringify(v)).join(", ")}, got ${describe(got)}${hint}`;
    }
    case "too_small":
    case "too_big": {
      const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
      const word = issue.code === "too_small" ? (issue.inclusive === false ? "more than" : "at least") : issue.inclusive === false ? "less than" : "at most";
      if (issue.origin === "array") {
        const entries = `${String(bound)} ${Number(bound) === 1 ? "entry" : "entries"}`;
        return `expected a list of ${word} ${entries}, got ${Array.isArray(got) ? (got.length === 0 ? "an empty list" : `${got.length}`) : describe(got)}`;
      }
      if (issue.origin === "string") return `expected text of ${word} ${String(bound)} characters, got ${describe(got)}`;
      return `expected ${word} ${String(bound)}, got ${describe(got)}`;
    }
    case "invalid_union": {
      const options = (issue.errors ?? []).map((branch) => {
        const i = branch[0];
        if (i?.code === "invalid_value") return (i.values ?? []).map((v) => JSON.stringify(v)).join(" or ");
        if (i?.code === "invalid_type") return typeName(i.expected);
        return undefined;
      });
      if (options.length && options.every((o) => o !== undefined)) return `expected ${[...new Set(options)].join(" or ")}, got ${describe(got)}`;
      return `${issue.message}, got ${describe(got)}`;
    }
    default:
      return issue.message;
  }
}

/** Field names a schema accepts at `path` (best effort: objects through optional, array, union). */
function knownKeys(schema: ZodType, path: ReadonlyArray<string | number>): string[] {
  let nodes: unknown[] = [schema];
  const def = (s: unknown): Record<string, unknown> => (s as { _zod?: { def?: Record<string, unknown> } })._zod?.def ?? {};
  const unwrap = (s: unknown): unknown[] => {
    const d = def(s);
    if (d.type === "optional" || d.type === "nullable" || d.type === "default") return unwrap(d.innerType);
    if (d.type === "union") return (d.options as unknown[]).flatMap(unwrap);
    return [s];
  };
  for (const key of path) {
    nodes = nodes.flatMap(unwrap).flatMap((s) => {
      const d = def(s);
      if (d.type === "object") {
        const child = (d.shape as Record<string, unknown>)[String(key)];
        return child ? [child] : [];
      }
      if (d.type === "array") return [d.element];
      if (d.type === "record") return [d.valueType];
      return [];
    });
  }
  const keys = nodes.flatMap(unwrap).flatMap((s) => {
    const d = def(s);
    return d.type === "object" ? Object.keys(d.shape as Record<string, unknown>) : [];
  });
  return [...new Set(keys)];
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
