/**
 * Atomic file output: every file of an output folder is written under a hidden temporary name in
 * the same directory, flushed to disk, and renamed over its final name. A reader (or a crash, or
 * a Slurm time limit) therefore sees either the previous complete file or the new complete file,
 * never half of one. rename(2) is atomic only within one file system, hence the temporary files
 * live beside their targets.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

let counter = 0;

/** `.name.tmp-<pid>-<n>`: hidden, unique per process, recognisable by `removeStaleTemps`. */
function tempNameFor(path: string): string {
  counter += 1;
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${counter}`);
}

const TEMP_PATTERN = /^\..+\.tmp-(\d+)-\d+$/;

/** Durably record a rename: fsync the directory (ignored where directories cannot be opened). */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // some file systems refuse fsync on directories; the rename itself is still atomic
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes all of `data` at the file's current position (writeSync may write less than asked). */
export function writeAllSync(fd: number, data: string | Uint8Array): void {
  const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/**
 * The one way an output appears under its final name: a temporary beside it, already written and
 * fsynced, renamed over it, then the directory fsynced so the rename survives a crash.
 */
export function publish(tempPath: string, path: string): void {
  renameSync(tempPath, path);
  syncDir(dirname(path));
}

/**
 * Write `data` to `path` atomically (temp file + fsync + rename), creating parent folders unless
 * `createFolders` is false (a path the user named, whose missing folder is a typo).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, createFolders = true): void {
  if (createFolders) mkdirSync(dirname(path), { recursive: true });
  const tmp = tempNameFor(path);
  const fd = openSync(tmp, "wx", 0o644);
  try {
    writeAllSync(fd, data);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    publish(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * A file written in pieces (a CSV stream) that appears under its final name only on `commit()`.
 * `abort()` removes the temporary file; a file neither committed nor aborted (a crash) leaves a
 * hidden temporary that `removeStaleTemps` cleans up later.
 */
export class AtomicFile {
  readonly path: string;
  readonly tempPath: string;
  private handle: FileHandle | undefined;
  private done = false;

  private constructor(path: string, handle: FileHandle, tempPath: string) {
    this.path = path;
    this.handle = handle;
    this.tempPath = tempPath;
  }

  static async open(path: string): Promise<AtomicFile> {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = tempNameFor(path);
    const handle = await open(tmp, "wx", 0o644);
    return new AtomicFile(path, handle, tmp);
  }

  async write(chunk: string | Uint8Array): Promise<void> {
    if (!this.handle) throw new Error(`write after close of ${this.path}`);
    const buf = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await this.handle.write(buf, off, buf.length - off);
      off += bytesWritten;
    }
  }

  async commit(): Promise<void> {
    if (this.done) throw new Error(`${this.path} already closed`);
    this.done = true;
    const h = this.handle!;
    this.handle = undefined;
    try {
      await h.sync();
    } finally {
      await h.close();
    }
    publish(this.tempPath, this.path);
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    const h = this.handle;
    this.handle = undefined;
    if (h) await h.close().catch(() => undefined);
    rmSync(this.tempPath, { force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Remove temporaries left in `dir` (and `dir/plots`) by writers that died: those whose pid is not
 * a live process. Temporaries of live writers (a parallel shard writing into the same folder by
 * mistake) are left alone. Returns the removed paths.
 */
export function removeStaleTemps(dir: string, subdirs: readonly string[] = ["plots"]): string[] {
  const removed: string[] = [];
  for (const d of [dir, ...subdirs.map((s) => join(dir, s))]) {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const name of names) {
      const m = TEMP_PATTERN.exec(name);
      if (!m) continue;
      const pid = Number(m[1]);
      if (pid === process.pid || !processAlive(pid)) {
        rmSync(join(d, name), { force: true });
        removed.push(join(d, name));
      }
    }
  }
  return removed.sort();
}
