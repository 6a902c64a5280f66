/**
 * What the output side knows about a plan: its shape (cells, policies, runs per cell) and the
 * shard slice. Plan indices run 0..total-1 in plan order; `--shard i/N` is 1-based
 * (1 <= i <= N) and holds the plan indices k with k mod N = i - 1, so every shard gets a
 * near-equal share of every cell and shard i of N never depends on the worker count.
 */
import { InputError } from "../core/errors.ts";
import type { Shard } from "../formats/manifest.ts";

export type { Shard } from "../formats/manifest.ts";

export function parseShard(text: string, field = "--shard"): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new InputError(`expected i/N with 1 <= i <= N (e.g. 1/4), got "${text}"`, { field });
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) {
    throw new InputError(`expected i/N with 1 <= i <= N, got "${text}"`, { field });
  }
  return { index, count };
}

export function formatShard(s: Shard): string {
  return `${s.index}/${s.count}`;
}

/** The shard rule: the shard (1-based) that plan index k belongs to. */
export function shardOf(k: number, count: number): number {
  return (k % count) + 1;
}

/** Plan indices of one shard, in plan order (all indices when shard is undefined). */
export function shardIndices(totalRuns: number, shard?: Shard): number[] {
  const out: number[] = [];
  for (let k = 0; k < totalRuns; k++) if (!shard || shardOf(k, shard.count) === shard.index) out.push(k);
  return out;
}
