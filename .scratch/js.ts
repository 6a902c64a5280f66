import { z } from "zod";
import { EXPERIMENT_SCHEMA } from "../src/experiment/schema.ts";
const s = z.strictObject({ a: z.union([z.string(), z.number()]).optional().meta({ description: "hello", unit: "s", default: "3s" }) });
console.log(JSON.stringify(z.toJSONSchema(s), null, 1));
console.log(JSON.stringify(z.toJSONSchema(EXPERIMENT_SCHEMA)).slice(0, 3000));
