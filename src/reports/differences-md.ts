/**
 * The "Paired differences" section of summary.md: total time with its interval and relative
 * difference, and the mean difference of every phase, for each comparison of differences.ts.
 * differences.csv has the interval of every phase as well.
 */
import type { Difference } from "./differences.ts";
import { intervalName, type IntervalMethod } from "../core/stats.ts";
import { DURATION_COLUMNS, fmt, intervalDecimals, phaseLabel, roundedTo, type DurationColumn } from "./summary.ts";

const PHASES = DURATION_COLUMNS.filter((m) => m !== "total_s");

function withSign(x: number, s: string): string {
  return x > 0 && s !== "n/a" && !/^0\.?0*$/.test(s) ? `+${s}` : s;
}

/** "+1.2 *": the mean difference, rounded as its interval allows (summary.ts), starred when the interval excludes 0. */
function marked(d: Difference): string {
  const text = Number.isNaN(d.difference) ? "n/a" : roundedTo(d.difference, intervalDecimals(d.low, d.high));
  return `${withSign(d.difference, text)}${d.excludesZero ? " *" : ""}`;
}

function row(lead: string[], byMetric: Map<DurationColumn, Difference>): string[] {
  const total = byMetric.get("total_s")!;
  return [
    ...lead,
    String(total.n),
    marked(total),
    Number.isNaN(total.low) ? "n/a" : `[${roundedTo(total.low, intervalDecimals(total.low, total.high))}, ${roundedTo(total.high, intervalDecimals(total.low, total.high))}]`,
    Number.isNaN(total.relativePct) ? "n/a" : `${withSign(total.relativePct, fmt(total.relativePct, 1))}%`,
    ...PHASES.map((m) => marked(byMetric.get(m)!)),
  ];
}

function table(header: string[], rows: string[][]): string[] {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  return [`| ${header.map(esc).join(" | ")} |`, `| ${header.map((_, i) => (i === 0 ? ":--" : "--:")).join(" | ")} |`, ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`)];
}

/** Differences grouped by comparison (all metrics of one comparison together), in order. */
function groups(ds: readonly Difference[]): Array<Map<DurationColumn, Difference>> {
  const out = new Map<string, Map<DurationColumn, Difference>>();
  for (const d of ds) {
    const key = [d.comparison, d.cell, d.policy, d.axis].join("\u0000");
    let g = out.get(key);
    if (!g) out.set(key, (g = new Map()));
    g.set(d.metric, d);
  }
  return [...out.values()];
}

export function differencesMarkdown(ds: readonly Difference[], axes: readonly string[], method: IntervalMethod): string {
  if (ds.length === 0) return "";
  const out = [
    "",
    "## Paired differences",
    "",
    "Run r of one side against run r of the other, which drew the same random numbers (docs/outputs.md). " +
      `Difference = compared - baseline in seconds, the mean over n paired runs; 95% interval of the mean difference (${intervalName(method)}, ` +
      "on the per-run differences); relative = difference / baseline mean; * = the interval excludes 0. " +
      "Phases: mean differences; differences.csv has every interval.",
  ];
  const phaseHeads = PHASES.map((m) => `${phaseLabel(m)} (s)`);
  const heads = ["n", "total (s)", "95% interval", "relative", ...phaseHeads];
  const all = groups(ds);
  const byPolicy = all.filter((g) => g.get("total_s")!.comparison === "policy");
  if (byPolicy.length > 0) {
    const baseline = byPolicy[0]!.get("total_s")!.baseline;
    const lead = (d: Difference) => [...axes.map((a) => d.axes[a] ?? ""), d.policy];
    out.push("", `### Each policy against ${baseline}`, "");
    out.push(
      ...table(
        [...axes, "policy", ...heads],
        byPolicy.map((g) => row(lead(g.get("total_s")!), g)),
      ),
    );
  }
  for (const axis of axes) {
    const bySweep = all.filter((g) => g.get("total_s")!.comparison === "sweep" && g.get("total_s")!.axis === axis);
    if (bySweep.length === 0) continue;
    const first = bySweep[0]!.get("total_s")!.baseline;
    const others = axes.filter((a) => a !== axis);
    const lead = (d: Difference) => [d.axes[axis] ?? "", ...others.map((a) => d.axes[a] ?? ""), d.policy];
    out.push("", `### ${axis}: each value against ${first}`, "");
    out.push(
      ...table(
        [axis, ...others, "policy", ...heads],
        bySweep.map((g) => row(lead(g.get("total_s")!), g)),
      ),
    );
  }
  return `${out.join("\n")}\n`;
}
