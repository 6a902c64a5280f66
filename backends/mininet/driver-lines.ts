/**
 * The testbed driver's output contract, checked on this side: every JSON line it prints on stdout
 * (driver/migsim_driver.py, `{"type": ...}`) as a zod schema. A line that does not match is a
 * driver bug and is reported with the line, never cast and trusted.
 */
import { z } from "zod";

const seconds = z.number().finite().nonnegative();

/** One migration as the driver measured it; becomes a RunRecord (backend.ts toRunRecord). */
export const DriverRecordSchema = z
  .object({
    type: z.literal("record"),
    index: z.number().int().nonnegative(),
    container: z.string(),
    source: z.string(),
    destination: z.string(),
    mode: z.enum(["stateless", "cold", "pre-copy", "post-copy"]),
    transport: z.enum(["ssh", "tcp"]),
    trigger_s: seconds,
    decision_s: seconds,
    key_retrieval_s: seconds,
    checkpoint_s: seconds,
    transfer_s: seconds,
    restore_s: seconds,
    downtime_s: seconds,
    total_s: seconds,
    checkpoint_bytes: z.number().int().nonnegative(),
    transferred_bytes: z.number().int().nonnegative(),
    rounds: z.number().int().nonnegative(),
    converged: z.boolean(),
    note: z.string(),
    control_s: seconds,
    prepare_s: seconds,
    redirect_s: seconds,
  })
  .loose();
export type DriverRecord = z.infer<typeof DriverRecordSchema>;

export const DriverLineSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("start"), rundir: z.string() }),
  z.object({ type: z.literal("warning"), message: z.string() }),
  DriverRecordSchema,
  z.object({ type: z.literal("probe"), from: z.string(), to: z.string(), sent_s: z.number(), rtt_s: seconds }),
  z.object({ type: z.literal("setup"), setup_s: seconds }),
  z.object({ type: z.literal("ready") }).loose(),
  z.object({ type: z.literal("counters") }).loose(),
  z.object({ type: z.literal("redirect") }).loose(),
  z.object({
    type: z.literal("error"),
    message: z.string(),
    phase: z.string().default("set-up"),
    migration: z.number().int().nullable().default(null),
  }),
  z.object({
    type: z.literal("censored"),
    migration: z.number().int().nonnegative(),
    phase: z.string(),
    elapsed_s: seconds,
    bytes_moved: z.number().int().nonnegative(),
  }),
  z.object({ type: z.literal("done") }),
  z.object({ type: z.literal("cleaned") }),
]);
export type DriverLine = z.infer<typeof DriverLineSchema>;

/** The answer of `migsim_driver.py host` (a HostState, src/formats/runspec.ts, with its type). */
export const DriverHostSchema = z.object({
  type: z.literal("host"),
  kernel: z.string(),
  cpus: z.number().int().positive(),
  cpu: z.string(),
  criu: z.string(),
  load1: z.number().finite().nonnegative(),
  load5: z.number().finite().nonnegative(),
});

/** The answer of `migsim_driver.py preflight`: what the testbed lacks (with the fix) and why each live mode cannot run. */
export const DriverPreflightSchema = z.object({
  type: z.literal("preflight"),
  missing: z.array(z.object({ what: z.string(), fix: z.string() })),
  netem: z.boolean().optional(),
  modes: z.record(z.string(), z.string().nullable()).optional(),
});

/** Parses one stdout line of the driver (a run's, or `schema`'s); throws naming the line when it breaks the contract. */
export function parseDriverLine<S extends z.ZodType = typeof DriverLineSchema>(text: string, schema?: S): z.infer<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error(`testbed driver printed a line that is not JSON: ${text.slice(0, 200)}`);
  }
  const r = (schema ?? DriverLineSchema).safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`testbed driver line breaks its contract (${issue?.path.join(".") || "type"}: ${issue?.message}): ${text.slice(0, 200)}`);
  }
  return r.data as z.infer<S>;
}
