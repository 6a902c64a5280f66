/**
 * Progress of long work: a bar with rate and ETA on a terminal (cli-progress), plain lines every
 * 10% (at most one every 5 s) otherwise, so logs of batch jobs stay short and readable. A run that
 * takes long (a data-center run with tcp-fluid: minutes) also shows how far it has come: on the
 * bar, and in a plain line at most every 30 s. After the runs, a line says what is being written
 * (the plots of a large sweep take seconds after the bar has reached 100%).
 */
import cliProgress from "cli-progress";
import type { ProgressReporter } from "../run/index.ts";
import type { RunProgress } from "../formats/index.ts";

/** wall-clock milliseconds between two plain lines about a run in flight */
const IN_RUN_LINE_MS = 30_000;
/** the pre-run check says how far it has come only once it has taken this long, and then this often */
const CHECK_QUIET_MS = 2_000;
const CHECK_LINE_MS = 5_000;

/**
 * Lines about the pre-run check (before the runs, so plain lines on a terminal too): none for a
 * check of under 2 s, then one every 5 s.
 */
function checkLines(label: string, stream: NodeJS.WriteStream, clock: () => number): (done: number, total: number) => void {
  const t0 = clock();
  let lastAt = t0 + CHECK_QUIET_MS - CHECK_LINE_MS;
  return (done, total) => {
    const now = clock();
    if (now - lastAt < CHECK_LINE_MS || done >= total) return;
    lastAt = now;
    stream.write(`${label}: checking the policies before the runs: ${done}/${total} trial decisions, ${((now - t0) / 1000).toFixed(1)} s\n`);
  };
}

/** "12.3 s simulated, 420/1000 migrations done" */
function describeRunProgress(p: RunProgress): string {
  return `${p.simulated.toFixed(1)} s simulated, ${p.migrationsDone}/${p.migrations} migrations done`;
}

export function progressReporter(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
  unit = "runs",
  /** milliseconds, for the plain lines' pacing (tests pass their own clock) */
  clock: () => number = () => performance.now(),
): ProgressReporter {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      // (the elapsed time is redrawn by the bar's own timer, also in the middle of a long run:
      // simulated runs hand the event loop a turn every 100 ms)
      { format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s | {duration_formatted} | ETA {eta_formatted}{inRun}`, stream, hideCursor: true, etaBuffer: 200 },
      cliProgress.Presets.shades_classic,
    );
    let t0 = clock();
    let base = 0;
    return {
      start: (total, done) => {
        base = done;
        t0 = clock();
        bar.start(total, done, { rate: "0", inRun: "" });
      },
      tick: (done) => bar.update(done, { rate: ((done - base) / Math.max(1e-3, (clock() - t0) / 1000)).toFixed(0), inRun: "" }),
      inRun: (p) => bar.update({ inRun: p ? ` | run in flight: ${describeRunProgress(p)}` : "" }),
      checking: checkLines(label, stream, clock),
      stop: () => bar.stop(),
      writing: (what) => stream.write(`${label}: ${what}\n`),
    };
  }
  let total = 0;
  let lastPct = -1;
  let lastAt = 0;
  let t0 = clock();
  const elapsed = (now: number): string => `${((now - t0) / 1000).toFixed(1)} s`;
  return {
    start: (n, done) => {
      total = n;
      lastPct = -1;
      t0 = clock();
      // from the start, not from process start: a slow start-up must not print the first tick
      lastAt = t0;
      stream.write(`${label}: ${n} ${unit}${done ? `, ${done} already done (resumed)` : ""}\n`);
    },
    tick: (done) => {
      const pct = Math.floor((100 * done) / Math.max(1, total) / 10) * 10;
      const now = clock();
      if (pct > lastPct && (now - lastAt > 5000 || done === total)) {
        lastPct = pct;
        lastAt = now;
        stream.write(`${label}: ${done}/${total} ${unit} (${pct}%), ${elapsed(now)}\n`);
      }
    },
    inRun: (p) => {
      const now = clock();
      if (!p || now - lastAt < IN_RUN_LINE_MS) return;
      lastAt = now;
      stream.write(`${label}: run in flight: ${describeRunProgress(p)}, ${elapsed(now)}\n`);
    },
    checking: checkLines(label, stream, clock),
    stop: () => undefined,
    writing: (what) => stream.write(`${label}: ${what}\n`),
  };
}
