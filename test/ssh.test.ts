/** Unit tests of the SSH transport's pure parts: URL parsing, quoting, names, host-key checks. */
import test from "ava";
import fc from "fast-check";
import { execFileSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InputError } from "../src/core/errors.ts";
import { checkHostKey, fingerprintOf, knownHostsName, parseKnownHosts, parseTestbedUrl, safeName } from "../backends/mininet/ssh.ts";
import { quote, shellCommand } from "../src/core/shell.ts";

test("parseTestbedUrl accepts ssh://user@host[:port]", (t) => {
  t.deepEqual(parseTestbedUrl("ssh://root@127.0.0.1:2290"), { user: "root", host: "127.0.0.1", port: 2290, url: "ssh://root@127.0.0.1:2290" });
  t.deepEqual(parseTestbedUrl("ssh://mn@testbed.lab.example"), { user: "mn", host: "testbed.lab.example", port: 22, url: "ssh://mn@testbed.lab.example:22" });
  t.deepEqual(parseTestbedUrl("ssh://u@[::1]:22/"), { user: "u", host: "::1", port: 22, url: "ssh://u@[::1]:22" });
});

test("parseTestbedUrl refuses anything else with an InputError", (t) => {
  for (const bad of [
    "http://root@host",
    "root@host",
    "ssh:root@host",
    "ssh://host",
    "ssh://root:pw@host",
    "ssh://root@host:0",
    "ssh://root@host:70000",
    "ssh://root@host/path",
    "ssh://root@host?x=1",
    "ssh://root@ho_st",
    "ssh://-oProxy@host",
    "ssh://root@host;rm",
    "",
    "ssh://root@host#f",
  ]) {
    const e = t.throws(() => parseTestbedUrl(bad), { instanceOf: InputError }, bad);
    t.regex(e!.message, /expected ssh:\/\/user@host\[:port\]/, bad);
  }
  t.regex(t.throws(() => parseTestbedUrl("https://x@y"))!.message, /unsupported scheme "https"/);
});

test("quote leaves plain words alone and single-quotes the rest", (t) => {
  t.is(quote("abc-1.2/x"), "abc-1.2/x");
  t.is(quote(""), "''");
  t.is(quote("a b"), "'a b'");
  t.is(quote("it's"), "'it'\\''s'");
  t.is(quote("$(reboot)"), "'$(reboot)'");
  t.is(shellCommand("rm", "-rf", "--", "/tmp/a b"), "rm -rf -- '/tmp/a b'");
  t.throws(() => quote("a\0b"), { instanceOf: InputError });
});

test("quote: the shell sees exactly the original string (property, real /bin/sh)", (t) => {
  const samples = fc.sample(
    fc.string({ unit: "binary", maxLength: 40 }).filter((s) => !s.includes("\0")),
    150,
  );
  samples.push("'", "''", "\\", "\n", "$HOME", "`id`", 'a"b', "*", "~", "-n", "!x", "#c", "; echo pwned");
  // One sh invocation for all samples: each printed between NUL separators.
  const script = samples.map((s) => `printf '%s\\0' ${quote(s)}`).join("\n");
  const out = execFileSync("/bin/sh", ["-c", script], { encoding: "utf8" });
  t.deepEqual(out.split("\0").slice(0, -1), samples);
});

test("safeName accepts strict names only", (t) => {
  t.is(safeName("host", "h1"), "h1");
  t.is(safeName("container", "app_2.x-y"), "app_2.x-y");
  for (const bad of ["", "-rf", "a b", "a/b", "..", ".", "a;b", "$(x)", "é"]) {
    t.throws(() => safeName("host", bad), { instanceOf: InputError }, bad);
  }
});

function fakeKey(): Buffer {
  // An ssh-ed25519 public key blob: string "ssh-ed25519", string 32 bytes.
  const type = Buffer.from("ssh-ed25519");
  const key = randomBytes(32);
  const len = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  return Buffer.concat([len(type.length), type, len(key.length), key]);
}

test("fingerprintOf matches ssh-keygen's SHA256 format", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "migsim-fp-"));
  const key = fakeKey();
  writeFileSync(join(dir, "k.pub"), `ssh-ed25519 ${key.toString("base64")} test\n`);
  let expected: string;
  try {
    expected = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", join(dir, "k.pub")], { encoding: "utf8" }).split(" ")[1]!;
  } catch {
    t.pass("ssh-keygen not installed: format checked below only");
    t.regex(fingerprintOf(key), /^SHA256:[A-Za-z0-9+/]{43}$/);
    return;
  }
  t.is(fingerprintOf(key), expected);
});

test("known_hosts: plain, [host]:port, wildcard, negation and hashed entries", (t) => {
  const k1 = fakeKey();
  const k2 = fakeKey();
  const name = knownHostsName("127.0.0.1", 2290);
  t.is(name, "[127.0.0.1]:2290");
  t.is(knownHostsName("lab", 22), "lab");
  const salt = randomBytes(20);
  const hashed = `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update("hashed.example").digest("base64")}`;
  const entries = parseKnownHosts(
    ["# comment", `${name} ssh-ed25519 ${k1.toString("base64")}`, `*.lab,!bad.lab ssh-ed25519 ${k2.toString("base64")}`, `${hashed} ssh-ed25519 ${k2.toString("base64")}`].join("\n"),
  );
  t.is(entries.length, 3);
  t.true(entries[0]!.matches(name));
  t.false(entries[0]!.matches("127.0.0.1"));
  t.true(entries[1]!.matches("a.lab"));
  t.false(entries[1]!.matches("bad.lab"));
  t.true(entries[2]!.matches("hashed.example"));
  t.false(entries[2]!.matches("other.example"));
});

test("checkHostKey accepts the known key, refuses unknown and changed keys with a fix", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "migsim-kh-"));
  const good = fakeKey();
  const other = fakeKey();
  const addr = parseTestbedUrl("ssh://root@127.0.0.1:2290");
  const kh = join(dir, "known_hosts");
  writeFileSync(kh, `[127.0.0.1]:2290 ssh-ed25519 ${good.toString("base64")}\n`);
  t.is(checkHostKey({ knownHostsFile: kh }, addr, good), undefined);
  const changed = checkHostKey({ knownHostsFile: kh }, addr, other);
  t.regex(changed!, /changed.*refusing/);
  t.regex(changed!, /ssh-keyscan -p 2290 127\.0\.0\.1/);
  const elsewhere = parseTestbedUrl("ssh://root@127.0.0.1:2291");
  t.regex(checkHostKey({ knownHostsFile: kh }, elsewhere, good)!, /unknown host key SHA256:/);
  t.regex(checkHostKey({}, addr, good)!, /no known_hosts file or fingerprint/);
  t.is(checkHostKey({ fingerprint: fingerprintOf(good) }, addr, good), undefined);
  t.regex(checkHostKey({ fingerprint: fingerprintOf(good) }, addr, other)!, /not the pinned/);
  t.regex(checkHostKey({ knownHostsFile: join(dir, "missing") }, addr, good)!, /cannot read known_hosts/);
});
