/**
 * The resumable state of a run in progress: rows of finished plan positions appended to files in
 * `DIR/.migsim-partial/`, and `progress.json` recording how many positions (a prefix of this
 * shard's plan) are complete and the byte length of each file at that point. Rows are appended
 * in plan order only, so after Ctrl-C or a crash the state is "the first P positions", and
 * `--resume` truncates the files to the recorded lengths (dropping any torn tail) and goes on.
 * Completed outputs are moved into place by rename; nothing in DIR is ever half-written.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../core/errors.ts";
import { shellCommand } from "../core/shell.ts";
import { publish, writeAllSync, writeFileAtomic } from "./atomic.ts";
import type { RunIndexEntry } from "./write-manifest.ts";

export interface Progress {
  /** identifies the plan (experiment document, seed, runs, shard); a resume must match it */
  planKey: string;
  done: number;
  bytes: Record<string, number>;
  /** [plan position, runs.csv rows, probes.csv rows] of every complete position, for the manifest */
  index: RunIndexEntry[];
}

const FLUSH_BYTES = 1 << 20;

/** What a run without --resume does with the finished runs of an earlier, unfinished run of its plan. */
export type PreviousRuns = "refuse" | "discard";

/** progress.json; an unreadable one (a crash while it was first written) counts as nothing done */
function readProgress(file: string): Progress | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Progress;
  } catch {
    return undefined;
  }
}

export class PartialOutput {
  readonly dir: string;
  private fds = new Map<string, number>();
  private progress: Progress;
  /** text appended but not yet written: one write per file and commit, not one per run */
  private pending = new Map<string, string[]>();
  private pendingBytes = 0;
  /** finished runs of an earlier partial state that opening this one threw away */
  discarded = 0;

  private constructor(
    readonly outDir: string,
    progress: Progress,
  ) {
    this.dir = join(outDir, ".migsim-partial");
    this.progress = progress;
  }

  /**
   * Starts fresh (removing any earlier partial state) or resumes a matching one. Without
   * `resume`, finished runs of the same plan are not thrown away unless `previous` is "discard":
   * "refuse" says how to continue them instead (a rerun that forgot --resume would otherwise
   * start hours of runs over without a word).
   */
  static open(outDir: string, planKey: string, headers: Record<string, string>, resume: boolean, previous: PreviousRuns = "discard"): PartialOutput {
    const dir = join(outDir, ".migsim-partial");
    const progressFile = join(dir, "progress.json");
    const saved = existsSync(progressFile) ? readProgress(progressFile) : undefined;
    if (!resume && saved && saved.done > 0 && saved.planKey === planKey && previous === "refuse") {
      throw new InputError(
        `${outDir} holds ${saved.done} finished runs of this same experiment, from a run that was interrupted or failed: ` +
          `add --resume to continue them, or delete ${join(outDir, ".migsim-partial")} to start over`,
      );
    }
    if (resume && saved) {
      if (saved.planKey !== planKey) {
        throw new InputError(`--resume: ${outDir} holds a run of a different plan (experiment, seed, runs or shard changed); run without --resume to start over`);
      }
      const out = new PartialOutput(outDir, saved);
      for (const name of Object.keys(headers)) {
        const file = join(dir, name);
        const keep = saved.bytes[name] ?? 0;
        if (!existsSync(file) || statSync(file).size < keep) {
          throw new InputError(`--resume: the partial file ${file} is shorter than its recorded progress; run without --resume to start over`);
        }
        truncateSync(file, keep);
        out.fds.set(name, openSync(file, "a"));
      }
      return out;
    }
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const out = new PartialOutput(outDir, { planKey, done: 0, bytes: {}, index: [] });
    out.discarded = !resume && saved ? saved.done : 0;
    for (const [name, header] of Object.entries(headers)) {
      const fd = openSync(join(dir, name), "w");
      out.fds.set(name, fd);
      out.append(name, header);
    }
    out.commit(0);
    return out;
  }

  /** row counts per complete position (appended by the caller as it appends rows) */
  get index(): RunIndexEntry[] {
    return this.progress.index;
  }

  /** positions already complete (a prefix of the shard's plan) */
  get done(): number {
    return this.progress.done;
  }

  append(name: string, text: string): void {
    if (!text) return;
    const bytes = Buffer.byteLength(text, "utf8");
    let list = this.pending.get(name);
    if (!list) this.pending.set(name, (list = []));
    list.push(text);
    this.progress.bytes[name] = (this.progress.bytes[name] ?? 0) + bytes;
    this.pendingBytes += bytes;
    if (this.pendingBytes > FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    for (const [name, list] of this.pending) {
      const buf = Buffer.from(list.join(""), "utf8");
      writeAllSync(this.fds.get(name)!, buf);
    }
    this.pending.clear();
    this.pendingBytes = 0;
  }

  /** Records that the first `done` positions are complete (data synced before the record). */
  commit(done: number): void {
    this.flush();
    for (const fd of this.fds.values()) fsyncSync(fd);
    this.progress.done = done;
    writeFileAtomic(join(this.dir, "progress.json"), JSON.stringify({ ...this.progress, index: this.progress.index.slice(0, done) }));
  }

  /** Moves the finished files into the output folder and removes the partial state. */
  finish(): void {
    this.flush();
    for (const fd of this.fds.values()) fsyncSync(fd);
    this.closeFiles();
    for (const name of this.fds.keys()) publish(join(this.dir, name), join(this.outDir, name));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Removes the partial state altogether (a run that failed before completing anything). */
  discard(): void {
    this.closeFiles();
    rmSync(this.dir, { recursive: true, force: true });
  }

  closeFiles(): void {
    this.flush();
    for (const fd of this.fds.values()) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
  }
}

/**
 * The command that continues an interrupted run: the original one, every option kept (a dropped
 * `--runs` would make it a different plan, which --resume refuses), plus --resume, each
 * argument shell-quoted so that it can be pasted as printed, started as `program` (the way the
 * user started this one, or `migsim` for a run known only from its manifest).
 */
export function resumeCommand(argv: readonly string[], program: readonly string[]): string {
  const args = argv.includes("--resume") ? [...argv] : [...argv, "--resume"];
  return shellCommand(program[0]!, ...program.slice(1), ...args);
}
