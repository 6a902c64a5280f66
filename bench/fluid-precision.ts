/**
 * What tcp-fluid's default solve precision does to the shipped results (issue 31, item 2): every
 * experiment under experiments/ (not calibration/), scale/ and validation/ (the held-out ones),
 * run twice through the CLI (`migsim run FILE --no-plots`): with its defaults (spreadTolerance
 * 1e-2 on the emulated stack, 1e-4 on the physical one) and with `network.extra.spreadTolerance`
 * set to a tighter reference (docs/tcp-fluid.md, "Precision"). Per experiment: whether runs.csv is
 * byte-identical, and the largest relative change of a (cell, policy) mean of total_s and of any
 * phase (summary.csv), with that mean's 95% confidence half-width beside it.
 *
 *   npm run build && node --import tsx bench/fluid-precision.ts [--tolerance 1e-4] [FILE...]
 *
 * About two minutes on the 2-core machine (datacenter.yaml is most of it).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "csv-parse/sync";

const ROOT = resolve(fileURLToPath(import.meta.url), "..", "..");
const CLI = join(ROOT, "bin", "migsim.js");
const DEADLINE_S = 15 * 60;

const argv = process.argv.slice(2);
const at = argv.indexOf("--tolerance");
const reference = at >= 0 ? argv[at + 1]! : "1e-4";
const named = argv.filter((a, i) => !a.startsWith("--") && !(at >= 0 && i === at + 1));
const files =
  named.length > 0
    ? named
    : ["experiments", "experiments/scale", "experiments/validation"].flatMap((d) =>
        readdirSync(join(ROOT, d))
          .filter((f) => f.endsWith(".yaml"))
          .sort()
          .map((f) => join(ROOT, d, f)),
      );

type Row = Record<string, string>;

function run(file: string, out: string, set: string[]): void {
  const r = spawnSync(process.execPath, [CLI, "run", file, "--out", out, "--no-plots", "--quiet", ...set.flatMap((s) => ["--set", s])], { encoding: "utf8", timeout: DEADLINE_S * 1000 });
  if (r.status !== 0) throw new Error(`migsim run ${file} ${set.join(" ")} failed (${r.status ?? r.signal}): ${r.stderr}`);
}

const rows = (dir: string): Row[] => parse(readFileSync(join(dir, "summary.csv"), "utf8"), { columns: true }) as Row[];

const scratch = mkdtempSync(join(tmpdir(), "migsim-fluid-precision-"));
let worstTotal = { rel: 0, where: "" };
let worstPhase = { rel: 0, where: "" };
let identical = 0;
try {
  console.log(`defaults against network.extra.spreadTolerance=${reference}: largest change of a (cell, policy) mean, with that mean's 95% CI half-width`);
  for (const file of files) {
    // (scale/ and validation/ both have a policies-tree.yaml)
    const name = relative(ROOT, resolve(file))
      .replace(/\.yaml$/, "")
      .replaceAll("/", "_");
    const a = join(scratch, `${name}-ref`);
    const b = join(scratch, `${name}-default`);
    run(file, a, [`network.extra.spreadTolerance=${reference}`]);
    run(file, b, []);
    const same = readFileSync(join(a, "runs.csv"), "utf8") === readFileSync(join(b, "runs.csv"), "utf8");
    if (same) identical++;
    const after = new Map(rows(b).map((r) => [`${r.cell}|${r.policy}|${r.metric}`, r]));
    const total = { rel: 0, where: "" };
    const phase = { rel: 0, where: "" };
    for (const r of rows(a)) {
      const o = after.get(`${r.cell}|${r.policy}|${r.metric}`);
      const m = Number(r.mean);
      if (!o || !r.metric!.endsWith("_s") || !(Math.abs(m) > 1e-9)) continue;
      const rel = (Number(o.mean) - m) / Math.abs(m);
      const where = `${name} ${r.cell} ${r.policy} ${r.metric} ${m} -> ${o.mean} (CI95 +-${((100 * Number(r.ci95)) / Math.abs(m)).toFixed(2)}%)`;
      const slot = r.metric === "total_s" ? total : phase;
      if (Math.abs(rel) > Math.abs(slot.rel)) {
        slot.rel = rel;
        slot.where = where;
      }
    }
    const pct = (x: number): string => `${(100 * x).toFixed(3)}%`;
    console.log(`${name}: runs.csv ${same ? "byte-identical" : "differs"}${same ? "" : `; total_s ${pct(total.rel)} (${total.where}); phases ${pct(phase.rel)} (${phase.where})`}`);
    if (Math.abs(total.rel) > Math.abs(worstTotal.rel)) worstTotal = total;
    if (Math.abs(phase.rel) > Math.abs(worstPhase.rel)) worstPhase = phase;
  }
  console.log(
    `${identical} of ${files.length} byte-identical; largest policy-mean change: total_s ${(100 * worstTotal.rel).toFixed(3)}% ${worstTotal.where}; a phase ${(100 * worstPhase.rel).toFixed(3)}% ${worstPhase.where}`,
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
