/**
 * `migsim validate`: the held-out validation set (experiments/validation/, never run by
 * `migsim calibrate`) compared on the simulator and the testbed under one profile, judged against
 * the targets: total migration time within 15%, checkpoint, transfer and restore within 25%,
 * loaded probe round trips within 25%. Writes one report (docs/validation.md is this report).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { writeFileAtomic } from "../outputs/atomic.ts";
import type { RunFailure } from "../formats/runspec.ts";
import type { BackendOptions } from "../run/backend-registry.ts";
import { compareBackends, type ComparisonRow, type ProbeComparison } from "./compare-backends.ts";
import { loadProfile } from "../load/read-profile.ts";
import type { ProgressReporter } from "../run/run-experiment.ts";
import { shippedExperimentsDir } from "../load/shipped.ts";
import { machineDifferences, onTestbedSession } from "../run/testbed-host.ts";

/** Largest |error| that meets the target, per compared quantity. */
export const TARGETS = { total_s: 0.15, checkpoint_s: 0.25, transfer_s: 0.25, restore_s: 0.25, probe_rtt: 0.25 } as const;

export interface HeldOutOptions {
  files?: readonly string[] | undefined;
  profile: string;
  out: string;
  /** also write the report here, its plots in img/validation/ beside it */
  doc?: string | undefined;
  runs?: number | undefined;
  set?: readonly string[] | undefined;
  backendOptions: BackendOptions;
  log: (line: string) => void;
  progress?: (label: string) => ProgressReporter | undefined;
  argv?: readonly string[] | undefined;
}

export interface Verdict {
  experiment: string;
  cell: string;
  policy: string;
  /** metric -> relative error (sim - emu) / emu */
  errors: Partial<Record<keyof typeof TARGETS, number>>;
  misses: string[];
}

export interface HeldOutOutcome {
  verdicts: Verdict[];
  failed: RunFailure[];
  /** testbed runs executed, failed ones included */
  testbedRuns: number;
  reportFile: string;
}

/** The shipped validation experiments, in name order. */
export function validationFiles(): string[] {
  const dir = join(shippedExperimentsDir(), "validation");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => join(dir, f));
}

export async function validateHeldOut(opts: HeldOutOptions): Promise<HeldOutOutcome> {
  const files = opts.files?.length ? [...opts.files] : validationFiles();
  const profile = loadProfile(opts.profile);
  const out = resolve(opts.out);
  const verdicts: Verdict[] = [];
  const failed: RunFailure[] = [];
  let testbedRuns = 0;
  const sections: Array<{ name: string; rows: ComparisonRow[]; probes: ProbeComparison[]; verdicts: Verdict[] }> = [];
  const started = new Date();
  let differences: string[] = [];
  const { machine } = await onTestbedSession(opts.backendOptions, "a validation", opts.log, async (session, before) => {
    differences = before ? machineDifferences(profile.document.machine, before) : [];
    for (const d of differences) opts.log(`warning: the profile was fitted on another host: ${d}`);
    for (const [i, file] of files.entries()) {
      const name = basename(file).replace(/\.ya?ml$/, "");
      opts.log(`experiment ${i + 1}/${files.length}: ${name}`);
      const r = await compareBackends({
        file,
        profile: opts.profile,
        out: join(out, name),
        runs: opts.runs,
        set: opts.set,
        backendOptions: opts.backendOptions,
        testbed: opts.backendOptions.testbed,
        session,
        progress: opts.progress?.(name),
        argv: opts.argv,
      });
      failed.push(...r.failed);
      testbedRuns += r.emulatedRuns;
      // the probe target is for loaded round trips: an idle one is the host stack's noise (sub-ms)
      const loaded = r.experiment.cells.some((c) => c.base.traffic.length > 0);
      const vs = judge(name, r.rows, loaded ? r.probes : []);
      verdicts.push(...vs);
      sections.push({ name, rows: r.rows, probes: r.probes, verdicts: vs });
    }
  });
  const report = (plot: (name: string) => string): string =>
    markdown(
      opts,
      profile.name,
      profile.sha256,
      started,
      machine,
      differences,
      verdicts,
      failed,
      sections.map((x) => section(x.name, x.rows, x.probes, x.verdicts, plot(x.name))),
    );
  const reportFile = join(out, "validation.md");
  writeFileAtomic(
    reportFile,
    report((name) => `${name}/validation.svg`),
  );
  if (opts.doc) {
    const doc = resolve(opts.doc);
    const imgDir = join(dirname(doc), "img", "validation");
    mkdirSync(imgDir, { recursive: true });
    for (const x of sections) copyFileSync(join(out, x.name, "validation.svg"), join(imgDir, `${x.name}.svg`));
    const previous = existsSync(doc) ? readFileSync(doc, "utf8") : undefined;
    writeFileAtomic(
      doc,
      withHandWrittenNotes(
        report((name) => `img/validation/${name}.svg`),
        previous,
      ),
    );
  }
  return { verdicts, failed, testbedRuns, reportFile };
}

/**
 * A report kept in the repository carries its authors' reading of the numbers below this line;
 * regenerating the report keeps that part (the rest is rewritten).
 */
export const HAND_WRITTEN_MARK = "<!-- Hand-written below: migsim validate --doc keeps everything after this line. -->";

/** the generated report, followed by the previous file's part from HAND_WRITTEN_MARK on (if any) */
export function withHandWrittenNotes(generated: string, previous: string | undefined): string {
  const at = previous?.indexOf(HAND_WRITTEN_MARK) ?? -1;
  return at < 0 ? generated : `${generated.replace(/\n*$/, "\n")}\n${previous!.slice(at)}`;
}

export function judge(experiment: string, rows: readonly ComparisonRow[], probes: readonly ProbeComparison[]): Verdict[] {
  const groups = new Map<string, Verdict>();
  for (const r of rows) {
    if (!(r.metric in TARGETS)) continue;
    const k = `${r.cell}\u0000${r.policy}`;
    let v = groups.get(k);
    if (!v) groups.set(k, (v = { experiment, cell: r.cell, policy: r.policy, errors: {}, misses: [] }));
    const metric = r.metric as keyof typeof TARGETS;
    const err = r.errorPct / 100;
    v.errors[metric] = err;
    // a phase the testbed does not have in this mode (stateless: no checkpoint) is not judged
    if (Number.isFinite(err) && Math.abs(err) > TARGETS[metric]) v.misses.push(`${metric} ${pctSigned(err)}`);
  }
  for (const p of probes) {
    const err = (p.sim.mean - p.emu.mean) / p.emu.mean;
    for (const v of groups.values()) {
      if (v.cell !== p.cell) continue;
      v.errors.probe_rtt = err;
      if (Math.abs(err) > TARGETS.probe_rtt) v.misses.push(`probe RTT ${p.from}->${p.to} ${pctSigned(err)}`);
    }
  }
  return [...groups.values()];
}

const pctSigned = (x: number): string => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}%`;
const cellPct = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? "n/a" : pctSigned(x));

function section(name: string, rows: readonly ComparisonRow[], probes: readonly ProbeComparison[], vs: readonly Verdict[], plotLink: string): string {
  const total = (cell: string, policy: string): ComparisonRow | undefined => rows.find((r) => r.cell === cell && r.policy === policy && r.metric === "total_s");
  const lines = [
    `### ${name}`,
    "",
    `![${name}: simulated vs testbed per phase](${plotLink})`,
    "",
    "| cell | policy | total sim (s) | total testbed (s) | total | checkpoint | transfer | restore | probe RTT | verdict |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
  ];
  for (const v of vs) {
    const t = total(v.cell, v.policy);
    const e = v.errors;
    lines.push(
      `| ${v.cell} | ${v.policy} | ${t ? `${t.sim.mean.toFixed(2)} ± ${t.sim.ci95.toFixed(2)}` : "n/a"} | ${t ? `${t.emu.mean.toFixed(2)} ± ${t.emu.ci95.toFixed(2)} (n=${t.emu.n})` : "n/a"} | ` +
        `${cellPct(e.total_s)} | ${cellPct(e.checkpoint_s)} | ${cellPct(e.transfer_s)} | ${cellPct(e.restore_s)} | ${cellPct(e.probe_rtt)} | ${v.misses.length ? `**miss**: ${v.misses.join(", ")}` : "met"} |`,
    );
  }
  if (probes.length) {
    lines.push("", "| probes: cell | from | to | simulated RTT (ms) | testbed RTT (ms) |", "|---|---|---|---:|---:|");
    for (const p of probes)
      lines.push(`| ${p.cell} | ${p.from} | ${p.to} | ${(1000 * p.sim.mean).toFixed(2)} ± ${(1000 * p.sim.ci95).toFixed(2)} | ${(1000 * p.emu.mean).toFixed(2)} ± ${(1000 * p.emu.ci95).toFixed(2)} |`);
  }
  lines.push("");
  return lines.join("\n");
}

function markdown(
  opts: HeldOutOptions,
  profile: string,
  hash: string,
  started: Date,
  machine: Readonly<Record<string, string>> | undefined,
  differences: readonly string[],
  vs: readonly Verdict[],
  failed: readonly RunFailure[],
  sections: readonly string[],
): string {
  const met = vs.filter((v) => v.misses.length === 0).length;
  const lines = [
    "# Held-out validation of the simulator against the testbed",
    "",
    `<!-- Written by \`migsim ${(opts.argv ?? []).join(" ")}\` on ${started.toISOString()}. -->`,
    "",
    `Profile \`${profile}\` (sha256 ${hash.slice(0, 12)}), fitted by \`migsim calibrate\` on measurements that none of these`,
    "experiments is part of (experiments/calibration/ vs experiments/validation/). No `--set` on top",
    `of the experiment files${opts.set?.length ? ` except: ${opts.set.map((s) => `\`--set ${s}\``).join(", ")}` : ""}.`,
    "Each cell: simulated and testbed means with 95% CI (Student t), error = (sim - testbed) / testbed.",
    `Targets: total within ${100 * TARGETS.total_s}%, checkpoint, transfer and restore within ${100 * TARGETS.transfer_s}%, loaded probe round trips within ${100 * TARGETS.probe_rtt}%`,
    "(probes of experiments with background traffic; idle round trips are listed, not judged).",
    ...(machine ? [`Testbed host: kernel ${machine["kernel"]}, CRIU ${machine["criu"]}, ${machine["cpu"]}; load average ${machine["load-average"]}.`] : []),
    ...(differences.length ? [`**The profile was fitted on another host** (${differences.join("; ")}).`] : []),
    "",
    `**${met} of ${vs.length} (cell, policy) pairs meet every target.**${failed.length ? ` ${failed.length} testbed run(s) failed and are left out (listed per experiment in its validation.md).` : ""}`,
    "",
    ...sections,
  ];
  return `${lines.join("\n")}\n`;
}
