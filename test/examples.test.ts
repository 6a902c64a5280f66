/**
 * Every shipped example is a test, as SimGrid's examples are with tesh: each file under experiments/
 * and topologies/ runs through the public CLI (bin/migsim.js, so `npm run build` first) and its
 * outputs must equal the checked-in ones under test/expected/. The cases, their run counts and
 * why some differ (the k=16 data center runs its two network models apart, tcp-fluid at 1 run; the
 * README's sources run as the README says) are in test/examples/cases.ts.
 *
 * After a change that is meant to move the figures: `npm run examples:update`, review the diff,
 * then `npm run docs:readme`.
 */
import test from "ava";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Case, casesOf, EXPECTED, exampleFiles, expectedFiles, ROOT, UPDATE_COMMAND } from "./examples/cases.ts";
import { inTurns, runExample, staleBuild } from "./examples/run.ts";

const files = exampleFiles();
const cases: Case[] = files.flatMap((f) => casesOf(f) ?? []);

test("every shipped experiment and topology has a case, and every expected file a case that makes it", (t) => {
  const unchecked = files.filter((f) => casesOf(f) === undefined);
  t.deepEqual(unchecked, [], `no example case for ${unchecked.join(", ")}: add one to OVERRIDES in test/examples/cases.ts, then ${UPDATE_COMMAND}`);
  const wanted = new Set(cases.flatMap((c) => Object.keys(c.outputs)));
  const orphans = expectedFiles().filter((f) => !wanted.has(f));
  t.deepEqual(orphans, [], `expected outputs no case makes (an example was removed or renamed): ${UPDATE_COMMAND} deletes them`);
  // not vacuous: the walk sees the shipped files
  t.true(files.includes("experiments/table1.yaml") && files.includes("topologies/fat-tree.yaml"));
});

/** The first line where two texts differ, for a message a reader can act on. */
function firstDifference(expected: string, got: string): string {
  const a = expected.split("\n");
  const b = got.split("\n");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}\n  expected: ${a[i] ?? "(end of file)"}\n  got:      ${b[i] ?? "(end of file)"}`;
  }
  return "same lines, different bytes";
}

const stale = staleBuild();

// Two CLI processes at a time: the machine this runs on has 2 cores, and other test files run beside it.
const results = stale
  ? Promise.resolve([])
  : inTurns(cases, 2, (c) =>
      runExample(c).then(
        (got) => ({ got }),
        (error: Error) => ({ error }),
      ),
    );

cases.forEach((c, i) => {
  test(`${c.id} (${c.source}) matches ${EXPECTED}/`, async (t) => {
    if (stale) return t.fail(stale);
    const r = (await results)[i]!;
    if ("error" in r) return t.fail(r.error.message);
    for (const [expected, got] of r.got) {
      const path = join(ROOT, EXPECTED, expected);
      if (!existsSync(path)) return t.fail(`no expected output ${EXPECTED}/${expected} for ${c.source}: run ${UPDATE_COMMAND} -- ${c.id} and commit it after reading it`);
      const want = readFileSync(path, "utf8");
      t.true(got === want, `${c.source} no longer gives ${EXPECTED}/${expected}, at ${firstDifference(want, got)}\nif the change is meant: ${UPDATE_COMMAND} -- ${c.id}, then npm run docs:readme`);
    }
  });
});
