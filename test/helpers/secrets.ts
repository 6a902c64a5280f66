/**
 * The MTD key material a policy draws, in every rendering a leak could take: what the leak tests
 * (test/mtd.test.ts, test/security.test.ts) search outputs for.
 */
import { bigIntToBytes, bytesToBigInt } from "../../src/policies/crypto/secret.ts";
import { setupFountain, setupRandom, setupShamir } from "../../src/policies/mtd.ts";
import type { Rng } from "../../src/policies/policy-types.ts";

function renderings(bytes: Uint8Array): string[] {
  const b = Buffer.from(bytes);
  return [b.toString("hex"), b.toString("base64"), b.toString("base64url"), bytesToBigInt(bytes).toString(), bytesToBigInt(bytes).toString(16)];
}

function bigRenderings(v: bigint): string[] {
  return [v.toString(), v.toString(16), ...renderings(bigIntToBytes(v))];
}

/**
 * Every secret the three MTD policies draw from `keyRng()` (a fresh key stream per policy, as each
 * decision gets one) for a move h2 -> ? managed by h1 among `hosts` (Shamir and fountain with k = 3),
 * rendered as hex, base64, base64url and decimal/hex integers; renderings under 8 characters are
 * left out (they occur by chance).
 */
export function mtdSecrets(keyRng: () => Rng, hosts: readonly string[]): string[] {
  const sh = setupShamir(keyRng(), hosts, "h1", "h2", 3);
  const fo = setupFountain(keyRng(), hosts, "h1", "h2", 3, 2);
  const ra = setupRandom(keyRng());
  return [
    ...renderings(sh.secret.reveal()),
    ...bigRenderings(sh.r.reveal()),
    ...[...sh.shares.values()].flatMap((s) => bigRenderings(s.y.reveal())),
    ...renderings(fo.secret.reveal()),
    ...bigRenderings(fo.r.reveal()),
    ...[...fo.keys.values()].flatMap((k) => bigRenderings(k.y.reveal())),
    ...[...fo.stock.values()].flat().flatMap((s) => renderings(s.revealPayload())),
    ...renderings(ra.key.reveal()),
    ...bigRenderings(ra.r.reveal()),
  ].filter((s) => s.length >= 8);
}
