/**
 * Cost models of the host-side migration steps (everything that is not the network): checkpoint,
 * restore, compression, the stateless kill/start clock and the fixed steps around it. Each default
 * says where it comes from; values marked "assumption" are placeholders until the Mininet backend
 * calibrates them, and are documented as such in docs/migration.md.
 */
import { InputError } from "../core/errors.ts";
import type { CostParams } from "../formats/runspec.ts";
import { describe, parseBytes, parseDuration, parseRate } from "../core/units.ts";

/** JoWUA 2019 Table 2 (stateless clock application, 10 runs), seconds: the source of the stateless defaults. */
export const JOWUA_TABLE2 = {
  kill: [0.711551905, 0.57733798, 0.650537014, 0.546288013, 0.538717031, 0.64366889, 0.65865612, 0.657931805, 0.637104988, 0.665262938],
  start: [0.563214064, 0.55944109, 0.559459925, 0.568042994, 0.559737206, 0.557837963, 0.556710005, 0.5573771, 0.55532217, 0.55846405],
  downtime: [2.454, 1.87, 2.426, 1.888, 1.764, 2.408, 2.392, 2.386, 2.396, 2.423],
  total: [3.289, 2.577, 3.097, 2.481, 2.346, 3.075, 3.171, 3.162, 3.15, 3.23],
} as const;

export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

const KILL = mean(JOWUA_TABLE2.kill); // 0.6287056684 s
const START = mean(JOWUA_TABLE2.start); // 0.5595606567 s
const DOWN = mean(JOWUA_TABLE2.downtime); // 2.2407 s
const TOTAL = mean(JOWUA_TABLE2.total); // 2.9578 s

/** SFTP per-file costs printed by bench/calibration/sftp-fit.py from docs/calibration/sftp.jsonl (docs/tcp-fluid.md, "SFTP beside an opposite-direction flow"). */
const SFTP_FIT = { fileRtts: 4.82, fileCpu: 0.00079 } as const;

export const DEFAULT_COSTS: Readonly<CostParams> = Object.freeze({
  // Assumption: `docker checkpoint create` has a fixed cost (freezing, CRIU start-up, writing
  // the descriptor files) of about half a second and writes the image at local-disk speed.
  checkpointBase: 0.5,
  checkpointRate: 200e6,
  // Assumption: restore is slower than checkpoint (JoWUA Fig. 10 and 13 show resume above
  // checkpoint): fixed cost of container creation plus reading the image.
  restoreBase: 0.8,
  restoreRate: 150e6,
  // Assumption: +20% restore time per additional container restored at the same destination at
  // once. JoWUA Fig. 13 reports restore growing much faster than checkpoint with the container
  // count but gives no numbers in the text; calibrate against the testbed.
  restorePerContainer: 0.2,
  // No compression by default: the NetSoft prototype copies the checkpoint folder as is.
  compression: 1,
  // SSH with public-key auth + SFTP, counted as OpenSSH does it: TCP 1, version + KEXINIT 1,
  // ECDH 1, service request 1, publickey query + signed auth 2, channel open 1, sftp subsystem 1,
  // SFTP init 1 = 9 round trips before the first file byte.
  sshHandshakeRtts: 9,
  // Assumption: aes256-ctr (JoWUA's cipher) over one core in the SFTP client: about 100 MB/s.
  sshCipherRate: 800e6,
  // The Mininet backend's container (a busybox tree of 4 processes) dumps 44 CRIU image files
  // (8 per process + 12 shared), measured; the folder is copied as is (scp -r).
  checkpointFiles: 1,
  // Fitted on docs/calibration/sftp.jsonl (bench/calibration/sftp.py; docs/calibration.md):
  // scp -r of folders of 1/16/48 files, idle and beside an opposite-direction flow.
  sftpFileRtts: SFTP_FIT.fileRtts,
  sftpFileCpu: SFTP_FIT.fileCpu,
  // The manager's own computation; policies add theirs (PolicyPlan.computeSeconds).
  decisionCompute: 0,
  // JoWUA Table 2 means.
  killDuration: KILL,
  startDuration: START,
  // JoWUA: "total migration duration" minus "downtime" (Table 2 means): the preparation done
  // before the kill (SSH connection with public-key authentication, checking the hosts).
  statelessPrepare: TOTAL - DOWN, // 0.7171 s
  // JoWUA: downtime - kill - start (Table 2 means): the work the paper lists between killing at
  // the source and starting at the destination (removing containers with the same name, the
  // remote start command over SSH). The network part of it is simulated on top (see docs).
  statelessSwitchover: DOWN - KILL - START, // 1.0524 s
  // 1 MB: CRIU's final dump is cheap below this; with the P.Haul iteration limit of 8 rounds.
  precopyThreshold: 1e6,
  precopyMaxRounds: 8,
  // Assumption: the non-memory state (descriptors, registers, mappings) a lazy restore needs.
  postcopyMinimal: 1e6,
  // One file's SFTP requests, as checkpoint-files has by default; calibration counts them.
  postcopyFiles: 1,
  // CRIU's lazy-pages daemon asks the source for DEFAULT_XFER_LEN (64 KiB) at a time, 64 KiB more
  // after each answer with no fault in between, and falls back to 64 KiB at every fault (uffd.c).
  postcopyChunk: 65536,
  // The testbed's live workload checks all its pages every second (backends/mininet/workload/).
  postcopyFaultInterval: 1,
  // No host time per page request by default: the paper has no post-copy; `migsim calibrate`
  // fits it on a post-copy move over a fast pair, where the pull is bound by the hosts.
  postcopyRequestCpu: 0,
  // After the last page CRIU's lazy-pages daemon sends the page server PS_IOV_FLUSH and waits for
  // its 4-byte answer before it exits. On the project's testbed each of the two small segments
  // left its host ~0.2 s after it was written (captured on the wire; docs/profiles.md), so the
  // pull ends ~0.45 s after its last page even over 1 Gbit/s. `migsim calibrate` fits it.
  postcopyClose: 0.45,
  // Calibrated per testbed (`migsim calibrate`); the paper's fit has none of them.
  transferSetup: 0,
  sshSetup: 0,
  sshCommand: 0,
  imageOverhead: 0,
  // Assumption until calibrated: post-copy's dump of the minimal state and its lazy restore cost
  // what a cold checkpoint and restore do. On a testbed they run under runc, not Docker, and
  // measure far cheaper (docs/profiles.md), so a calibration fits them on a post-copy move.
  postcopyCheckpointBase: 0.5,
  postcopyRestoreBase: 0.8,
  // One JSON command line of the NetSoft protocol.
  controlBytes: 100,
  // No cost beyond the network by default; Table III's experiment sets the value fitted on it
  // (docs/reproduction.md).
  mtdSession: 0,
});

/** Seconds to dump `bytes` of state at the source; post-copy's dump of the minimal state has its own fixed cost. */
export function checkpointSeconds(c: CostParams, bytes: number, mode: "post-copy" | "other" = "other"): number {
  return (mode === "post-copy" ? c.postcopyCheckpointBase : c.checkpointBase) + bytes / c.checkpointRate;
}

/**
 * Seconds to restore one container of `bytes` at a destination where `concurrent` restores
 * (this one included) run at once: base + size / rate, stretched by restorePerContainer per
 * additional container competing for the destination's CPU and disk.
 */
export function restoreSeconds(c: CostParams, bytes: number, concurrent = 1, mode: "post-copy" | "other" = "other"): number {
  const base = mode === "post-copy" ? c.postcopyRestoreBase : c.restoreBase;
  return (base + bytes / c.restoreRate) * (1 + c.restorePerContainer * (concurrent - 1));
}

/** Bytes on the wire for `bytes` of checkpoint. */
export function wireBytes(c: CostParams, bytes: number): number {
  return bytes * c.compression;
}

type CostUnit = "duration" | "bytes" | "rate" | "byte-rate" | "ratio" | "count";

/**
 * The `costs:` block of an experiment file: YAML key -> CostParams field and the unit it is
 * written with (rates of disks in bytes per second, e.g. `200MBps`; cipher in bits, `800Mbps`).
 */
export const COST_FIELDS: Readonly<Record<string, { field: keyof CostParams; unit: CostUnit }>> = {
  "checkpoint-base": { field: "checkpointBase", unit: "duration" },
  "checkpoint-rate": { field: "checkpointRate", unit: "byte-rate" },
  "restore-base": { field: "restoreBase", unit: "duration" },
  "restore-rate": { field: "restoreRate", unit: "byte-rate" },
  "restore-per-container": { field: "restorePerContainer", unit: "ratio" },
  compression: { field: "compression", unit: "ratio" },
  "ssh-handshake-rtts": { field: "sshHandshakeRtts", unit: "count" },
  "ssh-cipher-rate": { field: "sshCipherRate", unit: "rate" },
  "checkpoint-files": { field: "checkpointFiles", unit: "count" },
  "sftp-file-rtts": { field: "sftpFileRtts", unit: "count" },
  "sftp-file-cpu": { field: "sftpFileCpu", unit: "duration" },
  "decision-compute": { field: "decisionCompute", unit: "duration" },
  kill: { field: "killDuration", unit: "duration" },
  start: { field: "startDuration", unit: "duration" },
  "stateless-prepare": { field: "statelessPrepare", unit: "duration" },
  "stateless-switchover": { field: "statelessSwitchover", unit: "duration" },
  "precopy-threshold": { field: "precopyThreshold", unit: "bytes" },
  "precopy-max-rounds": { field: "precopyMaxRounds", unit: "count" },
  "postcopy-minimal": { field: "postcopyMinimal", unit: "bytes" },
  "postcopy-files": { field: "postcopyFiles", unit: "count" },
  "postcopy-chunk": { field: "postcopyChunk", unit: "bytes" },
  "postcopy-fault-interval": { field: "postcopyFaultInterval", unit: "duration" },
  "postcopy-request-cpu": { field: "postcopyRequestCpu", unit: "duration" },
  "postcopy-close": { field: "postcopyClose", unit: "duration" },
  "control-bytes": { field: "controlBytes", unit: "bytes" },
  "transfer-setup": { field: "transferSetup", unit: "duration" },
  "ssh-setup": { field: "sshSetup", unit: "duration" },
  "ssh-command": { field: "sshCommand", unit: "duration" },
  "postcopy-checkpoint-base": { field: "postcopyCheckpointBase", unit: "duration" },
  "postcopy-restore-base": { field: "postcopyRestoreBase", unit: "duration" },
  "image-overhead": { field: "imageOverhead", unit: "bytes" },
  "mtd-session": { field: "mtdSession", unit: "duration" },
};

/**
 * Parses a `costs:` block over the defaults. Refuses unknown keys and values without their unit
 * (InputError with field `costs.<key>`); ranges are checked by validateRunSpec.
 */
export function costsFromBlock(block: Readonly<Record<string, unknown>>, base: Readonly<CostParams> = DEFAULT_COSTS): CostParams {
  const out: CostParams = { ...base };
  for (const [key, value] of Object.entries(block)) {
    const f = COST_FIELDS[key];
    if (!f) throw new InputError(`unknown cost parameter (expected one of ${Object.keys(COST_FIELDS).join(", ")})`, { field: `costs.${key}` });
    try {
      out[f.field] = parseCost(f.unit, value);
    } catch (e) {
      if (e instanceof InputError) throw e.withLocation({ field: `costs.${key}` });
      throw e;
    }
  }
  return out;
}

function parseCost(unit: CostUnit, value: unknown): number {
  switch (unit) {
    case "duration":
      return parseDuration(value);
    case "bytes":
      return parseBytes(value);
    case "rate":
      return parseRate(value);
    case "byte-rate":
      return parseRate(value) / 8;
    case "ratio":
    case "count":
      if (typeof value !== "number" || !Number.isFinite(value)) throw new InputError(`expected a plain number, got ${describe(value)}`);
      return value;
  }
}
