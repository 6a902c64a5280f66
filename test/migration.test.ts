import test, { type ExecutionContext } from "ava";
import { InputError } from "../src/core/errors.ts";
import { DEFAULT_COSTS, JOWUA_TABLE2, mean, restoreSeconds } from "../src/migration/costs.ts";
import { tarStreamBytes } from "../src/migration/transport.ts";
import { validateRunSpec } from "../src/migration/validate.ts";
import { SimBackend } from "../backends/sim/backend.ts";
import type { Policy, PolicyPlan } from "../src/policies/policy-types.ts";
import type { RunRecord, RunSpec } from "../src/formats/runspec.ts";
import { backend, keyPolicy, link, migration, runSpec, SIMPLE_COSTS, star } from "./helpers/runspec.ts";

function close(t: ExecutionContext, actual: number, expected: number, what: string, eps = 1e-9): void {
  t.true(Math.abs(actual - expected) <= eps * Math.max(1, Math.abs(expected)), `${what}: ${actual} != ${expected}`);
}

async function one(spec: RunSpec, b = backend()): Promise<RunRecord> {
  const r = await b.execute(spec);
  return r.records[0]!;
}

/** phases and waits add up to the total in every mode */
function sums(t: ExecutionContext, r: RunRecord): void {
  close(t, r.decision_s + r.control_s + r.checkpoint_s + r.transfer_s + r.restore_s + r.prepare_s, r.total_s, "phases sum to total");
}

// Topology: star of 8 Mbps links, efficiency 1 => 1 MB/s; checkpoint 0.5 s + 1 MB/s; restore 2 s + 1 MB/s.
// A tcp copy of the one-file folder is a tar stream: its framing (headers, padding) is `f` seconds at 1 MB/s.
const f = tarStreamBytes(0, 1) / 1e6;

test("cold: downtime = checkpoint + transfer + restore, hand-computed", async (t) => {
  const r = await one(runSpec({ migrations: [migration({ checkpoint: 2e6, mode: "cold" })] }));
  close(t, r.trigger_s, 10, "trigger");
  close(t, r.checkpoint_s, 2.5, "checkpoint 0.5 + 2MB / 1MB/s");
  close(t, r.transfer_s, 2 + f, "2 MB and the tar framing at 1 MB/s, no latency");
  close(t, r.restore_s, 4, "restore 2 + 2");
  close(t, r.downtime_s, 8.5 + f, "downtime");
  close(t, r.total_s, 8.5 + f, "total (no latency, no control bytes)");
  t.is(r.checkpoint_bytes, 2e6);
  t.is(r.transferred_bytes, 2e6);
  t.is(r.path_hops, 2);
  t.is(r.bottleneck_bps, 8e6);
  t.is(r.destination, "h2");
  sums(t, r);
});

test("cold over ssh: the cipher cap limits the flow and the handshake pays round trips", async (t) => {
  // 0.5 ms per link: one-way h1 -> h2 1 ms, RTT 2 ms. Cipher cap 4 Mbps: 2 MB take 4 s.
  // SFTP: 3 files x 2 request/response round trips over the open connection + 10 ms per file.
  const costs = { ...SIMPLE_COSTS, sshCipherRate: 4e6, controlBytes: 100, checkpointFiles: 3, sftpFileRtts: 2, sftpFileCpu: 0.01 };
  const r = await one(runSpec({ topology: star(["h1", "h2", "h3"], 8e6, 0.0005), costs, migrations: [migration({ transport: "ssh" })] }));
  // connection: 9 RTTs + RESTART and its ack (propagation + 800 bits at 8 Mbps each way)
  const exchange = 2 * (0.001 + 800 / 8e6);
  const connection = 9 * 0.002 + exchange;
  const sftp = 6 * exchange + 3 * 0.01;
  close(t, r.transfer_s, connection + sftp + 4, "ssh connection + SFTP per-file round trips + capped flow");
  close(t, r.downtime_s, 2.5 + connection + sftp + 4 + 4, "downtime");
  // MIGRATE h3 -> h1 and SUCCESS h2 -> h1: each a new TCP connection (one 2 ms RTT handshake),
  // the command and its acknowledgement
  close(t, r.control_s, 2 * (0.002 + exchange), "control messages");
  sums(t, r);
});

test("compression: bytes on the wire = checkpoint * ratio", async (t) => {
  const r = await one(runSpec({ costs: { ...SIMPLE_COSTS, compression: 0.25 }, migrations: [migration({ checkpoint: 4e6 })] }));
  t.is(r.checkpoint_bytes, 4e6);
  t.is(r.transferred_bytes, 1e6);
  close(t, r.transfer_s, 1 + f, "1 MB on the wire, framed");
  close(t, r.restore_s, 6, "restore reads the raw 4 MB");
});

test("stateless: downtime from kill start to start end, total includes preparation", async (t) => {
  const r = await one(runSpec({ migrations: [migration({ mode: "stateless" })] }));
  // prepare 0.7 | kill 0.6 | connection 0 (no latency) | switchover 1.0 | start 0.5
  close(t, r.downtime_s, 0.6 + 1 + 0.5, "downtime");
  close(t, r.total_s, 0.7 + 0.6 + 1 + 0.5, "total");
  close(t, r.checkpoint_s, 0.6, "kill recorded as checkpoint_s");
  close(t, r.restore_s, 0.5, "start recorded as restore_s");
  close(t, r.prepare_s, 1.7, "fixed steps");
  t.is(r.checkpoint_bytes, 0);
  t.is(r.transferred_bytes, 0);
  sums(t, r);
});

test("pre-copy that converges: rounds shrink below the threshold, then stop-and-copy", async (t) => {
  const r = await one(runSpec({ migrations: [migration({ mode: "pre-copy", checkpoint: 2e6, dirtyRate: 50e3 })] }));
  // round 1: dump 0.5 + 2 = 2.5, send 2 + f => dirtied 50 kB/s * (4.5 + f) s = 225.4 kB (> 100 kB)
  // round 2: dump 0.5 + 0.2254, send 0.2254 + f => dirtied 50 kB/s * 0.958 s = 47.9 kB (< 100 kB)
  // stop-and-copy: dump 0.5 + 0.0479, send 0.0479 + f; restore 2 + 2 (whole image)
  const dirty1 = 50e3 * (2.5 + 2 + f);
  const round2 = { dump: 0.5 + dirty1 / 1e6, send: dirty1 / 1e6 + f };
  const dirty2 = 50e3 * (round2.dump + round2.send);
  const final = { dump: 0.5 + dirty2 / 1e6, send: dirty2 / 1e6 + f };
  t.is(r.rounds, 2);
  t.true(r.converged);
  t.is(r.note, "");
  close(t, r.downtime_s, final.dump + final.send + 4, "downtime = final dump + final send + restore");
  close(t, r.checkpoint_s, 2.5 + round2.dump + final.dump, "all dumps");
  close(t, r.transfer_s, 2 + f + round2.send + final.send, "all sends");
  close(t, r.transferred_bytes, 2e6 + dirty1 + dirty2, "bytes on the wire", 1e-12);
  close(t, r.total_s, 2.5 + 2 + f + round2.dump + round2.send + final.dump + final.send + 4, "total");
  sums(t, r);
});

test("pre-copy that cannot converge: dirty rate above the path rate stops at the round limit and says so", async (t) => {
  const r = await one(runSpec({ migrations: [migration({ mode: "pre-copy", checkpoint: 2e6, memory: 2e6, dirtyRate: 2e6 })] }));
  // every round re-dirties the whole 2 MB page set: 3 rounds (the limit), then stop-and-copy of 2 MB
  t.is(r.rounds, 3);
  t.false(r.converged);
  // the path rate is the files' bytes over the send time: 8 Mbps less the tar framing
  t.regex(r.note, /round limit \(3\).*dirty rate 16Mbps.*>= path rate 7.97Mbps/);
  close(t, r.downtime_s, 2.5 + 2 + f + 4, "downtime");
  close(t, r.total_s, 3 * (4.5 + f) + 2.5 + 2 + f + 4, "total");
  close(t, r.transferred_bytes, 4 * 2e6, "four copies");
  sums(t, r);
});

test("post-copy: downtime covers the minimal state only, total until the last page", async (t) => {
  const r = await one(runSpec({ migrations: [migration({ mode: "post-copy", checkpoint: 2e6 })] }));
  // minimal 0.5 MB: dump 0.5 + 0.5, send 0.5 + f, restore 2 + 0.5; then pull 1.5 MB in 1.5 s (the
  // page server's byte stream: no tar)
  close(t, r.downtime_s, 1 + 0.5 + f + 2.5, "downtime");
  close(t, r.total_s, 1 + 0.5 + f + 2.5 + 1.5, "total");
  close(t, r.transfer_s, 0.5 + f + 1.5, "minimal + pulled pages");
  t.is(r.transferred_bytes, 2e6);
  sums(t, r);
});

test("decision: MTD set-up, then key requests in sequence, then compute", async (t) => {
  // 0.5 ms per link: one-way between hosts 1 ms. Each key request: new TCP connection (1 RTT = 2 ms)
  // + 1000 B each way at 8 Mbps (1 ms + 1 ms propagation) = 6 ms; two of them = 12 ms; compute 0.1 s.
  const spec = runSpec({
    topology: star(["h1", "h2", "h3", "h4"], 8e6, 0.0005),
    policy: { name: "keys", params: {} },
    migrations: [migration({ candidates: ["h2"], destination: undefined })],
  });
  const r = await one(spec, backend(keyPolicy(["h3", "h4"], 0.1, 1000)));
  close(t, r.key_retrieval_s, 2 * (0.002 + 2 * (0.001 + 8000 / 8e6)), "key retrieval");
  // set-up: the manager h3 keeps its own material and re-keys h4 over an SSH session: 9 handshake
  // RTTs of 2 ms, then 1000 B (1 ms + 1 ms) and an empty acknowledgement (1 ms)
  close(t, r.setup_s, 9 * 0.002 + 0.001 + 8000 / 8e6 + 0.001, "set-up: one SSH session");
  const twoHosts = await one({ ...spec, manager: "h1" }, backend(keyPolicy(["h3", "h4"], 0.1, 1000)));
  close(t, twoHosts.setup_s, 2 * (9 * 0.002 + 0.001 + 8000 / 8e6 + 0.001), "set-up from h1: two sequential sessions");
  close(t, r.decision_s, r.setup_s + r.key_retrieval_s + 0.1, "decision = set-up + keys + compute");
  sums(t, r);
  // the fixed cost of a key request (costs.mtd-session) is paid once per request
  const slow = await one({ ...spec, costs: { ...spec.costs, mtdSession: 0.5 } }, backend(keyPolicy(["h3", "h4"], 0.1, 1000)));
  close(t, slow.key_retrieval_s, r.key_retrieval_s + 2 * 0.5, "two requests, 0.5 s each");
  close(t, slow.setup_s, r.setup_s, "set-up does not pay it");
});

test("MTD re-key schedules: in parallel the set-up lasts one session; once per period later migrations wait only for what is left", async (t) => {
  const session = 9 * 0.002 + 0.001 + 8000 / 8e6 + 0.001;
  const rekeying = (rekey: PolicyPlan["rekey"]): Policy => {
    const inner = keyPolicy(["h3", "h4"], 0, 1000);
    return { name: "keys", decide: (input) => ({ ...inner.decide(input), rekey }) };
  };
  const app = (name: string, source: string, at: number) =>
    migration({ container: { name, checkpoint: 1e6, memory: 1e6, dirtyRate: 0 }, source, candidates: ["h2", "h5"], destination: undefined, trigger: { kind: "at", at } });
  const spec = runSpec({
    topology: star(["h1", "h2", "h3", "h4", "h5", "h6"], 8e6, 0.0005),
    manager: "h6",
    policy: { name: "keys", params: {} },
    migrations: [app("a", "h1", 10), app("b", "h3", 10.01), app("c", "h4", 70)],
  });
  const run = async (rekey: PolicyPlan["rekey"]) => (await backend(rekeying(rekey)).execute(spec)).records;
  const sequential = await run(undefined);
  for (const r of sequential) close(t, r.setup_s, 2 * session, "default: two sessions one after the other, before every migration");
  const parallel = await run({ every: 0, parallel: true });
  for (const r of parallel) close(t, r.setup_s, session, "in parallel: as long as one session");
  const periodic = await run({ every: 60, parallel: false });
  close(t, periodic[0]!.setup_s, 2 * session, "first migration of the period pays the re-key");
  close(t, periodic[1]!.setup_s, 2 * session - 0.01, "the second waits for the rest of it");
  close(t, periodic[2]!.setup_s, 2 * session, "a new period, a new re-key");
});

test("concurrent migrations share the bottleneck link and the destination's restore", async (t) => {
  const costs = { ...SIMPLE_COSTS };
  const spec = runSpec({
    costs,
    migrations: [
      migration({ source: "h1", candidates: ["h3"], destination: "h3" }),
      { ...migration({ source: "h2", candidates: ["h3"], destination: "h3" }), container: { name: "b", checkpoint: 2e6, memory: 2e6, dirtyRate: 0 } },
    ],
  });
  const [a, b] = (await backend().execute(spec)).records;
  // both flows cross s1 -> h3 at once: 0.5 MB/s each, 4 + 2f s; restores start together at h3:
  // the one that starts second counts 2 containers restoring (+50%)
  close(t, a!.transfer_s, 4 + 2 * f, "a shares the link");
  close(t, b!.transfer_s, 4 + 2 * f, "b shares the link");
  t.deepEqual([a!.restore_s, b!.restore_s].sort(), [4, 6]);
  close(t, a!.total_s, 2.5 + 4 + 2 * f + a!.restore_s, "a total");
});

test("staggered migrations: the overlap of the two flows is shared, the rest alone", async (t) => {
  const spec = runSpec({
    migrations: [
      migration({ source: "h1", candidates: ["h3"], destination: "h3", trigger: { kind: "at", at: 10 } }),
      { ...migration({ source: "h2", candidates: ["h3"], destination: "h3", trigger: { kind: "at", at: 11 } }), container: { name: "b", checkpoint: 2e6, memory: 2e6, dirtyRate: 0 } },
    ],
  });
  const [a, b] = (await backend().execute(spec)).records;
  // a sends alone from 12.5 to 13.5 (1 MB), then both share until a ends at 15.5 + 2f; b finishes
  // its last MB alone by 16.5 + 2f
  close(t, a!.transfer_s, 3 + 2 * f, "a");
  close(t, b!.transfer_s, 3 + 2 * f, "b");
  close(t, a!.restore_s, 4, "a restores alone");
  close(t, b!.restore_s, 6, "b restores while a is still restoring");
});

test("redirect: the service's flows move from source to destination at SUCCESS", async (t) => {
  const spec = runSpec({
    traffic: [{ from: "h3", to: "h1", kind: "udp", rate: 2e6, start: 0, service: "app" }],
    migrations: [migration({ trigger: { kind: "at", at: 3 } })],
    // a probe keeps the run (and the trace) going after the migration
    probes: [{ from: "h1", to: "h3", at: 14, bytes: 100, every: 1, count: 1, newConnection: true }],
  });
  const res = await backend(undefined, { trace: true }).execute(spec);
  const r = res.records[0]!;
  // checkpoint 2.5 + transfer 2 + f (the stream uses the other direction) + restore 4
  close(t, r.redirect_s, 11.5 + f, "redirect at SUCCESS");
  const at = (host: string, time: number) => res.trace!.find((s) => s.host === host && s.t === time)!.bps;
  close(t, at("h1", 5), 2e6, "h1 receives the stream before");
  close(t, at("h2", 5), 0, "h2 idle before");
  close(t, at("h1", 7), 10e6, "h1 sends the checkpoint (8 Mbps) and receives the stream");
  close(t, at("h2", 7), 8e6, "h2 receives the checkpoint");
  close(t, at("h1", 13), 0, "h1 idle after");
  close(t, at("h2", 13), 2e6, "h2 receives the stream after");
  t.deepEqual(
    res.marks!.map((m) => m.success),
    [11.5 + f],
  );
});

test("a migration unfinished at the horizon names its phase and the bottleneck link", async (t) => {
  const spec = runSpec({ horizon: 11, traffic: [{ from: "h3", to: "h2", kind: "tcp", start: 0 }] });
  const err = await t.throwsAsync(backend().execute(spec), { instanceOf: InputError });
  t.regex(
    err!.message,
    /^migrations.0: migration 0 \(app from h1, cold\) unfinished at the horizon 11s, in phase "checkpoint"; horizon is the simulated time after which a run is given up \(default 3600s\); raise it in the experiment file \(horizon: 110s\)/,
  );
  const spec2 = runSpec({ horizon: 14, traffic: [{ from: "h3", to: "h2", kind: "tcp", start: 0 }] });
  const err2 = await t.throwsAsync(backend().execute(spec2), { instanceOf: InputError });
  t.regex(err2!.message, /phase "transfer": .* left at 4Mbps; bottleneck link s1->h2 \(s1-eth2\) 8Mbps carrying 8Mbps/);
  t.false(err2!.message.includes("\n"));
});

test("the same spec gives identical records (determinism)", async (t) => {
  const spec = runSpec({
    traffic: [
      { from: "h3", to: "h2", kind: "tcp", start: 0 },
      { from: "h1", to: "h3", kind: "udp", rate: 3e6, start: 2, stop: 30 },
    ],
    migrations: [migration({ mode: "pre-copy", dirtyRate: 100e3 })],
    probes: [{ from: "h1", to: "h2", at: 9, bytes: 100, every: 0.5, count: 10, newConnection: false }],
  });
  const a = await backend().execute(spec);
  const b = await backend().execute(spec);
  t.deepEqual(a, b);
  t.is(a.probes.length, 10);
});

test("probes: request/response round trips, a new connection only first unless asked", async (t) => {
  const spec = runSpec({
    topology: star(["h1", "h2", "h3"], 8e6, 0.0005),
    probes: [{ from: "h1", to: "h2", at: 1, bytes: 1000, every: 0.5, count: 3, newConnection: false }],
  });
  const r = await backend().execute(spec);
  const rtt = 2 * (0.001 + 8000 / 8e6);
  t.deepEqual(
    r.probes.map((p) => p.sent_s),
    [1, 1.5, 2],
  );
  close(t, r.probes[0]!.rtt_s, 0.002 + rtt, "first probe opens the connection");
  close(t, r.probes[1]!.rtt_s, rtt, "then plain round trips");
});

// ---------------------------------------------------------------- cost models

test("restore grows with containers restored at once", (t) => {
  const c = { ...DEFAULT_COSTS, restoreBase: 1, restoreRate: 1e6, restorePerContainer: 0.25 };
  close(t, restoreSeconds(c, 1e6, 1), 2, "one");
  close(t, restoreSeconds(c, 1e6, 3), 3, "three at once: +50%");
});

test("stateless defaults are the JoWUA Table 2 means", (t) => {
  close(t, DEFAULT_COSTS.killDuration, 0.6287056684, "kill");
  close(t, DEFAULT_COSTS.startDuration, 0.5595606567, "start");
  close(t, mean(JOWUA_TABLE2.downtime), 2.2407, "downtime");
  close(t, mean(JOWUA_TABLE2.total), 2.9578, "total");
  close(t, DEFAULT_COSTS.killDuration + DEFAULT_COSTS.statelessSwitchover + DEFAULT_COSTS.startDuration, 2.2407, "residual");
});

// ---------------------------------------------------------------- validation

function refuses(t: ExecutionContext, spec: RunSpec, pattern: RegExp): void {
  const err = t.throws(() => validateRunSpec(spec), { instanceOf: InputError });
  t.regex(err!.message, pattern);
  t.false(err!.message.includes("\n"));
}

test("bad parameters are refused with one-line InputErrors before the run", async (t) => {
  refuses(t, runSpec({ migrations: [migration({ checkpoint: -1 })] }), /^migrations\.0\.container\.checkpoint: expected a finite value >= 0, got -1$/);
  refuses(t, runSpec({ costs: { ...SIMPLE_COSTS, checkpointRate: -5 } }), /^costs\.checkpoint-rate: expected a value > 0, got -5$/);
  refuses(t, runSpec({ costs: { ...SIMPLE_COSTS, compression: 0 } }), /^costs\.compression:/);
  refuses(t, runSpec({ migrations: [migration({ mode: "pre-copy", memory: 0 })] }), /^migrations\.0\.container\.memory: expected a value > 0/);
  refuses(t, runSpec({ migrations: [migration({ mode: "post-copy", checkpoint: 1000 })] }), /post-copy needs a checkpoint of at least/);
  refuses(t, runSpec({ migrations: [migration({ trigger: { kind: "port", port: "s9-eth1", above: 1e6, samples: 2 } })] }), /^migrations\.0\.trigger\.port: no port "s9-eth1" in topology star/);
  refuses(t, runSpec({ migrations: [migration({ trigger: { kind: "switch", switch: "h1", above: 1, samples: 2 } })] }), /no switch "h1"/);
  refuses(t, runSpec({ migrations: [migration({ destination: undefined })] }), /the fixed policy needs a destination/);
  refuses(t, runSpec({ migrations: [migration({ source: "h7" })] }), /^migrations\.0\.source: expected a host of topology star, got "h7"$/);
  refuses(t, runSpec({ traffic: [{ from: "h1", to: "h2", kind: "udp", start: 0 }] }), /^traffic\.0\.rate:/);
  refuses(t, runSpec({ measurement: { period: 0 } }), /^measurement\.period:/);
  // the backend refuses before running
  await t.throwsAsync(backend().execute(runSpec({ migrations: [migration({ checkpoint: -1 })] })), { instanceOf: InputError });
  t.notThrows(() => validateRunSpec(runSpec()));
});

test("post-copy pays its own fixed dump and lazy-restore costs, other modes the cold ones", async (t) => {
  const costs = { ...SIMPLE_COSTS, postcopyCheckpointBase: 0.1, postcopyRestoreBase: 0.2 };
  const post = await one(runSpec({ costs, migrations: [migration({ mode: "post-copy", checkpoint: 2e6 })] }));
  // minimal 0.5 MB: dump 0.1 + 0.5, send 0.5 + f, restore 0.2 + 0.5
  close(t, post.checkpoint_s, 0.6, "post-copy dump");
  close(t, post.restore_s, 0.7, "lazy restore");
  close(t, post.downtime_s, 0.6 + 0.5 + f + 0.7, "downtime");
  const cold = await one(runSpec({ costs, migrations: [migration({ mode: "cold", checkpoint: 2e6 })] }));
  close(t, cold.checkpoint_s, 2.5, "cold dump keeps checkpoint-base");
  close(t, cold.restore_s, 4, "cold restore keeps restore-base");
});

test("post-copy's pull ends the page server's close after its last page: in the transfer and the total, not the downtime", async (t) => {
  const without = await one(runSpec({ migrations: [migration({ mode: "post-copy", checkpoint: 2e6 })] }));
  const closing = await one(runSpec({ costs: { ...SIMPLE_COSTS, postcopyClose: 0.45 }, migrations: [migration({ mode: "post-copy", checkpoint: 2e6 })] }));
  close(t, closing.transfer_s - without.transfer_s, 0.45, "transfer");
  close(t, closing.total_s - without.total_s, 0.45, "total");
  close(t, closing.downtime_s, without.downtime_s, "downtime: the container runs during the pull");
  // an image no larger than the minimal state leaves nothing to pull, and the daemon still closes
  const nothing = await one(runSpec({ costs: { ...SIMPLE_COSTS, postcopyClose: 0.45, postcopyMinimal: 2e6 }, migrations: [migration({ mode: "post-copy", checkpoint: 2e6 })] }));
  const nothingWithout = await one(runSpec({ costs: { ...SIMPLE_COSTS, postcopyMinimal: 2e6 }, migrations: [migration({ mode: "post-copy", checkpoint: 2e6 })] }));
  close(t, nothing.transfer_s - nothingWithout.transfer_s, 0.45, "nothing pulled");
});

test("post-copy's restore waits for the lazy-pages daemon's connection to the source's page server", async (t) => {
  // 10 ms per link: h2 -> h1 one way 20 ms; a new connection = its handshake, then request and answer
  const far = await one(runSpec({ topology: star(["h1", "h2", "h3"], 8e6, 0.01), migrations: [migration({ mode: "post-copy", checkpoint: 2e6 })] }));
  const near = await one(runSpec({ migrations: [migration({ mode: "post-copy", checkpoint: 2e6 })] }));
  close(t, near.restore_s, 2.5, "restore 2 + 0.5 MB with no latency");
  t.true(far.restore_s - near.restore_s >= 0.08 - 1e-9, `at least the handshake and one exchange (2 x 40 ms round trips), got ${far.restore_s - near.restore_s}`);
  t.true(far.restore_s - near.restore_s < 0.2, "no more than a few round trips");
});

test("a stateless RESTART over SSH pays the command session's host time; over TCP, and a copy's connection, do not", async (t) => {
  const costs = { ...SIMPLE_COSTS, sshCommand: 0.3 };
  const ssh = await one(runSpec({ costs, migrations: [migration({ mode: "stateless", transport: "ssh" })] }));
  const tcp = await one(runSpec({ costs, migrations: [migration({ mode: "stateless", transport: "tcp" })] }));
  const sshWithout = await one(runSpec({ migrations: [migration({ mode: "stateless", transport: "ssh" })] }));
  close(t, ssh.transfer_s - sshWithout.transfer_s, 0.3, "the RESTART command");
  close(t, ssh.downtime_s - sshWithout.downtime_s, 0.3, "inside the downtime");
  t.true(tcp.transfer_s < 0.01, `a TCP RESTART is one exchange, got ${tcp.transfer_s}`);
  const cold = await one(runSpec({ costs, migrations: [migration({ mode: "cold", transport: "ssh", checkpoint: 2e6 })] }));
  const coldWithout = await one(runSpec({ migrations: [migration({ mode: "cold", transport: "ssh", checkpoint: 2e6 })] }));
  close(t, cold.transfer_s, coldWithout.transfer_s, "a copy pays ssh-setup, not the command session");
});

test("path and bottleneck describe the source -> destination route", async (t) => {
  const topo = { name: "line", hosts: ["h1", "h2", "h3"], switches: ["s1", "s2"], links: [link("h1", "s1", 8e6), link("s1", "s2", 4e6), link("s2", "h2", 8e6), link("h3", "s1", 8e6)] };
  const r = await one(runSpec({ topology: topo }));
  t.is(r.path_hops, 3);
  t.is(r.bottleneck_bps, 4e6);
  close(t, r.transfer_s, 4 + 2 * f, "2 MB and the tar framing at 4 Mbps");
});

// ---------------------------------------------------------------- with the real policies

test("real policies through the backend: mtd-shamir pays its key round trips, bandwidth picks the wide path", async (t) => {
  const hosts = ["h1", "h2", "h3", "h4", "h5"];
  const topo = star(hosts, 8e6, 0.001);
  const spec = runSpec({
    topology: topo,
    costs: { ...SIMPLE_COSTS, controlBytes: 100 },
    policy: { name: "mtd-shamir", params: { k: 3 } },
    migrations: [migration({ candidates: ["h2", "h3", "h4", "h5"], destination: undefined })],
  });
  const real = new SimBackend();
  const r = await one(spec, real);
  t.true(["h2", "h3", "h4", "h5"].includes(r.destination));
  // three sequential requests, each a new TCP connection: at least 3 * 2 RTTs of 4 ms
  t.true(r.key_retrieval_s >= 3 * 2 * 0.004, `key retrieval ${r.key_retrieval_s}`);
  close(t, r.decision_s, r.setup_s + r.key_retrieval_s + 1e-3, "decision = set-up + keys + compute (1 ms default)");
  t.true(r.setup_s > 0);
  sums(t, r);
  t.deepEqual(await one(spec, real), r, "deterministic");

  // bandwidth: h3 sits behind a 2 Mbps link, h2 behind 8 Mbps
  const topo2 = { name: "two", hosts: ["h1", "h2", "h3"], switches: ["s1"], links: [link("h1", "s1", 8e6), link("h2", "s1", 8e6), link("h3", "s1", 2e6)] };
  const b = await one(runSpec({ topology: topo2, manager: "h1", policy: { name: "bandwidth", params: {} }, migrations: [migration({ candidates: ["h3", "h2"], destination: undefined })] }), real);
  t.is(b.destination, "h2");
  t.is(b.bottleneck_bps, 8e6);
});

test("a tcp copy sends its folder as one tar stream; the page pull is a bare stream", async (t) => {
  // 22 files of 42,901 B (post-copy's minimal image on the testbed): 23 header blocks, half a block
  // of padding per file, the two end blocks and half a record
  t.is(tarStreamBytes(42901, 22), 42901 + 23 * 512 + 22 * 256 + 1024 + 5120);
  const costs = { ...SIMPLE_COSTS, checkpointFiles: 22, postcopyFiles: 3 };
  const cold = await one(runSpec({ costs, migrations: [migration({ mode: "cold", checkpoint: 2e6 })] }));
  close(t, cold.transfer_s, tarStreamBytes(2e6, 22) / 1e6, "the whole folder's tar stream at 1 MB/s");
  t.is(cold.transferred_bytes, 2e6, "transferred_bytes counts the files, not the framing");
  const post = await one(runSpec({ costs, migrations: [migration({ mode: "post-copy", checkpoint: 2e6 })] }));
  // the minimal image's 3 files are framed; the 1.5 MB of pages are not
  close(t, post.transfer_s, tarStreamBytes(0.5e6, 3) / 1e6 + 1.5, "minimal tar stream + bare page pull");
});

test("each transport pays its own copy start-up: transfer-setup over tcp, ssh-setup over ssh", async (t) => {
  const costs = { ...SIMPLE_COSTS, transferSetup: 0.2, sshSetup: 0.3 };
  for (const [transport, setup] of [
    ["tcp", 0.2],
    ["ssh", 0.3],
  ] as const) {
    const withSetup = await one(runSpec({ costs, migrations: [migration({ mode: "cold", transport, checkpoint: 2e6 })] }));
    const without = await one(runSpec({ migrations: [migration({ mode: "cold", transport, checkpoint: 2e6 })] }));
    close(t, withSetup.transfer_s - without.transfer_s, setup, `${transport} copy start-up`);
  }
});
