/**
 * Replays a measured calibration scenario (a line of docs/calibration/measured.jsonl) on a
 * network model: the same dumbbell, the same start times, background flows and probes.
 * Predictions are comparable to what measure.py records:
 *   transfers: completion = connection set-up + transfer, from the sender's connect() call;
 *   rtt: median request/response time over an open connection and with a new connection each.
 */
import { Simulator } from "../../src/kernel/index.ts";
import { compileTopology } from "../../src/network/topology/compile.ts";
import { createNetworkModel } from "../../src/network/index.ts";
import type { CongestionControl, NetworkModel, NetworkParams } from "../../src/network/network-model.ts";
import type { LinkSpec, Topology } from "../../src/network/topology/topology-types.ts";

export interface MeasuredFlow {
  src: string;
  dst: string;
  bytes: number;
  start_s?: number;
  connect_s?: number;
  completion_s?: number;
  complete: boolean;
  received_bytes?: number;
  progress?: Array<[number, number]>;
}

export interface QueueSummary {
  mean_backlog_bytes: number;
  max_backlog_bytes: number;
  series: Array<[number, number]>;
}

export interface MeasuredRecord {
  kind: "transfers" | "rtt";
  scenario: string;
  cc: CongestionControl;
  bw_mbps: number;
  rep: number;
  background: { src: string; dst: string; warmup_s: number } | null;
  flows?: MeasuredFlow[];
  rtts?: { open: number[] | null; new: number[] | null };
  queues: Record<string, QueueSummary>;
  env: { fwd_if: string; back_if: string; mtu: string };
}

/** The measured dumbbell: unshaped veth host links (modelled as 10 Gbit/s), one shaped link s1-s2. */
export function dumbbell(bwMbps: number): Topology {
  const link = (a: string, b: string, capacity: number): LinkSpec => ({ a, b, capacity, capacityBack: capacity, latency: 0, queue: 1000, mtu: 1500 });
  return {
    name: `dumbbell-${bwMbps}M`,
    hosts: ["h1", "h2", "h3", "h4", "h5", "h6"],
    switches: ["s1", "s2"],
    links: [link("h1", "s1", 10e9), link("h2", "s1", 10e9), link("h3", "s1", 10e9), link("h4", "s2", 10e9), link("h5", "s2", 10e9), link("h6", "s2", 10e9), link("s1", "s2", bwMbps * 1e6)],
  };
}

export interface Prediction {
  /** per measured flow: predicted completion (s from its connect call), or null if not finished by the horizon */
  completions: Array<number | null>;
  /** predicted median request/response times (s) */
  rtt?: { open: number; new: number };
  /** predicted queue on s1->s2 (bytes) averaged over the scenario */
  meanQueue: number;
}

export interface ReplayOptions {
  /** simulated seconds after the last start before giving up on a flow */
  horizon?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** connection set-up as the model sees it now: fixed cost + handshake round trips over its queues */
function handshake(model: NetworkModel, src: string, dst: string, p: NetworkParams): number {
  const extra = p.extra ?? {};
  const rtts = p.tcpHandshakeRtts * (p.model === "tcp-fluid" ? (extra.handshakeScale ?? 1) : 1);
  const setup = extra.connectSetup ?? 0;
  return setup + rtts * (model.pathDelay(src, dst) + model.pathDelay(dst, src));
}

export function replay(rec: MeasuredRecord, params: NetworkParams, opts: ReplayOptions = {}): Prediction {
  const sim = new Simulator();
  const topo = compileTopology(dumbbell(rec.bw_mbps));
  const p: NetworkParams = { ...params, congestionControl: rec.cc };
  const model = createNetworkModel(sim, topo, p);
  const bottleneck = topo.portIndex.get("s1-eth4")!;
  let queueArea = 0;
  let lastT = 0;
  let lastQ = 0;
  const sampleQueue = (): void => {
    queueArea += lastQ * (sim.now - lastT);
    lastT = sim.now;
    lastQ = model.linkQueueBytes(bottleneck);
  };
  const warm = rec.background ? rec.background.warmup_s : 0;
  if (rec.background) model.startFlow({ src: rec.background.src, dst: rec.background.dst, kind: "tcp", label: "background" });
  const horizon = opts.horizon ?? 120;
  let out: Prediction;
  if (rec.kind === "transfers") {
    const flows = rec.flows!;
    const completions: Array<number | null> = flows.map(() => null);
    flows.forEach((mf, i) => {
      const t0 = warm + (mf.start_s ?? 0);
      sim.scheduleAt(t0, () => {
        sampleQueue();
        const hs = handshake(model, mf.src, mf.dst, p);
        sim.schedule(hs, () => {
          sampleQueue();
          const flow = model.startFlow({ src: mf.src, dst: mf.dst, kind: "tcp", bytes: mf.bytes });
          flow.done.onFire((r) => {
            sampleQueue();
            completions[i] = r.end - t0;
            if (completions.every((c) => c !== null)) sim.stop();
          });
        });
      });
    });
    // sample the queue regularly too (it changes between flow events)
    const every = 0.05;
    const tick = (): void => {
      sampleQueue();
      if (sim.now < warm + horizon) sim.schedule(every, tick);
    };
    sim.scheduleAt(warm, tick);
    sim.run(warm + horizon);
    sampleQueue();
    out = { completions, meanQueue: queueArea / Math.max(1e-9, sim.now - warm) };
  } else {
    const count = rec.rtts?.open?.length ?? 15;
    const gap = rec.background ? 0.15 : 0.05;
    const res: Record<"open" | "new", number[]> = { open: [], new: [] };
    const probe = (mode: "open" | "new", k: number): void => {
      if (k >= count) {
        if (mode === "open") probe("new", 0);
        else sim.stop();
        return;
      }
      const s = model.exchange("h1", "h4", 100, 100, { newConnection: mode === "new" });
      s.onFire((d) => {
        res[mode].push(d + (mode === "new" ? (p.extra?.connectSetup ?? 0) * (p.model === "max-min" ? 1 : 0) : 0));
        sampleQueue();
        sim.schedule(gap, () => probe(mode, k + 1));
      });
    };
    sim.scheduleAt(warm, () => probe("open", 0));
    sim.run(warm + horizon);
    out = { completions: [], rtt: { open: median(res.open), new: median(res.new) }, meanQueue: lastQ };
  }
  return out;
}
