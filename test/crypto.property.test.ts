import test from "ava";
import fc from "fast-check";
import { makeRng } from "../src/core/random.ts";
import { Decoder, encode, recode } from "../src/policies/crypto/fountain.ts";
import { Drbg, SecretBytes } from "../src/policies/crypto/secret.ts";
import { combine, polynomial, shareAt, split } from "../src/policies/crypto/shamir.ts";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

test("Shamir: every k-subset of n shares reconstructs, every (k-1)-subset does not (property)", (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 8 }), fc.integer({ min: 0, max: 6 }), fc.integer(), (k, extra, seed) => {
      const n = k + extra;
      const drbg = Drbg.fromRng(makeRng(seed), "prop");
      const secret = new SecretBytes("s", drbg.bytes(32));
      const shares = split(secret, n, k, drbg);
      const pick = (m: number) => [...shares].sort(() => drbg.int(3) - 1).slice(0, m);
      return hex(combine(pick(k), 32).reveal()) === hex(secret.reveal()) && hex(combine(pick(k - 1), 32).reveal()) !== hex(secret.reveal());
    }),
    { numRuns: 150, seed: 42 },
  );
  t.pass();
});

test("fountain: recoded symbols decode exactly when their rank reaches k (property)", (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 8 }), fc.integer(), (k, seed) => {
      const drbg = Drbg.fromRng(makeRng(seed), "prop");
      const secret = new SecretBytes("s", drbg.bytes(32));
      const held = Array.from({ length: k }, () => encode(secret, k, drbg));
      const span = new Decoder(k);
      for (const h of held) span.add(h);
      const dec = new Decoder(k);
      let n = 0;
      while (dec.rank < k && n < 200) {
        if (dec.decode(32) !== undefined) return false;
        dec.add(recode(held, drbg));
        n++;
      }
      const got = dec.decode(32);
      // recoding never leaves the span of what the host holds
      if (span.rank < k) return got === undefined && dec.rank === span.rank;
      return got !== undefined && hex(got.reveal()) === hex(secret.reveal());
    }),
    { numRuns: 150, seed: 42 },
  );
  t.pass();
});

test("Shamir: a share computed alone (shareAt, Horner) is the share split gives at that x (property)", (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 40 }), fc.integer(), (k, extra, seed) => {
      const n = k + extra;
      const draw = (): { secret: SecretBytes; drbg: Drbg } => {
        const drbg = Drbg.fromRng(makeRng(seed), "prop");
        return { secret: new SecretBytes("s", drbg.bytes(32)), drbg };
      };
      const a = draw();
      const shares = split(a.secret, n, k, a.drbg);
      const b = draw();
      const coefficients = polynomial(b.secret, n, k, b.drbg);
      // the same draws, and the same value at every x
      if (a.drbg.int(1 << 30) !== b.drbg.int(1 << 30)) return false;
      return shares.every((s, i) => {
        const alone = shareAt(coefficients, i + 1);
        return alone.x === s.x && alone.y.reveal() === s.y.reveal();
      });
    }),
    { numRuns: 100, seed: 43 },
  );
  t.pass();
});
