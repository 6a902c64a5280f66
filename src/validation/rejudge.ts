/**
 * `migsim validate --rejudge DIR`: the scenarios of an earlier random validation simulated again
 * (under another profile or another version of the model) and judged against that validation's
 * own testbed records, without a testbed. Those records have been seen, so the result is a
 * development check of a model change, never a held-out validation: the report says so.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { InputError } from "../core/errors.ts";
import { writeFileAtomic } from "../outputs/atomic.ts";
import { loadProfile } from "../load/read-profile.ts";
import { drawScenario, type Scenario } from "./draw.ts";
import type { PairResult } from "./pairs.ts";
import { baselineSimDir, simulateAndJudge, writeBaselineTable } from "./baseline.ts";
import { backendOut } from "./compare-backends.ts";
import { DEADLINE_RULE, MAX_REDRAWS, scenarioFileText, writePairTables } from "./random-validation.ts";
import { scenarioRecords, testbedRecordsDir } from "./testbed-records.ts";
import { randomValidationMarkdown } from "./validation-report.ts";

export interface RejudgeOptions {
  /** the --out folder of an earlier `migsim validate --random` */
  dir: string;
  profile: string;
  out: string;
  log: (line: string) => void;
  argv?: readonly string[] | undefined;
}

const SCENARIO_FILE = /^random-(\d+)-(\d{3})\.yaml$/;

/** The draw that wrote `text`: the same seed, index and attempt give the same file, so the scenario's parameters are known again. */
function redraw(seed: number, index: number, text: string, file: string): Scenario {
  for (const precopy of [false, true]) {
    for (let attempt = 0; attempt <= MAX_REDRAWS; attempt++) {
      const s = drawScenario(seed, index, attempt, { precopy, runs: runsOf(text) });
      if (scenarioFileText(s) === text) return s;
    }
  }
  throw new InputError("no draw of this seed writes this file: it was edited, or written by another version of migsim's draw (rerun the validation)", { file });
}

function runsOf(text: string): number | undefined {
  const m = /^runs: (\d+)$/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

export async function rejudgeRandom(opts: RejudgeOptions): Promise<{ pairs: PairResult[]; reportFile: string; csvFile: string }> {
  const dir = resolve(opts.dir);
  const out = resolve(opts.out);
  if (out === dir) throw new InputError("--out: write the re-judged validation to a folder of its own, not over the testbed's", { field: "--out" });
  if (!existsSync(dir))
    throw new InputError("expected the --out folder of migsim validate --random, or the folder its --doc published (docs/validation/random-SEED/)", { file: dir, field: "--rejudge" });
  // an --out folder keeps its scenarios in scenarios/; a published one beside the records (publish.ts)
  const scenariosDir = existsSync(join(dir, "scenarios")) ? join(dir, "scenarios") : dir;
  const files = readdirSync(scenariosDir)
    .filter((f) => SCENARIO_FILE.test(f))
    .sort();
  if (files.length === 0)
    throw new InputError("no scenario files (random-SEED-NNN.yaml) there: expected the --out folder of migsim validate --random or the folder its --doc published", {
      file: scenariosDir,
      field: "--rejudge",
    });
  const profile = loadProfile(opts.profile);
  const pairs: PairResult[] = [];
  const baseline: PairResult[] = [];
  let seed = -1;
  for (const f of files) {
    const [, s, n] = SCENARIO_FILE.exec(f)!;
    seed = Number(s);
    const file = join(scenariosDir, f);
    const scenario = redraw(seed, Number(n) - 1, readFileSync(file, "utf8"), file);
    const testbedDir = testbedRecordsDir(dir, scenario.name);
    if (!existsSync(testbedDir)) throw new InputError("this scenario has no testbed folder: the validation did not reach it", { file: testbedDir, field: "--rejudge" });
    const testbed = scenarioRecords(dir, scenario.name, "mininet");
    for (const pair of await simulateAndJudge(scenario, file, relative(out, file), opts.profile, backendOut(join(out, scenario.name), "sim"), testbed)) {
      pairs.push(pair);
      opts.log(`${scenario.name} ${pair.policy}: ${pair.status}${pair.misses.length ? ` (${pair.misses.join(", ")})` : ""}`);
    }
    baseline.push(...(await simulateAndJudge(scenario, file, relative(out, file), undefined, baselineSimDir(out, scenario.name), testbed)));
  }
  const csvFile = await writePairTables(out, pairs);
  writeBaselineTable(out, baseline);
  const report = randomValidationMarkdown({
    command: `migsim ${(opts.argv ?? []).join(" ")}`,
    started: new Date(),
    seed,
    drawn: files.length,
    redrawn: [],
    refused: [],
    budgetS: Number.NaN,
    profile: profile.name,
    profileHash: profile.sha256,
    profileRepeatability: profile.document.repeatability,
    machine: undefined,
    pairs,
    baseline,
    plot: "validation.svg",
    deadlineRule: DEADLINE_RULE,
    rejudgedFrom: relative(out, dir) || dir,
  });
  const reportFile = join(out, "validation.md");
  writeFileAtomic(reportFile, report);
  return { pairs, reportFile, csvFile };
}
