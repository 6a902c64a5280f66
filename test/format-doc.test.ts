/** docs/format.md is what scripts/format-doc.ts makes from the schemas: it cannot drift from the loaders. */
import test from "ava";
import { readFileSync } from "node:fs";
import { formatDoc } from "../scripts/format-doc.ts";

test("docs/format.md matches the schemas (npm run docs:format rewrites it)", (t) => {
  const doc = formatDoc();
  t.is(readFileSync("docs/format.md", "utf8"), doc, "docs/format.md is stale: run npm run docs:format");
  // every field a newcomer could not find before is there, with its unit or default
  for (const field of ["`horizon`", "`measurement.period`", "`probes.N.count`", "`migrations.N.trigger.for`", "`generate.k`", "`transfers.N.start`", "`costs.checkpoint-rate`"]) {
    t.true(doc.includes(`| ${field} |`), field);
  }
});
