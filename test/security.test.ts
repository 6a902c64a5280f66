/**
 * Security: no user string reaches a shell (local or on the testbed), hostile names are refused or
 * quoted into one inert word, MTD secrets never leave memory in records or errors, and policy
 * plugins outside the experiment's folder (also through a symbolic link) need
 * --allow-external-plugins. Host-key checking is covered by test/ssh.test.ts.
 */
import test from "ava";
import { execFileSync, spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MininetBackend } from "../backends/mininet/backend.ts";
import { checkHostKey, parseTestbedUrl, safeName } from "../backends/mininet/ssh.ts";
import { quote, shellCommand } from "../src/core/shell.ts";
import { InputError } from "../src/core/errors.ts";
import { loadExperiment } from "../src/load/read-experiment.ts";
import { specAt } from "../src/run/plan.ts";
import { bigIntToBytes, bytesToBigInt } from "../src/policies/crypto/secret.ts";
import { decryptTable } from "../src/policies/crypto/table.ts";
import { lookup, MTD_DEFAULTS, setupRandom, setupShamir } from "../src/policies/mtd.ts";
import { runStream } from "../src/core/random.ts";
import { mtdSecrets } from "./helpers/secrets.ts";

function sources(dir: string, exts: string[]): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(p, exts));
    else if (exts.some((e) => entry.name.endsWith(e)) && !entry.name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

const CODE = [...sources("src", [".ts"]), ...sources("backends", [".ts", ".py", ".sh"])];

test("no shell: child_process only through argument lists, no exec/execSync, no shell: true", (t) => {
  t.true(CODE.length > 40, "the scan sees the code base");
  const problems: string[] = [];
  for (const file of CODE) {
    const text = readFileSync(file, "utf8");
    if (file.endsWith(".ts")) {
      const imports = [...text.matchAll(/import\s*\{([^}]*)\}\s*from\s*["'](?:node:)?child_process["']/g)].flatMap((m) => m[1]!.split(",").map((s) => s.trim().split(/\s+as\s+/)[0]!));
      for (const name of imports) if (name === "exec" || name === "execSync") problems.push(`${file}: imports ${name} from child_process`);
      if (/import\s+\*\s+as\s+\w+\s+from\s*["'](?:node:)?child_process["']|require\(["'](?:node:)?child_process["']\)/.test(text)) {
        problems.push(`${file}: namespace import of child_process (use execFile/spawn by name)`);
      }
      if (/shell\s*:\s*(true|[^,}\s]*sh)/.test(text)) problems.push(`${file}: a shell option`);
    }
    if (file.endsWith(".py")) {
      for (const bad of [/shell\s*=\s*True/, /os\.system\(/, /os\.popen\(/, /subprocess\.getoutput\(/, /subprocess\.getstatusoutput\(/, /\.cmd\(/, /\.sendCmd\(/]) {
        if (bad.test(text)) problems.push(`${file}: ${bad.source}`);
      }
    }
  }
  t.deepEqual(problems, []);
});

test("every command sent to the testbed over SSH is built by shellCommand", (t) => {
  const problems: string[] = [];
  for (const file of CODE.filter((f) => f.startsWith("backends/mininet/") && f.endsWith(".ts"))) {
    const text = readFileSync(file, "utf8");
    const built = new Set([...text.matchAll(/(?:const|let)\s+(\w+)\s*=\s*shellCommand\(/g)].map((m) => m[1]!));
    for (const m of text.matchAll(/\.exec\(\s*([^,)]+)/g)) {
      const arg = m[1]!.trim();
      if (!(arg.startsWith("shellCommand(") || built.has(arg) || file.endsWith("ssh.ts"))) problems.push(`${file}: exec(${arg})`);
    }
  }
  t.deepEqual(problems, []);
});

const HOSTILE = [
  "h1; rm -rf /",
  "$(touch PWNED)",
  "`touch PWNED`",
  "a\ntouch PWNED",
  "x' ; touch PWNED ; echo '",
  "-rf",
  "../../etc",
  "h1 && reboot",
  "${IFS}touch${IFS}PWNED",
  "h1|touch PWNED",
  "\\",
];

test("hostile names are refused by safeName and turned into one inert word by shellCommand", (t) => {
  for (const name of HOSTILE) t.throws(() => safeName("host", name), { instanceOf: InputError }, JSON.stringify(name));
  // the real shell, in a scratch folder: each argument arrives intact and nothing is executed
  const dir = mkdtempSync(join(tmpdir(), "migsim-shell-"));
  const script = HOSTILE.map((s) => shellCommand("printf", "%s\\0", s)).join("\n");
  const out = execFileSync("/bin/sh", ["-c", script], { cwd: dir, encoding: "utf8" });
  t.deepEqual(out.split("\0").slice(0, -1), HOSTILE);
  t.false(existsSync(join(dir, "PWNED")));
  t.deepEqual(readdirSync(dir), []);
  // anything with a character the shell treats specially is single-quoted
  for (const s of HOSTILE.filter((x) => /[^A-Za-z0-9_./:=@%+,-]/.test(x))) t.regex(quote(s), /^'.*'$/s, s);
});

test("the mininet backend refuses a hostile container name before it connects anywhere", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "migsim-sec-"));
  writeFileSync(join(dir, "t.yaml"), "name: t\nswitches: [s1]\nhosts: [h1, h2]\nlinks:\n  - { a: h1, b: s1 }\n  - { a: h2, b: s1 }\n");
  writeFileSync(
    join(dir, "e.yaml"),
    `name: e\ntopology: t.yaml\nmigrations:\n  - container: { name: "app; touch PWNED" , checkpoint: 1MB }\n    source: h1\n    trigger: { at: 1s }\npolicies: [random]\n`,
  );
  const spec = specAt(loadExperiment(join(dir, "e.yaml")), 0);
  let decided = 0;
  // port 1 on loopback: a connection attempt would fail with a different (connection) error
  const backend = new MininetBackend({
    testbed: "ssh://root@127.0.0.1:1",
    privateKeyFile: join(dir, "none"),
    decide: () => {
      decided++;
      throw new Error("must not decide");
    },
    connectTimeoutMs: 2000,
  });
  const e = await t.throwsAsync(backend.execute(spec), { instanceOf: InputError });
  t.regex(e!.message, /invalid container name "app; touch PWNED"/);
  t.is(decided, 0);
});

const MTD_TOPOLOGY =
  "name: t\ndefaults: { capacity: 10Mbps, latency: 1ms }\nswitches: [s1, s2]\nhosts: [h1, h2, h3, h4, h5, h6]\nlinks:\n" +
  "  - { a: h1, b: s1 }\n  - { a: h2, b: s1 }\n  - { a: h3, b: s1 }\n  - { a: s1, b: s2 }\n  - { a: h4, b: s2 }\n  - { a: h5, b: s2 }\n  - { a: h6, b: s2 }\n";

const MTD_EXPERIMENT =
  "name: mtd\ntopology: t.yaml\nruns: 3\nseed: 5\nmanager: h1\ntraffic:\n  - { from: h3, to: h2, kind: tcp }\nmigrations:\n" +
  "  - container: { name: app, checkpoint: 2MB }\n    source: h2\n    candidates: all\n    trigger: { at: 2s }\n" +
  "policies:\n  - mtd-shamir: { k: 3 }\n  - mtd-fountain: { k: 3 }\n  - mtd-random\n";

test("MTD secrets never appear in any output of migsim run (all three MTD policies, every run)", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "migsim-mtd-"));
  writeFileSync(join(dir, "t.yaml"), MTD_TOPOLOGY);
  writeFileSync(join(dir, "e.yaml"), MTD_EXPERIMENT);
  const out = join(dir, "out");
  const r = spawnSync(process.execPath, ["bin/migsim.js", "run", join(dir, "e.yaml"), "--out", out, "--quiet", "--no-plots"], { encoding: "utf8" });
  t.is(r.status, 0, r.stderr);
  const files = readdirSync(out).filter((f) => statSync(join(out, f)).isFile());
  t.true(
    ["runs.csv", "summary.csv", "summary.md", "manifest.json"].every((f) => files.includes(f)),
    files.join(", "),
  );
  const texts = files.map((f) => [f, readFileSync(join(out, f), "utf8")] as const);
  const [header, ...rows] = readFileSync(join(out, "runs.csv"), "utf8")
    .trim()
    .split("\n")
    .map((l) => l.split(","));
  const col = (name: string): number => header!.indexOf(name);
  t.is(rows.length, 9);
  const hosts = ["h1", "h2", "h3", "h4", "h5", "h6"];
  let checked = 0;
  for (const seed of new Set(rows.map((row) => Number(row[col("seed")])))) {
    const secrets = mtdSecrets(() => runStream(seed, "keys", 0), hosts);
    t.true(secrets.length > 30);
    for (const [f, text] of texts) for (const s of secrets) t.false(text.includes(s), `secret rendering ${s.slice(0, 12)}... in ${f}`);
    checked += secrets.length;
  }
  t.true(checked > 100);
  // the recomputation is the policies' own: the recomputed secrets give the destinations the runs chose
  // neither the source h2 nor the manager h1 (an MTD policy never chooses the manager)
  const allowed = new Set(hosts.filter((h) => h !== "h2" && h !== "h1"));
  for (const row of rows) {
    const seed = Number(row[col("seed")]);
    const destination = row[col("destination")];
    if (row[col("policy")] === "mtd-shamir") {
      const sh = setupShamir(runStream(seed, "keys", 0), hosts, "h1", "h2", 3);
      t.is(destination, lookup(decryptTable(sh.table, sh.secret), allowed, sh.r.reveal(), sh.keys.get("h2")!, sh.n, MTD_DEFAULTS.maxRedraws).destination);
    } else if (row[col("policy")] === "mtd-random") {
      const ra = setupRandom(runStream(seed, "keys", 0));
      const mac = createHmac("sha256", ra.key.reveal()).update(bigIntToBytes(ra.r.reveal(), 32)).digest();
      const cs = [...allowed];
      t.is(destination, cs[Number(bytesToBigInt(mac) % BigInt(cs.length))]!);
    }
  }
});

test("a plugin reached through a symbolic link out of the experiment's folder needs --allow-external-plugins", (t) => {
  const root = mkdtempSync(join(tmpdir(), "migsim-link-"));
  const expDir = join(root, "exp");
  const elsewhere = join(root, "elsewhere");
  mkdirSync(expDir);
  mkdirSync(elsewhere);
  writeFileSync(join(elsewhere, "p.mjs"), `export const name = "p"; export function decide(i) { return { destination: i.candidates[0] }; }\n`);
  symlinkSync(join(elsewhere, "p.mjs"), join(expDir, "p.mjs"));
  writeFileSync(join(expDir, "t.yaml"), MTD_TOPOLOGY);
  writeFileSync(
    join(expDir, "e.yaml"),
    "name: e\ntopology: t.yaml\nmigrations:\n  - container: { name: app, checkpoint: 1MB }\n    source: h2\n    trigger: { at: 1s }\npolicies:\n  - mine: { plugin: ./p.mjs }\n",
  );
  const e = t.throws(() => loadExperiment(join(expDir, "e.yaml")), { instanceOf: InputError });
  t.regex(e!.message, /e\.yaml:8:\d+: policies\.0\.mine\.plugin: the plugin "\.\/p\.mjs" is outside the experiment's folder; pass --allow-external-plugins/);
  t.is(loadExperiment(join(expDir, "e.yaml"), { allowExternalPlugins: true }).policies[0]!.plugin, join(expDir, "p.mjs"));
  // a plugin really inside the folder needs no flag
  writeFileSync(join(expDir, "q.mjs"), readFileSync(join(elsewhere, "p.mjs")));
  writeFileSync(join(expDir, "e2.yaml"), readFileSync(join(expDir, "e.yaml"), "utf8").replace("./p.mjs", "./q.mjs"));
  t.is(loadExperiment(join(expDir, "e2.yaml")).policies[0]!.plugin, join(expDir, "q.mjs"));
});

test("host keys: a revoked key is refused even when listed, a CA line is no key, and the fix names real options", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "migsim-revoked-"));
  const blob = (n: number): Buffer => {
    const type = Buffer.from("ssh-ed25519");
    const len = (x: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(x);
      return b;
    };
    return Buffer.concat([len(type.length), type, len(32), Buffer.alloc(32, n)]);
  };
  const addr = parseTestbedUrl("ssh://root@127.0.0.1:2290");
  const kh = join(dir, "known_hosts");
  writeFileSync(
    kh,
    [
      `[127.0.0.1]:2290 ssh-ed25519 ${blob(1).toString("base64")}`,
      `@revoked [127.0.0.1]:2290 ssh-ed25519 ${blob(1).toString("base64")}`,
      `@cert-authority [127.0.0.1]:2290 ssh-ed25519 ${blob(2).toString("base64")}`,
    ].join("\n"),
  );
  t.regex(checkHostKey({ knownHostsFile: kh }, addr, blob(1))!, /is revoked/);
  t.regex(checkHostKey({ knownHostsFile: kh }, addr, blob(2))!, /changed: it presents .* refusing to connect/);
  // the remedy quotes options `migsim run` really has
  const fix = checkHostKey({}, addr, blob(3))!;
  const options = [...fix.matchAll(/--[a-z-]+/g)].map((m) => m[0]);
  t.deepEqual(options, ["--fingerprint", "--known-hosts"]);
  const help = spawnSync(process.execPath, ["bin/migsim.js", "run", "--help"], { encoding: "utf8" }).stdout;
  for (const o of options) t.true(help.includes(`${o} `), `${o} in migsim run --help`);
});
