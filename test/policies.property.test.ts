/**
 * Every builtin policy, over random topologies, candidate sets, sources and manager placements:
 * the destination is a candidate, never the source, reachable from the source, and for the MTD
 * policies never the manager (docs/policies.md: a draw naming the manager is re-drawn). A policy
 * may refuse only with an InputError, and must refuse when no allowed candidate exists.
 */
import test from "ava";
import fc from "fast-check";
import { InputError } from "../src/core/errors.ts";
import { builtinPolicies } from "../src/policies/registry.ts";
import { tryRoute } from "../src/policies/common.ts";
import { makeRng, subRng } from "../src/core/random.ts";
import type { Topology } from "../src/network/topology/topology-types.ts";
import { link, makeView } from "./helpers/view.ts";

const POLICIES = [...builtinPolicies.keys()].filter((n) => n !== "fixed");
const MTD = new Set(["mtd-shamir", "mtd-fountain", "mtd-random"]);

/**
 * A random tree of switches with hosts hung on it, and sometimes an island (a switch with hosts
 * and no link to the rest) so that some hosts are unreachable.
 */
const scenario = fc
  .record({
    switches: fc.integer({ min: 1, max: 4 }),
    parents: fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
    hostsAt: fc.array(fc.nat(), { minLength: 3, maxLength: 9 }),
    island: fc.integer({ min: 0, max: 2 }),
    capacities: fc.array(fc.constantFrom(2e6, 5e6, 10e6), { minLength: 16, maxLength: 16 }),
    source: fc.nat(),
    manager: fc.nat(),
    pick: fc.array(fc.boolean(), { minLength: 11, maxLength: 11 }),
    seed: fc.integer(),
  })
  .map((r) => {
    const switches = Array.from({ length: r.switches }, (_, i) => `s${i + 1}`);
    const links = switches.slice(1).map((s, i) => link(switches[r.parents[i]! % (i + 1)]!, s, r.capacities[i]!));
    const hosts = r.hostsAt.map((_, i) => `h${i + 1}`);
    hosts.forEach((h, i) => links.push(link(h, switches[r.hostsAt[i]! % switches.length]!, r.capacities[3 + i]!, (1 + i) * 1e-4)));
    const islandHosts = Array.from({ length: r.island }, (_, i) => `x${i + 1}`);
    for (const h of islandHosts) links.push(link(h, "sx", 5e6));
    const all = [...hosts, ...islandHosts];
    const topology: Topology = {
      name: "random",
      hosts: all,
      switches: r.island ? [...switches, "sx"] : switches,
      links,
    };
    const source = hosts[r.source % hosts.length]!;
    const manager = all[r.manager % all.length]!;
    // candidates may include the source, the manager and unreachable hosts
    const candidates = all.filter((_, i) => r.pick[i] ?? false);
    return { topology, source, manager, candidates: candidates.length ? candidates : [all[0]!], seed: r.seed };
  });

test("no policy chooses the source, a non-candidate or an unreachable host; MTD never the manager (property)", (t) => {
  let decided = 0;
  let managerOffered = 0;
  fc.assert(
    fc.property(scenario, ({ topology, source, manager, candidates, seed }) => {
      const view = makeView(topology);
      const reachable = (h: string): boolean => h !== source && tryRoute(view, source, h) !== undefined;
      if (candidates.includes(manager) && reachable(manager)) managerOffered++;
      for (const name of POLICIES) {
        const allowed = candidates.filter((h) => reachable(h) && !(MTD.has(name) && h === manager));
        let destination: string;
        try {
          destination = builtinPolicies.get(name)!.decide({
            view,
            rng: makeRng(seed),
            keyRng: subRng(seed, "keys"),
            source,
            candidates,
            manager,
            container: { name: "app", checkpoint: 10e6, memory: 64e6 },
            params: name === "mtd-shamir" || name === "mtd-fountain" ? { k: 2 } : {},
          }).destination;
        } catch (e) {
          // refusing is legitimate input feedback (no allowed candidate, too few key holders)
          if (!(e instanceof InputError)) throw e;
          continue;
        }
        decided++;
        if (!allowed.includes(destination)) {
          throw new Error(`${name} chose ${destination} (source ${source}, manager ${manager}, allowed ${allowed.join(", ")})`);
        }
      }
      // with no allowed candidate every policy must have refused: checked by `allowed.includes` above
    }),
    { numRuns: 300, seed: 16 },
  );
  // the property is not vacuous: most decisions succeed and the manager was often on offer
  t.true(decided > 300 * POLICIES.length * 0.5, `decided ${decided}`);
  t.true(managerOffered > 50, `manager offered in ${managerOffered} scenarios`);
});

test("MTD policies refuse a candidate set that holds only the manager", (t) => {
  const topology: Topology = {
    name: "star",
    hosts: ["h1", "h2", "h3", "h4"],
    switches: ["s1"],
    links: ["h1", "h2", "h3", "h4"].map((h) => link(h, "s1")),
  };
  for (const name of MTD) {
    const err = t.throws(
      () =>
        builtinPolicies.get(name)!.decide({
          view: makeView(topology),
          rng: makeRng(1),
          keyRng: subRng(1, "keys"),
          source: "h2",
          candidates: ["h1"],
          manager: "h1",
          container: { name: "app", checkpoint: 10e6, memory: 64e6 },
          params: name === "mtd-random" ? {} : { k: 2 },
        }),
      { instanceOf: InputError },
    );
    t.regex(err.message, /manager h1/, name);
  }
});
