/** The replay workload format (`flow-workload-v1`, as `migsim workload` writes it; docs/format.md). */
import { z } from "zod";

const finite = z.number().refine(Number.isFinite, "expected a finite number");
export const WORKLOAD_SCHEMA = z.object({
  format: z.literal("flow-workload-v1").meta({ description: "format name and version" }),
  seed: z.number().optional().meta({ description: "seed the generator used (informational)" }),
  topology: z
    .object({
      type: z
        .string()
        .meta({ description: "`two-level-tree` routes by the rack rule (same rack: access links only; else access, uplink, uplink, access); any other type by hop-count shortest paths" }),
      hosts_per_rack: z.number().int().positive().optional().meta({ description: "hosts per rack of a two-level tree" }),
    })
    .meta({ description: "the topology's shape and routing rule; other keys are ignored" }),
  hosts: z
    .array(
      z.object({
        id: z.number().int().nonnegative().meta({ description: "host id: hosts are listed by id, 0, 1, 2 ..." }),
        name: z.string().min(1).meta({ description: "host name, a node of the links" }),
        rack: z.number().int().nonnegative().optional().meta({ description: "rack of the host in a two-level tree" }),
      }),
    )
    .min(2)
    .meta({ description: "at least two hosts" }),
  switches: z.array(z.string().min(1)).meta({ description: "switch names" }),
  links: z
    .array(
      z.object({
        id: z.string().min(1).meta({ description: "link id (`a<i>` access, `u<r>` uplink in a two-level tree)" }),
        a: z.string().min(1).meta({ description: "one end" }),
        b: z.string().min(1).meta({ description: "the other end" }),
        bandwidth_bps: finite.refine((v) => v > 0, "expected a positive bandwidth in bit/s").meta({ description: "capacity of each direction (full duplex)", unit: "bit/s" }),
        latency_s: finite.refine((v) => v >= 0, "expected a non-negative latency in s").meta({ description: "one-way propagation delay", unit: "s" }),
      }),
    )
    .meta({ description: "full-duplex links; queue 1000 packets and MTU 1500 B" }),
  transfers: z
    .array(
      z.object({
        id: z.number().int().nonnegative().meta({ description: "transfer id, the `id` column of transfers.csv" }),
        src: z.number().int().nonnegative().meta({ description: "sending host id" }),
        dst: z.number().int().nonnegative().meta({ description: "receiving host id" }),
        bytes: finite.refine((v) => v > 0, "expected a positive number of bytes").meta({ description: "transfer size", unit: "B" }),
        start: finite.refine((v) => v >= 0, "expected a non-negative start time in s").meta({ description: "start time", unit: "s" }),
      }),
    )
    .meta({ description: "elastic (TCP) transfers, each started at its time" }),
});

export type WorkloadDocument = z.infer<typeof WORKLOAD_SCHEMA>;
