/**
 * Fits the network models' parameters on part of the Mininet measurements and validates both
 * models on the rest. Reads docs/calibration/measured.jsonl and, for BBR's steady queue, the
 * queue probes in docs/calibration/queue-probe/; writes docs/calibration.md.
 *
 *   node --import tsx bench/calibration/fit.ts [--check]
 *
 * Fit set: the 10 Mbit/s runs of `single`, `same-dir`, `rtt-idle`, `rtt-same-dir` (both CUBIC and
 * BBR). Validation set: everything else (10 Mbit/s runs with 2-3 competing transfers, staggered
 * starts, reverse traffic; all 5 Mbit/s runs). `--check` exits 1 when a target is missed.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_NETWORK_PARAMS, type NetworkParams } from "../../src/network/network-model.ts";
import { TCP_FLUID_DEFAULTS } from "../../src/network/tcpfluid/tcpfluid-params.ts";
import { replay, type MeasuredRecord } from "./scenarios.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const DATA = join(ROOT, "docs", "calibration", "measured.jsonl");
const OUT = join(ROOT, "docs", "calibration.md");
const WIRE = 1514; // bytes of one full segment on the wire (1448 payload + headers)

const records: MeasuredRecord[] = readFileSync(DATA, "utf8")
  .split("\n")
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as MeasuredRecord);

const FIT_SCENARIOS = new Set(["single", "same-dir", "rtt-idle", "rtt-same-dir"]);
const isFit = (r: MeasuredRecord): boolean => r.bw_mbps === 10 && FIT_SCENARIOS.has(r.scenario);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
};
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmt = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : String(x));
const pct = (x: number): string => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}%`;

// ------------------------------------------------------------------ fitting (fit set only)
const fitSet = records.filter(isFit);
const sel = (scenario: string, cc?: string): MeasuredRecord[] => fitSet.filter((r) => r.scenario === scenario && (!cc || r.cc === cc));

// efficiency: goodput of a lone transfer in its steady part (20%..95% of the bytes) over the link rate
const effs: number[] = [];
for (const r of sel("single")) {
  const f = r.flows![0]!;
  const pr = f.progress!;
  const a = pr.find(([, b]) => b >= 0.2 * f.bytes)!;
  const b = [...pr].reverse().find(([, x]) => x <= 0.95 * f.bytes)!;
  effs.push(((b[1] - a[1]) * 8) / (b[0] - a[0]) / (r.bw_mbps * 1e6));
}
const efficiency = mean(effs);

// host-stack round trip: an exchange over an idle path, open connection
const idleOpen = sel("rtt-idle").map((r) => median(r.rtts!.open!));
const stackRtt = mean(idleOpen);

// connection set-up: new - open = setup + h * RTT(open), least squares over idle and loaded paths
const pts = [...sel("rtt-idle"), ...sel("rtt-same-dir")].map((r) => [median(r.rtts!.open!), median(r.rtts!.new!) - median(r.rtts!.open!)] as const);
const mx = mean(pts.map((p) => p[0]));
const my = mean(pts.map((p) => p[1]));
const handshakeScale = pts.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / pts.reduce((s, [x]) => s + (x - mx) ** 2, 0);
const connectSetup = Math.max(0, my - handshakeScale * mx);

// TSQ: skbs of 45 segments a full-rate CUBIC flow keeps queued (iperf3 flow alone, rtt-same-dir)
const cubicQueue = mean(sel("rtt-same-dir", "cubic").map((r) => r.queues[r.env.fwd_if]!.mean_backlog_bytes));
const tsqSkbs = cubicQueue / (TCP_FLUID_DEFAULTS.maxTsoSegs * WIRE);

// BBR steady queue: an established BBR flow alone keeps 2 BDP + extra in flight; BDP ~ 0 here.
// Taken from the queue probes (docs/calibration/queue-probe/), whose every link is shaped as the
// driver shapes them, not from this dumbbell, whose host links are unshaped veths: there a lone
// BBR flow keeps 27 kB, on the driver's topologies 45-51 kB at 2-20 Mbit/s.
const PROBES = join(ROOT, "docs", "calibration", "queue-probe");
/** every BBR queue probe's output, by file name */
const probeTexts = new Map(
  readdirSync(PROBES)
    .filter((f) => f.startsWith("bbr-") && f.endsWith(".txt"))
    .map((f) => [f, readFileSync(join(PROBES, f), "utf8")] as const),
);
// (not the -equal probes: with every link at one rate the queue sits in the sender's own HTB,
// not at the port they sample)
const probeBacklogs = [...probeTexts]
  .filter(([f]) => !f.includes("-equal"))
  .map(([, text]) => {
    // the first flow alone, after its startup: 10-20 s
    const alone = [...text.matchAll(/^\s*([\d.]+) backlog \[\('(\d+)b'/gm)].filter((m) => Number(m[1]) >= 10 && Number(m[1]) <= 20).map((m) => Number(m[2]));
    return median(alone);
  });
const bbrExtraSegs = mean(probeBacklogs) / WIRE;

// A late BBR flow beside the established one (the probes' second flow, whose state each sample
// adds as a Python dict). Its pacing rate over its delivery rate, from 1 s after it started: Linux's
// bandwidth estimate is a max filter of delivery samples, above their mean. Its last min RTT:
// once the first flow's ProbeRTT drained the queue (every probe ran 10 s or more past the late
// start), the stack RTT plus this many 1500-byte packets at the bottleneck's rate.
const lateProbes = [...probeTexts]
  .map(([f, text]) => {
    const samples = [...text.matchAll(/^\s*([\d.]+) backlog .*\| late (\{.*\})$/gm)].map((m) => ({
      t: Number(m[1]),
      ...(JSON.parse(m[2]!.replaceAll("'", '"').replaceAll("None", "null")) as { minrtt: number | null; pacing: number | null; delivery: number | null }),
    }));
    return { rate: Number(/^bbr-([\d.]+)mbps/.exec(f)![1]) * 1e6, equal: f.includes("-equal"), samples };
  })
  .filter((p) => p.samples.length > 0);
// The ratio from the -equal probes only: there the late flow keeps one skb size throughout; in the
// others its pacing hovers about BBR's 1.2 Mbit/s switch between 1- and 2-segment skbs and the
// ratio (1.31-1.62) mixes both states.
const bbrHeldBwRatio = median(lateProbes.filter((p) => p.equal).map((p) => median(p.samples.filter((s) => s.t >= p.samples[0]!.t + 1 && s.pacing && s.delivery).map((s) => s.pacing! / s.delivery!))));
const probeRttPackets = median(lateProbes.map((p) => ((p.samples.at(-1)!.minrtt! / 1e3 - stackRtt) * p.rate) / (8 * 1500)));
// the dumbbell's own steady queue: where its startup measurements (below) count as settled
const bbrQueue = mean(sel("rtt-same-dir", "bbr").map((r) => r.queues[r.env.fwd_if]!.mean_backlog_bytes));

// BBR startup on the emulated stack: plateau of the queue of a lone BBR transfer, its length, the decay
const starts: number[] = [];
const plateaus: number[] = [];
const drains: number[] = [];
for (const r of sel("single", "bbr")) {
  const s = r.queues[r.env.fwd_if]!.series;
  const peak = Math.max(...s.map(([, q]) => q));
  const firstHalfDrop = s.find(([t, q]) => t > 0.2 && q < 0.5 * peak);
  if (!firstHalfDrop) continue;
  const plateau = s.filter(([t]) => t > 0.1 && t < firstHalfDrop[0]).map(([, q]) => q);
  plateaus.push(mean(plateau));
  starts.push(firstHalfDrop[0]);
  const settled = s.find(([t, q]) => t > firstHalfDrop[0] && q <= 1.3 * bbrQueue);
  drains.push((settled ? settled[0] : firstHalfDrop[0]) - firstHalfDrop[0]);
}
const bbrStartupQueue = mean(plateaus) * (TCP_FLUID_DEFAULTS.mss / WIRE);
const bbrStartupTime = mean(starts);
const bbrDrainTime = mean(drains);

const fitted = {
  stackRtt,
  handshakeScale,
  connectSetup,
  tsqSkbs,
  bbrExtraSegs,
  bbrHeldBwRatio,
  probeRttPackets,
  bbrStartupQueue,
  bbrStartupTime,
  bbrDrainTime,
};

const tcpFluidParams: NetworkParams = {
  ...DEFAULT_NETWORK_PARAMS,
  model: "tcp-fluid",
  hostStack: "emulated",
  efficiency,
  tcpHandshakeRtts: 1,
  extra: { ...fitted },
};
const maxMinParams: NetworkParams = {
  // max-min has no queues and no scale: its handshake is tcpHandshakeRtts x propagation RTT
  ...DEFAULT_NETWORK_PARAMS,
  model: "max-min",
  efficiency,
  tcpHandshakeRtts: handshakeScale,
  extra: { connectSetup },
};

// ------------------------------------------------------------------ predictions
interface Row {
  set: "fit" | "validation";
  bw: number;
  cc: string;
  scenario: string;
  what: string;
  measured: number;
  fluid: number;
  maxmin: number;
  kind: "completion" | "rtt";
}
const rows: Row[] = [];
const groups = new Map<string, MeasuredRecord[]>();
for (const r of records) {
  const k = `${r.bw_mbps}|${r.cc}|${r.scenario}`;
  groups.set(k, [...(groups.get(k) ?? []), r]);
}
for (const [, rs] of groups) {
  const r0 = rs[0]!;
  const set = isFit(r0) ? "fit" : "validation";
  if (r0.kind === "rtt") {
    const pf = replay(r0, tcpFluidParams).rtt!;
    const pm = replay(r0, maxMinParams).rtt!;
    for (const mode of ["open", "new"] as const) {
      const m = median(r0.rtts![mode]!);
      rows.push({ set, bw: r0.bw_mbps, cc: r0.cc, scenario: r0.scenario, what: `rtt ${mode} connection`, measured: m, fluid: pf[mode], maxmin: pm[mode], kind: "rtt" });
    }
    continue;
  }
  // transfers: flows in start order (measure.py starts them in list order; each repetition is
  // replayed with its own measured start times, then measured and predicted times are averaged)
  const n = r0.flows!.length;
  const meas: number[][] = Array.from({ length: n }, () => []);
  const fl: number[][] = Array.from({ length: n }, () => []);
  const mm: number[][] = Array.from({ length: n }, () => []);
  for (const r of rs) {
    const m = r.flows!.map((f) => (f.complete ? f.completion_s! : NaN));
    // a flow the model never finishes (within the replay horizon) counts as Infinity: a visible miss
    const finite = (xs: Array<number | null>): number[] => xs.map((x) => (x === null ? Infinity : x));
    const a = finite(replay(r, tcpFluidParams).completions);
    const b = finite(replay(r, maxMinParams).completions);
    for (let i = 0; i < n; i++) {
      meas[i]!.push(m[i]!);
      fl[i]!.push(a[i]!);
      mm[i]!.push(b[i]!);
    }
  }
  for (let i = 0; i < n; i++) {
    const f = r0.flows![i]!;
    const label = n === 1 ? `${f.bytes / 1e6} MB transfer` : `flow ${i + 1} of ${n} (start +${(f.start_s ?? 0).toFixed(1)}s)`;
    rows.push({ set, bw: r0.bw_mbps, cc: r0.cc, scenario: r0.scenario, what: label, measured: mean(meas[i]!), fluid: mean(fl[i]!), maxmin: mean(mm[i]!), kind: "completion" });
  }
}
const err = (p: number, m: number): number => (p - m) / m;

// queues (informational): mean backlog of the bottleneck during each transfer scenario
const queueRows: string[] = [];
for (const [, rs] of groups) {
  const r0 = rs[0]!;
  if (r0.kind !== "transfers") continue;
  const meas = mean(rs.map((r) => r.queues[r.env.fwd_if]!.mean_backlog_bytes));
  const pred = mean(rs.map((r) => replay(r, tcpFluidParams).meanQueue));
  queueRows.push(`| ${r0.bw_mbps} Mbit/s | ${r0.cc} | ${r0.scenario} | ${fmt(meas / 1e3, 1)} kB | ${fmt(pred / 1e3, 1)} kB |`);
}
queueRows.sort();

// ------------------------------------------------------------------ report
const target = (r: Row): number => (r.kind === "completion" ? 0.1 : 0.25);
const lines: string[] = [];
lines.push("# Calibration of the network models on a real Mininet");
lines.push("");
lines.push("Generated by `node --import tsx bench/calibration/fit.ts` from `docs/calibration/measured.jsonl`");
lines.push("(measured with `bench/calibration/run.sh`; set-up, scenarios and model prose: docs/tcp-fluid.md).");
lines.push("");
lines.push("Topology: dumbbell h1,h2,h3 - s1 - s2 - h4,h5,h6; s1-s2 shaped by HTB (Mininet TCLink bw=5 or 10 Mbit/s,");
lines.push("default 1000-packet queue, no netem so no added propagation delay); host links unshaped veths.");
lines.push("Transfers: 5 MB (10 Mbit/s) or 2.5 MB (5 Mbit/s) each; beside an established iperf3 flow 1 MB / 0.5 MB.");
lines.push("Times are from the sender's connect() to the last byte at the receiver, averaged over 2-3 repetitions.");
lines.push("");
lines.push("## Fitted values (fit set: 10 Mbit/s `single`, `same-dir`, `rtt-idle`, `rtt-same-dir`, CUBIC and BBR)");
lines.push("");
lines.push("| parameter | value | from |");
lines.push("|---|---|---|");
lines.push(`| efficiency (goodput / link rate) | ${fmt(efficiency, 4)} | steady slope of lone transfers (${effs.map((e) => fmt(e, 4)).join(", ")}) |`);
lines.push(`| stackRtt | ${fmt(stackRtt * 1e3, 3)} ms | idle request/response, open connection |`);
lines.push(`| handshakeScale | ${fmt(handshakeScale, 3)} | (new - open) = setup + h x RTT(open), idle and loaded paths, 1 handshake round trip |`);
lines.push(`| connectSetup | ${fmt(connectSetup * 1e3, 3)} ms | same fit |`);
lines.push(`| tsqSkbs | ${fmt(tsqSkbs, 3)} | queue a lone CUBIC flow keeps: ${fmt(cubicQueue, 0)} B = tsqSkbs x 45 x ${WIRE} B |`);
lines.push(
  `| bbrExtraSegs | ${fmt(bbrExtraSegs, 2)} | queue a lone established BBR flow keeps where every link is shaped, as the driver shapes them: ${fmt(bbrExtraSegs * WIRE, 0)} B (docs/calibration/queue-probe/; on this dumbbell, unshaped host links and a probe beside it: ${fmt(bbrQueue, 0)} B) |`,
);
lines.push(
  `| bbrHeldBwRatio | ${fmt(bbrHeldBwRatio, 3)} | a late BBR flow's pacing over its delivery rate, median over the queue probes whose links all run at one rate (docs/calibration/queue-probe/) |`,
);
lines.push(
  `| probeRttPackets | ${fmt(probeRttPackets, 2)} | a late BBR flow's min RTT once the established flow's ProbeRTT drained the queue: stackRtt + this many 1500-byte packets at the bottleneck (every queue probe with a late flow) |`,
);
lines.push(`| bbrStartupQueue | ${fmt(bbrStartupQueue, 0)} B | plateau of the queue while a lone BBR transfer starts |`);
lines.push(`| bbrStartupTime | ${fmt(bbrStartupTime, 3)} s | until that queue halves |`);
lines.push(`| bbrDrainTime | ${fmt(bbrDrainTime, 3)} s | from there to the steady queue |`);
lines.push("");
lines.push("## Predicted vs measured");
lines.push("");
lines.push("tcp-fluid: `host-stack: emulated` with the values above. max-min: same efficiency and connection set-up.");
lines.push("Targets for tcp-fluid on the validation set: completion times within 10%, loaded round trips within 25%.");
lines.push("");
lines.push("| set | link | cc | scenario | quantity | measured | tcp-fluid | err | max-min | err |");
lines.push("|---|---|---|---|---|---|---|---|---|---|");
const ord = (r: Row): string => `${r.set === "fit" ? 0 : 1}|${100 - r.bw}|${r.cc}|${r.scenario}|${r.what}`;
rows.sort((a, b) => (ord(a) < ord(b) ? -1 : ord(a) > ord(b) ? 1 : 0));
let missed = 0;
for (const r of rows) {
  const ef = err(r.fluid, r.measured);
  const em = err(r.maxmin, r.measured);
  const loadedRtt = r.kind === "rtt" && !r.scenario.includes("idle");
  const judged = r.set === "validation" && (r.kind === "completion" || loadedRtt);
  const miss = judged && !(Math.abs(ef) <= target(r));
  if (miss) missed++;
  const unit = r.kind === "rtt" ? (x: number): string => `${fmt(x * 1e3, 2)} ms` : (x: number): string => `${fmt(x, 2)} s`;
  lines.push(`| ${r.set} | ${r.bw} Mbit/s | ${r.cc} | ${r.scenario} | ${r.what} | ${unit(r.measured)} | ${unit(r.fluid)} | ${pct(ef)}${miss ? " **miss**" : ""} | ${unit(r.maxmin)} | ${pct(em)} |`);
}
const summarize = (model: "fluid" | "maxmin", kind: Row["kind"], set: Row["set"]): string => {
  const rs = rows.filter((r) => r.kind === kind && r.set === set && (kind === "completion" || !r.scenario.includes("idle")));
  const e = rs.map((r) => Math.abs(err(r[model], r.measured)));
  return `${pct(mean(e))} mean, ${pct(Math.max(...e))} max (${rs.length})`;
};
lines.push("");
lines.push("## Summary (absolute relative error)");
lines.push("");
lines.push("| set | quantity | tcp-fluid | max-min |");
lines.push("|---|---|---|---|");
for (const set of ["fit", "validation"] as const) {
  lines.push(`| ${set} | completion times | ${summarize("fluid", "completion", set)} | ${summarize("maxmin", "completion", set)} |`);
  lines.push(`| ${set} | loaded round trips | ${summarize("fluid", "rtt", set)} | ${summarize("maxmin", "rtt", set)} |`);
}
lines.push("");
lines.push("## Bottleneck queue (s1->s2), mean over each transfer scenario");
lines.push("");
lines.push("Measured: `tc -s` backlog sampled every 0.1 s (wire bytes); tcp-fluid: time average of `linkQueueBytes`.");
lines.push("Not a fitted or judged quantity: it shows the state behind the round trips above. max-min has no queues.");
lines.push("");
lines.push("| link | cc | scenario | measured | tcp-fluid |");
lines.push("|---|---|---|---|---|");
lines.push(...queueRows);
lines.push("");
lines.push(`Validation rows of tcp-fluid outside the target: ${missed}. The reasons are discussed in docs/tcp-fluid.md.`);
lines.push("");
writeFileSync(OUT, lines.join("\n"));
console.log(lines.join("\n"));
console.log(JSON.stringify({ efficiency, ...fitted }, null, 1));
if (process.argv.includes("--check") && missed > 0) process.exit(1);
