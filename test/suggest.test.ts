import test from "ava";
import { closest, didYouMean, editDistance } from "../src/core/suggest.ts";

test("edit distance counts a swap of neighbours as one edit", (t) => {
  t.is(editDistance("rusn", "runs"), 1);
  t.is(editDistance("sorce", "source"), 1);
  t.is(editDistance("", "abc"), 3);
  t.is(editDistance("kitten", "sitting"), 3);
});

test("a suggestion only when the word is close to one known name", (t) => {
  t.is(closest("jbos", ["jobs", "runs", "seed"]), "jobs");
  t.is(closest("maxmin", ["tcp-fluid", "max-min"]), "max-min");
  t.is(closest("frobnicate", ["runs", "jobs", "out", "seed"]), undefined);
  // a short word allows one edit only: "out" is not "cut" and "run" both
  t.is(closest("xy", ["out"]), undefined);
  t.is(didYouMean("probesx", ["probes", "policies"]), '; did you mean "probes"?');
  t.is(didYouMean("runs", ["runs"]), "");
});
