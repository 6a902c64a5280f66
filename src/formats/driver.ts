/**
 * The testbed driver's contract (backends/mininet/driver/migsim_driver.py), both ways: the JSON
 * plan it is handed for one run, and every JSON line it prints on stdout (`{"type": ...}`). The
 * driver validates its plan and each record it emits against the JSON Schema of these
 * (backends/mininet/driver/schemas/, written by `npm run docs:format`); this side parses every
 * line with the zod schema (the plan's objects may hold more fields than the driver reads), so a line that does not match is reported as a driver bug, never cast
 * and trusted.
 */
import { z } from "zod";
import { MigrationModeSchema, TransportSchema } from "./modes.ts";
import { RunRecordSchema } from "./records.ts";

/** The workload image the default testbed set-up builds (setup-testbed.sh), with the live-migration workload. */
export const TESTBED_IMAGE = "migsim-busybox:2";

const seconds = z.number().finite().nonnegative();
const bytes = z.number().finite().nonnegative();
const host = z.string().min(1);

const ContainerSchema = z.object({ name: host, checkpoint: bytes, memory: bytes, dirtyRate: bytes });
const TriggerSchema = z.union([
  z.object({ kind: z.literal("at"), at: seconds }),
  z.object({ kind: z.literal("port"), port: z.string(), above: z.number(), samples: z.number().int().min(1) }),
  z.object({ kind: z.literal("switch"), switch: z.string(), above: z.number(), samples: z.number().int().min(1) }),
]);

/** The RunSpec fields the driver reads (a RunSpec, src/formats/runspec.ts, has more: they pass). */
const PlanSpecSchema = z.object({
  experiment: z.string(),
  cell: z.string(),
  run: z.number().int().nonnegative(),
  seed: z.number().int(),
  manager: host,
  horizon: seconds,
  topology: z.object({
    hosts: z.array(host).min(1),
    switches: z.array(host),
    links: z.array(z.object({ a: host, b: host, capacity: z.number().positive(), capacityBack: z.number().positive(), latency: seconds, queue: z.number().nonnegative() })),
  }),
  network: z.object({ congestionControl: z.string() }),
  costs: z.object({ precopyThreshold: bytes, precopyMaxRounds: z.number().int().min(1), controlBytes: bytes, decisionCompute: seconds.optional() }),
  measurement: z.object({ period: z.number().positive() }),
  traffic: z.array(
    z.object({
      from: host,
      to: host,
      kind: z.enum(["tcp", "udp"]),
      rate: z.number().nonnegative().optional(),
      bytes: bytes.optional(),
      start: seconds,
      stop: seconds.optional(),
      service: z.string().optional(),
    }),
  ),
  // none is a valid run for the backend (probes and traffic only), whatever an experiment file needs
  migrations: z.array(z.object({ container: ContainerSchema, source: host, destination: host.optional(), trigger: TriggerSchema, mode: MigrationModeSchema, transport: TransportSchema })),
  probes: z.array(z.object({ from: host, to: host, at: seconds, bytes, every: seconds, count: z.number().int().min(1), newConnection: z.boolean() })),
});

/** A policy's decision for one migration (src/policies/policy-types.ts PolicyPlan), as the driver replays it. */
const PlanDecisionSchema = z.object({
  destination: host,
  keyRequests: z.array(z.object({ host, requestBytes: bytes, responseBytes: bytes, newConnection: z.boolean() })),
  computeSeconds: seconds,
  setup: z.array(z.object({ from: host, to: host, bytes })).readonly(),
  note: z.string().optional(),
});

/** What backend.ts uploads for one run: the spec, one decision per migration, driver options. */
export const DriverPlanSchema = z.object({
  spec: PlanSpecSchema,
  plans: z.array(PlanDecisionSchema),
  options: z.object({
    image: z
      .string()
      .regex(/^[A-Za-z0-9_.:/-]+$/)
      .default(TESTBED_IMAGE),
    faultInjection: z.literal("criu-hang").optional(),
  }),
});
export type DriverPlan = z.input<typeof DriverPlanSchema>;

/** One migration as the driver measured it; becomes a RunRecord (backend.ts toRunRecord). */
export const DriverRecordSchema = RunRecordSchema.pick({
  container: true,
  source: true,
  destination: true,
  mode: true,
  transport: true,
  trigger_s: true,
  decision_s: true,
  setup_s: true,
  key_retrieval_s: true,
  checkpoint_s: true,
  transfer_s: true,
  restore_s: true,
  downtime_s: true,
  total_s: true,
  checkpoint_bytes: true,
  transferred_bytes: true,
  rounds: true,
  converged: true,
  note: true,
  control_s: true,
  prepare_s: true,
  redirect_s: true,
})
  .extend({ type: z.literal("record"), index: z.number().int().nonnegative() })
  .loose();
export type DriverRecord = z.infer<typeof DriverRecordSchema>;

/**
 * A post-copy record's note names its minimal image, what crosses the network before the lazy
 * restore (the driver's `live_note` writes it; test/formats.test.ts runs the driver's writer
 * against this pattern). Calibration takes it as postcopy-minimal and postcopy-files.
 */
const POSTCOPY_IMAGE_NOTE = /(\d+) B minimal image in (\d+) files/;

/** the minimal image a post-copy record's note names, or undefined (other modes, older drivers) */
export function postcopyImageOf(note: string): { bytes: number; files: number } | undefined {
  const m = POSTCOPY_IMAGE_NOTE.exec(note);
  return m ? { bytes: Number(m[1]), files: Number(m[2]) } : undefined;
}

/**
 * A post-copy record's note also says how much of the pull came after its last page: the
 * lazy-pages daemon's close handshake with the page server (drivers from December 2026 on).
 * Calibration takes it as postcopy-close.
 */
const POSTCOPY_CLOSE_NOTE = /the last ([\d.]+) s the page server's close/;

/** seconds the note says the page server's close took, or undefined (other modes, older drivers) */
export function postcopyCloseOf(note: string): number | undefined {
  const m = POSTCOPY_CLOSE_NOTE.exec(note);
  return m ? Number(m[1]) : undefined;
}

export const DriverLineSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("start"), rundir: z.string() }),
  z.object({ type: z.literal("warning"), message: z.string() }),
  DriverRecordSchema,
  z.object({ type: z.literal("probe"), from: z.string(), to: z.string(), sent_s: z.number(), rtt_s: seconds }),
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
