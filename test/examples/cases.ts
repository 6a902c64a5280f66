/**
 * The shipped examples as test cases (test/examples.test.ts checks them, test/examples/update.ts
 * rewrites their expected outputs under test/expected/). Every file under experiments/ and
 * topologies/ must be the source of at least one case, so a new example cannot go untested.
 *
 * An experiment runs through the public CLI at 2 runs with its own seed, without plots; its
 * expected output is summary.csv. Where a README table is made from a case (scripts/readme-tables.ts),
 * the case runs as the README says (its own runs) and keeps summary.md too. A topology is checked
 * by `migsim topo`: its summary and every shortest path between the two ends of its diameter.
 */
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");
export const EXPECTED = "test/expected";
/** What the examples test tells a reader to run when an expected output is missing or differs. */
export const UPDATE_COMMAND = "npm run examples:update";

/** Runs per cell and policy for an experiment without an override: enough for a confidence interval. */
const RUNS = "2";

export interface Case {
  /** Name of the case and stem of its expected files, e.g. "experiments/scale/datacenter.max-min". */
  id: string;
  /** The shipped file it exercises, relative to the repository. */
  source: string;
  kind: "run" | "topology";
  /** `migsim` arguments for a run; "{out}" stands for the output folder. */
  args: string[];
  /** Expected file (relative to test/expected/) -> the output file it is compared with. */
  outputs: Record<string, string>;
}

function runCase(id: string, source: string, args: string[], files: string[] = ["summary.csv"]): Case {
  return { id, source, kind: "run", args: [...args, "--out", "{out}", "--quiet", "--no-plots"], outputs: Object.fromEntries(files.map((f) => [`${id}.${f}`, f])) };
}

/**
 * Cases that differ from "run the file at 2 runs". Each says why: a README table made from it,
 * a size that needs splitting, or a file that is not an experiment.
 */
const OVERRIDES: Record<string, Case[]> = {
  // README "What npm start prints": the three tables at the files' own 20 runs, through `migsim reproduce`
  // (which runs experiments/table{1,2,3}.yaml under the paper profile); the files also run below at 2 runs.
  "experiments/table1.yaml": [
    runCase("experiments/table1", "experiments/table1.yaml", ["run", "experiments/table1.yaml", "--runs", RUNS]),
    { id: "reproduce", source: "experiments/table1.yaml", kind: "run", args: ["reproduce", "--out", "{out}"], outputs: { "reproduce.tables.md": "tables.md" } },
  ],
  // README "Comparing the policies at scale": one cell's policies and paired differences, at the file's 10 runs.
  "experiments/scale/policies-tree.yaml": [
    runCase("experiments/scale/policies-tree", "experiments/scale/policies-tree.yaml", ["run", "experiments/scale/policies-tree.yaml"], ["summary.csv", "summary.md"]),
  ],
  // The k=16 data center: max-min at the file's 3 runs (the README's table) and tcp-fluid, the slow
  // model (about 1 s a run on a 2-core machine), at 1 run; together they cover the whole sweep.
  "experiments/scale/datacenter.yaml": [
    runCase(
      "experiments/scale/datacenter.max-min",
      "experiments/scale/datacenter.yaml",
      ["run", "experiments/scale/datacenter.yaml", "--set", "sweep.network.model=[max-min]"],
      ["summary.csv", "summary.md"],
    ),
    runCase("experiments/scale/datacenter.tcp-fluid", "experiments/scale/datacenter.yaml", ["run", "experiments/scale/datacenter.yaml", "--set", "sweep.network.model=[tcp-fluid]", "--runs", "1"]),
  ],
  // A policy plugin, not an experiment: no shipped experiment uses it, so test/examples/nearest-idle.yaml runs it.
  "experiments/plugins/nearest-idle.ts": [runCase("experiments/plugins/nearest-idle", "experiments/plugins/nearest-idle.ts", ["run", "test/examples/nearest-idle.yaml", "--allow-external-plugins"])],
};

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir))
    .sort()
    .flatMap((name) => {
      const path = `${dir}/${name}`;
      return statSync(join(ROOT, path)).isDirectory() ? filesUnder(path) : [path];
    });
}

/** Every shipped example file, relative to the repository, in a fixed order. */
export function exampleFiles(): string[] {
  return [...filesUnder("experiments"), ...filesUnder("topologies")];
}

/** The cases of one shipped file, or undefined when nothing knows how to check it. */
export function casesOf(file: string): Case[] | undefined {
  const override = OVERRIDES[file];
  if (override) return override;
  if (!file.endsWith(".yaml")) return undefined;
  const stem = file.slice(0, -".yaml".length);
  if (file.startsWith("experiments/")) return [runCase(stem, file, ["run", file, "--runs", RUNS])];
  if (file.startsWith("topologies/")) return [{ id: stem, source: file, kind: "topology", args: [file], outputs: { [`${stem}.topo.txt`]: "stdout" } }];
  return undefined;
}

/** Every expected file that exists under test/expected/, relative to it. */
export function expectedFiles(): string[] {
  return filesUnder(EXPECTED)
    .map((p) => relative(EXPECTED, p))
    .filter((p) => p !== "README.md");
}
