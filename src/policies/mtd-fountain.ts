/**
 * mtd-fountain: the master secret S spread as coded symbols of a fountain code, a few per key
 * holder; the source asks holders drawn with replacement by formula (2) (nearer holders more
 * often) until the symbols it got decode S, then decrypts the table and reads its destination.
 */
import { InputError } from "../core/errors.ts";
import { P521_BYTES } from "./crypto/field.ts";
import { blockLength, Decoder, recode } from "./crypto/fountain.ts";
import { FOUNTAIN_PARAMS, keyRequest, MTD_DEFAULTS, tooFew, validateKeyed } from "./mtd-params.ts";
import { SECRET_BYTES, setupFountain, setupMessages } from "./mtd-setup.ts";
import { context, keyedPlan, type NodeList, verifiedTable } from "./mtd-source.ts";
import { bool, num, readParams } from "./policy-params.ts";
import type { KeyRequest, NetworkView, Policy, PolicyPlan, Rng } from "./policy-types.ts";

/**
 * Formula (2), the probability that source i asks holder k:
 * P(i, k) = 1 / sum_{j != i} latency(i,k)/latency(i,j) = (1/latency(i,k)) / sum_j 1/latency(i,j).
 * Zero latencies are the limit of that formula: the zero-latency hosts share all the probability.
 */
function fountainWeights(view: NetworkView, source: string, hosts: NodeList): Float64Array {
  // one array, rewritten in place: a data center's source weighs thousands of holders per decision
  const w = new Float64Array(hosts.size);
  const byNode = view.latencyByNode?.(source);
  let zeros = 0;
  for (let i = 0; i < hosts.size; i++) {
    const l = byNode ? byNode(hosts.node(i)) : view.latency(source, hosts.host(i));
    if (!(l >= 0) || !Number.isFinite(l)) throw new InputError(`mtd-fountain: latency from ${source} to ${hosts.host(i)} is not a finite non-negative number`);
    w[i] = l;
    if (l === 0) zeros++;
  }
  if (zeros > 0) {
    for (let i = 0; i < w.length; i++) w[i] = w[i] === 0 ? 1 / zeros : 0;
    return w;
  }
  let sum = 0;
  for (let i = 0; i < w.length; i++) sum += w[i] = 1 / w[i]!;
  for (let i = 0; i < w.length; i++) w[i] = w[i]! / sum;
  return w;
}

/** the position drawn from `weights` (which sum to 1) */
function sample(weights: Float64Array, rng: Rng): number {
  const u = rng();
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i]!;
    if (u < acc) return i;
  }
  // rounding: the last host with positive weight
  for (let i = weights.length - 1; i >= 0; i--) if (weights[i]! > 0) return i;
  return weights.length - 1;
}

export const mtdFountainPolicy: Policy = {
  name: "mtd-fountain",
  readsVib: false,
  validate: validateKeyed("mtd-fountain", FOUNTAIN_PARAMS),
  decide(input): PolicyPlan {
    const p = readParams("mtd-fountain", FOUNTAIN_PARAMS, input.params);
    const k = num(p, "k", MTD_DEFAULTS.k);
    const perHost = num(p, "symbols-per-host", Math.max(1, k - 1));
    const maxRequests = num(p, "max-requests", MTD_DEFAULTS.maxRequests);
    const ctx = context("mtd-fountain", input);
    if (ctx.others.size === 0) throw tooFew("mtd-fountain", k, input, 0, "key holders are");
    const verify = bool(p, "verify", false);
    const st = setupFountain(input.keyRng, ctx.hosts, input.manager, input.source, k, perHost, false);
    const symbolBytes = k + blockLength(SECRET_BYTES, k);
    const setup = setupMessages(input.manager, st.holders, st.lookup.bytes + 2 + P521_BYTES + perHost * symbolBytes);

    // the reachable hosts' symbols must span the secret, else no number of requests decodes it
    const span = new Decoder(k);
    // (once the rank is k, further symbols cannot change the verdict)
    for (let i = 0; i < ctx.others.size && span.rank < k; i++) {
      for (const s of st.stock.get(ctx.others.host(i))!) span.add(s);
    }
    if (span.rank < k) {
      throw new InputError(`mtd-fountain: the ${ctx.others.size} key holders reachable from ${input.source} hold symbols of rank ${span.rank} < k = ${k};` + " raise symbols-per-host or lower k", {
        field: "mtd-fountain.k",
      });
    }

    const weights = fountainWeights(input.view, input.source, ctx.others);
    const decoder = new Decoder(k);
    const keyRequests: KeyRequest[] = [];
    let dependent = 0;
    const responseBytes = num(p, "share-bytes", symbolBytes);
    while (decoder.rank < k) {
      if (keyRequests.length >= maxRequests) {
        throw new InputError(`mtd-fountain: no decodable set of symbols after ${maxRequests} requests; raise max-requests or symbols-per-host`, {
          field: "mtd-fountain.max-requests",
        });
      }
      const host = ctx.others.host(sample(weights, input.rng));
      keyRequests.push(keyRequest(p, host, responseBytes));
      if (!decoder.add(recode(st.stock.get(host)!, st.drbg))) dependent++;
    }
    const slots = verify ? verifiedTable(st.table, decoder.decode(SECRET_BYTES, "recovered-secret")!, "mtd-fountain") : st.lookup.reveal();
    const counts = new Map<string, number>();
    for (const r of keyRequests) counts.set(r.host, (counts.get(r.host) ?? 0) + 1);
    const from = [...counts].map(([h, c]) => (c > 1 ? `${h} x${c}` : h)).join(", ");
    return keyedPlan(
      input,
      p,
      ctx,
      st,
      slots,
      { keyRequests, dependentAnswers: dependent, verified: verify, setup },
      `fountain k=${k}: ${keyRequests.length} requests (${dependent} dependent) to ${from}`,
    );
  },
};
