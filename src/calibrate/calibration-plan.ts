/**
 * What `migsim calibrate` measures on a testbed: the calibration experiments shipped in
 * experiments/calibration/, each run with a few settings (`--set` assignments). The validation set
 * (experiments/validation/) is never among them, so a validation there is held out.
 */
import { join } from "node:path";
import { shippedExperimentsDir } from "../load/shipped.ts";

export type CalibrationFile = "host-costs" | "stateless" | "link" | "loaded" | "postcopy";

/** One measurement: a calibration experiment under some settings, run `runs` times on the testbed. */
export interface Measurement {
  /** unique id, also the measurement's output folder */
  id: string;
  file: CalibrationFile;
  set: string[];
  runs: number;
}

/** Absolute path of a calibration experiment. */
export function calibrationFile(file: CalibrationFile): string {
  return join(shippedExperimentsDir(), "calibration", `${file}.yaml`);
}

/** The post-copy measurement: a refit of measurements taken before it existed goes on without it. */
export const POSTCOPY_MEASUREMENT = "postcopy";

const sizes = { full: ["1MB", "4MB", "12MB", "32MB"], quick: ["1MB", "16MB"] };

/**
 * The measurement plan. Full: about 12 minutes on the local testbed; quick (CI): about 3, with
 * fewer sizes and runs and only CUBIC beside a flow into the source's path, still fitting every
 * parameter the full set fits.
 */
export function measurementPlan(quick: boolean): Measurement[] {
  const runs = quick ? 1 : 3;
  const plan: Measurement[] = [];
  // The stateless kill and start are sub-second host phases that drift by 20-40% over tens of
  // minutes (docs/validation.md): half of their runs open the calibration and half close it, so
  // their fit is the host's mean over the whole calibration, not one moment of it.
  const stateless = (when: "start" | "end"): Measurement => ({ id: `stateless-${when}`, file: "stateless", set: [], runs: quick ? 1 : 3 });
  plan.push(stateless("start"));
  for (const size of quick ? sizes.quick : sizes.full) {
    plan.push({ id: `host-costs-${size}`, file: "host-costs", set: [`migrations.0.container.checkpoint=${size}`], runs: quick ? 2 : 3 });
  }
  // post-copy's dump and lazy restore, right after the cold host costs: the same moment of the host
  plan.push({ id: POSTCOPY_MEASUREMENT, file: "postcopy", set: [], runs: quick ? 2 : 3 });
  for (const transport of ["tcp", "ssh"]) {
    plan.push({ id: `link-${transport}`, file: "link", set: [`migrations.0.transport=${transport}`], runs });
  }
  const loaded: Array<{ cc: string; dir: "same" | "against"; transport: string; queue: string }> = quick
    ? [
        { cc: "cubic", dir: "against", transport: "ssh", queue: "1000pkt" },
        { cc: "cubic", dir: "same", transport: "tcp", queue: "1000pkt" },
      ]
    : ["cubic", "bbr"]
        .flatMap((cc) => (["same", "against"] as const).flatMap((dir) => ["tcp", "ssh"].map((transport) => ({ cc, dir, transport, queue: "1000pkt" }))))
        .concat([
          { cc: "cubic", dir: "same", transport: "tcp", queue: "100pkt" },
          { cc: "cubic", dir: "against", transport: "ssh", queue: "100pkt" },
        ]);
  for (const l of loaded) {
    // "same": a flow into the destination, beside the copy; "against": out of the destination
    // towards the source, so the copy's ACKs and SFTP answers queue behind it
    const flow = l.dir === "same" ? ["traffic.0.from=h3", "traffic.0.to=h2"] : ["traffic.0.from=h2", "traffic.0.to=h1"];
    plan.push({
      id: `loaded-${l.cc}-${l.dir}-${l.transport}-${l.queue}`,
      file: "loaded",
      set: [...flow, `network.congestion-control=${l.cc}`, `migrations.0.transport=${l.transport}`, `topology.defaults.queue=${l.queue}`],
      // one run each: a loaded run lasts 30-60 s, and the fit pools every loaded case
      runs: 1,
    });
  }
  plan.push(stateless("end"));
  return plan;
}
