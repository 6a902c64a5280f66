/**
 * The migration modes and checkpoint transports, the one list of each: the experiment schema,
 * the run records, the driver's JSON Schema and the model's input check all take them from here.
 */
import { z } from "zod";

export const MIGRATION_MODES = ["stateless", "cold", "pre-copy", "post-copy"] as const;
export const TRANSPORTS = ["ssh", "tcp"] as const;

export const MigrationModeSchema = z.enum(MIGRATION_MODES);
export const TransportSchema = z.enum(TRANSPORTS);

export type MigrationMode = z.infer<typeof MigrationModeSchema>;
export type Transport = z.infer<typeof TransportSchema>;
