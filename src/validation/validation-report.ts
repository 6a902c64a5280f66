/**
 * The outputs of `migsim validate --random`: validation.csv (a row per scenario and policy, every
 * drawn parameter, simulated and testbed means, the errors), the report's markdown (the error
 * distribution, the worst five with their scenario files, every pair) and the scatter plot of
 * simulated against testbed totals on log axes.
 */
import jStat from "jstat";
import type { TopLevelSpec } from "vega-lite";
import type { ScenarioParameters } from "./draw.ts";
import { type PairResult, pastTarget, pct, PHASE_TARGET, QUANTITIES, targetOf, TOTAL_TARGET, worstError } from "./pairs.ts";
import { csvLines } from "../outputs/csv.ts";
import { median, proportionInterval } from "../core/stats.ts";
import { CONFIG, PALETTE, SCHEMA } from "../reports/plots.ts";
import { repeatability } from "./repeatability.ts";

const PARAMETER_COLUMNS: ReadonlyArray<keyof ScenarioParameters> = [
  "topology",
  "hosts",
  "bottleneck_at",
  "bottleneck_mbps",
  "other_links_mbps",
  "queue_pkt",
  "congestion_control",
  "tcp_flows",
  "flow_placements",
  "flow_leads_s",
  "udp_mbps",
  "checkpoint_mb",
  "dirty_mbps",
  "mode",
  "transport",
  "probes",
  "candidates",
];

export const RANDOM_VALIDATION_COLUMNS = [
  "scenario",
  "file",
  "policy",
  ...PARAMETER_COLUMNS,
  "sim_runs",
  "testbed_runs",
  "testbed_failed",
  "censored",
  "status",
  ...QUANTITIES.flatMap((q) => [`sim_${q}`, `testbed_${q}`]),
  ...QUANTITIES.map((q) => `error_${q}`),
] as const;

/** the pair table of the same pairs under the built-in defaults (baseline.ts), in validation.csv's columns */
export const BASELINE_CSV = "validation-defaults.csv";

export function randomValidationCsv(pairs: readonly PairResult[]): string {
  return csvLines([
    [...RANDOM_VALIDATION_COLUMNS],
    ...pairs.map((p) => [
      p.scenario,
      p.file,
      p.policy,
      ...PARAMETER_COLUMNS.map((c) => p.parameters[c]),
      p.simRuns,
      p.testbedRuns,
      p.testbedFailed,
      p.censored,
      p.status,
      ...QUANTITIES.flatMap((q) => [p.sim[q], p.testbed[q]]),
      ...QUANTITIES.map((q) => (Number.isFinite(p.errors[q]) ? p.errors[q] : "")),
    ]),
  ]);
}

export interface Distribution {
  quantity: string;
  n: number;
  median: number;
  p90: number;
  max: number;
  within: number;
}

/** |error| per quantity over the pairs that have it: median, 90th percentile, largest, share within target. */
export function errorDistribution(pairs: readonly PairResult[]): Distribution[] {
  return QUANTITIES.map((q) => {
    const xs = pairs
      .map((p) => Math.abs(p.errors[q]))
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    return {
      quantity: q,
      n: xs.length,
      median: median(xs),
      p90: xs.length > 1 ? jStat.quantiles(xs, [0.9], 1, 1)[0]! : (xs[0] ?? Number.NaN),
      max: xs.length ? Math.max(...xs) : Number.NaN,
      within: xs.filter((x) => x <= targetOf(q)).length,
    };
  });
}

/**
 * The kinds of scenario the report counts pairs by, so a reader sees where the simulator can be
 * trusted and where not: the mode, the transport, the congestion control every TCP connection of
 * the scenario uses, what else crosses the network (none, TCP flows, UDP, both) and where the
 * bottleneck is. Each pair is of one kind per dimension.
 */
export function scenarioKinds(p: ScenarioParameters): Array<readonly [dimension: string, kind: string]> {
  const background = p.tcp_flows > 0 ? (p.udp_mbps > 0 ? "TCP flows and UDP" : "TCP flows") : p.udp_mbps > 0 ? "UDP only" : "none";
  return [
    ["mode", p.mode],
    ["transport", p.transport],
    ["congestion control", p.congestion_control],
    ["background traffic", background],
    ["bottleneck", p.bottleneck_at],
  ];
}

export interface KindTally {
  dimension: string;
  kind: string;
  pairs: number;
  met: number;
}

/** pairs and pairs within target per kind, dimensions in scenarioKinds' order, kinds by name */
export function tallyByKind(pairs: readonly PairResult[]): KindTally[] {
  const tallies = new Map<string, KindTally>();
  for (const p of pairs) {
    for (const [dimension, kind] of scenarioKinds(p.parameters)) {
      const key = `${dimension}: ${kind}`;
      const t = tallies.get(key) ?? { dimension, kind, pairs: 0, met: 0 };
      t.pairs++;
      if (p.status === "met") t.met++;
      tallies.set(key, t);
    }
  }
  const order = new Map<string, number>();
  if (pairs[0]) scenarioKinds(pairs[0].parameters).forEach(([d], i) => order.set(d, i));
  return [...tallies.values()].sort((a, b) => order.get(a.dimension)! - order.get(b.dimension)! || a.kind.localeCompare(b.kind));
}

/** the exact (Clopper-Pearson) 95% interval of k of n as "lo-hi%": how little n pairs pin a share down */
function intervalText(k: number, n: number): string {
  const [lo, hi] = proportionInterval(k, n);
  return n === 0 ? "n/a" : `${(100 * lo).toFixed(0)}-${(100 * hi).toFixed(0)}%`;
}

export interface RandomReportInput {
  command: string;
  started: Date;
  seed: number;
  drawn: number;
  redrawn: Array<{ scenario: string; simulatedS: number }>;
  refused: Array<{ scenario: string; reason: string }>;
  budgetS: number;
  profile: string;
  profileHash: string;
  /** the profile's `repeatability` (how well its calibration's repeated runs agreed), when it has one */
  profileRepeatability?: { "median-cv": number; noisy: boolean } | undefined;
  machine: Readonly<Record<string, string>> | undefined;
  pairs: readonly PairResult[];
  /** the same pairs simulated under the built-in defaults (no profile), judged against the same testbed runs (baseline.ts) */
  baseline?: readonly PairResult[] | undefined;
  plot: string;
  deadlineRule: string;
  /** re-judged: the testbed records of this earlier validation, simulated again (`validate --rejudge`) */
  rejudgedFrom?: string | undefined;
}

const pctAbs = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : "n/a");
const sec = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : "n/a");

/** what the profile says of its calibration's repeated runs, as a sentence after its name */
function spreadNote(rep: RandomReportInput["profileRepeatability"]): string {
  if (!rep) return "";
  const spread = `its calibration's repeated runs spread by a median ${(100 * rep["median-cv"]).toFixed(1)}%`;
  return rep.noisy ? ` **A noisy calibration**: ${spread} (the host was busy; docs/profiles.md).` : ` Of the profile: ${spread}.`;
}

export function randomValidationMarkdown(r: RandomReportInput): string {
  const met = r.pairs.filter((p) => p.status === "met").length;
  const censored = r.pairs.filter((p) => p.censored).length;
  const failed = r.pairs.filter((p) => p.status === "failed").length;
  const dist = errorDistribution(r.pairs);
  const worst = [...r.pairs].sort((a, b) => worstError(b) - worstError(a) || Number(b.censored) - Number(a.censored)).slice(0, 5);
  const lines = [
    "# Validation on randomly drawn scenarios",
    "",
    `<!-- Written by \`${r.command}\` on ${r.started.toISOString()}. -->`,
    "",
    `Seed ${r.seed}: ${r.drawn} scenarios drawn from the distribution in docs/validation-random.md ("The distribution"), each an`,
    ...(r.rejudgedFrom
      ? [
          `ordinary experiment file, simulated again and judged against the testbed records of the earlier validation in ${r.rejudgedFrom}.`,
          "**Re-judged, not a validation**: those testbed records were seen before this model or profile was made, so this",
          "measures a change against known data; only a validation with a fresh seed is held out.",
          `Profile \`${r.profile}\` (sha256 ${r.profileHash.slice(0, 12)}).${spreadNote(r.profileRepeatability)}`,
        ]
      : [
          "ordinary experiment file (scenarios/), run on the simulator and on the testbed under the same seeds.",
          `Profile \`${r.profile}\` (sha256 ${r.profileHash.slice(0, 12)}).${spreadNote(r.profileRepeatability)} ${r.redrawn.length} draw(s) were over the budget of ${r.budgetS} s of simulated time a run and were redrawn${r.redrawn.length ? ` (${r.redrawn.map((x) => `${x.scenario}: ${Number.isFinite(x.simulatedS) ? `${x.simulatedS.toFixed(0)} s` : `> ${r.budgetS} s`}`).join(", ")})` : ""}.`,
          ...(r.refused.length
            ? [`${r.refused.length} draw(s) the simulator refused were redrawn (no plan for the testbed to replay): ${r.refused.map((x) => `${x.scenario}: ${x.reason}`).join("; ")}.`]
            : []),
        ]),
    `Testbed deadline of a run: ${r.deadlineRule}; a run ended there is censored (its time so far bounds its total from below) and counts as a miss.`,
    ...(r.machine ? [`Testbed host: kernel ${r.machine["kernel"]}, CRIU ${r.machine["criu"]}, ${r.machine["cpu"]}; load average ${r.machine["load-average"]}.`] : []),
    "",
    `**${met} of ${r.pairs.length} (scenario, policy) pairs within ${100 * TOTAL_TARGET}% on total and ${100 * PHASE_TARGET}% on every phase** ` +
      `(${r.pairs.length ? ((100 * met) / r.pairs.length).toFixed(0) : "0"}%; target 90%). Censored: ${censored}. Failed on the testbed: ${failed}. ` +
      `The share's exact (Clopper-Pearson) 95% interval: ${intervalText(met, r.pairs.length)}.`,
    "",
    ...baselineLines(r.pairs, r.baseline),
    "| quantity | pairs | median abs error | 90th percentile | largest | within target |",
    "|---|--:|--:|--:|--:|--:|",
    ...dist.map((d) => `| ${d.quantity.replace(/_s$/, "")} | ${d.n} | ${pctAbs(d.median)} | ${pctAbs(d.p90)} | ${pctAbs(d.max)} | ${d.within} of ${d.n} |`),
    "",
    ...repeatabilityLines(r.pairs),
    "Pairs within target by kind of scenario (each pair counts once in every dimension):",
    "",
    "| dimension | kind | pairs | within target | share | exact 95% interval |",
    "|---|---|--:|--:|--:|--:|",
    ...tallyByKind(r.pairs).map((k) => `| ${k.dimension} | ${k.kind} | ${k.pairs} | ${k.met} | ${((100 * k.met) / k.pairs).toFixed(0)}% | ${intervalText(k.met, k.pairs)} |`),
    "",
    `![simulated against testbed total per scenario, log axes](${r.plot})`,
    "",
    "## The worst five",
    "",
    "Beside each miss, the simulated mean and every finished testbed run of that quantity, in run order, so a reader sees whether the testbed agreed with itself there.",
    "",
    "| scenario | policy | drawn | sim total (s) | testbed total (s) | misses | simulated against each testbed run (s) |",
    "|---|---|---|--:|--:|---|---|",
    ...worst.map(
      (p) =>
        `| [${p.scenario}](${p.file}) | ${p.policy} | ${describeParameters(p.parameters)} | ${sec(p.sim.total_s)} | ${p.censored ? "> " : ""}${sec(p.testbed.total_s)} | ${p.status === "failed" ? "no testbed run finished" : p.misses.join(", ") || "none"} | ${missEvidence(p)} |`,
    ),
    "",
    "## Every pair",
    "",
    "| scenario | policy | mode | total sim (s) | total testbed (s) | total | checkpoint | transfer | restore | downtime | verdict |",
    "|---|---|---|--:|--:|--:|--:|--:|--:|--:|---|",
    ...r.pairs.map(
      (p) =>
        `| ${p.scenario} | ${p.policy} | ${p.parameters.mode} | ${sec(p.sim.total_s)} | ${p.censored ? "> " : ""}${sec(p.testbed.total_s)} | ` +
        `${p.censored ? "at most " : ""}${pct(p.errors.total_s)} | ${pct(p.errors.checkpoint_s)} | ${pct(p.errors.transfer_s)} | ${pct(p.errors.restore_s)} | ${pct(p.errors.downtime_s)} | ${p.status} |`,
    ),
    "",
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * The profile against the built-in defaults on the same draws and the same testbed runs: where the
 * defaults meet the targets in more pairs, calibrating made these unseen predictions worse (the
 * medians of the total's error are shown beside the counts, not judged).
 */
function baselineLines(pairs: readonly PairResult[], baseline: readonly PairResult[] | undefined): string[] {
  if (!baseline || baseline.length === 0) return [];
  const met = (ps: readonly PairResult[]): number => ps.filter((p) => p.status === "met").length;
  const totalMedian = (ps: readonly PairResult[]): string => pctAbs(errorDistribution(ps).find((d) => d.quantity === "total_s")!.median);
  const [withProfile, withDefaults] = [met(pairs), met(baseline)];
  const verdict =
    withProfile > withDefaults
      ? "the profile does better on these draws"
      : withProfile === withDefaults
        ? "the profile does no better on these draws"
        : "**the profile does worse on these draws than no calibration**";
  return [
    `**Against the built-in defaults** (each scenario simulated again with no profile, the same runs and seeds, judged against the same testbed runs): ` +
      `${withDefaults} of ${baseline.length} pairs within target (${intervalText(withDefaults, baseline.length)}), median abs error of total ${totalMedian(baseline)}; ` +
      `under the profile ${withProfile} of ${pairs.length}, ${totalMedian(pairs)}: ${verdict} (pair by pair in ${BASELINE_CSV}).`,
    "",
  ];
}

/** seconds to three significant figures: 0.0912, 0.371, 12.8 */
const sig3 = (x: number): string => (Number.isFinite(x) ? x.toPrecision(3) : "n/a");

/**
 * For each quantity past its target: the simulated mean against the finished testbed runs, and
 * whether it lies within their range (a pair whose testbed runs spread past the target around it
 * missed on the testbed's disagreement with itself, not only on the model's).
 */
export function missEvidence(p: PairResult): string {
  const parts: string[] = [];
  for (const q of QUANTITIES) {
    if (!pastTarget(p.errors[q], q)) continue;
    const runs = p.testbedValues[q];
    if (runs.length === 0) continue;
    const inside = p.sim[q] >= Math.min(...runs) && p.sim[q] <= Math.max(...runs);
    parts.push(`${q.replace(/_s$/, "")}: ${sig3(p.sim[q])} against ${runs.map(sig3).join(", ")}${inside ? " (within the testbed's runs)" : ""}`);
  }
  return parts.join("; ") || "n/a";
}

/** The testbed's own run-to-run agreement beside the model's (repeatability.ts says how it is computed). */
function repeatabilityLines(pairs: readonly PairResult[]): string[] {
  const r = repeatability(pairs);
  if (r.pairs === 0) return [];
  const share = (x: number): string => `${(100 * x).toFixed(0)}%`;
  return [
    "**The testbed's own repeatability** (how close any model could come to these means): " +
      `in ${r.runsAgree} of the ${r.pairs} pairs with two or more finished runs (${share(r.runsAgree / r.pairs)}), every testbed run, taken as a prediction of the mean of the pair's other runs, meets the same targets. ` +
      "A predictor exactly at every pair's true mean would meet them in about " +
      (r.fewestRuns === r.runs
        ? `${r.ceiling.map((c) => `${share(c.share)} of pairs against the mean of ${c.runs} runs${c.runs === r.runs ? " (as here)" : ""}`).join(", ")} `
        : `${share(r.ceilingAsRun)} of pairs against the means of the ${r.fewestRuns}-${r.runs} finished runs each had here, ${r.ceiling.map((c) => `${share(c.share)} against the mean of ${c.runs} runs each`).join(", ")} `) +
      "(normal run-to-run noise with each pair's own standard deviation, quantities taken as independent; docs/validation-random.md).",
    "",
  ];
}

export function describeParameters(p: ScenarioParameters): string {
  const flows = p.tcp_flows ? `${p.tcp_flows} ${p.congestion_control} flow(s) (${p.flow_placements}; ${p.flow_leads_s} s before)` : "no TCP flows";
  return (
    `${p.topology} of ${p.hosts} hosts, ${p.bottleneck_mbps} Mbit/s ${p.bottleneck_at} bottleneck (others ${p.other_links_mbps}), ${p.queue_pkt}-packet queues, ` +
    `${flows}${p.udp_mbps ? `, UDP ${p.udp_mbps} Mbit/s` : ""}, ${p.mode}${p.mode === "stateless" ? "" : ` ${p.checkpoint_mb} MB over ${p.transport}`}` +
    `${p.dirty_mbps ? `, dirtying ${p.dirty_mbps} MB/s` : ""}${p.probes ? ", probes" : ""}`
  );
}

const SHAPES: ReadonlyArray<readonly [string, string]> = [
  ["finished", "circle"],
  ["censored (testbed > x)", "triangle-right"],
];

/** Simulated against testbed total, one point per pair, log axes; the diagonal and the 15% band. */
export function randomValidationChart(pairs: readonly PairResult[]): TopLevelSpec {
  const points = pairs
    .filter((p) => Number.isFinite(p.sim.total_s) && Number.isFinite(p.testbed.total_s) && p.sim.total_s > 0 && p.testbed.total_s > 0)
    .map((p) => ({ scenario: p.scenario, mode: p.parameters.mode, sim: p.sim.total_s, testbed: p.testbed.total_s, censored: p.censored ? "censored (testbed > x)" : "finished" }));
  const all = points.flatMap((p) => [p.sim, p.testbed]);
  const lo = all.length ? Math.min(...all) / 1.5 : 0.1;
  const hi = all.length ? Math.max(...all) * 1.5 : 100;
  const diagonal = [lo, hi].flatMap((x) => [
    { x, y: x, line: "simulated = testbed" },
    { x, y: x * (1 + TOTAL_TARGET), line: `+${100 * TOTAL_TARGET}%` },
    { x, y: x * (1 - TOTAL_TARGET), line: `-${100 * TOTAL_TARGET}%` },
  ]);
  const scale = { type: "log" as const, domain: [lo, hi], nice: false };
  return {
    $schema: SCHEMA,
    title: { text: "Randomly drawn scenarios: simulator against testbed", subtitle: "total migration time, mean per (scenario, policy); dashed: within 15%" },
    width: 380,
    height: 380,
    layer: [
      {
        data: { values: diagonal },
        mark: { type: "line", color: "#888", strokeWidth: 1, clip: true },
        encoding: {
          x: { field: "x", type: "quantitative", scale },
          y: { field: "y", type: "quantitative", scale },
          detail: { field: "line" },
          strokeDash: { condition: { test: "datum.line !== 'simulated = testbed'", value: [4, 3] }, value: [1, 0] },
        },
      },
      {
        data: { values: points },
        mark: { type: "point", filled: true, size: 60 },
        encoding: {
          x: { field: "testbed", type: "quantitative", scale, title: "testbed total (s)" },
          y: { field: "sim", type: "quantitative", scale, title: "simulated total (s)" },
          color: { field: "mode", type: "nominal", title: "mode", scale: { range: PALETTE } },
          // the legend names only the kinds of point drawn
          shape: {
            field: "censored",
            type: "nominal",
            title: null,
            scale: {
              domain: SHAPES.map(([k]) => k).filter((k) => points.some((p) => p.censored === k)),
              range: SHAPES.filter(([k]) => points.some((p) => p.censored === k)).map(([, s]) => s),
            },
          },
          tooltip: [{ field: "scenario" }],
        },
      },
    ],
    config: CONFIG,
  } as unknown as TopLevelSpec;
}
