/**
 * Writes README.md's result tables from the examples' expected outputs (test/expected/, which
 * test/examples.test.ts checks against the code), so the figures a reader sees are the ones the
 * tests hold: test/readme.test.ts fails when README.md differs from what this script makes.
 * Each table sits between `<!-- table NAME: ... -->` and `<!-- /table -->`; the prose around the
 * tables is written by hand.
 *
 *   npm run docs:readme          rewrite README.md's tables (after npm run examples:update)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..");
const EXPECTED = join(ROOT, "test", "expected");

type Row = Record<string, string>;

/** The first markdown table after the line `heading`, as rows keyed by its header cells. */
function tableAfter(markdown: string, heading: string, file: string): Row[] {
  const lines = markdown.split("\n");
  const at = lines.indexOf(heading);
  if (at < 0) throw new Error(`${file}: no line "${heading}"`);
  let i = at + 1;
  while (i < lines.length && !lines[i]!.startsWith("|")) i++;
  const cells = (line: string): string[] =>
    line
      .slice(1, -1)
      .split("|")
      .map((c) => c.trim());
  const header = cells(lines[i]!);
  const rows: Row[] = [];
  for (i += 2; i < lines.length && lines[i]!.startsWith("|"); i++) {
    const values = cells(lines[i]!);
    rows.push(Object.fromEntries(header.map((h, k) => [h, values[k] ?? ""])));
  }
  if (rows.length === 0) throw new Error(`${file}: no table after "${heading}"`);
  return rows;
}

function expected(name: string): string {
  return readFileSync(join(EXPECTED, name), "utf8");
}

function markdownTable(header: string[], align: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `|${cells.map((c) => (c ? ` ${c} ` : " ")).join("|")}|`;
  return [line(header), `|${align.join("|")}|`, ...rows.map(line)].join("\n");
}

const TABLES_MD = "reproduce.tables.md";
const TABLE_LABELS: [string, string][] = [
  ["### Table I: migration time of 3 policies in Load Balancing, Scenario 1 (heterogeneous)", "I (heterogeneous)"],
  ["### Table II: migration time of 3 policies in Load Balancing, Scenario 2 (homogeneous)", "II (homogeneous)"],
  ["### Table III: migration time of 3 policies for Moving Target Defense", "III (MTD, K = 3)"],
];

/** `migsim reproduce`: Tables I-III beside the paper's values. */
function reproduceTable(): string {
  const md = expected(TABLES_MD);
  const rows = TABLE_LABELS.flatMap(([heading, label]) =>
    tableAfter(md, heading, TABLES_MD).map((r, i) => {
      const fitted = r["fitted on this value"]!;
      return [i === 0 ? label : "", r.policy!, r["simulated mean ± CI (s)"]!, r["paper mean ± CI (s)"]!, r["error %"]!, fitted.startsWith("yes: ") ? fitted.slice(5) : ""];
    }),
  );
  return markdownTable(["Table", "policy", "simulated (s)", "paper (s)", "error", "fitted on it"], ["---", "---", "--:", "--:", "--:", "---"], rows);
}

/** One cell's policies from a summary.md: total with its interval, transfer and decision means. */
function cellTable(file: string, cell: string): string {
  const rows = tableAfter(expected(file), `## ${cell}`, file).map((r) => [r.policy!, r["total (s)"]!, r["transfer (s)"]!, r["decision (s)"]!]);
  return markdownTable(["policy", "total (s)", "transfer (s)", "decision (s)"], ["---", "--:", "--:", "--:"], rows);
}

const TREE = "experiments/scale/policies-tree.summary.md";
const TREE_CELL = { fanout: "4", checkpoint: "20MB", rate: "1.5Mbps" };
const TREE_CELL_NAME = `topology.generate.fanout=${TREE_CELL.fanout}&migrations.0.container.checkpoint=${TREE_CELL.checkpoint}&traffic.0.rate=${TREE_CELL.rate}`;

/** The tree sweep's cell: each policy against random, paired run by run. */
function treeDifferences(): string {
  const rows = tableAfter(expected(TREE), "### Each policy against random", TREE)
    .filter((r) => r["topology.generate.fanout"] === TREE_CELL.fanout && r["migrations.0.container.checkpoint"] === TREE_CELL.checkpoint && r["traffic.0.rate"] === TREE_CELL.rate)
    .map((r) => {
      const total = r["total (s)"]!;
      const excludes = total.endsWith(" *");
      return [r.policy!, excludes ? total.slice(0, -2) : total, r["95% interval"]!, excludes ? "yes" : "no"];
    });
  return markdownTable(["policy - random", "difference (s)", "95% interval (s)", "excludes 0"], ["---", "--:", "--:", ":-:"], rows);
}

const TABLES: Record<string, () => string> = {
  reproduce: reproduceTable,
  "policies-tree": () => cellTable(TREE, TREE_CELL_NAME),
  "policies-tree-differences": treeDifferences,
  datacenter: () => cellTable("experiments/scale/datacenter.max-min.summary.md", "network.model=max-min"),
};

/** README.md with every marked table replaced by the one made from test/expected/. */
export function readmeWithTables(readme: string): string {
  const seen = new Set<string>();
  const out = readme.replace(/(<!-- table ([\w-]+):[^\n]*-->\n)[\s\S]*?(\n<!-- \/table -->)/g, (_all, open: string, name: string, close: string) => {
    const make = TABLES[name];
    if (!make) throw new Error(`README.md: unknown table "${name}" (known: ${Object.keys(TABLES).join(", ")})`);
    seen.add(name);
    return `${open}${make()}${close}`;
  });
  const missing = Object.keys(TABLES).filter((n) => !seen.has(n));
  if (missing.length > 0) throw new Error(`README.md: no marked place for the table(s) ${missing.join(", ")}`);
  return out;
}

if (process.argv[1] === import.meta.filename) {
  const path = join(ROOT, "README.md");
  writeFileSync(path, readmeWithTables(readFileSync(path, "utf8")));
}
