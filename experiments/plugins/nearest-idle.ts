/**
 * Example user policy (plugin): migrate to the NEAREST IDLE candidate.
 *
 * A candidate is idle when the traffic measured on its access port (sent + received, latest VIB
 * sample) is at most `idle-fraction` of that port's capacity. Among idle candidates the one with
 * the fewest switches from the source wins (then the least loaded, then the seeded rng); if none
 * is idle, the least loaded one relative to its capacity. Without measurements every candidate
 * counts as idle, so the policy falls back to shortest-path.
 *
 * Plugins are ordinary modules: export `name` and `decide`, optionally `validate`. Only type
 * imports from "migsim" (the package's library API) are used here, so the file needs nothing at
 * run time; `input.view.graph` offers the topology as a graphology graph for path questions.
 * Use it from an experiment: `policies: [{ plugin: ./plugins/nearest-idle.ts, idle-fraction: 0.2 }]`.
 */
import type { PolicyInput, PolicyPlan } from "migsim";

export const name = "nearest-idle";

function fraction(params: Readonly<Record<string, unknown>>): number {
  const f = params["idle-fraction"] ?? 0.1;
  if (typeof f !== "number" || !(f >= 0 && f <= 1)) throw new Error(`idle-fraction must be a number from 0 to 1, got ${JSON.stringify(f)}`);
  return f;
}

export function validate(params: Readonly<Record<string, unknown>>): void {
  for (const key of Object.keys(params)) if (key !== "idle-fraction") throw new Error(`unknown parameter "${key}" (known: idle-fraction)`);
  fraction(params);
}

export function decide(input: PolicyInput): PolicyPlan {
  validate(input.params);
  const limit = fraction(input.params);
  const { view } = input;
  const rows = [];
  for (const host of input.candidates) {
    if (host === input.source) continue;
    let path: ReturnType<typeof view.route>;
    try {
      path = view.route(input.source, host);
    } catch {
      continue; // unreachable
    }
    const port = `${host}-eth0`;
    const link = view.topo.portIndex.get(port);
    const capacity = link === undefined ? Infinity : view.topo.capacity[link]!;
    const sample = view.vib?.lastPort(port);
    const load = sample ? sample.txBps + sample.rxBps : 0;
    rows.push({ host, switches: path.switches, load, relative: load / capacity });
  }
  if (rows.length === 0) throw new Error(`no candidate reachable from ${input.source}`);
  const idle = rows.filter((r) => r.relative <= limit);
  const pool = idle.length > 0 ? idle : rows;
  pool.sort((a, b) => (idle.length > 0 ? a.switches - b.switches || a.load - b.load : a.relative - b.relative));
  const best = pool.filter((r) => r.switches === pool[0]!.switches && r.load === pool[0]!.load);
  const chosen = best[Math.min(best.length - 1, Math.floor(input.rng() * best.length))]!;
  return {
    destination: chosen.host,
    keyRequests: [],
    computeSeconds: 0,
    setup: [],
    note: idle.length > 0 ? `${idle.length} idle candidate(s); nearest at ${chosen.switches} switches` : `no idle candidate; least loaded (${(chosen.relative * 100).toFixed(0)}% of its port)`,
  };
}
