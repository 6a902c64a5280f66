/**
 * The MTD policies' parameters: their definitions and documented defaults, the re-key schedule
 * they share, the checks made before a run, and the key request a keyed policy's source sends.
 */
import { InputError } from "../core/errors.ts";
import { bool, type ParamDefs, num, readParams } from "./policy-params.ts";
import type { KeyRequest, PolicyInput, RekeySchedule } from "./policy-types.ts";

/** documented defaults (docs/policies.md) */
export const MTD_DEFAULTS = {
  k: 3,
  requestBytes: 64,
  newConnection: true,
  compute: 1e-3,
  computeRandom: 1e-4,
  maxRedraws: 64,
  maxRequests: 1000,
} as const;

const COMMON: ParamDefs = {
  compute: { kind: "duration", min: 0, doc: "computation at the source for hashing, reconstruction and decryption" },
  "rekey-every": { kind: "duration", min: 0, doc: "re-key at most once per this period (default 0s: before every migration)" },
  "rekey-parallel": { kind: "boolean", doc: "send the set-up messages to all holders at once (default false: one after the other)" },
};

/** the plan's `rekey`, left out at the default (before every migration, one host after the other) */
export function rekey(p: Record<string, number | boolean>): { rekey?: RekeySchedule } {
  const every = num(p, "rekey-every", 0);
  const parallel = bool(p, "rekey-parallel", false);
  return every === 0 && !parallel ? {} : { rekey: { every, parallel } };
}

const KEYED: ParamDefs = {
  ...COMMON,
  k: { kind: "int", min: 2, doc: "shares (Shamir threshold) or independent symbols (fountain) needed to recover S" },
  "request-bytes": { kind: "bytes", min: 0, doc: "size of a key request" },
  "share-bytes": { kind: "bytes", min: 0, doc: "size of an answer (default: the real encoded share or symbol)" },
  "new-connection": { kind: "boolean", doc: "open a new connection for every key request" },
  "max-redraws": { kind: "int", min: 1, doc: "draws of R before walking the table" },
  verify: {
    kind: "boolean",
    doc: "recover S and decrypt the lookup table with it on every decision (default false: the plaintext table; the same destinations and timings)",
  },
};
export const SHAMIR_PARAMS: ParamDefs = KEYED;
export const FOUNTAIN_PARAMS: ParamDefs = {
  ...KEYED,
  "symbols-per-host": { kind: "int", min: 1, doc: "coded symbols each host holds (default k - 1)" },
  "max-requests": { kind: "int", min: 1, doc: "give up after this many key requests" },
};
export const RANDOM_PARAMS: ParamDefs = COMMON;

/** one key request of a keyed policy's source to `host`, answered with `responseBytes` */
export function keyRequest(p: Record<string, number | boolean>, host: string, responseBytes: number): KeyRequest {
  return {
    host,
    requestBytes: num(p, "request-bytes", MTD_DEFAULTS.requestBytes),
    responseBytes,
    newConnection: bool(p, "new-connection", MTD_DEFAULTS.newConnection),
  };
}

/** the refusal of a decision whose source reaches fewer key holders than k needs */
export function tooFew(name: string, k: number, input: PolicyInput, others: number, what: string): InputError {
  return new InputError(
    `${name}: k = ${k} but only ${others} ${what} reachable from the source ${input.source}` + ` (key holders are all hosts but the source and the manager ${input.manager}); lower k`,
    { field: `${name}.k` },
  );
}

/** the pre-run check of a keyed policy: enough hosts (Shamir) or symbols (fountain) for k */
export function validateKeyed(name: string, defs: ParamDefs) {
  return (params: Readonly<Record<string, unknown>>, ctx: { hosts: number; candidates: number }): void => {
    const p = readParams(name, defs, params);
    const k = num(p, "k", MTD_DEFAULTS.k);
    if (name === "mtd-fountain") {
      // symbols may come from fewer than k hosts: what matters is how many symbols exist
      const perHost = num(p, "symbols-per-host", Math.max(1, k - 1));
      if ((ctx.hosts - 1) * perHost < k) {
        throw new InputError(`${name}: k = ${k} needs at least ${k} symbols, the ${ctx.hosts - 1} hosts besides the source hold ${(ctx.hosts - 1) * perHost}; lower k or raise symbols-per-host`, {
          field: `${name}.k`,
        });
      }
      return;
    }
    if (k > ctx.hosts - 1) {
      throw new InputError(`${name}: k = ${k} needs at least ${k} hosts besides the source, the topology has ${ctx.hosts} hosts; lower k`, {
        field: `${name}.k`,
      });
    }
  };
}
