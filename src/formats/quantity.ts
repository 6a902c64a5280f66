/**
 * A quantity as written in a file: a number in base units, or a string with its unit (`10Mbps`,
 * `2.5s`, `1GB`); src/core/units.ts parses it where the field's unit is known.
 */
import { z } from "zod";

export const quantity = z.union([z.string(), z.number()]);
