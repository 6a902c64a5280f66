/**
 * The records a run produces, as the rows of runs.csv, probes.csv and failed.csv: one zod schema
 * each, with every column's meaning and unit. The record types are inferred from them, the CSV
 * headers are their field lists (in schema order), docs/outputs.md's column tables are generated
 * from them, and the testbed driver checks each record it emits against their JSON Schema
 * (backends/mininet/driver/schemas/record.schema.json).
 */
import { z } from "zod";
import { MigrationModeSchema, TransportSchema } from "./modes.ts";

const seconds = (description: string) => z.number().nonnegative().meta({ description, unit: "s" });
const count = (description: string, unit = "") => z.number().int().nonnegative().meta({ description, unit });
const text = (description: string) => z.string().meta({ description });

/** Which run a row belongs to: the first columns of runs.csv and failed.csv. */
export const RunKeySchema = z.object({
  experiment: text("experiment name"),
  cell: text("cell id (`default`, or `axis=value&...` of the sweep)"),
  backend: text("`sim` or `mininet`"),
  policy: text("policy name"),
  run: count("run index in the cell"),
  seed: count("the run's seed = hash(experiment seed, run): the same in every cell and for every policy (common random numbers: [what is paired with what](#what-is-paired-with-what))"),
});

/** The columns of runs.csv before the sweep-axis columns, after the run key. */
const RunMeasuresSchema = z.object({
  container: text("the migrated container"),
  source: text("the host it ran on"),
  destination: text("the host the policy chose"),
  trigger_s: seconds("simulated time the trigger fired"),
  decision_s: seconds("MTD set-up + key retrieval + decision computation"),
  key_retrieval_s: seconds("the sequential key requests (part of decision_s)"),
  checkpoint_s: seconds("checkpoint (stateless: the kill)"),
  transfer_s: seconds("connection set-up and checkpoint transfer (all rounds for pre-copy)"),
  restore_s: seconds("restore (stateless: the start)"),
  downtime_s: seconds("per mode, docs/migration.md"),
  total_s: seconds("trigger to SUCCESS"),
  checkpoint_bytes: count("raw checkpoint", "B"),
  transferred_bytes: count("bytes on the wire (compression, pre-copy rounds)", "B"),
  path_hops: count("links of the source -> destination route", "links"),
  bottleneck_bps: z.number().meta({ description: "the route's smallest link capacity", unit: "bit/s" }),
});

/** The columns of runs.csv after the sweep-axis columns. */
const RunExtrasSchema = z.object({
  mode: MigrationModeSchema.meta({ description: "migration mode" }),
  transport: TransportSchema.meta({ description: "how the checkpoint travelled" }),
  setup_s: seconds("MTD set-up (the manager re-keying the hosts; part of decision_s)"),
  rounds: count("pre-copy rounds"),
  converged: z.boolean().meta({ description: "pre-copy: false when the round limit stopped it" }),
  note: text("what the policy decided and why (never secrets)"),
  control_s: seconds("MIGRATE + SUCCESS control messages"),
  prepare_s: seconds("stateless fixed steps (preparation and switch-over)"),
  redirect_s: seconds("absolute time the service's traffic was redirected to the destination"),
});

/** One row of runs.csv: the run key, the measures, one column per sweep axis, then the extras. */
export const RunRecordSchema = RunKeySchema.extend(RunMeasuresSchema.shape).extend(RunExtrasSchema.shape);
export type RunRecord = z.infer<typeof RunRecordSchema>;

/** runs.csv columns before the sweep axes, and after them. */
export const RUN_COLUMNS = [...Object.keys(RunKeySchema.shape), ...Object.keys(RunMeasuresSchema.shape)] as (keyof RunRecord)[];
export const RUN_EXTRA_COLUMNS = Object.keys(RunExtrasSchema.shape) as (keyof RunRecord)[];

/** One probe as a backend returns it. */
export const ProbeRecordSchema = z.object({
  experiment: text("experiment name"),
  cell: text("cell id"),
  backend: text("`sim` or `mininet`"),
  run: count("run index in the cell"),
  from: text("host sending the request"),
  to: text("host answering it"),
  sent_s: z.number().meta({ description: "time the request was sent", unit: "s" }),
  rtt_s: seconds("request to response"),
});
export type ProbeRecord = z.infer<typeof ProbeRecordSchema>;

/**
 * One row of probes.csv: a ProbeRecord plus the run's policy (which the plan, not the backend,
 * knows), so that the probe rows of the policies of one cell can be told apart.
 */
export const ProbeRowSchema = z.object({
  ...ProbeRecordSchema.pick({ experiment: true, cell: true, backend: true }).shape,
  policy: text("policy name (every policy of a cell runs the same probes)"),
  ...ProbeRecordSchema.omit({ experiment: true, cell: true, backend: true }).shape,
});
export const PROBE_COLUMNS = Object.keys(ProbeRowSchema.shape) as (keyof ProbeRecord | "policy")[];

/**
 * A run that could not finish (on a testbed: a step that failed or hung, a run past its deadline).
 * The run's records are dropped, since its migrations did not all complete under the protocol; the
 * failure is kept instead, so the other runs go on and the report lists it (failed.csv).
 */
export const RunFailureSchema = RunKeySchema.extend({
  migration: z.number().int().min(-1).meta({ description: "index of the migration that failed (0-based, experiment order); -1 when the run failed outside one" }),
  phase: text(
    "what it was doing: `set-up`, `trigger`, `decision`, `MIGRATE message`, `checkpoint`, `transfer`, `restore`, `kill`, `start`, `SUCCESS message`, `redirect`, `clean-up`, or `deadline`/`driver` for the run as a whole",
  ),
  message: text("the driver's error, e.g. `migration 0 (app), phase checkpoint: checkpoint hung: docker checkpoint create did not finish within 30 s`"),
  censored_after_s: z.number().optional().meta({
    description:
      "only for a run ended at its deadline while the migration was under way: seconds since its trigger, a lower bound on its total (a censored observation; `validate --random` counts it as a miss of known sign); empty otherwise",
    unit: "s",
  }),
  bytes_moved: z
    .number()
    .int()
    .optional()
    .meta({ description: "with censored_after_s: what the migration's copy had delivered to the destination by the deadline (0 before its transfer)", unit: "B" }),
});
export type RunFailure = z.infer<typeof RunFailureSchema>;
export const FAILURE_COLUMNS = Object.keys(RunFailureSchema.shape) as (keyof RunFailure)[];
