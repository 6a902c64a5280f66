/**
 * `migsim reproduce`: Tables I-III of the policy-based migration paper (NetSoft 2019), each run
 * from its experiment file (20 runs per policy) and printed as in the paper with the simulated
 * mean ± 95% CI beside the published one and the error.
 */
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../report/atomic.ts";
import { readRunsCsv } from "../report/csv.ts";
import { describe as stats } from "../report/stats.ts";
import { paperTable, withinTolerance, type PaperRow } from "../report/summary.ts";
import { PAPER_PROFILE } from "./profile.ts";
import { shippedExperimentsDir } from "./shipped.ts";
import { runExperiment, type ProgressReporter } from "./run.ts";

/** The paper's tables, in its order, with the caption each has there. */
const PAPER_TABLES = [
  { file: "table1.yaml", title: "Table I: migration time of 3 policies in Load Balancing, Scenario 1 (heterogeneous)" },
  { file: "table2.yaml", title: "Table II: migration time of 3 policies in Load Balancing, Scenario 2 (homogeneous)" },
  { file: "table3.yaml", title: "Table III: migration time of 3 policies for Moving Target Defense" },
] as const;

export interface ReproduceOptions {
  out?: string | undefined;
  jobs?: number | undefined;
  plots?: boolean | undefined;
  /** profile under the tables' files (default: the built-in paper profile, what they are fitted on) */
  profile?: string | undefined;
  progress?: (label: string) => ProgressReporter | undefined;
  argv?: readonly string[] | undefined;
}

export interface ReproducedTable {
  title: string;
  rows: PaperRow[];
  allWithin: boolean;
}

export async function reproduce(opts: ReproduceOptions): Promise<{ outDir: string; tables: ReproducedTable[]; markdown: string }> {
  const outDir = resolve(opts.out ?? join("out", "reproduce"));
  const tables: ReproducedTable[] = [];
  for (const t of PAPER_TABLES) {
    const file = join(shippedExperimentsDir(), t.file);
    const r = await runExperiment({
      file,
      out: join(outDir, t.file.replace(/\.yaml$/, "")),
      jobs: opts.jobs,
      profile: opts.profile ?? PAPER_PROFILE,
      plots: opts.plots ?? true,
      progress: opts.progress?.(t.file),
      argv: opts.argv,
    });
    const records = readRunsCsv(join(r.outDir, "runs.csv")).rows.map((x) => x.record);
    const rows: PaperRow[] = [];
    // Policies in the order of the experiment file, which is the paper's column order.
    for (const p of r.experiment.policies) {
      const paper = r.experiment.reference?.values[p.name]?.["total_s"];
      if (!paper) continue;
      rows.push({ policy: p.name, simulated: stats(records.filter((x) => x.policy === p.name).map((x) => x.total_s)), paper: { mean: paper.mean, ci: paper.ci ?? 0 } });
    }
    tables.push({ title: t.title, rows, allWithin: rows.every((x) => withinTolerance(x.simulated.mean, x.paper)) });
  }
  const markdown = [
    "# Tables I-III of Tao et al., \"Policy-based container migration\" (NetSoft 2019), reproduced by migsim",
    "",
    "Total migration time (decision + migration), 20 runs per policy; simulated mean ± 95% CI",
    "(Student t) beside the paper's. Topology reconstruction and every parameter: docs/reproduction.md.",
    "",
    ...tables.map((t) => paperTable(t.title, t.rows)),
  ].join("\n");
  writeFileAtomic(join(outDir, "tables.md"), `${markdown}\n`);
  return { outDir, tables, markdown };
}
