/**
 * The output layer on its own: the one number format of every CSV and its inverse, files that
 * appear only complete, temporaries of dead writers cleaned up and live ones left alone, and the
 * shard partition (rows in plan order whatever order runs finish in: run.test.ts, --jobs 1 vs 2).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import fc from "fast-check";
import { InputError } from "../src/core/errors.ts";
import { removeStaleTemps, writeFileAtomic } from "../src/outputs/atomic.ts";
import { axesOfRunsHeader, CsvFileWriter, formatNumber, parseNumberCell, readCsvRaw } from "../src/outputs/csv.ts";
import { parseShard, shardIndices, shardOf } from "../src/outputs/shards.ts";
import { RUN_COLUMNS, RUN_EXTRA_COLUMNS } from "../src/formats/records.ts";

const scratch = (): string => mkdtempSync(join(tmpdir(), "migsim-report-"));
const loc = { file: "x.csv", line: 2, field: "total_s" };

test("numbers print one way: plain integers, at most 6 decimals, no exponent, no -0", (t) => {
  t.is(formatNumber(10_000_000), "10000000");
  t.is(formatNumber(1e21), "1000000000000000000000");
  t.is(formatNumber(0.1), "0.1");
  t.is(formatNumber(12.5), "12.5");
  t.is(formatNumber(0.000123), "0.000123");
  t.is(formatNumber(1.23456789), "1.234568");
  t.is(formatNumber(4e-7), "0");
  t.is(formatNumber(-4e-7), "0");
  t.is(formatNumber(-0), "0");
  t.is(formatNumber(-2.5), "-2.5");
  t.is(formatNumber(Number.NaN), "NaN");
  t.is(formatNumber(Infinity), "Infinity");
  t.is(formatNumber(-Infinity), "-Infinity");
});

test("property: parsing a printed number gives it back to within the 6 printed decimals", (t) => {
  fc.assert(
    fc.property(fc.double({ min: -1e12, max: 1e12, noNaN: true }), (x) => {
      const s = formatNumber(x);
      if (!/^-?\d+(\.\d+)?$/.test(s)) return false;
      return Math.abs(parseNumberCell(s, loc) - x) <= 5e-7 + 1e-15 * Math.abs(x);
    }),
    { seed: 29, numRuns: 2000 },
  );
  t.is(parseNumberCell("NaN", loc), Number.NaN);
  t.is(parseNumberCell("-Infinity", loc), -Infinity);
});

test("a cell that is not a number is refused with file, line and field", (t) => {
  for (const bad of ["", "1,5", "0x10", "1.2.3", "fast", " 1"]) {
    const e = t.throws(() => parseNumberCell(bad, loc), { instanceOf: InputError });
    t.is(e?.message, `x.csv:2: total_s: expected a number, got "${bad}"`);
  }
});

test("a CSV file appears only when closed, complete; an aborted one leaves nothing", async (t) => {
  const dir = scratch();
  const file = join(dir, "runs.csv");
  const w = await CsvFileWriter.open(file, ["a", "b"]);
  // enough rows to pass the writer's 64 KiB flush threshold several times
  for (let i = 0; i < 5000; i++) await w.writeRows([[i, i / 3]]);
  await w.flush();
  t.false(existsSync(file), "not visible before close");
  await w.close();
  const lines = readFileSync(file, "utf8").split("\n");
  t.is(lines[0], "a,b");
  t.is(lines[3], "2,0.666667");
  t.is(lines.length, 5002); // header, 5000 rows, final newline
  t.deepEqual(readdirSync(dir), ["runs.csv"], "no temporary left");

  const aborted = await CsvFileWriter.open(join(dir, "probes.csv"), ["x"]);
  await aborted.writeRows([[1]]);
  await aborted.abort();
  t.deepEqual(readdirSync(dir), ["runs.csv"]);

  const narrow = await CsvFileWriter.open(join(dir, "bad.csv"), ["x", "y"]);
  await t.throwsAsync(narrow.writeRows([[1]]), { message: /row of 1 cells for 2 columns/ });
  await narrow.abort();
});

test("temporaries of a dead writer are removed, a live writer's are left alone", (t) => {
  const dir = scratch();
  writeFileAtomic(join(dir, "summary.md"), "ok\n");
  t.deepEqual(readdirSync(dir), ["summary.md"]);
  const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
  const alive = process.ppid;
  writeFileSync(join(dir, `.runs.csv.tmp-${dead}-1`), "half");
  writeFileSync(join(dir, `.probes.csv.tmp-${alive}-1`), "in progress");
  const removed = removeStaleTemps(dir);
  t.deepEqual(removed, [join(dir, `.runs.csv.tmp-${dead}-1`)]);
  t.deepEqual(readdirSync(dir).sort(), [`.probes.csv.tmp-${alive}-1`, "summary.md"]);
});

test("broken CSV input and headers are refused with the file and line", (t) => {
  const dir = scratch();
  const broken = join(dir, "runs.csv");
  writeFileSync(broken, 'a,b\n1,"2\n');
  const e = t.throws(() => readCsvRaw(broken), { instanceOf: InputError });
  t.true(e!.message.startsWith(`${broken}:`), e!.message);
  const empty = join(dir, "empty.csv");
  writeFileSync(empty, "");
  t.throws(() => readCsvRaw(empty), { instanceOf: InputError, message: /empty CSV file/ });
  const header = [...RUN_COLUMNS, "load", ...RUN_EXTRA_COLUMNS];
  t.deepEqual(axesOfRunsHeader(header, "r.csv"), ["load"]);
  t.throws(() => axesOfRunsHeader(header.slice(1), "r.csv"), { instanceOf: InputError, message: /^r\.csv:1: not a runs\.csv header/ });
});

test("property: the shards of a plan partition it, each near-equal, in plan order", (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 1, max: 12 }), (total, count) => {
      const all: number[] = [];
      for (let i = 1; i <= count; i++) {
        const part = shardIndices(total, { index: i, count });
        if (part.some((k, j) => j > 0 && k <= part[j - 1]!)) return false;
        if (part.some((k) => shardOf(k, count) !== i)) return false;
        if (Math.abs(part.length - total / count) >= 1) return false;
        all.push(...part);
      }
      all.sort((a, b) => a - b);
      return all.length === total && all.every((k, i) => k === i);
    }),
    { seed: 11, numRuns: 300 },
  );
  t.deepEqual(parseShard(" 2/4 "), { index: 2, count: 4 });
  for (const bad of ["0/4", "5/4", "1/0", "a/b", "1/2/3", "-1/2"]) {
    t.throws(() => parseShard(bad), { instanceOf: InputError, message: /--shard: expected i\/N/ }, bad);
  }
});
