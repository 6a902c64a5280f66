/**
 * mtd-random: no table and no key retrieval; the destination is a keyed pseudo-random function
 * of R over the reachable candidates, its key sent to every holder at set-up.
 */
import { createHmac } from "node:crypto";
import { bigIntToBytes, bytesToBigInt } from "./crypto/secret.ts";
import { MTD_DEFAULTS, RANDOM_PARAMS, rekey } from "./mtd-params.ts";
import { keyHolders, setupMessages, setupRandom } from "./mtd-setup.ts";
import { context } from "./mtd-source.ts";
import { num, readParams } from "./policy-params.ts";
import type { MtdSummary, Policy, PolicyPlan } from "./policy-types.ts";

export const mtdRandomPolicy: Policy = {
  name: "mtd-random",
  readsVib: false,
  validate(params) {
    readParams("mtd-random", RANDOM_PARAMS, params);
  },
  // (a decision fails only here, when the manager is the only candidate: the rest cannot)
  check(input): void {
    readParams("mtd-random", RANDOM_PARAMS, input.params);
    context("mtd-random", input);
  },
  decide(input): PolicyPlan {
    const p = readParams("mtd-random", RANDOM_PARAMS, input.params);
    const cs = context("mtd-random", input).choices;
    const st = setupRandom(input.keyRng);
    const hosts = input.view.topo.topology.hosts;
    const setup = setupMessages(input.manager, keyHolders(hosts, input.manager, input.source), 32);
    // HMAC-SHA256(key, R as 32 bytes) read as a 256-bit integer, mod the number of candidates
    const mac = createHmac("sha256", st.key.reveal()).update(bigIntToBytes(st.r.reveal(), 32)).digest();
    const i = Number(bytesToBigInt(mac) % BigInt(cs.size));
    const mtd: MtdSummary = {
      draws: 1,
      walked: false,
      requests: 0,
      dependentAnswers: 0,
      verified: false,
      setupBytes: setup.reduce((a, m) => a + m.bytes, 0),
    };
    return {
      destination: cs.host(i),
      keyRequests: [],
      setup,
      mtd,
      ...rekey(p),
      computeSeconds: num(p, "compute", MTD_DEFAULTS.computeRandom),
      note: `pseudo-random function over ${cs.size} reachable candidates; no key retrieval`,
    };
  },
};
