import test from "ava";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InputError } from "../src/core/errors.ts";
import { loadWorkloadFile } from "../src/workload/generate.ts";
import { parseWorkload, replayWorkload } from "../src/network/replay.ts";
import { formatTransferNumber as formatNumber, writeTransfersCsv } from "../src/outputs/transfers.ts";

/** the layout `migsim workload` makes, 2 racks of 2 hosts, in miniature */
function tinyWorkload(transfers: Array<{ id: number; src: number; dst: number; bytes: number; start: number }>): Record<string, unknown> {
  const hosts = [0, 1, 2, 3].map((i) => ({ id: i, name: `h${i}`, rack: i >> 1 }));
  const links = [
    ...hosts.map((h) => ({ id: `a${h.id}`, a: h.name, b: `tor${h.rack}`, bandwidth_bps: 8e8, latency_s: 1e-5 })),
    { id: "u0", a: "tor0", b: "core", bandwidth_bps: 8e8, latency_s: 2e-5 },
    { id: "u1", a: "tor1", b: "core", bandwidth_bps: 8e8, latency_s: 2e-5 },
  ];
  return {
    format: "flow-workload-v1",
    seed: 1,
    topology: { type: "two-level-tree", hosts_per_rack: 2, n_hosts: 4, n_racks: 2 },
    hosts,
    switches: ["tor0", "tor1", "core"],
    links,
    transfers,
  };
}

test("replay: transfers sharing an uplink get the exact piecewise end times", (t) => {
  // 100 MB/s everywhere (efficiency 1). h0->h2 and h1->h3 share uplink tor0->core; h2->h3 stays in rack 1
  // but shares a3 (tor1->h3) with h1->h3.
  // t=0: A (h0->h2, 100MB). t=0.5: B (h1->h3, 20MB) -> A, B at 50MB/s on u0 (A has 50MB left).
  // t=0.9: B done (A has 30MB left) -> A alone, done at 1.2. C (h2->h3, 10MB) at 1.0 alone: done 1.1.
  const w = parseWorkload(
    tinyWorkload([
      { id: 0, src: 0, dst: 2, bytes: 100e6, start: 0 },
      { id: 1, src: 1, dst: 3, bytes: 20e6, start: 0.5 },
      { id: 2, src: 2, dst: 3, bytes: 10e6, start: 1.0 },
    ]),
  );
  const r = replayWorkload(w, "max-min", { efficiency: 1 });
  t.true(Math.abs(r.end[0]! - 1.2) < 1e-9, `A ${r.end[0]}`);
  t.true(Math.abs(r.end[1]! - 0.9) < 1e-9, `B ${r.end[1]}`);
  t.true(Math.abs(r.end[2]! - 1.1) < 1e-9, `C ${r.end[2]}`);
  const dir = mkdtempSync(join(tmpdir(), "migsim-replay-"));
  const file = writeTransfersCsv(dir, w, r);
  t.is(readFileSync(file, "utf8"), "id,src,dst,bytes,start,end\n0,0,2,100000000,0,1.2\n1,1,3,20000000,0.5,0.9\n2,2,3,10000000,1,1.1\n");
  t.deepEqual(readdirSync(dir), ["transfers.csv"], "no temp file left behind");
});

test("replay: the file's tree rule routes through the uplinks of both racks", (t) => {
  const w = parseWorkload(tinyWorkload([{ id: 0, src: 0, dst: 3, bytes: 1, start: 0 }]));
  const p = w.route!("h0", "h3");
  // directed links: a0 up (0), u0 up (2*4), u1 down (2*5+1), a3 down (2*3+1)
  t.deepEqual(p.links, [0, 8, 11, 7]);
  t.true(Math.abs(p.propagation - 6e-5) < 1e-15);
  t.deepEqual(w.route!("h2", "h3").links, [4, 7]);
});

test("formatNumber: stable, no exponents, no float noise", (t) => {
  t.is(formatNumber(1e-7), "0.0000001");
  t.is(formatNumber(100000000), "100000000");
  t.is(formatNumber(0.1 + 0.2), "0.3");
  t.is(formatNumber(NaN), "");
});

test("bad workload files are one-line InputErrors naming the field", (t) => {
  const bad = tinyWorkload([{ id: 0, src: 0, dst: 9, bytes: 10, start: 0 }]);
  const e1 = t.throws(() => parseWorkload(bad, "w.json"), { instanceOf: InputError });
  t.is(e1!.message, "w.json: transfers.0.dst: expected a host id below 4, got 9");
  const e2 = t.throws(() => parseWorkload({ ...tinyWorkload([]), format: "v2" }, "w.json"), { instanceOf: InputError });
  t.regex(e2!.message, /^w\.json: format: /);
  const neg = tinyWorkload([{ id: 0, src: 0, dst: 1, bytes: -5, start: 0 }]);
  t.throws(() => parseWorkload(neg, "w.json"), { instanceOf: InputError, message: /transfers\.0\.bytes: expected a positive number of bytes/ });
  const dir = mkdtempSync(join(tmpdir(), "migsim-replay-"));
  writeFileSync(join(dir, "broken.json"), "{ not json");
  t.throws(() => loadWorkloadFile(join(dir, "broken.json")), { instanceOf: InputError, message: /broken\.json: not valid JSON/ });
  t.throws(() => loadWorkloadFile(join(dir, "missing.json")), { instanceOf: InputError, message: /cannot read workload: ENOENT/ });
});

test("migsim replay: writes transfers.csv; a bad file exits 2 with one line", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "migsim-replay-"));
  const wl = join(dir, "wl.json");
  writeFileSync(wl, JSON.stringify(tinyWorkload([{ id: 0, src: 0, dst: 1, bytes: 96e6, start: 0.25 }])));
  const out = execFileSync(
    process.execPath,
    ["--import", "tsx", "-e", `import("./src/cli/main.ts").then(m => m.main(process.argv.slice(1))).then(c => process.exit(c))`, "--", "replay", wl, "--out", join(dir, "out")],
    { encoding: "utf8" },
  );
  t.regex(out, /1 transfers on 4 hosts, max-min/);
  // 96 MB at 100 MB/s * 0.96 (default efficiency) = 1 s
  t.is(readFileSync(join(dir, "out", "transfers.csv"), "utf8"), "id,src,dst,bytes,start,end\n0,0,1,96000000,0.25,1.25\n");
  writeFileSync(wl, "[]");
  try {
    execFileSync(
      process.execPath,
      ["--import", "tsx", "-e", `import("./src/cli/main.ts").then(m => m.main(process.argv.slice(1))).then(c => process.exit(c))`, "--", "replay", wl, "--out", join(dir, "out")],
      { encoding: "utf8", stdio: "pipe" },
    );
    t.fail("expected exit code 2");
  } catch (e) {
    const err = e as { status: number; stderr: string };
    t.is(err.status, 2);
    t.is(err.stderr.trim().split("\n").length, 1);
    t.regex(err.stderr, /^migsim: .*wl\.json: /);
  }
});

test("migsim replay: progress goes to stderr (lines when not a terminal), --quiet silences it, stdout is the summary", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "migsim-replay-"));
  const wl = join(dir, "wl.json");
  const transfers = Array.from({ length: 50 }, (_, i) => ({ id: i, src: i % 4, dst: (i + 1) % 4, bytes: 1e6, start: i * 0.01 }));
  writeFileSync(wl, JSON.stringify(tinyWorkload(transfers)));
  const cli = (...extra: string[]) =>
    spawnSync(
      process.execPath,
      ["--import", "tsx", "-e", `import("./src/cli/main.ts").then(m => m.main(process.argv.slice(1))).then(c => process.exit(c))`, "--", "replay", wl, "--out", join(dir, "out"), ...extra],
      { encoding: "utf8" },
    );
  const loud = cli();
  t.is(loud.status, 0);
  t.regex(loud.stdout, /^50 transfers on 4 hosts, max-min: /);
  t.deepEqual(
    loud.stderr
      .trim()
      .split("\n")
      .map((l) => l.replace(/, [\d.]+ s$/, "")),
    ["replay: 50 transfers", "replay: 50/50 transfers (100%)"],
  );
  const quiet = cli("--quiet");
  t.is(quiet.status, 0);
  t.is(quiet.stderr, "");
  t.is(quiet.stdout.split(" -> ")[0]!.replace(/load .*$/, ""), loud.stdout.split(" -> ")[0]!.replace(/load .*$/, ""));
});
