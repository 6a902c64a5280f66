/**
 * The experiment file format (DESIGN.md "Experiment"), as zod schemas over the raw YAML.
 * Quantities stay strings here; load.ts converts them with units and locates every error.
 * Strict objects everywhere: an unknown (misspelt) field is an error, never silently ignored.
 */
import { z } from "zod";
import { MODEL_NAMES } from "../network/model.ts";

const quantity = z.union([z.string(), z.number()]);
const name = z.string().min(1);

export const NETWORK_SCHEMA = z.strictObject({
  model: z.enum(MODEL_NAMES).optional(),
  "congestion-control": z.enum(["cubic", "bbr", "reno"]).optional(),
  "host-stack": z.enum(["emulated", "physical"]).optional(),
  routing: z.enum(["hops", "latency"]).optional(),
  efficiency: z.number().gt(0).lte(1).optional(),
  "tcp-handshake-rtts": z.number().int().min(0).optional(),
  /** model-specific parameters by name (docs/tcp-fluid.md lists tcp-fluid's) */
  extra: z.record(z.string(), z.number()).optional(),
});

export const TRAFFIC_SCHEMA = z.strictObject({
  from: name,
  to: name,
  kind: z.enum(["tcp", "udp"]),
  rate: quantity.optional(),
  bytes: quantity.optional(),
  start: quantity.optional(),
  stop: quantity.optional(),
  /** the migrated container this flow serves: after SUCCESS it follows it to the destination */
  service: name.optional(),
});

export const CONTAINER_SCHEMA = z.strictObject({
  name,
  checkpoint: quantity.optional(),
  memory: quantity.optional(),
  "dirty-rate": quantity.optional(),
});

export const TRIGGER_SCHEMA = z.union([
  z.strictObject({ at: quantity }),
  z.strictObject({ port: name, above: quantity, for: z.number().int().min(1).optional() }),
  z.strictObject({ switch: name, above: quantity, for: z.number().int().min(1).optional() }),
]);

export const MIGRATION_SCHEMA = z.strictObject({
  container: CONTAINER_SCHEMA,
  source: name,
  candidates: z.union([z.literal("all"), z.array(name)]).optional(),
  destination: name.optional(),
  trigger: TRIGGER_SCHEMA,
  mode: z.enum(["stateless", "cold", "pre-copy", "post-copy"]).optional(),
  transport: z.enum(["ssh", "tcp"]).optional(),
});

export const PROBE_SCHEMA = z.strictObject({
  from: name,
  to: name,
  at: quantity,
  bytes: quantity.optional(),
  every: quantity.optional(),
  count: z.number().int().min(1).optional(),
  "new-connection": z.boolean().optional(),
});

/** A policy: its name, or a one-key mapping name -> parameters (a plugin names `plugin: path`). */
export const POLICY_ENTRY_SCHEMA = z.union([name, z.record(name, z.record(z.string(), z.unknown()).nullable())]);

/** Cost parameters: keys and units are checked by costsFromBlock (src/migration/costs.ts). */
export const COSTS_SCHEMA = z.record(z.string(), z.unknown());

export const REFERENCE_VALUE_SCHEMA = z.strictObject({ mean: z.number(), ci: z.number().min(0).optional() });
/** A policy's reference: total_s directly, or per metric (`downtime_s: { mean, ci }`). */
export const REFERENCE_ENTRY_SCHEMA = z.union([REFERENCE_VALUE_SCHEMA, z.record(z.string().regex(/_s$/), REFERENCE_VALUE_SCHEMA)]);

export const EXPERIMENT_SCHEMA = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "expected a name of letters, digits, _ . -"),
  description: z.string().optional(),
  topology: z.union([z.string(), z.record(z.string(), z.unknown())]),
  runs: z.number().int().min(1).optional(),
  seed: z.number().int().min(0).optional(),
  manager: name.optional(),
  horizon: quantity.optional(),
  network: NETWORK_SCHEMA.optional(),
  measurement: z.strictObject({ period: quantity.optional() }).optional(),
  costs: COSTS_SCHEMA.optional(),
  traffic: z.array(TRAFFIC_SCHEMA).optional(),
  migrations: z.array(MIGRATION_SCHEMA).optional(),
  policies: z.array(POLICY_ENTRY_SCHEMA).min(1).optional(),
  probes: z.array(PROBE_SCHEMA).optional(),
  sweep: z.record(z.string(), z.array(z.unknown()).min(1)).optional(),
  reference: z
    .object({ source: z.string().optional() })
    .catchall(z.union([REFERENCE_ENTRY_SCHEMA, z.string()]))
    .optional(),
});

export type ExperimentDocument = z.infer<typeof EXPERIMENT_SCHEMA>;
