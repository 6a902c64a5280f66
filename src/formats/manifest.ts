/**
 * manifest.json, the record of how an output folder came to be, as one zod schema: the Manifest
 * type is inferred from it, `migsim merge` and `--resume` read manifests back through it, and
 * docs/outputs.md's field table is generated from its descriptions.
 */
import { z } from "zod";

export const MANIFEST_FORMAT = 1;

const count = z.number().int().nonnegative();

export const ShardSchema = z.object({
  index: z.number().int().positive().meta({ description: "1-based shard number" }),
  count: z.number().int().positive().meta({ description: "shards of the sweep" }),
});
export type Shard = z.infer<typeof ShardSchema>;

/** What the output side knows about a plan: its shape and, in a manifest, the shard slice. */
export const PlanSummarySchema = z.object({
  cells: z.array(z.string()).meta({ description: "cell ids in plan order" }),
  axes: z.array(z.string()).meta({ description: "sweep axis names in the experiment's order (the runs.csv axis columns)" }),
  policies: z.array(z.string()).meta({ description: "policy names in plan order" }),
  runsPerCell: count.meta({ description: "runs per cell and policy" }),
  totalRuns: count.meta({ description: "plan indices (runs) of the whole plan, all shards together" }),
});
export type PlanSummary = z.infer<typeof PlanSummarySchema>;

export const InputFileSchema = z.object({ path: z.string().meta({ description: "absolute path" }), sha256: z.string() });
export type InputFile = z.infer<typeof InputFileSchema>;

export const ProfileEntrySchema = z.object({
  name: z.string(),
  file: z.string().nullable().meta({ description: "null for a built-in profile" }),
  sha256: z.string().meta({ description: "hash of what was applied" }),
});
export type ProfileEntry = z.infer<typeof ProfileEntrySchema>;

/** [plan index, runs.csv rows, probes.csv rows] of one complete plan position. */
export const RunIndexEntrySchema = z.tuple([count, count, count]);
export type RunIndexEntry = z.infer<typeof RunIndexEntrySchema>;

const referenceValue = z.object({ mean: z.number(), ci: z.number() });

export const ManifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT).meta({ description: "manifest format version" }),
  tool: z.literal("migsim"),
  experiment: z.string().meta({ description: "experiment name" }),
  backend: z.string().meta({ description: "`sim` or `mininet`" }),
  versions: z.object({ migsim: z.string(), node: z.string(), dependencies: z.record(z.string(), z.string()) }).meta({ description: "migsim, node and every runtime dependency as installed" }),
  command: z.array(z.string()).meta({ description: "the command line (argv after `node`), as typed" }),
  cwd: z.string().meta({ description: "the working folder of the command" }),
  inputs: z
    .object({
      files: z.array(InputFileSchema).meta({ description: "every input file with its SHA-256" }),
      resolved: z.unknown().optional().meta({ description: "the resolved experiment as the planner saw it" }),
    })
    .meta({ description: "what the run read" }),
  seed: z.number().meta({ description: "experiment seed (run seeds derive from it and the run index)" }),
  profile: ProfileEntrySchema.optional().meta({ description: "the testbed profile applied under the experiment's network and costs" }),
  reference: z
    .record(z.string(), z.union([z.string(), referenceValue, z.record(z.string(), referenceValue.optional())]).optional())
    .optional()
    .meta({ description: "the experiment's reference block, kept so that merge can rebuild summary.md" }),
  plan: PlanSummarySchema.extend({ shard: ShardSchema.nullable().meta({ description: "this folder's shard, null for the whole plan" }) }).meta({
    description: "the plan's shape: what merge checks the shards against",
  }),
  runs: z.array(RunIndexEntrySchema).meta({ description: "[plan index, runs.csv rows, probes.csv rows] of every run in this folder, plan order" }),
  completedCells: z.array(z.string()).meta({ description: "cells whose runs (of this shard) are all in runs.csv: --resume skips them" }),
  startedAt: z.string().meta({ description: "start, ISO 8601" }),
  finishedAt: z.string().meta({ description: "end, ISO 8601" }),
  wallSeconds: z.number().meta({ description: "wall time, seconds" }),
  host: z.object({ hostname: z.string(), platform: z.string(), arch: z.string(), cpus: z.number() }).meta({ description: "the machine" }),
  mergedFrom: z.array(z.string()).optional().meta({ description: "set by merge: the shard folders joined, in shard order" }),
});
export type Manifest = z.infer<typeof ManifestSchema>;
