/**
 * `migsim validate --random N --seed S`: N scenarios drawn from the documented distribution
 * (draw.ts), each written out as an experiment file and compared on the simulator and the testbed.
 * A draw whose simulated run would take longer than the budget is redrawn (and counted), so the
 * testbed's time stays bounded; a draw the simulator thinks short but the testbed finds long stays
 * in: its runs end at a deadline set from the simulated time and count as censored misses.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { stringify } from "yaml";
import { writeFileAtomic } from "../outputs/atomic.ts";
import { readRunsCsv } from "../outputs/csv.ts";
import { renderSvg, svgToPng } from "../reports/plots.ts";
import type { RunRecord } from "../formats/runspec.ts";
import type { BackendOptions } from "../run/backend-registry.ts";
import { compareBackends } from "./compare-backends.ts";
import { InputError, UnreachableResultError } from "../core/errors.ts";
import { withHandWrittenNotes } from "./heldout.ts";
import { loadProfile } from "../load/read-profile.ts";
import { runExperiment, type ProgressReporter } from "../run/run-experiment.ts";
import { onTestbedSession } from "../run/testbed-host.ts";
import { drawScenario, type Scenario } from "./draw.ts";
import { judgeScenario, type PairResult, worstError } from "./pairs.ts";
import { publishValidation } from "./publish.ts";
import { baselineSimDir, simulateAndJudge, writeBaselineTable } from "./baseline.ts";
import { runsFor } from "./repeatability.ts";
import { scenarioDir, scenarioRecords, topUpDir } from "./testbed-records.ts";
import { randomValidationChart, randomValidationCsv, randomValidationMarkdown } from "./validation-report.ts";

export interface RandomValidationOptions {
  count: number;
  seed: number;
  profile: string;
  out: string;
  doc?: string | undefined;
  runs?: number | undefined;
  /**
   * top up a pair whose first testbed runs spread too much to judge a model by: as many runs in
   * all as repeatability.ts's runsFor asks, up to this many (default: no top-up)
   */
  maxRuns?: number | undefined;
  /** seconds of simulated time a run may take before its scenario is redrawn (default 300) */
  budgetS?: number | undefined;
  /** draw pre-copy scenarios too (a testbed whose kernel has soft-dirty tracking) */
  precopy?: boolean | undefined;
  backendOptions: BackendOptions;
  log: (line: string) => void;
  progress?: ((label: string) => ProgressReporter | undefined) | undefined;
  argv?: readonly string[] | undefined;
}

export interface RandomValidationOutcome {
  pairs: PairResult[];
  redrawn: number;
  /** draws the simulator refused (a policy could not decide): redrawn, and named in the report */
  refused: number;
  reportFile: string;
  csvFile: string;
}

export const DEFAULT_BUDGET_S = 300;

/**
 * A drawn scenario on the simulator, no further than the budget: when its last migration ends
 * (infinite when a run is still going at the horizon: a draw that would run for minutes is known
 * to be over as soon as the horizon passes), or the simulator's reason for refusing it. A plan the
 * simulator refuses (mtd-fountain out of requests where formula (2) all but never asks the holders
 * with the missing symbols) leaves nothing for the testbed to replay, so the draw is replaced.
 */
export async function simulatedWithin(file: string, profile: string | undefined, runs: number | undefined, budget: number, workDir: string): Promise<{ end: number } | { refused: string }> {
  try {
    await runExperiment({ file, profile, runs, backend: "sim", out: workDir, plots: false, set: [`horizon=${budget}s`] });
    return { end: simulatedEnd(readRunsCsv(join(workDir, "runs.csv")).rows.map((r) => r.record)) };
  } catch (e) {
    if (e instanceof UnreachableResultError) return { end: Number.POSITIVE_INFINITY };
    if (e instanceof InputError) return { refused: e.message.split("\n")[0]! };
    throw e;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
export const MAX_REDRAWS = 50;
/** The testbed may take this many times the simulated run before the run is ended and censored. */
const DEADLINE_FACTOR = 3;
const DEADLINE_SLACK_S = 90;
export const DEADLINE_RULE = `${DEADLINE_FACTOR} x the longest simulated run (from t = 0 to its last migration's end) + ${DEADLINE_SLACK_S} s`;

/** validation.csv and the scatter plot (svg, png) of judged pairs in `out`; returns the csv's path. */
export async function writePairTables(out: string, pairs: readonly PairResult[]): Promise<string> {
  const csvFile = join(out, "validation.csv");
  writeFileAtomic(csvFile, randomValidationCsv(pairs));
  const svg = await renderSvg(randomValidationChart(pairs));
  writeFileAtomic(join(out, "validation.svg"), svg);
  writeFileAtomic(join(out, "validation.png"), svgToPng(svg));
  return csvFile;
}

/** A drawn scenario as the experiment file validate writes (and --rejudge recognises). */
export function scenarioFileText(scenario: Scenario): string {
  return `# ${scenario.experiment["description"]}\n${stringify(scenario.experiment)}`;
}

/** Seconds from t = 0 to the end of the last migration, over the simulated runs. */
function simulatedEnd(records: readonly RunRecord[]): number {
  let end = 0;
  for (const r of records) end = Math.max(end, r.trigger_s + r.total_s);
  return end;
}

export async function validateRandom(opts: RandomValidationOptions): Promise<RandomValidationOutcome> {
  const out = resolve(opts.out);
  const budget = opts.budgetS ?? DEFAULT_BUDGET_S;
  const profile = loadProfile(opts.profile);
  const scenariosDir = join(out, "scenarios");
  const started = new Date();
  const redrawn: Array<{ scenario: string; simulatedS: number }> = [];
  const refused: Array<{ scenario: string; reason: string }> = [];
  const pairs: PairResult[] = [];
  const baseline: PairResult[] = [];
  // Each scenario opens its own testbed session: a session's backend has one run deadline, and each
  // scenario has its own. The outer session only describes the host before and after.
  const chosen: Array<{ scenario: Scenario; file: string; deadlineS: number }> = [];
  const { machine } = await onTestbedSession(opts.backendOptions, "a validation", opts.log, async (session) => {
    // pre-copy draws only where the testbed runs pre-copy: refused before anything is drawn or run
    const refusedPrecopy = opts.precopy ? (await session.unavailableModes?.())?.get("pre-copy") : undefined;
    if (refusedPrecopy) throw new InputError(`--precopy: the testbed cannot run pre-copy (refused before any draw): ${refusedPrecopy}`, { field: "--precopy" });
    mkdirSync(scenariosDir, { recursive: true });
    // 1. the draws, each checked against the budget on the simulator
    for (let i = 0; i < opts.count; i++) {
      for (let attempt = 0; ; attempt++) {
        if (attempt > MAX_REDRAWS) throw new Error(`scenario ${i + 1}: ${MAX_REDRAWS} draws in a row were over the budget of ${budget} s or refused by the simulator`);
        const scenario = drawScenario(opts.seed, i, attempt, { precopy: opts.precopy, runs: opts.runs });
        const file = join(scenariosDir, `${scenario.name}.yaml`);
        writeFileAtomic(file, scenarioFileText(scenario));
        const check = await simulatedWithin(file, opts.profile, opts.runs, budget, join(out, ".budget", scenario.name));
        if ("refused" in check) {
          refused.push({ scenario: `${scenario.name} (draw ${attempt + 1})`, reason: check.refused });
          opts.log(`${scenario.name}: refused by the simulator (${check.refused}): redrawn`);
          continue;
        }
        const end = check.end;
        if (end <= budget) {
          chosen.push({ scenario, file, deadlineS: Math.ceil(DEADLINE_FACTOR * end + DEADLINE_SLACK_S) });
          break;
        }
        redrawn.push({ scenario: `${scenario.name} (draw ${attempt + 1})`, simulatedS: end });
        opts.log(`${scenario.name}: a simulated run takes ${Number.isFinite(end) ? `${end.toFixed(0)} s` : `more than ${budget} s`}, over the budget of ${budget} s: redrawn`);
      }
    }
    rmSync(join(out, ".budget"), { recursive: true, force: true });
    // 2. each scenario on the simulator and the testbed
    for (const [i, { scenario, file, deadlineS }] of chosen.entries()) {
      opts.log(`scenario ${i + 1}/${chosen.length}: ${scenario.name} (${scenario.parameters.mode}, ${scenario.parameters.topology}; testbed deadline ${deadlineS} s a run)`);
      const compare = (dir: string, runs: number | undefined, fromRun: number | undefined): ReturnType<typeof compareBackends> =>
        compareBackends({
          file,
          profile: opts.profile,
          out: dir,
          runs,
          fromRun,
          backendOptions: { ...opts.backendOptions, runTimeoutS: deadlineS },
          testbed: opts.backendOptions.testbed,
          progress: opts.progress?.(scenario.name),
          argv: opts.argv,
        });
      const judge = (): PairResult[] => {
        const sim = scenarioRecords(out, scenario.name, "sim").records;
        const { records: emu, failed } = scenarioRecords(out, scenario.name, "mininet");
        return judgeScenario(scenario.name, relative(out, file), scenario.parameters, sim, emu, failed);
      };
      // a top-up an earlier validation into this folder left would count as this one's runs
      rmSync(topUpDir(out, scenario.name), { recursive: true, force: true });
      await compare(scenarioDir(out, scenario.name), opts.runs, undefined);
      let judged = judge();
      const first = Math.max(...judged.map((p) => p.testbedRuns));
      const needed = opts.maxRuns === undefined ? first : Math.max(first, ...judged.map((p) => runsFor(p, opts.maxRuns!)));
      if (needed > first) {
        opts.log(`  the testbed's ${first} runs spread too much to judge by: ${needed - first} more (${needed} in all)`);
        await compare(topUpDir(out, scenario.name), needed, first);
        judged = judge();
      }
      for (const pair of judged) {
        pairs.push(pair);
        opts.log(`  ${pair.policy}: ${pair.status}${pair.misses.length ? ` (${pair.misses.join(", ")})` : ""}; worst ${(100 * worstError(pair)).toFixed(1)}%`);
      }
      const testbed = scenarioRecords(out, scenario.name, "mininet");
      baseline.push(...(await simulateAndJudge(scenario, file, relative(out, file), undefined, baselineSimDir(out, scenario.name), testbed)));
    }
  });
  // 3. the outputs
  const csvFile = await writePairTables(out, pairs);
  writeBaselineTable(out, baseline);
  const report = (plot: string, scenarioLink: (file: string) => string): string =>
    randomValidationMarkdown({
      command: `migsim ${(opts.argv ?? []).join(" ")}`,
      started,
      seed: opts.seed,
      drawn: chosen.length,
      redrawn,
      refused,
      budgetS: budget,
      profile: profile.name,
      profileHash: profile.sha256,
      profileRepeatability: profile.document.repeatability,
      machine,
      pairs: pairs.map((p) => ({ ...p, file: scenarioLink(p.file) })),
      baseline,
      plot,
      deadlineRule: DEADLINE_RULE,
    });
  const reportFile = join(out, "validation.md");
  writeFileAtomic(
    reportFile,
    report("validation.svg", (f) => f),
  );
  if (opts.doc) {
    const doc = resolve(opts.doc);
    const imgDir = join(dirname(doc), "img", "validation");
    mkdirSync(imgDir, { recursive: true });
    const plotName = `random-${opts.seed}.svg`;
    copyFileSync(join(out, "validation.svg"), join(imgDir, plotName));
    // the scenario files and what they were judged on go beside the report, so its links stay
    // inside the folder it is in and a reader can re-judge it (publish.ts)
    const scenarioDir = join(dirname(doc), "validation", `random-${opts.seed}`);
    publishValidation(
      out,
      scenarioDir,
      chosen.map((c) => c.file),
      profile,
    );
    const previous = existsSync(doc) ? readFileSync(doc, "utf8") : undefined;
    writeFileAtomic(
      doc,
      withHandWrittenNotes(
        report(`img/validation/${plotName}`, (f) => relative(dirname(doc), join(scenarioDir, basename(f)))),
        previous,
      ),
    );
  }
  return { pairs, redrawn: redrawn.length, refused: refused.length, reportFile, csvFile };
}
