import test from "ava";
import { spawnSync } from "node:child_process";
import { hkdfSync } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { InputError } from "../src/core/errors.ts";
import { makeRng } from "../src/core/random.ts";
import { builtinPolicies } from "../src/policies/registry.ts";
import { interpolate, P521 } from "../src/policies/crypto/field.ts";
import { CodedSymbol, Decoder, encode } from "../src/policies/crypto/fountain.ts";
import { gfMul } from "../src/policies/crypto/gf256.ts";
import { belowAccepts, bigIntToBytes, bytesToBigInt, Drbg, hkdfSha256, SecretBigInt, SecretBytes } from "../src/policies/crypto/secret.ts";
import { combine, type Share, split } from "../src/policies/crypto/shamir.ts";
import { decryptTable, encryptTable, formulaIndex, TableAuthError, tableBytes } from "../src/policies/crypto/table.ts";
import { lookup, setupFountain, setupRandom, setupShamir } from "../src/policies/mtd.ts";
import type { Policy, PolicyInput } from "../src/policies/policy-types.ts";
import type { Topology } from "../src/network/topology/topology-types.ts";
import { mtdSecrets } from "./helpers/secrets.ts";
import { fig3, link, policyInputOn } from "./helpers/view.ts";

const HOSTS = ["h1", "h2", "h3", "h4", "h5"];

const input = (seed: number, params: Record<string, unknown> = {}): PolicyInput => policyInputOn(fig3(), seed, { params });
const policy = (name: string): Policy => builtinPolicies.get(name)!;

function combinations<T>(xs: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (xs.length < k) return [];
  const [first, ...rest] = xs;
  return [...combinations(rest, k - 1).map((c) => [first!, ...c]), ...combinations(rest, k)];
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

test("Shamir: any K of N shares reconstruct S, K - 1 do not and fit every secret", (t) => {
  const drbg = Drbg.fromRng(makeRng(7), "test");
  const secret = new SecretBytes("s", drbg.bytes(32));
  const shares = split(secret, 6, 3, drbg);
  for (const c of combinations(shares, 3)) t.is(hex(combine(c, 32).reveal()), hex(secret.reveal()));
  for (const c of combinations(shares, 4)) t.is(hex(combine(c, 32).reveal()), hex(secret.reveal()));
  for (const c of combinations(shares, 2)) {
    // interpolating K - 1 shares at 0 gives a wrong value
    const guess = interpolate(
      c.map((s) => [s.x, s.y.reveal()] as const),
      0n,
    );
    t.not(guess, bytesToBigInt(secret.reveal()));
    // and for any candidate secret S' there is a degree-(K-1) polynomial through (0, S') and
    // the K - 1 shares: the same shares are consistent with every secret
    for (const candidate of [0n, 1n, 12345n, bytesToBigInt(secret.reveal())]) {
      const pts = [[0n, candidate] as const, ...c.map((s) => [s.x, s.y.reveal()] as const)];
      const third = 99n;
      const virtual: Share = { x: third, y: new SecretBigInt("v", interpolate(pts, third)) };
      t.is(
        interpolate(
          [...c, virtual].map((s) => [s.x, s.y.reveal()] as const),
          0n,
        ),
        candidate,
      );
      for (const s of c) t.is(interpolate(pts, s.x), s.y.reveal());
    }
  }
  t.true(shares.every((s) => s.y.reveal() < P521));
});

test("AES-GCM table: decrypts under S, fails authentication under a wrong key or K - 1 shares", (t) => {
  const drbg = Drbg.fromRng(makeRng(8), "test");
  const secret = new SecretBytes("s", drbg.bytes(32));
  const slots = ["h3", "h1", "h5", "h2", "h4", null];
  const table = encryptTable(slots, secret, drbg);
  t.deepEqual(decryptTable(table, secret), slots);
  const wrong = secret.reveal();
  wrong[31] = wrong[31]! ^ 1;
  t.throws(() => decryptTable(table, new SecretBytes("w", wrong)), { instanceOf: TableAuthError });
  const shares = split(secret, 5, 3, drbg);
  t.throws(() => decryptTable(table, combine(shares.slice(0, 2), 32)), { instanceOf: TableAuthError });
  t.deepEqual(decryptTable(table, combine(shares.slice(2, 5), 32)), slots);
  // the ciphertext does not carry the host names in clear
  t.false(Buffer.from(table.ciphertext).toString("latin1").includes("h3"));
});

test("fountain: K independent symbols decode S, K - 1 leave it undetermined", (t) => {
  const k = 3;
  const drbg = Drbg.fromRng(makeRng(9), "test");
  const secret = new SecretBytes("s", drbg.bytes(32));
  const s1 = encode(secret, k, drbg);
  const s2 = encode(secret, k, drbg);
  const dec = new Decoder(k);
  t.true(dec.add(s1));
  t.true(dec.add(s2));
  t.is(dec.rank, 2);
  t.is(dec.decode(32), undefined);
  // a second secret S' = S + n (n in the null space of the two coefficient rows, on byte 0 of
  // every block) yields exactly the same two symbols: K - 1 symbols cannot tell S from S'
  const [a, b] = [s1.coefficients, s2.coefficients];
  const n = [gfMul(a[1]!, b[2]!) ^ gfMul(a[2]!, b[1]!), gfMul(a[2]!, b[0]!) ^ gfMul(a[0]!, b[2]!), gfMul(a[0]!, b[1]!) ^ gfMul(a[1]!, b[0]!)];
  t.true(n.some((x) => x !== 0));
  const blockLen = Math.ceil(32 / k);
  const raw = secret.reveal();
  const other = Uint8Array.from(raw);
  n.forEach((nj, j) => (other[j * blockLen] = other[j * blockLen]! ^ nj));
  const payloadOf = (bytes: Uint8Array, c: Uint8Array): string => {
    const out = new Uint8Array(blockLen);
    for (let j = 0; j < k; j++) for (let i = 0; i < blockLen; i++) out[i] = out[i]! ^ gfMul(c[j]!, bytes[j * blockLen + i] ?? 0);
    return hex(out);
  };
  t.not(hex(other), hex(raw));
  t.is(payloadOf(other, a), hex(s1.revealPayload()));
  t.is(payloadOf(other, b), hex(s2.revealPayload()));
  t.is(payloadOf(raw, a), hex(s1.revealPayload()));
  // a dependent symbol does not help; an independent one completes the decoding
  const dep = new Uint8Array(k);
  const dp = new Uint8Array(blockLen);
  for (let j = 0; j < k; j++) dep[j] = gfMul(5, a[j]!) ^ gfMul(7, b[j]!);
  const p1 = s1.revealPayload();
  const p2 = s2.revealPayload();
  for (let i = 0; i < blockLen; i++) dp[i] = gfMul(5, p1[i]!) ^ gfMul(7, p2[i]!);
  t.false(dec.add(new CodedSymbol(dep, dp)));
  t.is(dec.decode(32), undefined);
  let extra = encode(secret, k, drbg);
  while (!dec.add(extra)) extra = encode(secret, k, drbg);
  t.is(hex(dec.decode(32)!.reveal()), hex(raw));
});

test("formula (1) on hand-computed values (digests from sha256sum)", (t) => {
  // R=5, X=3, Y=7: v = 26 = bytes 1a; `printf '\x1a' | sha256sum`
  const d1 = BigInt("0x58f7b0780592032e4d8602a3e8690fb2c701b2e1dd546e703445aabd6469734d");
  t.is(formulaIndex(5n, 3n, 7n, 5), Number(d1 % 6n));
  t.is(formulaIndex(5n, 3n, 7n, 3), Number(d1 % 4n));
  t.is(formulaIndex(26n, 1n, 0n, 5), Number(d1 % 6n));
  // R=2^64, X=3, Y=5: v = 2^64 + 15 = bytes 01 00 00 00 00 00 00 00 0f
  const d2 = BigInt("0x2704f9cf37f801539bc99d34cdfbc67a414c919212286595d378e4ab795ef68e");
  t.is(formulaIndex(1n << 64n, 3n, 5n, 5), Number(d2 % 6n));
  t.deepEqual([...bigIntToBytes(0n)], [0]);
});

test("lookup re-draws R + a until a free candidate, walks the table after max-redraws", (t) => {
  const slots = ["h1", "h2", "h3", "h4", "h5", null];
  const key = { x: 3n, y: new SecretBigInt("y", 7n) };
  let redrawn = 0;
  let walkedSeen = 0;
  for (let r = 0n; r < 60n; r++) {
    const got = lookup(slots, new Set(["h4"]), r, key, 5, 64);
    let a = 0n;
    while (formulaIndex(r + a, 3n, 7n, 5) !== 3) a++;
    t.deepEqual(got, { destination: "h4", index: 3, draws: Number(a) + 1, walked: false });
    if (a > 0n) redrawn++;
    const once = lookup(slots, new Set(["h4"]), r, key, 5, 1);
    t.is(once.destination, "h4");
    t.is(once.walked, a > 0n);
    if (once.walked) walkedSeen++;
  }
  t.true(redrawn > 20 && walkedSeen === redrawn);
});

test("mtd-shamir: K disjoint holders, never the source or the manager, secret verified", (t) => {
  for (let s = 0; s < 30; s++) {
    const plan = policy("mtd-shamir").decide(input(s, { k: 3, verify: true }));
    const asked = plan.keyRequests.map((r) => r.host);
    t.is(asked.length, 3);
    t.is(new Set(asked).size, 3);
    t.false(asked.includes("h2") || asked.includes("h1"));
    t.true(plan.mtd!.verified);
    t.is(plan.setup.length, 4); // every host but the manager
    t.true(plan.keyRequests.every((r) => r.newConnection && r.requestBytes === 64 && r.responseBytes === 68));
  }
  const err = t.throws(() => policy("mtd-shamir").decide(input(1, { k: 4 })), { instanceOf: InputError });
  t.regex(err.message, /k = 4 but only 3 key holders/);
  t.throws(() => policy("mtd-shamir").validate!({ k: 5 }, { hosts: 5, candidates: 3 }), { instanceOf: InputError, message: /mtd-shamir.k/ });
  t.throws(() => policy("mtd-shamir").validate!({ k: 1 }, { hosts: 5, candidates: 3 }), { instanceOf: InputError, message: /at least 2/ });
  const custom = policy("mtd-shamir").decide(input(1, { k: 2, "request-bytes": "100B", "share-bytes": "1kB", "new-connection": false, compute: "5ms" }));
  t.deepEqual(
    custom.keyRequests.map((r) => [r.requestBytes, r.responseBytes, r.newConnection]),
    [
      [100, 1000, false],
      [100, 1000, false],
    ],
  );
  t.is(custom.computeSeconds, 0.005);
});

test("mtd-fountain: asks again after dependent symbols, K useful answers each time", (t) => {
  let more = 0;
  for (let s = 0; s < 200; s++) {
    const plan = policy("mtd-fountain").decide(input(s, { k: 3, verify: true }));
    const m = plan.mtd!;
    t.is(m.requests - m.dependentAnswers, 3);
    t.is(plan.keyRequests.length, m.requests);
    t.true(m.verified);
    t.false(plan.keyRequests.some((r) => r.host === "h2" || r.host === "h1"));
    if (m.requests > 3) more++;
  }
  // each host holds k - 1 = 2 symbols, so a host asked three times answers a dependent symbol
  t.true(more > 10, `plans with extra requests: ${more}`);
});

test("mtd-fountain picks holders by formula (2) (chi-square on first requests, df 2, 1%)", (t) => {
  // latencies from h2 (one-way propagation of the test topology): h3 2ms, h4 5ms, h5 7.5ms
  const lat: Record<string, number> = { h3: 2e-3, h4: 5e-3, h5: 7.5e-3 };
  const P = (k: string): number => 1 / Object.keys(lat).reduce((acc, j) => acc + lat[k]! / lat[j]!, 0);
  const counts = new Map<string, number>();
  const runs = 3000;
  for (let s = 0; s < runs; s++) {
    const h = policy("mtd-fountain").decide(input(s)).keyRequests[0]!.host;
    counts.set(h, (counts.get(h) ?? 0) + 1);
  }
  let x2 = 0;
  for (const k of Object.keys(lat)) x2 += ((counts.get(k) ?? 0) - runs * P(k)) ** 2 / (runs * P(k));
  t.log(`counts ${JSON.stringify([...counts])}, expected ${Object.keys(lat).map((k) => (runs * P(k)).toFixed(0))}, chi2 ${x2.toFixed(2)}`);
  t.true(x2 < 9.21);
  t.true(Math.abs(P("h3") - 0.6) < 1e-12);
});

test("mtd-random: PRF choice, no key retrieval, roughly uniform", (t) => {
  const counts = new Map<string, number>();
  for (let s = 0; s < 600; s++) {
    const plan = policy("mtd-random").decide(input(s));
    t.is(plan.keyRequests.length, 0);
    counts.set(plan.destination, (counts.get(plan.destination) ?? 0) + 1);
  }
  let x2 = 0;
  for (const k of ["h3", "h4", "h5"]) x2 += ((counts.get(k) ?? 0) - 200) ** 2 / 200;
  t.true(x2 < 9.21);
});

test("secrets never appear in plans, notes, inspection or error messages", (t) => {
  const seed = 11;
  // the key material the decisions below draw: the same input's keyRng
  const sh = setupShamir(input(seed).keyRng, HOSTS, "h1", "h2", 3);
  const fo = setupFountain(input(seed).keyRng, HOSTS, "h1", "h2", 3, 2);
  const ra = setupRandom(input(seed).keyRng);
  const secrets = mtdSecrets(() => input(seed).keyRng, HOSTS);
  const outputs = [
    JSON.stringify(policy("mtd-shamir").decide(input(seed))),
    JSON.stringify(policy("mtd-fountain").decide(input(seed))),
    JSON.stringify(policy("mtd-random").decide(input(seed))),
    JSON.stringify(sh),
    JSON.stringify(fo),
    JSON.stringify(ra),
    inspect(sh, { depth: 10 }),
    inspect(fo, { depth: 10 }),
    inspect(ra, { depth: 10 }),
    `${sh.secret} ${ra.key} ${sh.r}`,
  ];
  // the setups are the ones the decisions used (same seed, same stream): the check is not vacuous
  const plan = policy("mtd-shamir").decide(input(seed));
  const slots = decryptTable(sh.table, sh.secret);
  const again = lookup(slots, new Set(["h3", "h4", "h5"]), sh.r.reveal(), sh.keys.get("h2")!, 5, 64);
  t.deepEqual([plan.destination, plan.mtd!.index], [again.destination, again.index]);
  // set-up message: AES-GCM IV + ciphertext of the JSON table (host names are two characters) + tag, plus one share
  t.is(plan.setup[0]!.bytes, 12 + Buffer.byteLength(JSON.stringify([...HOSTS, null])) + 16 + 68);
  for (const bad of [{ k: 4 }, { k: "3" }, { k: 9, nonsense: true }]) {
    try {
      policy("mtd-shamir").decide(input(seed, bad));
      t.fail("expected an error");
    } catch (e) {
      t.true(e instanceof InputError);
      outputs.push((e as Error).message);
    }
  }
  for (const out of outputs) for (const s of secrets) t.false(out.includes(s), `leak of a secret rendering in: ${out.slice(0, 80)}`);
  t.regex(inspect(sh.secret), /redacted/);
  t.deepEqual(Object.keys(sh.secret), ["label"]);
});

test("mtd-fountain validation counts symbols, not hosts; too few symbols is an InputError", (t) => {
  const p = policy("mtd-fountain");
  t.notThrows(() => p.validate!({ k: 5, "symbols-per-host": 4 }, { hosts: 3, candidates: 2 }));
  t.throws(() => p.validate!({ k: 5, "symbols-per-host": 2 }, { hosts: 3, candidates: 2 }), { instanceOf: InputError, message: /mtd-fountain.k: .*hold 4/ });
  // k = 5 from the three reachable holders, each holding 4 symbols: decodes, with more requests than holders
  const plan = p.decide(input(3, { k: 5, "symbols-per-host": 4, verify: true }));
  t.true(plan.mtd!.verified);
  t.true(plan.keyRequests.length >= 5);
  // one symbol per host and only three holders cannot span five blocks
  t.throws(() => p.decide(input(3, { k: 5, "symbols-per-host": 1 })), { instanceOf: InputError, message: /rank 3 < k = 5/ });
});

test("set-ups build a holder's key material only when it is read, the same whatever is read first", (t) => {
  const hosts = Array.from({ length: 40 }, (_, i) => `h${i + 1}`);
  for (const [manager, source] of [
    ["h7", "h2"],
    ["h2", "h2"],
    ["h40", "h1"],
  ] as const) {
    const holders = hosts.filter((h) => h !== manager || h === source);
    for (const setup of [() => setupShamir(makeRng(5), hosts, manager, source, 3), () => setupFountain(makeRng(5), hosts, manager, source, 3, 2)]) {
      const first = setup();
      const second = setup();
      t.deepEqual([...first.keys.keys()], holders);
      t.is(first.keys.size, holders.length);
      t.is(first.keys.has(manager), manager === source);
      t.is(first.keys.get("h99"), undefined);
      // read in opposite orders: the same x and secret value per holder (values are kept once built)
      const forward = holders.map((h) => first.keys.get(h)!);
      const backward = [...holders]
        .reverse()
        .map((h) => second.keys.get(h)!)
        .reverse();
      holders.forEach((h, i) => {
        t.is(forward[i]!.x, BigInt(i + 1), h);
        t.is(forward[i]!.y.reveal(), backward[i]!.y.reveal(), h);
      });
      t.is(first.keys.get(source), forward[holders.indexOf(source)]);
    }
    const a = setupFountain(makeRng(5), hosts, manager, source, 3, 2);
    const b = setupFountain(makeRng(5), hosts, manager, source, 3, 2);
    const symbols = (s: typeof a, h: string) => s.stock.get(h)!.map((x) => hex(x.coefficients) + hex(x.revealPayload()));
    t.deepEqual(symbols(a, holders.at(-1)!), symbols(b, holders.at(-1)!));
    t.deepEqual(
      [...a.stock.values()].map((xs) => xs.length),
      holders.map(() => 2),
    );
    // the DRBG continues from the same point whether or not the stock was read
    t.is(a.drbg.int(1 << 30), b.drbg.int(1 << 30));
  }
});

/** 30 hosts on six switches around a core, with distinct latencies (formula (2) weighs them) */
function twoLevel(): Topology {
  const hosts = Array.from({ length: 30 }, (_, i) => `h${i + 1}`);
  const switches = ["s0", ...Array.from({ length: 6 }, (_, i) => `s${i + 1}`)];
  const links = [...switches.slice(1).map((s, i) => link("s0", s, 10e6 * (1 + i), (1 + i) * 0.4e-3)), ...hosts.map((h, i) => link(h, `s${1 + (i % 6)}`, 5e6, (1 + (i % 7)) * 0.1e-3))];
  return { name: "two-level", hosts, switches, links };
}

test("a decision computes only what it reads: the same plans and draws as with verify (S recovered, table decrypted)", (t) => {
  const topo = twoLevel();
  let compared = 0;
  for (const name of ["mtd-shamir", "mtd-fountain"]) {
    for (const source of ["h2", "h17", "h1"]) {
      const candidates = topo.hosts.filter((h) => h !== source);
      for (let seed = 0; seed < 25; seed++) {
        const rngs = [makeRng(seed), makeRng(seed)];
        const [lazy, full] = [{ k: 3 }, { k: 3, verify: true }].map((params, i) => policy(name).decide(policyInputOn(topo, seed, { params, source, candidates, rng: rngs[i]! })));
        t.false(lazy!.mtd!.verified);
        t.true(full!.mtd!.verified);
        t.deepEqual({ ...lazy!, mtd: { ...lazy!.mtd!, verified: true } }, full!);
        // the same draws from the run's rng: what follows in the run is the same too
        t.is(rngs[0]!(), rngs[1]!());
        compared++;
      }
    }
  }
  t.is(compared, 150);
});

test("set-up sizes without encrypting: the table's size is that of its encryption, the lazy table encrypts as the full one", (t) => {
  const hosts = twoLevel().hosts;
  for (let seed = 0; seed < 5; seed++) {
    const sh = setupShamir(makeRng(seed), hosts, "h1", "h5", 3);
    t.is(sh.lookup.bytes, tableBytes(sh.table));
    t.deepEqual(decryptTable(sh.table, sh.secret), sh.lookup.reveal());
    const fo = setupFountain(makeRng(seed), hosts, "h1", "h5", 3, 2);
    const lean = setupFountain(makeRng(seed), hosts, "h1", "h5", 3, 2, false);
    t.is(lean.keys.get("h5")!.y.reveal(), fo.keys.get("h5")!.y.reveal());
    t.throws(() => lean.keys.get("h6"), { message: /not kept/ });
    t.deepEqual(hex(lean.table.ciphertext), hex(fo.table.ciphertext));
    t.is(lean.drbg.int(1 << 30), fo.drbg.int(1 << 30));
  }
});

test("Drbg: HKDF by two HMACs gives node:crypto's hkdfSync bytes; skipBelow draws as belowInto", (t) => {
  for (const [ikm, salt, info] of [
    [new Uint8Array(32).fill(7), "migsim-mtd-drbg", "mtd-shamir"],
    [new Uint8Array(5), "s", ""],
  ] as const) {
    t.is(hex(hkdfSha256(ikm, salt, info)), hex(new Uint8Array(hkdfSync("sha256", ikm, salt, info, 32))));
  }
  for (let seed = 0; seed < 20; seed++) {
    const a = Drbg.fromRng(makeRng(seed), "t");
    const b = Drbg.fromRng(makeRng(seed), "t");
    // a bound whose draws are rejected half the time: 2^8 + 1 over two bytes masked to 9 bits
    const p = 257n;
    const out = new Uint8Array(2);
    for (let i = 0; i < 50; i++) {
      a.belowInto(p, out, 0);
      b.skipBelow(p);
      a.belowInto(P521, new Uint8Array(66), 0);
      b.skipBelow(P521);
    }
    t.is(a.int(1 << 30), b.int(1 << 30));
  }
  // draws parsed out of peek with belowAccepts, one by one after the first rejected one, as a
  // set-up does: the values and the stream's position of belowInto
  for (let seed = 0; seed < 20; seed++) {
    const a = Drbg.fromRng(makeRng(seed), "t");
    const b = Drbg.fromRng(makeRng(seed), "t");
    const p = 257n;
    const want = new Uint8Array(2 * 40);
    for (let i = 0; i < 40; i++) a.belowInto(p, want, 2 * i);
    const got = new Uint8Array(2 * 40);
    const block = b.peek(2 * 40);
    let i = 0;
    while (i < 40 && belowAccepts(p, block, 2 * i, got, 2 * i)) i++;
    b.skip(2 * i);
    t.true(i < 40, "some draw was rejected");
    for (; i < 40; i++) b.belowInto(p, got, 2 * i);
    t.is(hex(got), hex(want));
    t.is(a.int(1 << 30), b.int(1 << 30));
  }
});

test("migsim run gives the same runs.csv with and without verify (tcp-fluid, both keyed MTD policies)", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "migsim-verify-"));
  writeFileSync(
    join(dir, "t.yaml"),
    "name: t\ndefaults: { capacity: 10Mbps, latency: 1ms }\nswitches: [s1, s2]\nhosts: [h1, h2, h3, h4, h5, h6]\nlinks:\n" +
      "  - { a: h1, b: s1 }\n  - { a: h2, b: s1 }\n  - { a: h3, b: s1 }\n  - { a: s1, b: s2 }\n  - { a: h4, b: s2 }\n  - { a: h5, b: s2 }\n  - { a: h6, b: s2 }\n",
  );
  const runs = [false, true].map((verify) => {
    writeFileSync(
      join(dir, `e-${verify}.yaml`),
      "name: mtd\ntopology: t.yaml\nruns: 4\nseed: 5\nmanager: h1\nnetwork: { model: tcp-fluid }\ntraffic:\n  - { from: h3, to: h2, kind: tcp }\nmigrations:\n" +
        "  - container: { name: app, checkpoint: 2MB }\n    source: h2\n    candidates: all\n    trigger: { at: 2s }\n" +
        "  - container: { name: db, checkpoint: 3MB }\n    source: h4\n    candidates: all\n    trigger: { at: 2.5s }\n" +
        `policies:\n  - mtd-shamir: { k: 3, verify: ${verify} }\n  - mtd-fountain: { k: 3, verify: ${verify} }\n`,
    );
    const out = join(dir, `out-${verify}`);
    const r = spawnSync(process.execPath, ["bin/migsim.js", "run", join(dir, `e-${verify}.yaml`), "--out", out, "--quiet", "--no-plots"], { encoding: "utf8" });
    t.is(r.status, 0, r.stderr);
    return readFileSync(join(out, "runs.csv"), "utf8");
  });
  t.is(runs[0]!.trim().split("\n").length, 1 + 2 * 4 * 2);
  t.is(runs[0], runs[1]);
});

test("check, the pre-run check's stand-in for a trial decision, throws what decide throws and nothing where decide decides", (t) => {
  const outcome = (f: () => unknown): string => {
    try {
      f();
      return "ok";
    } catch (e) {
      return `${(e as Error).constructor.name}: ${(e as Error).message}`;
    }
  };
  const cases: Array<[string, Partial<PolicyInput>]> = [
    ["mtd-shamir", { params: { k: 3 } }],
    ["mtd-shamir", { params: { k: 4 } }],
    ["mtd-shamir", { params: { k: 2 }, candidates: ["h1"] }],
    ["mtd-shamir", { params: { k: 2 }, source: "s1" }],
    ["mtd-random", {}],
    ["mtd-random", { candidates: ["h1"] }],
    ["mtd-random", { candidates: ["h1", "h9"] }],
    ...["random", "bandwidth", "shortest-path"].flatMap(
      (name): Array<[string, Partial<PolicyInput>]> => [
        [name, {}],
        [name, { candidates: ["h2"] }],
        [name, { candidates: ["h3", "h9"] }],
        [name, { source: "h9" }],
      ],
    ),
  ];
  const seen = new Set<string>();
  for (const [name, extra] of cases) {
    const p = policy(name);
    for (let s = 0; s < 5; s++) {
      const decided = outcome(() => p.decide(policyInputOn(fig3(), s, extra)));
      t.is(
        outcome(() => p.check!(policyInputOn(fig3(), s, extra))),
        decided,
        `${name} ${JSON.stringify(extra)}`,
      );
      seen.add(decided === "ok" ? "ok" : "error");
    }
  }
  t.deepEqual([...seen].sort(), ["error", "ok"]);
  // a fountain decision can fail by its draws (the symbols' rank): it has no check
  t.is(policy("mtd-fountain").check, undefined);
  t.is(policy("available-bandwidth").check, undefined);
});
