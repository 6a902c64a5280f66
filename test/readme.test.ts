/** README.md's result tables are what scripts/readme-tables.ts makes from test/expected/, which the examples test holds to the code. */
import test from "ava";
import { readFileSync } from "node:fs";
import { readmeWithTables } from "../scripts/readme-tables.ts";

test("README.md's result tables match test/expected/ (npm run docs:readme rewrites them)", (t) => {
  const readme = readFileSync("README.md", "utf8");
  t.is(readme, readmeWithTables(readme), "README.md's tables are stale: run npm run docs:readme");
  // not vacuous: a table's figure that differs from test/expected/ is rewritten
  const stale = readme.replace("| I (heterogeneous) | bandwidth | ", "| I (heterogeneous) | bandwidth | 1");
  t.not(stale, readme);
  t.is(readmeWithTables(stale), readme);
});
