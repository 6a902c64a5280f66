/**
 * The topology file format: explicit hosts, switches and links, or a `generate:` block (tree,
 * linear, star, full-mesh, fat-tree) with link properties fixed, per tier or drawn from a seeded
 * distribution. src/network/topology/load.ts and generators.ts build topologies from documents
 * these schemas accept; docs/format.md is generated from them.
 */
import { z } from "zod";
import { quantity } from "./quantity.ts";

/** Link values when a file sets none (Mininet's TCLink without shaping options is close to these): bit/s, s, packets, bytes. */
export const TOPOLOGY_LINK_DEFAULTS = { capacity: 1e9, latency: 0, queue: 1000, mtu: 1500 } as const;
/** Name prefixes of generated nodes. */
export const GENERATED_NAME_PREFIXES = { host: "h", switch: "s", core: "c", aggregation: "a", edge: "e" } as const;
const T = TOPOLOGY_LINK_DEFAULTS;
const P = GENERATED_NAME_PREFIXES;

/** A seeded distribution of a link property. */
const DISTRIBUTION = z.discriminatedUnion("dist", [
  z.strictObject({ dist: z.literal("uniform"), min: quantity, max: quantity }),
  z.strictObject({ dist: z.literal("log-uniform"), min: quantity, max: quantity }),
  z.strictObject({ dist: z.literal("choice"), values: z.array(quantity).min(1) }),
]);

const VALUE = z.union([quantity, DISTRIBUTION]);
/** One value for every link, or a list with one entry per tier (from the hosts upwards; the last repeats). */
const PROPERTY = z.union([VALUE, z.array(VALUE).min(1)]).optional();

const prefix = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, "expected a name prefix: a letter then letters, digits or _");
const count = (min: number, max: number) => z.number().int().min(min).max(max);

const TIERS = "one value, a seeded distribution ({ dist: uniform|log-uniform, min, max } or { dist: choice, values }), or a list per tier from the hosts up (the last repeats)";
const COMMON = {
  capacity: PROPERTY.meta({ description: `link capacity: ${TIERS}`, unit: "rate", default: "defaults.capacity" }),
  latency: PROPERTY.meta({ description: "one-way propagation delay, same forms", unit: "duration", default: "defaults.latency" }),
  queue: PROPERTY.meta({ description: "drop-tail queue per direction, same forms", unit: "packets", default: "defaults.queue" }),
  "host-prefix": prefix.optional().meta({ description: "host names are this prefix and a number", default: P.host }),
  "switch-prefix": prefix.optional().meta({ description: "switch names are this prefix and a number", default: P.switch }),
};

/** Upper bounds keep a typo from asking for billions of nodes; 100,000 hosts fit in every shape. */
export const GENERATE_SCHEMA = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("tree"),
    depth: count(1, 20).meta({ description: "switch levels" }),
    fanout: count(1, 1000).meta({ description: "children per switch (hosts below the last level)" }),
    ...COMMON,
  }),
  z.strictObject({ kind: z.literal("linear"), n: count(1, 100_000).meta({ description: "switches in a chain, one host each" }), ...COMMON }),
  z.strictObject({ kind: z.literal("star"), n: count(1, 100_000).meta({ description: "hosts on one switch" }), ...COMMON }),
  z.strictObject({ kind: z.literal("full-mesh"), n: count(1, 1000).meta({ description: "switches all linked to each other, one host each" }), ...COMMON }),
  z.strictObject({
    kind: z.literal("fat-tree"),
    k: count(2, 80).meta({ description: "port count (even): k^3/4 hosts" }),
    ...COMMON,
    "core-prefix": prefix.optional().meta({ description: "core switch name prefix", default: P.core }),
    "aggregation-prefix": prefix.optional().meta({ description: "aggregation switch name prefix", default: P.aggregation }),
    "edge-prefix": prefix.optional().meta({ description: "edge switch name prefix", default: P.edge }),
  }),
]);

export type GenerateSpec = z.infer<typeof GENERATE_SCHEMA>;
export type PropertySpec = z.infer<typeof PROPERTY>;
export type ValueSpec = z.infer<typeof VALUE>;

const LINK_SCHEMA = z.strictObject({
  a: z.string().meta({ description: "one end (host or switch)" }),
  b: z.string().meta({ description: "the other end" }),
  capacity: quantity.optional().meta({ description: "capacity a -> b (and b -> a unless capacity-back)", unit: "rate", default: "defaults.capacity" }),
  "capacity-back": quantity.optional().meta({ description: "capacity b -> a", unit: "rate", default: "capacity" }),
  latency: quantity.optional().meta({ description: "one-way propagation delay", unit: "duration", default: "defaults.latency" }),
  queue: quantity.optional().meta({ description: "drop-tail queue per direction", unit: "packets (e.g. 1000pkt)", default: "defaults.queue" }),
  mtu: quantity.optional().meta({ description: "maximum transmission unit", unit: "size", default: "defaults.mtu" }),
});

const DEFAULTS_SCHEMA = z.strictObject({
  capacity: quantity.optional().meta({ description: "link capacity", unit: "rate", default: `${T.capacity / 1e9}Gbps` }),
  latency: quantity.optional().meta({ description: "one-way propagation delay", unit: "duration", default: `${T.latency}s` }),
  queue: quantity.optional().meta({ description: "drop-tail queue per direction", unit: "packets", default: `${T.queue}pkt` }),
  mtu: quantity.optional().meta({ description: "maximum transmission unit", unit: "size", default: `${T.mtu}B` }),
});

export const TOPOLOGY_SCHEMA = z.strictObject({
  name: z.string().min(1).meta({ description: "topology name" }),
  description: z.string().optional().meta({ description: "free text" }),
  defaults: DEFAULTS_SCHEMA.optional().meta({ description: "values for links that do not set their own" }),
  hosts: z.array(z.string()).optional().meta({ description: "host names: a letter, then up to 9 letters, digits or _ (they become interface names)" }),
  switches: z.array(z.string()).optional().meta({ description: "switch names, same rule" }),
  links: z.array(LINK_SCHEMA).optional().meta({ description: "full-duplex links, at most one between two nodes" }),
  generate: GENERATE_SCHEMA.optional().meta({ description: "a generated topology instead of hosts/switches/links (docs/topologies.md)" }),
});

export type TopologyDocument = z.infer<typeof TOPOLOGY_SCHEMA>;
