/**
 * mtd-shamir: the master secret S split by Shamir's scheme, one share per key holder; the source
 * asks K distinct holders for theirs, recovers S, decrypts the table and reads its destination.
 */
import { randomInt } from "../core/random.ts";
import { combine, SHARE_BYTES } from "./crypto/shamir.ts";
import { keyRequest, MTD_DEFAULTS, SHAMIR_PARAMS, tooFew, validateKeyed } from "./mtd-params.ts";
import { SECRET_BYTES, setupMessages, setupShamir } from "./mtd-setup.ts";
import { type Context, context, keyedPlan, verifiedTable } from "./mtd-source.ts";
import { bool, num, readParams } from "./policy-params.ts";
import type { Policy, PolicyInput, PolicyPlan } from "./policy-types.ts";

/** the parameters and the source's context, once the source is known to reach K key holders */
function ready(input: PolicyInput): { p: Record<string, number | boolean>; k: number; ctx: Context } {
  const p = readParams("mtd-shamir", SHAMIR_PARAMS, input.params);
  const k = num(p, "k", MTD_DEFAULTS.k);
  const ctx = context("mtd-shamir", input);
  if (k > ctx.others.size) throw tooFew("mtd-shamir", k, input, ctx.others.size, "key holders are");
  return { p, k, ctx };
}

export const mtdShamirPolicy: Policy = {
  name: "mtd-shamir",
  readsVib: false,
  validate: validateKeyed("mtd-shamir", SHAMIR_PARAMS),
  // (a decision fails only here: the rest cannot, whatever it draws)
  check(input): void {
    ready(input);
  },
  decide(input): PolicyPlan {
    const { p, k, ctx } = ready(input);
    const verify = bool(p, "verify", false);
    const st = setupShamir(input.keyRng, ctx.hosts, input.manager, input.source, k);
    const setup = setupMessages(input.manager, st.holders, st.lookup.bytes + SHARE_BYTES);

    // K disjoint hosts, uniformly among the reachable holders other than the source (far ones too)
    // (the first K steps of a Fisher-Yates shuffle of the holders, positions moved kept aside)
    const moved = new Map<number, number>();
    const asked: string[] = [];
    for (let i = 0; i < k; i++) {
      const j = i + randomInt(input.rng, ctx.others.size - i);
      const picked = moved.get(j) ?? j;
      moved.set(j, moved.get(i) ?? i);
      asked.push(ctx.others.host(picked));
    }
    const responseBytes = num(p, "share-bytes", SHARE_BYTES);
    const keyRequests = asked.map((host) => keyRequest(p, host, responseBytes));
    const slots = verify
      ? verifiedTable(
          st.table,
          combine(
            asked.map((h) => st.shares.get(h)!),
            SECRET_BYTES,
            "recovered-secret",
          ),
          "mtd-shamir",
        )
      : st.lookup.reveal();
    return keyedPlan(input, p, ctx, st, slots, { keyRequests, dependentAnswers: 0, verified: verify, setup }, `shamir ${k}-of-${st.holders.length}: shares from ${asked.join(", ")}`);
  },
};
