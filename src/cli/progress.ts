/**
 * Progress of long work: a bar with rate and ETA on a terminal (cli-progress), plain lines every
 * 10% (at most one every 5 s) otherwise, so logs of batch jobs stay short and readable.
 */
import cliProgress from "cli-progress";
import type { ProgressReporter } from "../experiment/run.ts";

export function progressReporter(label: string, stream: NodeJS.WriteStream = process.stderr, unit = "runs"): ProgressReporter {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      // (the elapsed time is redrawn by the bar's own timer, also in the middle of a long run:
      // simulated runs hand the event loop a turn every 100 ms)
      { format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s | {duration_formatted} | ETA {eta_formatted}`, stream, hideCursor: true, etaBuffer: 200 },
      cliProgress.Presets.shades_classic,
    );
    let t0 = performance.now();
    let base = 0;
    return {
      start: (total, done) => { base = done; t0 = performance.now(); bar.start(total, done, { rate: "0" }); },
      tick: (done) => bar.update(done, { rate: ((done - base) / Math.max(1e-3, (performance.now() - t0) / 1000)).toFixed(0) }),
      stop: () => bar.stop(),
    };
  }
  let total = 0;
  let lastPct = -1;
  let lastAt = 0;
  let t0 = performance.now();
  return {
    start: (n, done) => {
      total = n;
      lastPct = -1;
      t0 = performance.now();
      // from the start, not from process start: a slow start-up must not print the first tick
      lastAt = t0;
      stream.write(`${label}: ${n} ${unit}${done ? `, ${done} already done (resumed)` : ""}\n`);
    },
    tick: (done) => {
      const pct = Math.floor((100 * done) / Math.max(1, total) / 10) * 10;
      const now = performance.now();
      if (pct > lastPct && (now - lastAt > 5000 || done === total)) {
        lastPct = pct;
        lastAt = now;
        stream.write(`${label}: ${done}/${total} ${unit} (${pct}%), ${((now - t0) / 1000).toFixed(1)} s\n`);
      }
    },
    stop: () => undefined,
  };
}
