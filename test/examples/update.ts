/**
 * Rewrites test/expected/ from the current code: every example case's outputs, and deletes an
 * expected file no case makes. Review the diff before committing it; then `npm run docs:readme`
 * carries the new figures into README.md's tables.
 *
 *   npm run examples:update          all cases (after `npm run build`; about half a minute)
 *   npm run examples:update -- ID    only the cases whose id contains ID, e.g. topologies/star
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { type Case, casesOf, EXPECTED, exampleFiles, expectedFiles, ROOT } from "./cases.ts";
import { inTurns, runExample, staleBuild } from "./run.ts";

const stale = staleBuild();
if (stale) {
  console.error(stale);
  process.exit(2);
}
const filter = process.argv[2];
const all: Case[] = [];
const unknown: string[] = [];
for (const file of exampleFiles()) {
  const cases = casesOf(file);
  if (cases) all.push(...cases);
  else unknown.push(file);
}
if (unknown.length > 0) {
  console.error(`no example case for ${unknown.join(", ")}: add one to OVERRIDES in test/examples/cases.ts`);
  process.exit(2);
}
const chosen = filter ? all.filter((c) => c.id.includes(filter)) : all;
const made = new Set<string>();
await inTurns(chosen, 2, async (c) => {
  for (const [expected, text] of await runExample(c)) {
    const path = join(ROOT, EXPECTED, expected);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    made.add(expected);
  }
  console.log(`${c.id}: written`);
});
if (!filter) {
  const wanted = new Set(all.flatMap((c) => Object.keys(c.outputs)));
  for (const f of expectedFiles()) {
    if (!wanted.has(f)) {
      rmSync(join(ROOT, EXPECTED, f));
      console.log(`${f}: deleted (no case makes it)`);
    }
  }
}
console.log(`${made.size} expected file(s) written under ${EXPECTED}/`);
