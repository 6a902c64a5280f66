/**
 * Writes what is generated from the schemas of src/formats, so none of it can drift from what the
 * code accepts and writes: docs/format.md (topology, experiment, profile, replay workload and the
 * cost table), the column and field tables of docs/outputs.md (runs, probes and failed records,
 * manifest.json), and the JSON Schemas the testbed driver validates its plan and its records
 * against (backends/mininet/driver/schemas/). test/format-doc.test.ts and test/formats.test.ts fail
 * when a file differs from what this script makes.
 *
 *   npm run docs:format          rewrite them all
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { CELL_FIELDS, EXPERIMENT_SCHEMA, PROFILE_SCHEMA } from "../src/formats/experiment.ts";
import { COST_FIELDS, DEFAULT_COSTS } from "../src/migration/costs.ts";
import { DriverPlanSchema, DriverRecordSchema } from "../src/formats/driver.ts";
import { ManifestSchema } from "../src/formats/manifest.ts";
import { ProbeRowSchema, RunFailureSchema, RunRecordSchema, RUN_COLUMNS } from "../src/formats/records.ts";
import { TOPOLOGY_SCHEMA } from "../src/formats/topology.ts";
import { WORKLOAD_SCHEMA } from "../src/formats/replay-workload.ts";
import { formatBytes, formatDuration, formatRate } from "../src/core/units.ts";

interface Node {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: Node[];
  oneOf?: Node[];
  items?: Node;
  properties?: Record<string, Node>;
  required?: string[];
  additionalProperties?: Node | boolean;
  description?: string;
  unit?: string;
  default?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
}

interface Row {
  path: string;
  type: string;
  required: boolean;
  unit: string;
  default: string;
  description: string;
  /** the forms of a discriminated union the field belongs to (`kind: tree`), none for all */
  forms: string[];
}

const SAFE_MAX = Number.MAX_SAFE_INTEGER;

function typeOf(n: Node): string {
  if (n.const !== undefined) return `\`${JSON.stringify(n.const)}\``;
  if (n.enum) return n.enum.map((v) => `\`${String(v)}\``).join(" \\| ");
  const alts = n.anyOf ?? n.oneOf;
  if (alts)
    return alts.every((a) => a.properties)
      ? "mapping (one of the forms below)"
      : [...new Set(alts.map((a) => (a.properties || (a.anyOf ?? a.oneOf)?.every((x) => x.properties) ? "mapping" : typeOf(a))))].join(" or ");
  const t = Array.isArray(n.type) ? n.type.join("|") : n.type;
  if (t === "string|number") return "quantity";
  if (t === "array") return `list of ${n.items ? typeOf(n.items) : "values"}${n.minItems ? ` (at least ${n.minItems})` : ""}`;
  if (t === "object") {
    if (n.properties) return "mapping";
    const v = n.additionalProperties;
    return v && typeof v === "object" && (v.type || v.anyOf) ? `mapping of name to ${typeOf(v)}` : "mapping";
  }
  if (t === "integer" || t === "number") {
    const lo = n.minimum ?? (n.exclusiveMinimum !== undefined ? `>${n.exclusiveMinimum}` : undefined);
    const hi = n.maximum !== undefined && n.maximum < SAFE_MAX ? n.maximum : undefined;
    const range = lo !== undefined && hi !== undefined ? ` ${lo}..${hi}` : lo !== undefined ? ` ${typeof lo === "number" ? `>= ${lo}` : lo}` : hi !== undefined ? ` <= ${hi}` : "";
    return `${t}${range}`;
  }
  return t ?? "any";
}

/** Rows of every field below `n`, depth first; alternatives (anyOf of mappings) each add theirs. */
function rows(n: Node, path: string, out: Row[], required = true, form?: string): void {
  if (path) {
    out.push({
      path,
      type: typeOf(n),
      required,
      unit: n.unit ?? "",
      default: n.default ?? "",
      description: n.description ?? "",
      forms: form === undefined ? [] : [form],
    });
  }
  const alts = n.anyOf ?? n.oneOf;
  if (alts) {
    for (const a of alts) {
      if (!a.properties) continue;
      // a discriminated form names itself by its constant field (`kind: tree`)
      const tag = Object.entries(a.properties).find(([, p]) => p.const !== undefined);
      const form = tag ? `${tag[0]}: ${String(tag[1].const)}` : undefined;
      const req = new Set(a.required ?? []);
      for (const [k, p] of Object.entries(a.properties)) rows(p, `${path}.${k}`, out, req.has(k), form);
    }
    return;
  }
  if (n.properties) {
    const req = new Set(n.required ?? []);
    for (const [k, p] of Object.entries(n.properties)) rows(p, `${path}.${k}`, out, req.has(k));
  }
  // the fields of list entries, under `list.N`
  const items = n.items;
  if (items && (items.properties || items.anyOf)) {
    if (items.properties) {
      const req = new Set(items.required ?? []);
      for (const [k, p] of Object.entries(items.properties)) rows(p, `${path}.N.${k}`, out, req.has(k));
    } else rows({ anyOf: items.anyOf }, `${path}.N`, out);
  }
}

/** The markdown table of a schema's fields; a field the forms of a union share is listed once. */
function table(schema: z.ZodType, sweepable?: (path: string) => boolean): string {
  const all: Row[] = [];
  rows(z.toJSONSchema(schema, { unrepresentable: "any" }) as Node, "", all);
  const merged = new Map<string, Row>();
  for (const r of all) {
    const key = [r.path, r.unit, r.default, r.description, r.required].join("\u0000");
    const m = merged.get(key);
    if (!m) merged.set(key, { ...r, forms: [...r.forms] });
    else {
      if (!m.type.split(" \\| ").includes(r.type)) m.type = `${m.type} \\| ${r.type}`;
      m.forms.push(...r.forms);
    }
  }
  const forms = new Map<string, number>();
  for (const r of all) for (const f of r.forms) forms.set(f.split(":")[0]!, (forms.get(f.split(":")[0]!) ?? 0) + (r.path.endsWith(`.${f.split(":")[0]}`) ? 1 : 0));
  const out = [...merged.values()].map((r) => {
    // a field of every form needs no label; one of some forms names them
    const total = r.forms.length ? (forms.get(r.forms[0]!.split(":")[0]!) ?? 0) : 0;
    const label = r.forms.length && r.forms.length < total ? `(${r.forms.join(", ")}) ` : "";
    return { ...r, description: label + r.description };
  });
  const lines = [
    sweepable ? "| field | type | required | unit | default | sweep | description |" : "| field | type | required | unit | default | description |",
    sweepable ? "|---|---|---|---|---|---|---|" : "|---|---|---|---|---|---|",
  ];
  for (const r of out) {
    const path = r.path.replace(/^\./, "");
    const cells = [`\`${path}\``, r.type, r.required ? "yes" : "no", r.unit, r.default, r.description.replace(/\|/g, "\\|")];
    if (sweepable) cells.splice(5, 0, sweepable(path) ? "yes" : "no");
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

function costDefault(key: string): string {
  const f = COST_FIELDS[key]!;
  const v = DEFAULT_COSTS[f.field] as number;
  switch (f.unit) {
    case "duration":
      return formatDuration(v);
    case "bytes":
      return formatBytes(v);
    case "rate":
      return formatRate(v);
    case "byte-rate":
      return `${formatBytes(v)}/s`;
    default:
      return String(Number(v.toPrecision(6)));
  }
}

const UNITS: Record<string, string> = {
  duration: "duration",
  bytes: "size",
  rate: "rate",
  "byte-rate": "size/s (e.g. 200MB/s) or rate",
  ratio: "plain number",
  count: "plain number",
};

export function formatDoc(): string {
  const cell = new Set<string>(CELL_FIELDS);
  const costRows = Object.keys(COST_FIELDS).map((k) => `| \`costs.${k}\` | ${UNITS[COST_FIELDS[k]!.unit]} | ${costDefault(k)} |`);
  return [
    "# File formats",
    "",
    "<!-- Generated by `npm run docs:format` (scripts/format-doc.ts) from the zod schemas in",
    "src/formats/experiment.ts, src/formats/topology.ts, src/formats/replay-workload.ts and the cost",
    "table of src/migration/costs.ts. Do not edit by hand: test/format-doc.test.ts",
    "fails when this file and the schemas differ. -->",
    "",
    "Every input migsim reads: topologies, experiments and testbed profiles (YAML), replay workloads",
    "(JSON). The loaders refuse an unknown field, a value of the wrong type or a quantity without its",
    "unit with one line naming file, line and field. The testbed backend runs the same experiment",
    "files (docs/testbed.md).",
    "",
    "**Quantities** are strings with a unit: rates `10Mbps`, `1.5Gbps`, `800kbps`, `100bps`;",
    "sizes `10MB`, `64KiB`, `1500B`; durations `2ms`, `1.5s`, `10us`; queues `1000pkt`. A bare",
    "number is refused where a unit is expected (except 0), so `10` never silently means bits or",
    "seconds. Outputs use base units (bit/s, bytes, seconds).",
    "",
    "## Topology",
    "",
    "A file (`topologies/*.yaml`) or the `topology:` mapping of an experiment: either explicit",
    "`hosts`, `switches` and `links`, or `generate`. Node names: a letter, then up to 9 letters,",
    "digits or `_`. Ports are named as Mininet numbers them (`s1-eth2`); `migsim topo FILE --paths`",
    "lists them. When an experiment holds its topology inline, a sweep may change any of these",
    "fields through `topology.` (e.g. `topology.generate.n`).",
    "",
    table(TOPOLOGY_SCHEMA),
    "",
    "## Experiment",
    "",
    "`experiments/*.yaml`. The `sweep` column says whether a sweep axis (or `--set`, which may set",
    `any field) may change the field per cell: only fields under ${CELL_FIELDS.map((f) => `\`${f}\``).join(", ")} can;`,
    "the others hold for the whole experiment and a sweep over them is refused. `N` stands for a",
    "list index (`migrations.0.trigger.at`).",
    "",
    table(EXPERIMENT_SCHEMA, (p) => cell.has(p.split(".")[0]!)),
    "",
    "### Costs",
    "",
    "`costs:` sets host-side cost parameters by name; what each models and where its default comes",
    "from: docs/migration.md.",
    "",
    "| field | unit | default |",
    "|---|---|---|",
    ...costRows,
    "",
    "## Testbed profile",
    "",
    "`migsim calibrate` writes one (docs/profiles.md); `profile: FILE` in an experiment or",
    "`--profile FILE` on run, compare, reproduce and validate applies it. Its `network` and `costs`",
    "values are the defaults under the experiment's own: a field the experiment sets wins, field by",
    "field (`network.extra` entry by entry). The built-in name `paper` is the defaults themselves",
    "(fitted on the paper's Tables I-III). The manifest of every run records the profile's name,",
    "file and sha256.",
    "",
    table(PROFILE_SCHEMA),
    "",
    "## Replay workload",
    "",
    "The JSON file `migsim replay` reads (`flow-workload-v1`); `migsim workload` writes one. Keys",
    "not listed here are ignored (the generator records its parameters beside them). Plain numbers",
    "in the units given.",
    "",
    table(WORKLOAD_SCHEMA),
    "",
  ].join("\n");
}

/** A record's columns as a table: name, unit, meaning (the schema's descriptions). */
function columnTable(schema: z.ZodObject, after?: { column: string; row: string }): string {
  const node = z.toJSONSchema(schema, { unrepresentable: "any" }) as Node;
  const lines = ["| column | unit | meaning |", "|---|---|---|"];
  for (const [k, p] of Object.entries(node.properties ?? {})) {
    const meaning = p.description ?? (p.enum ? p.enum.map((v) => `\`${String(v)}\``).join(", ") : "");
    const values = p.enum && p.description ? `: ${p.enum.map((v) => `\`${String(v)}\``).join(", ")}` : "";
    lines.push(`| ${k} | ${p.unit ?? ""} | ${(meaning + values).replace(/\|/g, "\\|")} |`);
    if (after && k === after.column) lines.push(after.row);
  }
  return lines.join("\n");
}

/** manifest.json's fields (one level below the top for the mappings that have descriptions). */
function manifestTable(): string {
  const node = z.toJSONSchema(ManifestSchema, { unrepresentable: "any" }) as Node;
  const lines = ["| field | meaning |", "|---|---|"];
  for (const [k, p] of Object.entries(node.properties ?? {})) lines.push(`| \`${k}\` | ${(p.description ?? "").replace(/\|/g, "\\|")} |`);
  return lines.join("\n");
}

/** The tables docs/outputs.md holds between `<!-- generated: NAME -->` and `<!-- end -->`. */
export function outputsTables(): Record<string, string> {
  return {
    "runs.csv": columnTable(RunRecordSchema, { column: RUN_COLUMNS.at(-1)!, row: "| *one column per sweep axis* | | the value as written in the file |" }),
    "probes.csv": columnTable(ProbeRowSchema),
    "failed.csv": columnTable(RunFailureSchema),
    "manifest.json": manifestTable(),
  };
}

/** docs/outputs.md with its generated tables replaced by what the schemas say now. */
export function outputsDoc(current: string): string {
  const tables = outputsTables();
  const seen = new Set<string>();
  const out = current.replace(/<!-- generated: (\S+) -->\n[\s\S]*?<!-- end -->/g, (_all, name: string) => {
    const t = tables[name];
    if (t === undefined) throw new Error(`docs/outputs.md: no generated table named ${name}`);
    seen.add(name);
    return `<!-- generated: ${name} -->\n${t}\n<!-- end -->`;
  });
  const missing = Object.keys(tables).filter((n) => !seen.has(n));
  if (missing.length) throw new Error(`docs/outputs.md lacks the generated tables ${missing.join(", ")}`);
  return out;
}

/**
 * The JSON Schemas of the driver's contract, by file name: its plan (what a plan may hold: the
 * input side, so fields with defaults are optional and unread fields pass) and its record lines.
 */
export function driverSchemas(): Record<string, string> {
  const json = (s: z.ZodType, io: "input" | "output") => `${JSON.stringify(z.toJSONSchema(s, { io, unrepresentable: "throw" }), null, 2)}\n`;
  return { "plan.schema.json": json(DriverPlanSchema, "input"), "record.schema.json": json(DriverRecordSchema, "output") };
}

export const SCHEMA_DIR = join(import.meta.dirname, "..", "backends", "mininet", "driver", "schemas");
export const OUTPUTS_DOC = join(import.meta.dirname, "..", "docs", "outputs.md");

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = join(import.meta.dirname, "..", "docs", "format.md");
  writeFileSync(file, formatDoc());
  writeFileSync(OUTPUTS_DOC, outputsDoc(readFileSync(OUTPUTS_DOC, "utf8")));
  for (const [name, text] of Object.entries(driverSchemas())) writeFileSync(join(SCHEMA_DIR, name), text);
  process.stdout.write(`wrote ${file}, ${OUTPUTS_DOC} and ${SCHEMA_DIR}/\n`);
}
