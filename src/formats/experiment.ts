/**
 * The experiment file format, as zod schemas over the raw YAML; docs/format.md is generated from
 * them (`npm run docs:format`), so every field's description, unit and default lives here.
 * Quantities stay strings here; load.ts converts them with units and locates every error.
 * Strict objects everywhere: an unknown (misspelt) field is an error, never silently ignored.
 */
import { z } from "zod";
import { BOOTSTRAP_RESAMPLES, INTERVAL_METHODS } from "../core/stats.ts";
import { DEFAULT_NETWORK_PARAMS as NET, MODEL_NAMES } from "../network/network-model.ts";
import { MigrationModeSchema, TransportSchema } from "./modes.ts";
import { quantity } from "./quantity.ts";

const name = z.string().min(1);

/**
 * What the loader uses for a field a file leaves out (base units: seconds, bytes, bit/s); the
 * format reference shows these values. Network defaults are the model's (DEFAULT_NETWORK_PARAMS),
 * cost defaults the cost model's (DEFAULT_COSTS).
 */
export const EXPERIMENT_DEFAULTS = {
  runs: 20,
  seed: 1,
  horizon: 3600,
  period: 1,
  profile: "paper",
  ci: "t",
  mode: "cold",
  transport: "ssh",
  triggerSamples: 1,
  trafficStart: 0,
  dirtyRate: 0,
  probeBytes: 100,
  probeEvery: 1,
  probeCount: 1,
  probeNewConnection: false,
} as const;
const D = EXPERIMENT_DEFAULTS;

export const NETWORK_SCHEMA = z.strictObject({
  model: z.enum(MODEL_NAMES).optional().meta({ description: "network model (docs/network.md, docs/tcp-fluid.md)", default: NET.model }),
  "congestion-control": z.enum(["cubic", "bbr", "reno"]).optional().meta({ description: "TCP congestion control of every elastic flow (tcp-fluid)", default: NET.congestionControl }),
  "host-stack": z
    .enum(["emulated", "physical"])
    .optional()
    .meta({ description: "emulated: all hosts share one kernel, as in Mininet; physical: one stack per host (tcp-fluid)", default: NET.hostStack }),
  routing: z.enum(["hops", "latency"]).optional().meta({ description: "shortest paths by hop count or by propagation delay; ties break to the smaller node id", default: NET.routing }),
  efficiency: z
    .number()
    .gt(0)
    .lte(1)
    .optional()
    .meta({ description: "goodput / link rate of elastic flows (framing overhead)", unit: "ratio", default: String(NET.efficiency) }),
  "tcp-handshake-rtts": z
    .number()
    .int()
    .min(0)
    .optional()
    .meta({ description: "round trips to open a TCP connection", unit: "round trips", default: String(NET.tcpHandshakeRtts) }),
  extra: z.record(z.string(), z.number()).optional().meta({ description: "model-specific calibrated parameters by name (docs/tcp-fluid.md lists tcp-fluid's)", default: "none" }),
});

const TRAFFIC_SCHEMA = z.strictObject({
  from: name.meta({ description: "sending host" }),
  to: name.meta({ description: "receiving host" }),
  kind: z.enum(["tcp", "udp"]).meta({ description: "tcp: elastic (congestion controlled); udp: constant rate" }),
  rate: quantity.optional().meta({ description: "sending rate of a udp flow (required for udp, refused for tcp)", unit: "rate" }),
  bytes: quantity.optional().meta({ description: "size of a finite tcp transfer", unit: "size", default: "endless" }),
  start: quantity.optional().meta({ description: "start time", unit: "duration", default: `${D.trafficStart}s` }),
  stop: quantity.optional().meta({ description: "stop time, after start", unit: "duration", default: "never" }),
  service: name.optional().meta({ description: "the migrated container this flow serves: after SUCCESS its end at the source moves to the destination" }),
});

const CONTAINER_SCHEMA = z.strictObject({
  name: name.meta({ description: "container name, unique in the experiment" }),
  checkpoint: quantity.optional().meta({ description: "checkpoint image size (required unless stateless)", unit: "size", default: "0B for stateless" }),
  memory: quantity.optional().meta({
    description: "the working set: memory pages sent in pre-copy's first round (required for pre-copy); on the testbed, the bytes its live-migration workload re-dirties",
    unit: "size",
    default: "checkpoint",
  }),
  "dirty-rate": quantity.optional().meta({
    description: "rate at which the running container dirties its working set (pre-copy rounds, post-copy faults; the testbed's live-migration workload writes at it)",
    unit: "rate",
    default: `${D.dirtyRate}bps`,
  }),
});

/** how many consecutive samples a threshold trigger needs, the same for a port and a switch */
const TRIGGER_SAMPLES = z
  .number()
  .int()
  .min(1)
  .optional()
  .meta({ description: "consecutive measurement samples above the threshold", unit: "samples", default: String(D.triggerSamples) });

const TRIGGER_SCHEMA = z.union([
  z.strictObject({ at: quantity.meta({ description: "time trigger: migrate at this time", unit: "duration" }) }),
  z.strictObject({
    port: name.meta({ description: "port trigger: a port name such as s1-eth2 (`migsim topo FILE --paths` shows them)" }),
    above: quantity.meta({ description: "port trigger: fires when the port's measured rate is above this", unit: "rate" }),
    for: TRIGGER_SAMPLES,
  }),
  z.strictObject({
    switch: name.meta({ description: "switch trigger: a switch name" }),
    above: quantity.meta({ description: "switch trigger: fires when the switch forwards more packets per second than this", unit: "packets/s" }),
    for: TRIGGER_SAMPLES,
  }),
]);

const MIGRATION_SCHEMA = z.strictObject({
  container: CONTAINER_SCHEMA.meta({ description: "the migrated container" }),
  source: name.meta({ description: "host the container runs on" }),
  candidates: z
    .union([z.literal("all"), z.array(name)])
    .optional()
    .meta({ description: "hosts the policy may choose (the source excluded; unreachable ones dropped)", default: "all" }),
  destination: name.optional().meta({ description: "the destination for the `fixed` policy" }),
  trigger: TRIGGER_SCHEMA.meta({ description: "when the migration starts: `at`, or a port or switch threshold" }),
  mode: MigrationModeSchema.optional().meta({ description: "migration mode (docs/migration.md)", default: D.mode }),
  transport: TransportSchema.optional().meta({ description: "how the checkpoint travels: SSH/SFTP or a plain TCP stream", default: D.transport }),
});

const PROBE_SCHEMA = z.strictObject({
  from: name.meta({ description: "host sending the request" }),
  to: name.meta({ description: "host answering it" }),
  at: quantity.meta({ description: "time of the first probe", unit: "duration" }),
  bytes: quantity.optional().meta({ description: "request and response size", unit: "size", default: `${D.probeBytes}B` }),
  every: quantity.optional().meta({ description: "interval between probes", unit: "duration", default: `${D.probeEvery}s` }),
  count: z
    .number()
    .int()
    .min(1)
    .optional()
    .meta({ description: "number of probes", default: String(D.probeCount) }),
  "new-connection": z
    .boolean()
    .optional()
    .meta({ description: "open a new TCP connection for every probe (the first always opens one)", default: String(D.probeNewConnection) }),
});

/** A policy: its name, or a one-key mapping name -> parameters (a plugin names `plugin: path`). */
const POLICY_ENTRY_SCHEMA = z.union([name, z.record(name, z.record(z.string(), z.unknown()).nullable())]).meta({
  description: "a policy name, or a one-key mapping from the name to its parameters (docs/policies.md)",
});

/** Cost parameters: keys and units are checked by costsFromBlock (src/migration/costs.ts). */
export const COSTS_SCHEMA = z.record(z.string(), z.unknown());

const REFERENCE_VALUE_SCHEMA = z.strictObject({ mean: z.number(), ci: z.number().min(0).optional() });
/** A policy's reference: total_s directly, or per metric (`downtime_s: { mean, ci }`). */
const REFERENCE_ENTRY_SCHEMA = z.union([REFERENCE_VALUE_SCHEMA, z.record(z.string().regex(/_s$/), REFERENCE_VALUE_SCHEMA)]);

export const EXPERIMENT_SCHEMA = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, "expected a name of letters, digits, _ . -")
    .meta({ description: "experiment name (letters, digits, _ . -): the `experiment` column of the outputs" }),
  description: z.string().optional().meta({ description: "free text" }),
  topology: z.union([z.string(), z.record(z.string(), z.unknown())]).meta({ description: "a topology file (relative to the experiment) or a topology inline (see Topology)" }),
  runs: z
    .number()
    .int()
    .min(1)
    .optional()
    .meta({ description: "runs per cell and policy (`--runs` overrides)", default: String(D.runs) }),
  seed: z
    .number()
    .int()
    .min(0)
    .optional()
    .meta({
      description: "experiment seed; run r's seed derives from it and r alone, the same in every cell and for every policy (common random numbers, docs/outputs.md; `--seed` overrides)",
      default: String(D.seed),
    }),
  manager: name.optional().meta({ description: "manager host (runs the decision, holds the MTD master secret)", default: "the first host" }),
  horizon: quantity.optional().meta({ description: "simulated time limit; a run unfinished by then is an error", unit: "duration", default: `${D.horizon}s` }),
  profile: z.string().optional().meta({
    description: "a testbed profile (a file relative to the experiment, or the built-in `paper`): its `network` and `costs` values are the defaults under this file's (`--profile` overrides)",
    default: D.profile,
  }),
  network: NETWORK_SCHEMA.optional().meta({ description: "network model and its parameters" }),
  measurement: z
    .strictObject({
      period: quantity.optional().meta({ description: "collector polling period (VIB samples, threshold triggers)", unit: "duration", default: `${D.period}s` }),
    })
    .optional()
    .meta({ description: "measurement collectors" }),
  costs: COSTS_SCHEMA.optional().meta({ description: "host-side cost parameters by name (table below)" }),
  traffic: z.array(TRAFFIC_SCHEMA).optional().meta({ description: "background flows", default: "none" }),
  migrations: z.array(MIGRATION_SCHEMA).optional().meta({ description: "the migrations of every run", default: "none" }),
  policies: z
    .array(POLICY_ENTRY_SCHEMA)
    .min(1)
    .optional()
    .meta({ description: "policies compared, each run once per policy: a name, or `name: { param: value }`, or `name: { plugin: ./file.ts }` (docs/policies.md)" }),
  baseline: name.optional().meta({ description: "the policy every other policy is compared with, run by run, in differences.csv and summary.md (docs/outputs.md)", default: "the first policy" }),
  ci: z
    .enum(INTERVAL_METHODS)
    .optional()
    .meta({ description: `the 95% interval of means and paired differences: Student t, or the percentile bootstrap (${BOOTSTRAP_RESAMPLES} resamples, deterministic in the seed)`, default: D.ci }),
  probes: z.array(PROBE_SCHEMA).optional().meta({ description: "request/response round-trip probes (probes.csv)", default: "none" }),
  sweep: z
    .record(z.string(), z.array(z.unknown()).min(1))
    .optional()
    .meta({ description: "sweep axes: field path (e.g. `migrations.0.container.checkpoint`) -> list of values; cells are their cartesian product" }),
  reference: z
    .object({ source: z.string().optional().meta({ description: "where the reference values come from" }) })
    .catchall(z.union([REFERENCE_ENTRY_SCHEMA, z.string()]))
    .optional()
    .meta({ description: "published values per policy (`policy: { mean, ci }`, or per metric `policy: { downtime_s: { mean, ci } }`), shown beside the results" }),
});

/**
 * The top-level fields each sweep cell reads: what a sweep axis may change. The others (name,
 * runs, seed, policies, baseline, ci, sweep, reference) hold for the whole experiment.
 */
export const CELL_FIELDS = ["topology", "manager", "horizon", "network", "measurement", "costs", "traffic", "migrations", "probes"] as const;

export type ExperimentDocument = z.infer<typeof EXPERIMENT_SCHEMA>;

/** One fitted value's provenance in a testbed profile. */
const FIT_SCHEMA = z.strictObject({
  value: z.union([z.number(), z.string()]).meta({ description: "the value written in `network`/`costs` (as written there)" }),
  source: z.string().meta({ description: "the measurements it was fitted on (calibration experiment, cells, runs)" }),
  error: z.string().meta({ description: "the fit's error on those measurements" }),
  n: z.number().int().min(0).optional().meta({ description: "measurements used" }),
  fallback: z.string().optional().meta({
    description:
      "set when the built-in defaults predicted the measurements left out of the fit better (cross-validation): the value is not in `network`/`costs`, the default is used; says by how much",
  }),
});

/**
 * A testbed profile (`migsim calibrate` writes one): the `network` and `costs` blocks an experiment
 * can carry, fitted on one testbed, with where each value came from.
 */
export const PROFILE_SCHEMA = z.strictObject({
  profile: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, "expected a name of letters, digits, _ . -")
    .meta({ description: "profile name" }),
  description: z.string().optional().meta({ description: "free text" }),
  testbed: z.string().optional().meta({ description: "the testbed it was fitted on (ssh://user@host:port)" }),
  date: z.string().optional().meta({ description: "when the calibration ran (ISO 8601)" }),
  machine: z.record(z.string(), z.string()).optional().meta({ description: "what the testbed ran and how busy it was (calibrate writes kernel, cpu, criu, load-average)" }),
  network: NETWORK_SCHEMA.optional().meta({ description: "network block, as in an experiment" }),
  costs: COSTS_SCHEMA.optional().meta({ description: "costs block, as in an experiment (table under Experiment)" }),
  fits: z.record(z.string(), FIT_SCHEMA).optional().meta({
    description:
      "per fitted field (`costs.checkpoint-base`, `network.efficiency`, `network.extra.NAME`): its provenance (value, source, error, n), and `fallback` when cross-validation kept the default instead (docs/profiles.md)",
  }),
  repeatability: z
    .strictObject({
      "median-cv": z.number().min(0).meta({ description: "median std / mean of checkpoint_s, restore_s and total_s over the measurements run more than once" }),
      measurements: z.number().int().min(0).meta({ description: "measurements run more than once" }),
      noisy: z.boolean().meta({ description: "true above 5%: the host was busy while measured, and the fitted host costs hold only as loaded (docs/profiles.md)" }),
    })
    .optional()
    .meta({ description: "how well the calibration's repeated runs agreed (calibrate writes it)" }),
  "cross-validation": z
    .strictObject({
      rms: z.strictObject({ fitted: z.number(), "held-out": z.number(), defaults: z.number(), n: z.number().int() }).optional(),
      measurements: z.record(z.string(), z.strictObject({ "measured-s": z.number(), fitted: z.number(), "held-out": z.number().nullable(), defaults: z.number() })),
    })
    .optional()
    .meta({
      description:
        "per calibration measurement, the relative error of total_s under the fit of every measurement, under the fit of the others (leave one out; null where the fit needs it) and under the built-in defaults; rms over those with all three",
    }),
});
export type ProfileDocument = z.infer<typeof PROFILE_SCHEMA>;
