/**
 * The streaming sink of `migsim run`: runs.csv and probes.csv written in plan order while runs
 * finish in any order, plus the index of what was written (plan index -> number of rows in each
 * file), which goes into manifest.json so that `migsim merge` can interleave shards exactly and
 * `--resume` knows what is complete.
 */
import type { ProbeRecord, RunRecord } from "../runspec.ts";
import { CsvFileWriter, probeColumns, probeRowValues, runColumns, runRowValues } from "./csv.ts";
import { OrderedBuffer } from "./ordered.ts";
import { join } from "node:path";

/** [plan index, runs.csv rows, probes.csv rows] */
export type RunIndexEntry = [number, number, number];

export interface RunOutputOptions {
  dir: string;
  /** sweep axis names, experiment order */
  axes: readonly string[];
  /** plan indices this process will write, in plan order (see plan.ts shardIndices) */
  order: readonly number[];
}

interface Pending {
  runs: unknown[][];
  probes: unknown[][];
}

export class RunOutputWriter {
  readonly axes: readonly string[];
  private readonly runs: CsvFileWriter;
  private readonly probes: CsvFileWriter;
  private readonly buffer: OrderedBuffer<Pending>;
  private readonly index: RunIndexEntry[] = [];

  private constructor(axes: readonly string[], runs: CsvFileWriter, probes: CsvFileWriter, order: readonly number[]) {
    this.axes = axes;
    this.runs = runs;
    this.probes = probes;
    this.buffer = new OrderedBuffer<Pending>(order, async (p, k) => {
      await this.runs.writeRows(p.runs);
      await this.probes.writeRows(p.probes);
      this.index.push([k, p.runs.length, p.probes.length]);
    });
  }

  static async open(opts: RunOutputOptions): Promise<RunOutputWriter> {
    const runs = await CsvFileWriter.open(join(opts.dir, "runs.csv"), runColumns(opts.axes));
    let probes: CsvFileWriter;
    try {
      probes = await CsvFileWriter.open(join(opts.dir, "probes.csv"), probeColumns());
    } catch (e) {
      await runs.abort();
      throw e;
    }
    return new RunOutputWriter(opts.axes, runs, probes, opts.order);
  }

  /** The result of plan index k (any order); its rows are written once all earlier ones are. */
  push(k: number, result: { records: readonly RunRecord[]; probes: readonly ProbeRecord[] }, axes: Record<string, string>, policy: string): Promise<void> {
    return this.buffer.push(k, {
      runs: result.records.map((r) => runRowValues(r, axes, this.axes)),
      probes: result.probes.map((p) => probeRowValues(p, policy)),
    });
  }

  /** Rows copied verbatim from an earlier output (resume, merge): cells as strings. */
  pushRaw(k: number, runs: string[][], probes: string[][]): Promise<void> {
    return this.buffer.push(k, { runs, probes });
  }

  /** Runs still waiting for an earlier plan index. */
  get pending(): number {
    return this.buffer.pending;
  }

  /** What has been written so far: [plan index, run rows, probe rows] in plan order. */
  written(): RunIndexEntry[] {
    return this.index.map((e) => [...e] as RunIndexEntry);
  }

  /** Finish both files (rename into place); fails, leaving no file, if a plan index is missing. */
  async close(): Promise<RunIndexEntry[]> {
    try {
      await this.buffer.finish();
    } catch (e) {
      await this.abort();
      throw e;
    }
    await this.runs.close();
    await this.probes.close();
    return this.written();
  }

  /**
   * Stop without completing the plan (interrupt): the rows delivered so far are committed, so a
   * later --resume can keep them; `written()` says which runs they are.
   */
  async closePartial(): Promise<RunIndexEntry[]> {
    await this.buffer.finish().catch(() => undefined);
    await this.runs.close();
    await this.probes.close();
    return this.written();
  }

  async abort(): Promise<void> {
    await this.runs.abort();
    await this.probes.abort();
  }
}
