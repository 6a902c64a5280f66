/**
 * Fitting the simulator to calibration measurements. Closed forms where the model is linear
 * (checkpoint and restore: base + size / rate), offsets where a fixed host cost is all that is
 * missing (the copy's start-up, SSH's key exchange, the stateless switch-over), and a search over
 * the simulator itself where the quantity comes out of the network model (goodput efficiency,
 * the late flow's host-stack behaviour, the SFTP per-file requests). Every fitted value carries
 * the measurements it came from and its error on them.
 */
import { mean, sampleStd, theilSen } from "../core/stats.ts";
import { postcopyCloseOf, postcopyImageOf } from "../formats/driver.ts";
import type { ProbeRecord, RunRecord } from "../formats/runspec.ts";
import { loadExperiment } from "../load/read-experiment.ts";
import { PAPER_PROFILE } from "../load/read-profile.ts";
import { calibrationFile, type Measurement } from "./calibration-plan.ts";

/** Field path (as in an experiment: `costs.checkpoint-base`, `network.efficiency`) -> value as written. */
export type Params = Map<string, string | number>;

export interface Fit {
  value: string | number;
  source: string;
  error: string;
  n: number;
  /** why the profile does not use it (cross-validation: the defaults predicted better) */
  fallback?: string;
}

export interface Observed {
  measurement: Measurement;
  records: RunRecord[];
  probes: ProbeRecord[];
}

/** Runs a measurement's experiment on the simulator with `params` on top of the paper profile. */
export type Simulate = (m: Measurement, params: Params) => Promise<{ records: RunRecord[]; probes: ProbeRecord[] }>;

export interface Calibration {
  params: Params;
  fits: Map<string, Fit>;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const sec = (x: number): string => `${Number(x.toFixed(4))}s`;

/** Root mean square of (predicted - measured) / measured. */
function rmsRel(pairs: ReadonlyArray<readonly [number, number]>): number {
  return Math.sqrt(mean(pairs.map(([p, m]) => ((p - m) / m) ** 2)));
}

/**
 * Root mean square of ln(simulated / measured): a factor of 3 too high and 3 too low weigh the
 * same. The loaded fit minimises this, not rmsRel, whose under-estimates stop at 100% while a
 * 10 ms probe simulated at 35 ms counts +250%: two such probes can outweigh totals off by 50%
 * and drive the fit to a wrong gsoHeadOfLine.
 */
function rmsLog(pairs: ReadonlyArray<readonly [number, number]>): number {
  return Math.sqrt(mean(pairs.map(([p, m]) => Math.log(p / m) ** 2)));
}

/** The named checkpoint of a measurement's migration: its setting, or the calibration file's. */
function sizeOf(m: Measurement): number {
  const exp = loadExperiment(calibrationFile(m.file), { set: m.set, profile: PAPER_PROFILE });
  return exp.cells[0]!.base.migrations[0]!.container.checkpoint;
}

function describeRuns(obs: readonly Observed[]): string {
  return obs.map((o) => `${o.measurement.id} (${o.records.length} run${o.records.length === 1 ? "" : "s"})`).join(", ");
}

/**
 * checkpoint and restore: base + size / rate, from every cold migration measured, not only the
 * host-costs ones: those run in the calibration's first 2-3 minutes, and the host's checkpoint time
 * drifts by 10-20% over tens of minutes (docs/profiles.md).
 */
export function fitHostCosts(measured: readonly Observed[], cal: Calibration): void {
  const obs = measured.filter((o) => o.records.some((r) => r.mode === "cold"));
  const xs: number[] = [];
  const cp: number[] = [];
  const rs: number[] = [];
  const over: number[] = [];
  for (const o of obs) {
    const size = sizeOf(o.measurement);
    for (const r of o.records) {
      if (r.mode !== "cold") continue;
      xs.push(size);
      cp.push(r.checkpoint_s);
      rs.push(r.restore_s);
      over.push(r.checkpoint_bytes - size);
    }
  }
  for (const [phase, ys] of [
    ["checkpoint", cp],
    ["restore", rs],
  ] as const) {
    const src = `${phase}_s against the checkpoint size (Theil-Sen): ${describeRuns(obs)}`;
    // robust: one run whose restore stalled (7.1 s among 0.4-0.9 s, calibration of 2026-12-07
    // 19:02) had moved the least-squares base by 0.35 s, and every validated restore with it
    const { a, b } = theilSen(xs, ys);
    const base = Math.max(0, a);
    // a slope at or below 0 means the size did not show in the time: a rate far above the sizes
    const rate = b > 0 ? 1 / b : 1e12;
    const pairs = xs.map((x, i) => [base + x / rate, ys[i]!] as const);
    const err = `rms ${pct(rmsRel(pairs))} over ${xs.length} runs`;
    cal.params.set(`costs.${phase}-base`, sec(base));
    cal.params.set(`costs.${phase}-rate`, `${(rate / 1e6).toFixed(3)}MBps`);
    cal.fits.set(`costs.${phase}-base`, { value: sec(base), source: `intercept of ${src}`, error: err, n: xs.length });
    cal.fits.set(`costs.${phase}-rate`, { value: `${(rate / 1e6).toFixed(3)}MBps`, source: `1 / slope of ${src}`, error: err, n: xs.length });
  }
  const overhead = Math.max(0, Math.round(mean(over)));
  const spread = rangeOf(over);
  cal.params.set("costs.image-overhead", `${overhead}B`);
  cal.fits.set("costs.image-overhead", {
    value: `${overhead}B`,
    source: `checkpoint_bytes (the CRIU folder) minus the named checkpoint: ${describeRuns(obs)}`,
    error: `spread ${spread} B across runs`,
    n: over.length,
  });
  // Post-copy first sends everything but the memory pages (CRIU lazy pages): non-page images
  // like these, until the post-copy measurement counts its own (fitPostcopyImage). Both are far
  // below the 1 MB default, which would put a whole megabyte's copy into post-copy downtime.
  cal.params.set("costs.postcopy-minimal", `${Math.max(1, overhead)}B`);
  cal.fits.set("costs.postcopy-minimal", {
    value: `${Math.max(1, overhead)}B`,
    source: "costs.image-overhead: the non-page CRIU images, what post-copy sends before the restore",
    error: `spread ${spread} B across runs`,
    n: over.length,
  });
}

/**
 * postcopy-minimal and postcopy-files as the testbed counted them: the minimal image folder each
 * post-copy record's note names (bytes and files), mean over the runs. A lazy dump of the live
 * workload is a folder of its own (one process, no page images), far smaller than a cold dump's.
 */
export function fitPostcopyImage(obs: readonly Observed[], cal: Calibration): void {
  const images = obs.flatMap((o) => o.records.flatMap((r) => postcopyImageOf(r.note) ?? []));
  if (images.length === 0) return;
  const src = `the minimal image folder the testbed sent before the lazy restore, ${describeRuns(obs)}`;
  const bytes = images.map((i) => i.bytes);
  const files = images.map((i) => i.files);
  const minimal = `${Math.max(1, Math.round(mean(bytes)))}B`;
  cal.params.set("costs.postcopy-minimal", minimal);
  cal.fits.set("costs.postcopy-minimal", { value: minimal, source: src, error: `spread ${rangeOf(bytes)} B across runs`, n: images.length });
  const count = Math.max(1, Math.round(mean(files)));
  cal.params.set("costs.postcopy-files", count);
  cal.fits.set("costs.postcopy-files", { value: count, source: src, error: `spread ${rangeOf(files)} files across runs`, n: images.length });
}

/**
 * A fixed host cost the model lacks, as the mean gap between measured and simulated `metric`
 * with the parameter at 0 (never below 0).
 */
export async function fitOffset(
  key: string,
  metric: "checkpoint_s" | "transfer_s" | "restore_s" | "downtime_s" | "total_s",
  obs: readonly Observed[],
  cal: Calibration,
  simulate: Simulate,
  why: string,
): Promise<void> {
  cal.params.set(key, "0s");
  const gaps: number[] = [];
  for (const o of obs) {
    const sim = mean((await simulate(o.measurement, cal.params)).records.map((r) => r[metric]));
    for (const r of o.records) gaps.push(r[metric] - sim);
  }
  const value = sec(Math.max(0, mean(gaps)));
  cal.params.set(key, value);
  const pairs: Array<readonly [number, number]> = [];
  for (const o of obs) {
    const sim = mean((await simulate(o.measurement, cal.params)).records.map((r) => r[metric]));
    for (const r of o.records) pairs.push([sim, r[metric]]);
  }
  cal.fits.set(key, { value, source: `${why}: measured minus simulated ${metric} with it at 0, ${describeRuns(obs)}`, error: `rms ${pct(rmsRel(pairs))} on ${metric}`, n: gaps.length });
}

/** Stateless kill and start: measured directly (checkpoint_s is the kill, restore_s the start, on both backends). */
export async function fitStateless(obs: readonly Observed[], cal: Calibration, simulate: Simulate): Promise<void> {
  const records = obs.flatMap((o) => o.records);
  const kill = mean(records.map((r) => r.checkpoint_s));
  const start = mean(records.map((r) => r.restore_s));
  const src = describeRuns(obs);
  cal.params.set("costs.kill", sec(kill));
  cal.params.set("costs.start", sec(start));
  cal.fits.set("costs.kill", { value: sec(kill), source: `checkpoint_s (the kill) of ${src}`, error: `std ${sec(std(records.map((r) => r.checkpoint_s)))}`, n: records.length });
  cal.fits.set("costs.start", { value: sec(start), source: `restore_s (the start) of ${src}`, error: `std ${sec(std(records.map((r) => r.restore_s)))}`, n: records.length });
  cal.params.set("costs.stateless-prepare", "0s");
  await fitOffset("costs.stateless-switchover", "downtime_s", obs, cal, simulate, "work between kill and start");
  await fitOffset("costs.stateless-prepare", "total_s", obs, cal, simulate, "work before the kill");
}

/** largest minus smallest: the spread a profile reports for a measured count or size */
const rangeOf = (xs: readonly number[]): number => Math.max(...xs) - Math.min(...xs);

/** Sample standard deviation; 0 for a single run (no spread seen). */
const std = (xs: readonly number[]): number => (xs.length < 2 ? 0 : sampleStd(xs));

/**
 * postcopy-close: the end of the pull after its last page (the lazy-pages daemon's close handshake
 * with the page server), as the testbed measured it in each post-copy record's note. Measurements
 * from drivers that did not measure it leave the whole gap of transfer_s to it (with no host time
 * per request), as the pull over a fast pair is nearly all close (docs/profiles.md).
 */
export async function fitPostcopyClose(obs: readonly Observed[], cal: Calibration, simulate: Simulate): Promise<void> {
  const key = "costs.postcopy-close";
  const closes = obs.flatMap((o) => o.records.flatMap((r) => postcopyCloseOf(r.note) ?? []));
  const records = obs.reduce((a, o) => a + o.records.length, 0);
  if (closes.length === records && records > 0) {
    const value = sec(mean(closes));
    cal.params.set(key, value);
    cal.fits.set(key, { value, source: `the page server's close after the last page, as the testbed timed it, ${describeRuns(obs)}`, error: `std ${sec(std(closes))}`, n: closes.length });
    await fitPostcopyRequests(obs, cal, simulate);
    return;
  }
  cal.params.set("costs.postcopy-request-cpu", "0s");
  await fitOffset(key, "transfer_s", obs, cal, simulate, "the pull's end after its last page (not timed by this driver)");
}

/**
 * post-copy-request-cpu: the host time per page request that makes the simulated post-copy
 * transfer (minimal state + the pull) last the measured mean, by bisection (the transfer grows
 * with it). On a fast pair the pull is bound by the lazy-pages daemon, not by the network.
 */
async function fitPostcopyRequests(obs: readonly Observed[], cal: Calibration, simulate: Simulate): Promise<void> {
  const key = "costs.postcopy-request-cpu";
  const measured = mean(obs.flatMap((o) => o.records.map((r) => r.transfer_s)));
  const simAt = async (c: number): Promise<number> => {
    cal.params.set(key, sec(c));
    const transfers: number[] = [];
    for (const o of obs) transfers.push(...(await simulate(o.measurement, cal.params)).records.map((x) => x.transfer_s));
    return mean(transfers);
  };
  let lo = 0;
  let hi = 0.1;
  if ((await simAt(0)) >= measured) hi = 0;
  for (let i = 0; i < 24 && hi > 0; i++) {
    const mid = (lo + hi) / 2;
    if ((await simAt(mid)) < measured) lo = mid;
    else hi = mid;
  }
  const value = sec((lo + hi) / 2);
  cal.params.set(key, value);
  const sim = await simAt(Number.parseFloat(value));
  cal.fits.set(key, {
    value,
    source: `post-copy transfer_s (minimal state and the page pull) over the 1 Gbit/s pair, ${describeRuns(obs)}`,
    error: `${pct((sim - measured) / measured)} on the mean transfer_s${hi === 0 ? " (the network alone takes longer: 0)" : ""}`,
    n: obs.reduce((a, o) => a + o.records.length, 0),
  });
}

/** network.efficiency by bisection: the simulated copy time of the idle TCP measurement equals the measured mean. */
export async function fitEfficiency(obs: Observed, cal: Calibration, simulate: Simulate): Promise<void> {
  const measured = mean(obs.records.map((r) => r.transfer_s));
  const simAt = async (e: number): Promise<number> => {
    cal.params.set("network.efficiency", e);
    return mean((await simulate(obs.measurement, cal.params)).records.map((r) => r.transfer_s));
  };
  let lo = 0.5;
  let hi = 1;
  for (let i = 0; i < 16; i++) {
    const mid = (lo + hi) / 2;
    // a higher efficiency means a shorter copy
    if ((await simAt(mid)) > measured) lo = mid;
    else hi = mid;
  }
  const e = Number(((lo + hi) / 2).toFixed(4));
  const sim = await simAt(e);
  cal.fits.set("network.efficiency", {
    value: e,
    source: `idle copy time (transfer_s) by TCP, ${describeRuns([obs])}`,
    error: `${pct((sim - measured) / measured)} on the mean transfer_s${e <= 0.5 || e >= 1 ? " (at the search bound)" : ""}`,
    n: obs.records.length,
  });
}

/**
 * The probes of a measurement over one connection (`open`) or over a new connection each
 * (`new`), as its calibration experiment declares them (experiments/calibration/loaded.yaml).
 */
function probesOf(m: Measurement, probes: readonly ProbeRecord[], kind: "open" | "new"): ProbeRecord[] {
  const fresh = newConnectionPairs(m);
  return probes.filter((p) => fresh.has(`${p.from}>${p.to}`) === (kind === "new"));
}

/** `from>to` of a measurement's probes that open a new connection each; read once per measurement (the grid searches ask for them thousands of times) */
function newConnectionPairs(m: Measurement): ReadonlySet<string> {
  const key = `${m.file} ${m.set.join(" ")}`;
  let pairs = NEW_CONNECTION_PAIRS.get(key);
  if (!pairs) {
    const exp = loadExperiment(calibrationFile(m.file), { set: m.set, profile: PAPER_PROFILE });
    pairs = new Set(exp.cells[0]!.base.probes.filter((p) => p.newConnection).map((p) => `${p.from}>${p.to}`));
    NEW_CONNECTION_PAIRS.set(key, pairs);
  }
  return pairs;
}
const NEW_CONNECTION_PAIRS = new Map<string, ReadonlySet<string>>();

/**
 * The loaded measurements, by a search over the simulator: the late flow's host-stack behaviour
 * (gsoHeadOfLine off/on) and the SFTP requests of the real CRIU folder (checkpoint-files).
 * Objective: mean squared log ratio (simulated / measured) of each measurement's mean total_s, plus
 * the same of its mean probe RTT over one connection; the profile reports the rms relative errors
 * of the choice.
 */
export async function fitLoaded(obs: readonly Observed[], cal: Calibration, simulate: Simulate): Promise<void> {
  const score = async (): Promise<{ objective: number; total: number; rtt: number }> => {
    const totals: Array<readonly [number, number]> = [];
    const rtts: Array<readonly [number, number]> = [];
    for (const o of obs) {
      const s = await simulate(o.measurement, cal.params);
      totals.push([mean(s.records.map((r) => r.total_s)), mean(o.records.map((r) => r.total_s))]);
      const simulated = probesOf(o.measurement, s.probes, "open");
      const measured = probesOf(o.measurement, o.probes, "open");
      if (simulated.length && measured.length) rtts.push([mean(simulated.map((p) => p.rtt_s)), mean(measured.map((p) => p.rtt_s))]);
    }
    const total = rmsRel(totals);
    const rtt = rtts.length ? rmsRel(rtts) : 0;
    const objective = rmsLog(totals) ** 2 + (rtts.length ? rmsLog(rtts) ** 2 : 0);
    return { objective, total, rtt };
  };
  let best: { gso: number; files: number; s: Awaited<ReturnType<typeof score>> } | undefined;
  for (const gso of [0, 1]) {
    for (const files of [1, 11, 22, 33, 44, 55, 66]) {
      cal.params.set("network.extra.gsoHeadOfLine", gso);
      cal.params.set("costs.checkpoint-files", files);
      const s = await score();
      if (!best || s.objective < best.s.objective) best = { gso, files, s };
    }
  }
  cal.params.set("network.extra.gsoHeadOfLine", best!.gso);
  cal.params.set("costs.checkpoint-files", best!.files);
  const src = `mean total_s and probe RTT beside an established flow, ${describeRuns(obs)}; grid gsoHeadOfLine {0, 1} x checkpoint-files {1, 11, ..., 66}`;
  const error = `rms ${pct(best!.s.total)} on total_s, ${pct(best!.s.rtt)} on probe RTT`;
  const n = obs.reduce((a, o) => a + o.records.length, 0);
  cal.fits.set("network.extra.gsoHeadOfLine", { value: best!.gso, source: src, error, n });
  cal.fits.set("costs.checkpoint-files", { value: best!.files, source: src, error, n });
}

/**
 * the handshake scales fitHandshake tries: a new connection's round trips cost 0.3-2 current RTTs
 * each, by 0.05 so that the default (1.35) is among them: a testbed that behaves as the default
 * says gets the default back, and cross-validation does not see a neighbour's error as the fit's
 */
const HANDSHAKE_SCALES = Array.from({ length: 35 }, (_, i) => Number((0.3 + 0.05 * i).toFixed(2)));

/**
 * What a new connection costs on a loaded path, by a search over the simulator: the form
 * (network.extra.handshakeFollowUp: whether its request and answer wait a whole GSO skb behind the
 * handshake's packets, 0 or 1) and the scale (network.extra.handshakeScale: the current round trips
 * each handshake round trip takes) whose simulated mean RTT of the probes that open a new
 * connection each is closest (mean squared log ratio) to the measured one, beside the established
 * flows of the loaded measurements. Not fitted from measurements without such probes
 * (calibrations before 2026-12-07 22:00 UTC): the defaults stay.
 */
export async function fitHandshake(obs: readonly Observed[], cal: Calibration, simulate: Simulate): Promise<void> {
  const scaleKey = "network.extra.handshakeScale";
  const formKey = "network.extra.handshakeFollowUp";
  const measured = obs.flatMap((o) => {
    const fresh = probesOf(o.measurement, o.probes, "new");
    return fresh.length ? [{ o, rtt: mean(fresh.map((p) => p.rtt_s)) }] : [];
  });
  if (measured.length === 0) return;
  let best: { followUp: number; scale: number; objective: number; error: number } | undefined;
  for (const followUp of [0, 1]) {
    for (const scale of HANDSHAKE_SCALES) {
      cal.params.set(formKey, followUp);
      cal.params.set(scaleKey, scale);
      const pairs: Array<readonly [number, number]> = [];
      for (const { o, rtt } of measured) {
        const simulated = probesOf(o.measurement, (await simulate(o.measurement, cal.params)).probes, "new");
        pairs.push([mean(simulated.map((p) => p.rtt_s)), rtt]);
      }
      const objective = rmsLog(pairs);
      if (!best || objective < best.objective) best = { followUp, scale, objective, error: rmsRel(pairs) };
    }
  }
  const b = best!;
  cal.params.set(formKey, b.followUp);
  cal.params.set(scaleKey, b.scale);
  const source = `mean RTT of the probes that open a new connection each, beside an established flow, ${describeRuns(measured.map((m) => m.o))}; grid handshakeFollowUp {0, 1} x handshakeScale ${HANDSHAKE_SCALES[0]}-${HANDSHAKE_SCALES.at(-1)} by 0.05${b.scale === HANDSHAKE_SCALES[0] || b.scale === HANDSHAKE_SCALES.at(-1) ? " (the scale at the grid's bound)" : ""}`;
  const error = `rms ${pct(b.error)} on the new-connection probe RTT`;
  cal.fits.set(formKey, { value: b.followUp, source, error, n: measured.length });
  cal.fits.set(scaleKey, { value: b.scale, source, error, n: measured.length });
}
