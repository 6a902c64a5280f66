/**
 * The bad-input catalogue: every broken topology, experiment and command line in
 * test/fixtures/bad/ goes through the real CLI (node bin/migsim.js on the build in dist/) and must
 * be refused the same way: exit code 2, exactly one line on stderr naming the file (with line and
 * column where the error has a position), the field path and what was expected; no stack trace
 * unless --debug (and then one); nothing written to the output folder.
 *
 * A fixture says what it expects in its header comments:
 *   # expect: <text the error line must contain>
 *   # at: LINE:COL        the position the error must give (absent: the error has none)
 *   # names: PATH         the file the error must name, if not the fixture itself (relative to it)
 *   # args: ...           extra command-line arguments
 */
import test from "ava";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

const FIXTURES = "test/fixtures/bad";
const scratch = mkdtempSync(join(tmpdir(), "migsim-bad-"));

interface Case {
  name: string;
  /** the command line after `migsim` */
  argv: string[];
  /** the file the error must name (undefined: a command-line error, no file) */
  names: string | undefined;
  expect: string;
  at: string | undefined;
  /** the output folder the command was given, which must stay absent or empty */
  out: string | undefined;
}

interface Header {
  expect: string;
  at?: string;
  names?: string;
  args: string[];
}

function header(file: string): Header {
  const h: Header = { expect: "", args: [] };
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^# (expect|at|names|args): (.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === "args") h.args = m[2]!.split(" ").filter((a) => a !== "");
    else h[m[1] as "expect" | "at" | "names"] = m[2]!;
  }
  if (!h.expect) throw new Error(`${file}: a fixture needs an "# expect:" line`);
  return h;
}

function outDir(name: string): string {
  return join(scratch, `out-${name}`);
}

function fixtureCases(kind: "topology" | "experiment"): Case[] {
  const dir = join(FIXTURES, kind);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => {
      const file = join(dir, f);
      const h = header(file);
      const name = `${kind}/${f.replace(/\.yaml$/, "")}`;
      const out = kind === "experiment" ? outDir(name.replace("/", "-")) : undefined;
      const argv = kind === "topology" ? ["topo", file, ...h.args] : ["run", file, "--out", out!, "--quiet", ...h.args];
      const names = h.names === undefined ? file : resolve(dirname(file), h.names);
      return { name, argv, names, expect: h.expect, at: h.at, out };
    });
}

const OK = join(FIXTURES, "experiment/lib/ok.yaml");
const TREE = "topologies/tree.yaml";

/** Bad command lines on valid files: the error names the option. */
function commandLineCases(): Case[] {
  const run = (name: string, args: string[], expect: string): Case => {
    const out = outDir(`cli-${name}`);
    return { name: `command line/run ${name}`, argv: ["run", OK, "--out", out, "--quiet", ...args], names: undefined, expect, at: undefined, out };
  };
  const cli = (name: string, argv: string[], expect: string): Case => {
    const i = argv.indexOf("--out");
    return { name: `command line/${name}`, argv, names: undefined, expect, at: undefined, out: i >= 0 ? argv[i + 1] : undefined };
  };
  return [
    run("shard 4/3", ["--shard", "4/3"], `--shard: expected i/N with 1 <= i <= N, got "4/3"`),
    run("shard 0/3", ["--shard", "0/3"], `--shard: expected i/N with 1 <= i <= N, got "0/3"`),
    run("shard not i/N", ["--shard", "half"], `--shard: expected i/N with 1 <= i <= N (e.g. 1/4), got "half"`),
    run("jobs 0", ["--jobs", "0"], "--jobs: expected a whole number >= 1, got 0"),
    run("runs -1", ["--runs", "-1"], "--runs: expected a whole number >= 1, got -1"),
    run("seed 1.5", ["--seed", "1.5"], "--seed: expected a whole number >= 0, got 1.5"),
    run("set without =", ["--set", "runs"], `--set: expected path=value, got "runs"`),
    run("set unknown field", ["--set", "migrations.0.colour=red"], `--set migrations.0.colour=red: unknown field "colour"`),
    run(
      "set a bare number",
      ["--set", "migrations.0.container.checkpoint=10"],
      "--set migrations.0.container.checkpoint=10: expected a size with a unit (e.g. 1500B, 10MB, 5MiB), got the bare number 10",
    ),
    cli(
      "set a swept field",
      ["run", "experiments/validation/sizes-linear.yaml", "--set", "migrations.0.container.checkpoint=5MB", "--out", outDir("swept"), "--quiet"],
      "--set migrations.0.container.checkpoint=5MB: migrations.0.container.checkpoint is swept (experiments/validation/sizes-linear.yaml:20: sweep: migrations.0.container.checkpoint: [1MB, 5MB, 20MB]), so the sweep sets it in every cell and this --set would change nothing; to run only some of its values, replace the sweep's values: --set 'sweep.migrations.0.container.checkpoint=[5MB]'",
    ),
    cli(
      "set a field inside a swept one",
      ["run", "experiments/validation/sizes-linear.yaml", "--set", "migrations.0.container=x", "--out", outDir("swept-around"), "--quiet"],
      "--set migrations.0.container=x: migrations.0.container holds the swept field migrations.0.container.checkpoint",
    ),
    run("set missing entry", ["--set", "migrations.4.source=h1"], `--set migrations.4.source: there is no field "migrations.4"`),
    run("testbed not ssh", ["--backend", "mininet", "--testbed", "http://root@127.0.0.1:2290", "--testbed-key", OK], `testbed: unsupported scheme "http"; expected ssh://user@host[:port]`),
    run("testbed with password", ["--backend", "mininet", "--testbed", "ssh://root:secret@127.0.0.1", "--testbed-key", OK], "passwords are not accepted"),
    run("unknown backend", ["--backend", "docker"], `Argument: backend, Given: "docker"`),
    run("unknown option", ["--frobnicate"], "Unknown argument: frobnicate"),
    run("misspelt option", ["--rusn", "5"], "Unknown argument: rusn (did you mean --runs?); see migsim run --help"),
    cli("slurm of a bad experiment", ["slurm", join(FIXTURES, "experiment/runs-zero.yaml"), "--shards", "2", "--out", outDir("slurm-bad")], "runs-zero.yaml:6:7: runs: expected at least 1"),
    cli("slurm --shards 0", ["slurm", OK, "--shards", "0", "--out", outDir("slurm-0")], "--shards: expected a whole number of shards >= 1, got 0"),
    cli(
      "slurm --time forever",
      ["slurm", OK, "--shards", "2", "--time", "forever", "--out", outDir("slurm-time")],
      `--time: expected a Slurm time limit such as 30, 1:00:00 or 2-00:00:00, got "forever"`,
    ),
    cli("merge a folder that is no output", ["merge", scratch, "--out", outDir("merge")], "no manifest.json: not a migsim output folder"),
    cli("compare with an http testbed", ["compare", OK, "--testbed", "http://root@127.0.0.1", "--out", outDir("compare")], `--testbed: unsupported scheme "http"`),
    cli("compare without a profile", ["compare", OK, "--out", outDir("compare-np")], "compare needs a testbed profile: run `migsim calibrate --testbed URL --out testbed.yaml`"),
    run("profile file missing", ["--profile", join(scratch, "nope.yaml")], "--profile: no such file: "),
    run("profile with an unknown cost", ["--profile", join(FIXTURES, "profile/bad-cost.yaml")], "bad-cost.yaml:4:18: costs.restore-speed: unknown cost parameter"),
    run("profile cost without its unit", ["--profile", join(FIXTURES, "profile/bad-unit.yaml")], "bad-unit.yaml:5:20: costs.checkpoint-base: expected a duration"),
    cli("reproduce --jobs 0", ["reproduce", "--jobs", "0", "--out", outDir("reproduce")], "--jobs: expected a whole number >= 1, got 0"),
    cli("replay a file that is not JSON", ["replay", OK, "--out", outDir("replay")], "not valid JSON"),
    cli("run without a file", ["run"], "Not enough non-option arguments"),
    cli("run a missing file", ["run", join(scratch, "nope.yaml"), "--out", outDir("missing"), "--quiet"], "no such file"),
    cli("topo seed 1.5", ["topo", TREE, "--seed", "1.5"], "--seed: expected an integer seed, got 1.5"),
    cli("topo paths one name", ["topo", TREE, "--paths", "h1"], `--paths: expected two node names separated by a comma (e.g. h1,h3), got "h1"`),
    cli("topo paths unknown node", ["topo", TREE, "--paths", "h1,h99"], `--paths: unknown node "h99"`),
    cli("topo without a file", ["topo"], "Not enough non-option arguments: got 0, need at least 1; see migsim topo --help"),
    cli("unknown command", ["simulate", TREE], "Unknown arguments: simulate"),
    cli("no command", [], "expected a command; see migsim --help"),
  ];
}

const CASES = [...fixtureCases("topology"), ...fixtureCases("experiment"), ...commandLineCases()];

/** The CLI as a child process; asynchronous, so ava runs the cases side by side. */
function migsim(argv: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ["bin/migsim.js", ...argv], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", fail);
    child.on("close", (status) => done({ status, stdout, stderr }));
  });
}

test("the catalogue holds at least 40 broken files and 15 broken command lines", (t) => {
  t.true(CASES.filter((c) => !c.name.startsWith("command line/")).length >= 40);
  t.true(CASES.filter((c) => c.name.startsWith("command line/")).length >= 15);
});

CASES.forEach((c, i) => {
  test(`refused: ${c.name}`, async (t) => {
    // every fifth case also with --debug, which must add the stack trace and change nothing else
    const debug = i % 5 === 0;
    const r = await migsim(debug ? [...c.argv, "--debug"] : c.argv);
    t.is(r.status, 2, r.stderr);
    t.is(r.stdout, "");
    const lines = r.stderr.trimEnd().split("\n");
    const first = lines[0]!;
    t.true(first.startsWith("migsim: "), first);
    t.true(first.includes(c.expect), `expected "${c.expect}" in: ${first}`);
    if (c.names !== undefined) {
      const named = first.slice("migsim: ".length);
      t.true(named.startsWith(`${c.names}:`) || named.startsWith(`${resolve(c.names)}:`), `names ${c.names}: ${first}`);
      if (c.at !== undefined) t.true(named.includes(`:${c.at}: `), `at ${c.at}: ${first}`);
      else t.notRegex(named, /^[^ ]+:\d+:\d+: /, "a position where the fixture says there is none");
    }
    if (debug) {
      t.true(lines.length > 1 && /^\s+at /m.test(r.stderr), "--debug prints the stack");
    } else {
      t.is(lines.length, 1, r.stderr);
      t.notRegex(r.stderr, /\n\s+at /);
    }
    if (c.out !== undefined) t.true(!existsSync(c.out) || readdirSync(c.out).length === 0, `${c.out} must stay empty: ${existsSync(c.out) ? readdirSync(c.out).join(", ") : ""}`);
  });
});

test("an --out that is a file is refused without touching it", async (t) => {
  const file = join(scratch, "a-file");
  writeFileSync(file, "keep me\n");
  const r = await migsim(["run", OK, "--out", file, "--quiet"]);
  t.is(r.status, 2, r.stderr);
  t.is(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  t.regex(r.stderr, /--out/);
  t.is(readFileSync(file, "utf8"), "keep me\n");
});

test("a plugin outside the experiment's folder loads with --allow-external-plugins", async (t) => {
  const file = join(FIXTURES, "experiment/plugin-outside.yaml");
  const out = outDir("external-allowed");
  const r = await migsim(["run", file, "--out", out, "--quiet", "--allow-external-plugins", "--runs", "1"]);
  t.is(r.status, 0, r.stderr);
  t.true(readFileSync(join(out, "runs.csv"), "utf8").includes("outsider"));
});
