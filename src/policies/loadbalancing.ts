/**
 * The load-balancing policies of the paper (section IV.A) and two more: random, bandwidth
 * (largest minimum nominal capacity on the path), shortest-path (fewest switches),
 * available-bandwidth (largest minimum MEASURED spare capacity, from the VIB) and fixed.
 * Ties are broken uniformly with the run's seeded rng.
 */
import { InputError } from "../core/errors.ts";
import { randomInt } from "../core/random.ts";
import { formatMbps } from "../core/units.ts";
import { type CandidateView, pickMax, pickMaxAt, reachableCandidates, reachableView } from "./common.ts";
import { type ParamDefs, num, readParams } from "./policy-params.ts";
import type { Path } from "../network/topology/topology-types.ts";
import type { NetworkView, Policy, PolicyInput, PolicyPlan } from "./policy-types.ts";

const LB_PARAMS: ParamDefs = {
  compute: { kind: "duration", min: 0, doc: "seconds of computation for the decision at the manager (default 0s)" },
};

function plan(input: PolicyInput, name: string, destination: string, note: string): PolicyPlan {
  const p = readParams(name, LB_PARAMS, input.params);
  return { destination, keyRequests: [], computeSeconds: num(p, "compute", 0), setup: [], note };
}

function validateLb(name: string) {
  return (params: Readonly<Record<string, unknown>>): void => {
    readParams(name, LB_PARAMS, params);
  };
}

/**
 * The check of a policy that scores every reachable candidate: a decision fails only when the
 * source or the candidates are no hosts or none is reachable (reachableView), never by its draws.
 */
function checkLb(name: string) {
  return (input: PolicyInput): void => {
    reachableView(name, input);
    readParams(name, LB_PARAMS, input.params);
  };
}

function tieNote(ties: readonly { host: string }[]): string {
  return tieNoteAt(
    { host: (i) => ties[i]!.host },
    ties.map((_, i) => i),
  );
}

function tieNoteAt(cs: Pick<CandidateView, "host">, ties: readonly number[]): string {
  return ties.length > 1 ? `; tie among ${ties.map((i) => cs.host(i)).join(", ")} broken at random` : "";
}

export const randomPolicy: Policy = {
  name: "random",
  readsVib: false,
  validate: validateLb("random"),
  check: checkLb("random"),
  decide(input) {
    const cs = reachableView("random", input);
    return plan(input, "random", cs.host(randomInt(input.rng, cs.size)), `uniform over ${cs.size} reachable candidates`);
  },
};

export const bandwidthPolicy: Policy = {
  name: "bandwidth",
  readsVib: false,
  validate: validateLb("bandwidth"),
  check: checkLb("bandwidth"),
  decide(input) {
    const cs = reachableView("bandwidth", input);
    const { chosen, ties } = pickMaxAt(cs.size, (i) => cs.bottleneck(i), input.rng);
    return plan(input, "bandwidth", cs.host(chosen), `path bottleneck ${formatMbps(cs.bottleneck(chosen))} (nominal)${tieNoteAt(cs, ties)}`);
  },
};

export const shortestPathPolicy: Policy = {
  name: "shortest-path",
  readsVib: false,
  validate: validateLb("shortest-path"),
  check: checkLb("shortest-path"),
  decide(input) {
    const cs = reachableView("shortest-path", input);
    const { chosen, ties } = pickMaxAt(cs.size, (i) => -cs.switches(i), input.rng);
    return plan(input, "shortest-path", cs.host(chosen), `${cs.switches(chosen)} switches on the path${tieNoteAt(cs, ties)}`);
  },
};

/** minimum over the path's directed links of the measured spare capacity (nominal where unsampled) */
function availableBandwidth(view: NetworkView, path: Path): { bps: number; sampled: number; nominal: number } {
  let bps = Infinity;
  let sampled = 0;
  let nominal = 0;
  for (const l of path.links) {
    const spare = view.vib?.spareCapacity(l);
    if (spare === undefined || !Number.isFinite(spare)) {
      nominal++;
      bps = Math.min(bps, view.topo.capacity[l]!);
    } else {
      sampled++;
      bps = Math.min(bps, Math.max(0, spare));
    }
  }
  return { bps, sampled, nominal };
}

export const availableBandwidthPolicy: Policy = {
  name: "available-bandwidth",
  validate: validateLb("available-bandwidth"),
  decide(input) {
    const cs = reachableCandidates("available-bandwidth", input).map((c) => ({ ...c, avail: availableBandwidth(input.view, c.path()) }));
    const { chosen, ties } = pickMax(cs, (c) => c.avail.bps, input.rng);
    const nominal = cs.reduce((n, c) => n + c.avail.nominal, 0);
    const links = cs.reduce((n, c) => n + c.avail.nominal + c.avail.sampled, 0);
    const fallback =
      input.view.vib === undefined ? "; no VIB: nominal capacities used throughout" : nominal > 0 ? `; nominal capacity used for ${nominal} of ${links} candidate-path links without a VIB sample` : "";
    return plan(input, "available-bandwidth", chosen.host, `available ${formatMbps(chosen.avail.bps)} on the path${fallback}${tieNote(ties)}`);
  },
};

export const fixedPolicy: Policy = {
  name: "fixed",
  readsVib: false,
  validate: validateLb("fixed"),
  decide(input) {
    const d = input.fixedDestination;
    if (d === undefined) {
      throw new InputError(`policy fixed needs the migration's destination (add \`destination: <host>\` to the migration of ${input.container.name})`);
    }
    if (d === input.source) throw new InputError(`policy fixed: destination ${d} is the source of the migration`);
    if (!input.candidates.includes(d)) {
      throw new InputError(`policy fixed: destination ${d} is not one of the candidates (${input.candidates.join(", ")})`);
    }
    const reachable = reachableCandidates("fixed", input);
    if (!reachable.some((c) => c.host === d)) throw new InputError(`policy fixed: destination ${d} is not reachable from the source ${input.source}`);
    return plan(input, "fixed", d, "destination fixed by the experiment");
  },
};
