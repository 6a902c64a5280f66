/**
 * The moving-target-defense policies of the paper (section IV.B): mtd-shamir, mtd-fountain,
 * mtd-random, with the real cryptography (node:crypto and BigInt arithmetic):
 *
 * 1. Set-up by the manager: a fresh 32-byte master secret S, a lookup table index -> host
 *    (a secret permutation of the N hosts in slots 0..N-1, slot N empty) encrypted with
 *    AES-256-GCM under HKDF(S), and key material per key holder, all sent to the key holders
 *    (the hosts other than the manager) as SetupMessages with their real byte sizes.
 * 2. The source gets a random R and computes index = SHA-256(R + X*Y) mod (N + 1) with its own
 *    key point (X, Y) (formula (1)).
 * 3. It recovers S from other hosts (Shamir shares from K disjoint hosts, or fountain symbols
 *    from hosts drawn with replacement by formula (2)), decrypts the table and reads the slot.
 * 4. If the slot is empty, the source, or not a free reachable candidate, it re-draws with
 *    R + 1, R + 2, ... (attempts counted); after `max-redraws` draws it walks the table forward
 *    from the last index to the next candidate slot. So the destination is always a candidate
 *    and never the source.
 *
 * The run's seeded `keyRng` keys everything (see Drbg): reproducible, and a simulation keying choice.
 *
 * A set-up draws everything above, in this order, on every decision (the draws decide the rest
 * of the stream, so the run is the same whatever is computed), but computes only what the
 * decision reads: the table's slots, R, the source's key point, the coefficient vectors of the
 * symbols asked for (their rank decides how many requests are made) and the plan's sizes. The
 * material that only proves the scheme works (encrypting the table, recovering S from the shares
 * or symbols, decrypting and authenticating the table with it) is computed on every decision
 * with the parameter `verify: true`, and on first read otherwise. Both give the same plan.
 *
 * The parts: mtd-params.ts (parameters, defaults, checks), mtd-setup.ts (the manager's set-up),
 * mtd-source.ts (what the source may ask and choose, formula (1)), and one file per policy:
 * mtd-shamir.ts, mtd-fountain.ts, mtd-random.ts.
 */
export { MTD_DEFAULTS } from "./mtd-params.ts";
export { setupFountain, setupRandom, setupShamir } from "./mtd-setup.ts";
export { lookup } from "./mtd-source.ts";
export { mtdShamirPolicy } from "./mtd-shamir.ts";
export { mtdFountainPolicy } from "./mtd-fountain.ts";
export { mtdRandomPolicy } from "./mtd-random.ts";
