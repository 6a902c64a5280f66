/**
 * The emulation backend on a real Mininet + Docker + CRIU testbed, over SSH. Runs when a testbed is
 * configured (MIGSIM_TESTBED, or the address file backends/mininet/setup-testbed.sh writes);
 * otherwise skipped with the reason printed, unless MIGSIM_TESTBED_REQUIRED=1 (CI), where a missing
 * testbed fails. Runs are short and checkpoints small: the whole suite takes a minute or two.
 */
import test from "ava";
import { execFileSync, spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { release, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { InputError } from "../src/core/errors.ts";
import type { PolicyPlan } from "../src/policies/policy-types.ts";
import type { CostParams, MigrationSpec, RunSpec, TrafficSpec, ProbeSpec } from "../src/formats/runspec.ts";
import type { LinkSpec } from "../src/network/topology/topology-types.ts";
import { MininetBackend, type MininetBackendOptions, testbedFromEnvironment, type DecideFn } from "../backends/mininet/backend.ts";
import { SshSession, parseTestbedUrl } from "../backends/mininet/ssh.ts";
import { shellCommand } from "../src/core/shell.ts";
import { BASELINE_CSV } from "../src/validation/validation-report.ts";

const creds = testbedFromEnvironment();
const required = process.env.MIGSIM_TESTBED_REQUIRED === "1";
const reason = process.env.MIGSIM_TESTBED_SETUP_ERROR
  ? `the testbed did not come up: ${process.env.MIGSIM_TESTBED_SETUP_ERROR}`
  : "no testbed: set MIGSIM_TESTBED=ssh://... or run backends/mininet/setup-testbed.sh";
if (!creds) {
  if (required) test("emulation suite needs a testbed (MIGSIM_TESTBED_REQUIRED=1)", (t) => t.fail(reason));
  else {
    console.log(`emulation suite skipped: ${reason}`);
    test.skip(`emulation suite skipped (${reason})`, () => {});
  }
}
const run = creds ? test.serial : test.serial.skip;

const MB = 1e6;
// an image other than the set-up's, e.g. one built to try a workload before setup-testbed.sh has it
const IMAGE = process.env.MIGSIM_TESTBED_IMAGE || undefined;
const BIN = fileURLToPath(new URL("../bin/migsim.js", import.meta.url));
/** The held-out cell CI checks after a quick calibration (docs/validation.md has them all). */
const HELD_OUT_CELL = {
  name: "sizes-linear",
  file: fileURLToPath(new URL("../experiments/validation/sizes-linear.yaml", import.meta.url)),
  // its 20 MB cell alone: SSH/SFTP across a chain of three switches
  set: ["sweep={}", "migrations.0.container.checkpoint=20MB"],
};
function link(a: string, b: string, capacity: number, queue = 100): LinkSpec {
  return { a, b, capacity, capacityBack: capacity, latency: 0.0005, queue, mtu: 1500 };
}
// h1,h2 - s1 ==5 Mbit/s== s2 - h3,h4: every host pair across the switches shares the bottleneck.
const TOPOLOGY = {
  name: "dumbbell",
  hosts: ["h1", "h2", "h3", "h4"],
  switches: ["s1", "s2"],
  links: [link("h1", "s1", 10 * MB), link("h2", "s1", 10 * MB), link("s1", "s2", 5 * MB), link("h3", "s2", 10 * MB), link("h4", "s2", 10 * MB)],
};
const COSTS: CostParams = {
  statelessSwitchover: 0,
  mtdSession: 0,
  checkpointBase: 0.3,
  checkpointRate: 1e8,
  restoreBase: 0.4,
  restoreRate: 1e8,
  restorePerContainer: 0,
  compression: 1,
  sshHandshakeRtts: 4,
  sshCipherRate: 1e9,
  decisionCompute: 0,
  killDuration: 0.1,
  startDuration: 0.3,
  statelessPrepare: 0,
  precopyThreshold: 0,
  precopyMaxRounds: 1,
  postcopyMinimal: 0,
  postcopyFiles: 1,
  postcopyChunk: 65536,
  postcopyFaultInterval: 1,
  postcopyRequestCpu: 0,
  postcopyClose: 0,
  controlBytes: 200,
  checkpointFiles: 1,
  sftpFileRtts: 0,
  sftpFileCpu: 0,
  transferSetup: 0,
  sshSetup: 0,
  sshCommand: 0,
  imageOverhead: 0,
  postcopyCheckpointBase: 0.3,
  postcopyRestoreBase: 0.4,
};

function migration(over: Partial<MigrationSpec> = {}): MigrationSpec {
  return {
    container: { name: "app", checkpoint: 0.5 * MB, memory: 0.5 * MB, dirtyRate: 0 },
    source: "h1",
    candidates: ["h2", "h3", "h4"],
    trigger: { kind: "at", at: 0.5 },
    mode: "cold",
    transport: "ssh",
    ...over,
  };
}

function spec(over: { policy?: string; migrations?: MigrationSpec[]; traffic?: TrafficSpec[]; probes?: ProbeSpec[]; run?: number }): RunSpec {
  return {
    experiment: "emulation-test",
    cell: "c0",
    cellIndex: 0,
    run: over.run ?? 0,
    seed: 1,
    axes: {},
    topology: TOPOLOGY,
    network: { model: "tcp-fluid", congestionControl: "cubic", hostStack: "emulated", routing: "hops", efficiency: 0.96, tcpHandshakeRtts: 1 } as RunSpec["network"],
    costs: COSTS,
    measurement: { period: 1 },
    traffic: over.traffic ?? [],
    migrations: over.migrations ?? [migration()],
    probes: over.probes ?? [],
    policy: { name: over.policy ?? "fixed", params: {} },
    manager: "h2",
    horizon: 60,
  };
}

function plan(destination: string, keys: [string, boolean][] = [], setup: PolicyPlan["setup"] = []): PolicyPlan {
  return {
    destination,
    computeSeconds: 0.001,
    setup,
    keyRequests: keys.map(([host, newConnection]) => ({ host, requestBytes: 64, responseBytes: 96, newConnection })),
  };
}

function backend(decide: DecideFn, over: { key?: string; knownHosts?: string; runTimeoutS?: number; faultInjection?: MininetBackendOptions["faultInjection"] } = {}): MininetBackend {
  return new MininetBackend({
    testbed: creds!.testbed,
    privateKeyFile: over.key ?? creds!.privateKeyFile,
    knownHostsFile: over.knownHosts ?? creds!.knownHostsFile,
    decide,
    handleSigint: false,
    image: IMAGE,
    runTimeoutS: over.runTimeoutS,
    faultInjection: over.faultInjection,
  });
}

/**
 * What a run leaves on the testbed if its clean-up fails: containers (by the label the driver puts
 * on them, or the name), work folders, links and bridges, Mininet host namespaces (their `bash`
 * processes), and the processes a run starts (criu, drivers, iperf3, in-namespace sshd). Listing
 * by name is only for this check; the testbed's scripts remove what they made by pid or label.
 */
async function leftovers(): Promise<string[]> {
  const s = await SshSession.connect(parseTestbedUrl(creds!.testbed), { privateKeyFile: creds!.privateKeyFile, knownHostsFile: creds!.knownHostsFile });
  try {
    const c = await s.exec(shellCommand("docker", "ps", "-a", "--filter", "label=migsim.testbed", "--format", "container {{.Names}}"));
    const n = await s.exec(shellCommand("docker", "ps", "-a", "--filter", "name=migsim-", "--format", "container {{.Names}}"));
    const d = await s.exec("ls -d /tmp/migsim-tb-* /tmp/migsim-tbrun-* /run/migsim-testbed/criu-hang-until 2>/dev/null; true");
    const l = await s.exec("ls /sys/class/net");
    // the driver names its switch bridges m<tag>s<n> and host links m<tag>h<n>-eth<k>
    const links = l.stdout
      .split("\n")
      .filter((x) => /^m[a-z0-9]{2}[hs]\d+/.test(x))
      .map((x) => `link ${x}`);
    // A zombie (state Z) has exited and holds nothing but its pid entry; reaping it is its parent's
    // or, once that is gone, init's job (this sandbox's PID 1 does not reap), not a leak of the run.
    // ssh, scp and sshd sessions inside a Mininet host's network namespace (not the machine's own):
    // an overrun copy's client and the session serving it, which outlive the run if nothing kills them
    const rootNs = (await s.exec("readlink /proc/self/ns/net")).stdout.trim().replace(/\D/g, "");
    const nsps = await s.exec(shellCommand("ps", "-eo", "stat=,netns=,comm=,args="));
    const inHosts = nsps.stdout
      .split("\n")
      .map((line) => line.trim().split(/\s+/))
      .filter(([stat = "Z", ns = "-", comm = ""]) => !stat.startsWith("Z") && ns !== "-" && ns !== rootNs && ["ssh", "scp", "sshd", "sftp-server"].includes(comm))
      .map((f) => `process in a host namespace: ${f.slice(2, 6).join(" ")}`);
    const ps = await s.exec(shellCommand("ps", "-eo", "stat=,comm=,args="));
    const procs = [
      ...inHosts,
      ...ps.stdout
        .split("\n")
        .filter((line) => !line.trim().startsWith("Z"))
        .map((line) => line.trim().replace(/^\S+\s+/, ""))
        .filter((line) => {
          const [comm = "", ...rest] = line.trim().split(/\s+/);
          const args = rest.join(" ");
          return (
            comm === "criu" ||
            comm === "iperf3" ||
            comm === "runc" ||
            comm === "migsim-dirty" ||
            /migsim_driver\.py (run|server|agent|probe|recv|send)/.test(args) ||
            /^bash .*mininet:/.test(args) ||
            (comm === "sshd" && args.includes("migsim-tbrun-"))
          );
        })
        .map((line) => `process ${line.trim().split(/\s+/).slice(0, 4).join(" ")}`),
    ];
    return [...new Set([...c.stdout.split("\n"), ...n.stdout.split("\n"), ...d.stdout.split("\n"), ...links, ...procs])].filter(Boolean).sort();
  } finally {
    s.close();
  }
}

let baseline: string[] = [];
if (creds) {
  test.serial.before(async () => {
    baseline = await leftovers();
  });
}

run("cold migration: CRIU checkpoint across a shaped bottleneck with a background iperf3 flow", async (t) => {
  const b = backend(() => plan("h4"));
  try {
    const checkpoint = 1.5 * MB;
    const res = await b.execute(
      spec({
        migrations: [migration({ container: { name: "app", checkpoint, memory: checkpoint, dirtyRate: 0 }, trigger: { kind: "at", at: 1 } })],
        traffic: [{ from: "h2", to: "h3", kind: "udp", rate: 2 * MB, start: 0 }],
      }),
    );
    t.is(res.records.length, 1);
    const r = res.records[0]!;
    t.log(JSON.stringify(r));
    t.is(r.backend, "mininet");
    t.is(r.destination, "h4");
    t.is(r.path_hops, 3);
    t.is(r.bottleneck_bps, 5 * MB);
    // The checkpoint holds about the requested state (random data CRIU cannot shrink).
    t.true(r.checkpoint_bytes > 0.9 * checkpoint && r.checkpoint_bytes < 1.5 * checkpoint, String(r.checkpoint_bytes));
    t.is(r.transferred_bytes, r.checkpoint_bytes);
    // Shaping is real: the copy cannot beat the 5 Mbit/s bottleneck (less the 2 Mbit/s UDP flow).
    t.true(r.transfer_s > (r.checkpoint_bytes * 8) / (5 * MB), `transfer ${r.transfer_s}s`);
    t.true(r.checkpoint_s > 0 && r.restore_s > 0);
    t.true(r.downtime_s >= r.checkpoint_s + r.transfer_s + r.restore_s - 0.05);
    t.true(r.total_s >= r.decision_s + r.downtime_s);
    t.true(Math.abs(r.trigger_s - 1) < 0.5, `trigger at ${r.trigger_s}`);
    // The restored process continued from its checkpointed state.
    const line = b.lastRun.lines.find((l) => l.type === "record")!;
    t.true(Number(line.counter_restored) >= Number(line.counter_checkpointed));
    t.true(Number(line.counter_checkpointed) > 5, "the counter ran before the checkpoint");
    t.regex(r.note, /verified/);
  } finally {
    await b.close();
  }
});

// A copy that cannot finish before the run's deadline: the driver ends the run at that deadline (not
// the controller's later one), says how far the migration got, and leaves nothing running: not the
// scp client's own ssh, not the destination sshd's session serving it.
run("a run past its deadline ends there, is reported as censored with its phase and bytes, and leaves no process", async (t) => {
  const deadline = 30;
  const b = backend(() => plan("h3"), { runTimeoutS: deadline });
  try {
    const t0 = performance.now();
    const res = await b.execute(
      spec({
        migrations: [migration({ container: { name: "app", checkpoint: 30 * MB, memory: 30 * MB, dirtyRate: 0 }, transport: "ssh" })],
      }),
    );
    const took = (performance.now() - t0) / 1000;
    t.log(`ended after ${took.toFixed(1)} s (deadline ${deadline} s): ${JSON.stringify(res.failure)}`);
    t.is(res.records.length, 0);
    const f = res.failure!;
    t.truthy(f);
    t.regex(f.message, /deadline/);
    t.true(f.censored_after_s !== undefined && f.censored_after_s > 0 && f.censored_after_s < deadline, `censored after ${f.censored_after_s} s`);
    t.true(["checkpoint", "transfer", "restore"].includes(f.phase), f.phase);
    if (f.phase === "transfer") t.true(f.bytes_moved! > 0 && f.bytes_moved! < 31 * MB, `${f.bytes_moved} bytes moved`);
    // the driver's own deadline, then its clean-up: well before the controller's deadline + 60 s
    t.true(took < deadline + 45, `the run took ${took.toFixed(1)} s`);
  } finally {
    await b.close();
  }
  t.deepEqual(
    (await leftovers()).filter((x) => !baseline.includes(x)),
    [],
  );
});

const POLICY_PLANS: [string, PolicyPlan, "ssh" | "tcp"][] = [
  ["random", plan("h3"), "tcp"],
  ["bandwidth", plan("h2"), "ssh"],
  ["shortest-path", plan("h2"), "tcp"],
  [
    "mtd-shamir",
    plan(
      "h4",
      [
        ["h2", true],
        ["h3", true],
      ],
      [
        { from: "h2", to: "h3", bytes: 300 },
        { from: "h2", to: "h4", bytes: 300 },
      ],
    ),
    "ssh",
  ],
  [
    "mtd-fountain",
    plan("h3", [
      ["h4", false],
      ["h4", false],
      ["h2", false],
    ]),
    "ssh",
  ],
  ["mtd-random", plan("h2"), "tcp"],
];

for (const [policy, p, transport] of POLICY_PLANS) {
  run(`policy plan ${policy}: executed for real (${transport} transfer${p.keyRequests.length ? ", key exchanges" : ""})`, async (t) => {
    const b = backend(() => p);
    try {
      const res = await b.execute(spec({ policy, migrations: [migration({ transport })] }));
      const r = res.records[0]!;
      t.is(r.policy, policy);
      t.is(r.destination, p.destination);
      t.is(r.transport, transport);
      t.regex(r.note, /verified/);
      const line = b.lastRun.lines.find((l) => l.type === "record")!;
      const each = line.key_requests as number[];
      t.is(each.length, p.keyRequests.length);
      if (p.keyRequests.length > 0) {
        t.true(each.every((d) => d > 0));
        // sequential exchanges: the phase lasts at least as long as its requests together
        t.true(r.key_retrieval_s >= each.reduce((a, x) => a + x, 0) - 1e-6);
        t.true(r.decision_s >= r.key_retrieval_s);
      } else {
        t.is(r.key_retrieval_s, 0);
      }
      if (p.setup.length > 0) {
        // an SSH session per key holder at the decision, as the simulator's protocol sends them
        t.true(r.setup_s > 0, "set-up messages were sent");
        t.true(r.decision_s >= r.setup_s + r.key_retrieval_s - 1e-6, `the set-up is part of the decision (${r.decision_s} s, set-up ${r.setup_s} s)`);
      } else t.is(r.setup_s, 0);
    } finally {
      await b.close();
    }
  });
}

run("probes: request/response round trips grow under load", async (t) => {
  const b = backend(() => plan("h2"));
  try {
    const res = await b.execute(
      spec({
        migrations: [],
        traffic: [{ from: "h1", to: "h3", kind: "tcp", start: 1.5 }],
        probes: [
          { from: "h2", to: "h4", at: 0.3, bytes: 100, every: 0.2, count: 4, newConnection: false },
          { from: "h2", to: "h4", at: 4, bytes: 100, every: 0.3, count: 4, newConnection: false },
        ],
      }),
    );
    t.is(res.records.length, 0);
    t.is(res.probes.length, 8);
    const idle = res.probes.filter((p) => p.sent_s < 1.5).map((p) => p.rtt_s);
    const loaded = res.probes.filter((p) => p.sent_s > 4).map((p) => p.rtt_s);
    const median = (xs: number[]) => [...xs].sort((a, c) => a - c)[Math.floor(xs.length / 2)]!;
    t.log(`idle ${idle.map((x) => x.toFixed(4))} loaded ${loaded.map((x) => x.toFixed(4))}`);
    t.is(idle.length, 4);
    t.is(loaded.length, 4);
    // A TCP flow filling a 100-packet queue at 5 Mbit/s adds tens of milliseconds.
    t.true(median(loaded) > 5 * median(idle) && median(loaded) > 0.01);
  } finally {
    await b.close();
  }
});

run("threshold trigger: fires when the bottleneck port's load stays above the threshold", async (t) => {
  const b = backend(() => plan("h4"));
  try {
    const res = await b.execute({
      ...spec({
        // s1-eth3 is s1's end of the s1-s2 bottleneck (ports numbered in link order from eth1).
        migrations: [migration({ trigger: { kind: "port", port: "s1-eth3", above: 1 * MB, samples: 2 } })],
        traffic: [{ from: "h2", to: "h3", kind: "udp", rate: 3 * MB, start: 1.2 }],
      }),
      measurement: { period: 0.4 },
    });
    const r = res.records[0]!;
    // Samples every 0.4 s: the first above the threshold covers (1.2, 1.6], the second (1.6, 2.0].
    t.true(r.trigger_s > 1.9 && r.trigger_s < 3, `trigger at ${r.trigger_s}`);
    t.regex(r.note, /verified/);
  } finally {
    await b.close();
  }
});

run("the migrated container's service traffic follows it to the destination", async (t) => {
  const b = backend(() => plan("h4"));
  try {
    const service = { from: "h3", to: "h1", kind: "udp", rate: 1 * MB, start: 0, service: "app" } as TrafficSpec;
    const res = await b.execute(
      spec({
        traffic: [service],
        probes: [{ from: "h2", to: "h3", at: 5, bytes: 100, every: 0.1, count: 1, newConnection: true }],
      }),
    );
    const r = res.records[0]! as (typeof res.records)[0] & { redirect_s: number };
    const moved = b.lastRun.lines.find((l) => l.type === "redirect")!;
    t.is(moved.from, "h3");
    t.is(moved.to, "h4");
    t.true(Math.abs(r.redirect_s - (r.trigger_s + r.total_s)) < 0.05);
    // h4 received the redirected 1 Mbit/s flow from the redirect until the end of the run (>= 5 s).
    const counters = b.lastRun.lines.find((l) => l.type === "counters")!.hosts as Record<string, { rx_bytes: number }>;
    const expected = ((1 * MB) / 8) * (5 - r.redirect_s);
    t.true(counters.h4!.rx_bytes > 0.7 * expected, `h4 got ${counters.h4!.rx_bytes} B, expected ~${expected}`);
    t.true(counters.h1!.rx_bytes > ((1 * MB) / 8) * r.trigger_s * 0.7, "h1 got the flow before the migration");
  } finally {
    await b.close();
  }
});

run("concurrent migrations: a cold one and a stateless one in the same run", async (t) => {
  const b = backend((_s, i) => (i === 0 ? plan("h3") : plan("h4")));
  try {
    const res = await b.execute(
      spec({
        migrations: [migration(), migration({ container: { name: "web", checkpoint: 0.3 * MB, memory: 0.3 * MB, dirtyRate: 0 }, source: "h2", mode: "stateless" })],
      }),
    );
    t.is(res.records.length, 2);
    const cold = res.records.find((r) => r.container === "app")!;
    const stateless = res.records.find((r) => r.container === "web")!;
    t.is(cold.destination, "h3");
    t.regex(cold.note, /verified/);
    t.is(stateless.destination, "h4");
    t.is(stateless.mode, "stateless");
    t.is(stateless.checkpoint_bytes, 0);
    t.true(stateless.checkpoint_s > 0, "the kill, recorded where the simulator records it");
    // the protocol's RESTART: the migration's connection from the source to the destination (an ssh login)
    t.true(stateless.transfer_s > 0 && stateless.transfer_s < 10, `RESTART ${stateless.transfer_s} s`);
    t.regex(stateless.note, /RESTART \d+\.\d+s/);
    t.true(stateless.downtime_s >= stateless.checkpoint_s + stateless.transfer_s + stateless.restore_s - 0.01);
    // a fresh start: no state carried over, the counter starts again
    t.regex(stateless.note, /counter restarted at [12]\b/);
    t.true(stateless.downtime_s > 0 && stateless.downtime_s < cold.downtime_s + 5);
  } finally {
    await b.close();
  }
});

run("a testbed without what runs need: the preflight says what is missing and how to fix it", async (t) => {
  const b = new MininetBackend({
    testbed: creds!.testbed,
    privateKeyFile: creds!.privateKeyFile,
    knownHostsFile: creds!.knownHostsFile,
    decide: () => plan("h2"),
    handleSigint: false,
    image: "migsim-absent:0",
  });
  const e = await t.throwsAsync(b.connect(), { instanceOf: InputError });
  t.regex(e!.message, /is missing image migsim-absent:0 \(fix: build or import it/);
  t.deepEqual(await leftovers(), baseline);
});

run("a run past its time limit is recorded as failed, names its phase and leaves nothing behind", async (t) => {
  const b = backend(() => plan("h3"), { runTimeoutS: 4 });
  try {
    const res = await b.execute(spec({ migrations: [migration({ trigger: { kind: "at", at: 30 } })] }));
    t.deepEqual([res.records.length, res.probes.length], [0, 0]);
    // waiting for the trigger at 30 s, or still building the network on a loaded machine
    t.true(["trigger", "set-up"].includes(res.failure?.phase ?? ""), res.failure?.phase);
    t.regex(res.failure!.message, /deadline/);
  } finally {
    await b.close();
  }
  t.deepEqual(await leftovers(), baseline);
});

run("a CRIU that hangs in the checkpoint: one error naming the phase, within the deadline, nothing left behind", async (t) => {
  // The run's deadline counts from the driver's start (network build included, slow on a loaded
  // machine); it is long enough that the checkpoint's own limit (30 s for this size) expires first.
  const deadline = 120;
  const b = backend(() => plan("h3"), { runTimeoutS: deadline, faultInjection: { kind: "criu-hang" } });
  const t0 = performance.now();
  try {
    const res = await b.execute(spec({ migrations: [migration()] }));
    const took = (performance.now() - t0) / 1000;
    t.log(`hung checkpoint reported after ${took.toFixed(1)} s: ${res.failure?.message}`);
    t.is(res.records.length, 0);
    t.is(res.failure?.phase, "checkpoint");
    t.is(res.failure?.migration, 0);
    t.regex(res.failure!.message, /phase checkpoint: checkpoint hung: docker checkpoint create did not finish within \d+ s/);
    // the checkpoint's limit, not the run's deadline, ended it; clean-up comes on top
    t.true(took < deadline, `took ${took.toFixed(1)} s`);
  } finally {
    await b.close();
  }
  t.deepEqual(await leftovers(), baseline);
});

run("one run that hangs does not sink a comparison: it is listed as failed, the other runs go on", async (t) => {
  const out = mkdtempSync(join(tmpdir(), "migsim-cmp-"));
  const fixture = fileURLToPath(new URL("fixtures/emulation/two-runs-cold.yaml", import.meta.url));
  const r = spawnSync(process.execPath, [BIN, "compare", fixture, "--out", out], {
    encoding: "utf8",
    timeout: 300_000,
    env: { ...process.env, MIGSIM_TESTBED: creds!.testbed, MIGSIM_TESTBED_FAULT: "criu-hang:run=0" },
  });
  t.log(r.stderr.trim().split("\n").slice(-3).join(" | "));
  t.is(r.status, 3, "exit code 3: some runs failed");
  t.regex(r.stderr, /1 of 2 runs failed; .*failed\.csv lists/);
  const failed = readFileSync(join(out, "mininet", "failed.csv"), "utf8")
    .trim()
    .split("\n");
  t.is(failed.length, 2);
  t.regex(failed[1]!, /^two-runs-cold,default,mininet,bandwidth,0,\d+,0,checkpoint,.*checkpoint hung/);
  const runs = readFileSync(join(out, "mininet", "runs.csv"), "utf8")
    .trim()
    .split("\n");
  t.is(runs.length, 2, "the second run's record");
  t.regex(runs[1]!, /^two-runs-cold,default,mininet,bandwidth,1,/);
  const report = readFileSync(join(out, "validation.md"), "utf8");
  t.regex(report, /## testbed runs that failed[\s\S]*\| default \| bandwidth \| 0 \| 0 \| checkpoint \|/);
  t.regex(report, /\(n=1\)/);
  t.deepEqual(await leftovers(), baseline);
});

run("a key the testbed refuses: one clear error, nothing left behind", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "migsim-key-"));
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "stranger")]);
  const b = backend(() => plan("h2"), { key: join(dir, "stranger") });
  const e = await t.throwsAsync(b.execute(spec({})), { instanceOf: InputError });
  t.regex(e!.message, /refused the key .*stranger.*authorized_keys/);
  t.false(e!.message.includes("\n"));
  t.deepEqual(await leftovers(), baseline);
});

run("an unknown host key is refused with the fingerprint and how to fix it", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "migsim-kh-"));
  const b = backend(() => plan("h2"), { knownHosts: join(dir, "empty") });
  execFileSync("touch", [join(dir, "empty")]);
  const e = await t.throwsAsync(b.connect(), { instanceOf: InputError });
  t.regex(e!.message, /unknown host key SHA256:\S+ for .*ssh-keyscan/);
});

run("an unreachable testbed is one clear error", async (t) => {
  const addr = parseTestbedUrl(creds!.testbed);
  const b = new MininetBackend({
    testbed: `ssh://${addr.user}@127.0.0.1:1`,
    privateKeyFile: creds!.privateKeyFile,
    knownHostsFile: creds!.knownHostsFile,
    decide: () => plan("h2"),
    handleSigint: false,
  });
  const e = await t.throwsAsync(b.connect(), { instanceOf: InputError });
  t.regex(e!.message, /unreachable: ECONNREFUSED/);
});

for (const [transport, checkpoint] of [
  ["ssh", 3 * MB],
  ["tcp", 1.5 * MB],
] as const) {
  run(`post-copy (${transport}): CRIU lazy pages across the shaped bottleneck, the restored memory verified`, async (t) => {
    const b = backend(() => plan("h4"));
    try {
      const res = await b.execute(
        spec({
          migrations: [migration({ mode: "post-copy", transport, container: { name: "app", checkpoint, memory: MB, dirtyRate: 0.5 * MB }, trigger: { kind: "at", at: 1 } })],
        }),
      );
      t.is(res.failure?.message, undefined);
      t.is(res.records.length, 1);
      const r = res.records[0]!;
      const line = b.lastRun.lines.find((l) => l.type === "record")!;
      t.log(JSON.stringify(line));
      t.is(r.mode, "post-copy");
      t.is(r.rounds, 0);
      t.regex(r.note, /post-copy: CRIU lazy pages verified/);
      // the container's memory is what was asked for; almost all of it moved after the restore
      const lazy = Number(line.lazy_bytes);
      const minimal = Number(line.minimal_bytes);
      t.true(r.checkpoint_bytes > 0.9 * checkpoint && r.checkpoint_bytes < 1.2 * checkpoint, String(r.checkpoint_bytes));
      t.is(r.checkpoint_bytes, minimal + lazy);
      t.is(r.transferred_bytes, r.checkpoint_bytes);
      t.true(minimal < 0.1 * lazy, `minimal image ${minimal} B, lazy pages ${lazy} B`);
      // the pages crossed the 5 Mbit/s bottleneck after the restore, so downtime does not wait for them
      const pagesS = Number(line.pages_s);
      t.true(pagesS > ((lazy * 8) / (5 * MB)) * 0.9, `pages in ${pagesS}s`);
      t.true(r.downtime_s >= r.checkpoint_s + Number(line.minimal_transfer_s) + r.restore_s - 0.05);
      t.true(r.total_s >= r.decision_s + r.downtime_s + pagesS - 0.05);
      t.true(Math.abs(r.transfer_s - Number(line.minimal_transfer_s) - pagesS) < 1e-6);
      // the restored process continued from its checkpointed counter, and its page checks passed
      t.true(Number(line.counter_restored) >= Number(line.counter_checkpointed));
      t.true(Number(line.counter_checkpointed) > 5, "the counter ran before the checkpoint");
    } finally {
      await b.close();
    }
    t.deepEqual(await leftovers(), baseline);
  });
}

run("a live mode the testbed cannot run is refused before the run starts, saying what is missing", async (t) => {
  const b = backend(() => plan("h2"));
  try {
    const e = await t.throwsAsync(b.execute(spec({ migrations: [migration({ mode: "pre-copy" })] })), { instanceOf: InputError });
    // this kernel has no soft-dirty tracking (a kernel that has runs pre-copy: test/precopy-vm.test.ts)
    t.regex(e!.message, /cannot run mode pre-copy: pre-copy needs CRIU's memory dirty tracking.*CONFIG_MEM_SOFT_DIRTY/);
    t.deepEqual(b.lastRun.lines, [], "no run was started");
  } finally {
    await b.close();
  }
});

run("without soft-dirty tracking a pre-copy experiment is refused before any run; compare --skip-precopy runs the rest", async (t) => {
  const s = await SshSession.connect(parseTestbedUrl(creds!.testbed), { privateKeyFile: creds!.privateKeyFile, knownHostsFile: creds!.knownHostsFile });
  const dirty = await s.exec(shellCommand("criu", "check", "--feature", "mem_dirty_track")).finally(() => s.close());
  t.not(dirty.code, 0, "this case is for a testbed kernel without soft-dirty tracking (pre-copy runs on one that has it)");
  const fixture = fileURLToPath(new URL("fixtures/emulation/cold-and-precopy.yaml", import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), "migsim-precopy-"));
  const env = { ...process.env, MIGSIM_TESTBED: creds!.testbed };
  const refused = spawnSync(process.execPath, [BIN, "run", fixture, "--backend", "mininet", "--out", join(dir, "run")], { encoding: "utf8", timeout: 120_000, env });
  t.is(refused.status, 2, refused.stderr);
  t.is(refused.stderr.trimEnd().split("\n").length, 1, refused.stderr);
  t.regex(refused.stderr, /cannot run mode pre-copy \(1 of 2 cells use it; refused before any run\): .*CONFIG_MEM_SOFT_DIRTY/);
  t.false(existsSync(join(dir, "run")), "nothing ran, nothing written");
  const cmp = spawnSync(process.execPath, [BIN, "compare", fixture, "--skip-precopy", "--out", join(dir, "cmp")], { encoding: "utf8", timeout: 300_000, env });
  t.is(cmp.status, 0, cmp.stderr);
  t.regex(cmp.stdout, /skipped on the testbed: 1 cell\(s\) of mode pre-copy/);
  const runs = readFileSync(join(dir, "cmp", "mininet", "runs.csv"), "utf8")
    .trim()
    .split("\n")
    .slice(1);
  t.is(runs.length, 1);
  t.regex(runs[0]!, /,cold,/);
  t.regex(readFileSync(join(dir, "cmp", "validation.md"), "utf8"), /## cells skipped on the testbed[\s\S]*\| pre-copy \| pre-copy needs CRIU's memory dirty tracking/);
  t.deepEqual(await leftovers(), baseline);
});

// Trust in the simulator, end to end: calibrate on this testbed (the quick set), then one cell of
// the held-out validation set, which the calibration never ran, must agree within the target.
// Two tests, each within ava's inactivity timeout (package.json), sharing the profile.
const calibrated = { dir: mkdtempSync(join(tmpdir(), "migsim-cal-")), ok: false };
const calibratedProfile = join(calibrated.dir, "testbed.yaml");

run("calibrate --quick fits a testbed profile, every value with its measurements and error", async (t) => {
  t.timeout(420_000);
  const env = { ...process.env, MIGSIM_TESTBED: creds!.testbed };
  const t0 = performance.now();
  const cal = spawnSync(process.execPath, [BIN, "calibrate", "--quick", "--out", calibratedProfile], { encoding: "utf8", timeout: 400_000, env });
  const took = (performance.now() - t0) / 1000;
  t.log(`calibrate --quick: ${took.toFixed(0)} s; ${cal.stdout.trim().split("\n").slice(-1)[0]}`);
  t.is(cal.status, 0, cal.stderr.slice(-600));
  const doc = parseYaml(readFileSync(calibratedProfile, "utf8")) as {
    network: Record<string, unknown>;
    machine: Record<string, string>;
    fits: Record<string, { value: unknown; source: string; error: string }>;
  };
  // the testbed is this machine: its record names this kernel, and the load at both ends
  t.is(doc.machine["kernel"], release());
  t.regex(doc.machine["criu"] ?? "", /^\d+\.\d+/);
  t.regex(doc.machine["load-average"] ?? "", /^\d+\.\d\d at the start, \d+\.\d\d at the end \(1 min, \d+ CPUs\)$/);
  for (const key of [
    "costs.checkpoint-base",
    "costs.checkpoint-rate",
    "costs.restore-base",
    "costs.restore-rate",
    "costs.transfer-setup",
    "costs.ssh-setup",
    "costs.kill",
    "costs.start",
    "costs.checkpoint-files",
    "network.efficiency",
    "network.extra.gsoHeadOfLine",
  ]) {
    const fit = doc.fits[key];
    t.truthy(fit, `${key} has its provenance`);
    t.regex(fit!.source, /\(\d+ runs?\)/, `${key}: names the measurements it came from`);
    t.true(fit!.error.length > 0);
  }
  t.true(Number(doc.network["efficiency"]) > 0.5 && Number(doc.network["efficiency"]) < 1);
  calibrated.ok = true;
});

run("a held-out validation cell agrees with the testbed within 15% on total under that profile", async (t) => {
  t.timeout(300_000);
  t.true(calibrated.ok, "needs the profile of the calibration test");
  if (!calibrated.ok) return;
  const env = { ...process.env, MIGSIM_TESTBED: creds!.testbed };
  const out = join(calibrated.dir, "validation");
  const val = spawnSync(process.execPath, [BIN, "validate", HELD_OUT_CELL.file, "--profile", calibratedProfile, "--runs", "3", ...HELD_OUT_CELL.set.flatMap((s) => ["--set", s]), "--out", out], {
    encoding: "utf8",
    timeout: 280_000,
    env,
  });
  t.log(val.stdout.trim());
  t.regex(readFileSync(join(out, "validation.md"), "utf8"), /^Testbed host: kernel \S+, CRIU [\d.]+, \d+ x .*; load average /m);
  t.true(val.status === 0 || val.status === 4, val.stderr.slice(-600));
  const rows = readFileSync(join(out, HELD_OUT_CELL.name, "validation.csv"), "utf8")
    .trim()
    .split("\n")
    .map((l) => l.split(","));
  const total = rows.find((r) => r[2] === "total_s");
  t.truthy(total);
  const err = Number(total![9]);
  t.true(Math.abs(err) <= 15, `total_s error ${err.toFixed(1)}% on a held-out cell (target 15%)`);
});

// Scenarios nobody picked: three draws with a seed fresh for every run of this suite (printed;
// MIGSIM_VALIDATE_SEED reruns one), when MIGSIM_VALIDATE_RANDOM=1. Three draws cannot judge the 90% target (docs/validation-random.md);
// they fail the suite on a crash, a censored pair, a pair with no finished testbed run, any
// quantity more than 50% off, or a process left behind.
const runRandom = process.env.MIGSIM_VALIDATE_RANDOM === "1" ? run : test.serial.skip;
runRandom("three randomly drawn scenarios agree with the testbed within 50% on total and every phase, none censored", async (t) => {
  t.timeout(1_260_000);
  t.true(calibrated.ok, "needs the profile of the calibration test");
  if (!calibrated.ok) return;
  const seed = process.env.MIGSIM_VALIDATE_SEED ? Number(process.env.MIGSIM_VALIDATE_SEED) : randomInt(0, 2 ** 31);
  console.log(`validate --random 3 --seed ${seed} (rerun: MIGSIM_VALIDATE_SEED=${seed})`);
  t.log(`seed ${seed}`);
  const env = { ...process.env, MIGSIM_TESTBED: creds!.testbed };
  const out = join(calibrated.dir, "validate-random");
  const val = spawnSync(
    process.execPath,
    [BIN, "validate", "--profile", calibratedProfile, "--random", "3", "--seed", String(seed), "--runs", "2", "--budget", "30", "--fail-above", "0.5", "--out", out],
    { encoding: "utf8", timeout: 1_200_000, env },
  );
  t.log(val.stdout.trim());
  t.is(val.status, 0, `${val.stdout.slice(-800)}\n${val.stderr.slice(-800)}`);
  const csv = readFileSync(join(out, "validation.csv"), "utf8").trim().split("\n");
  t.true(csv.length >= 4, "a row per drawn scenario and policy");
  t.is(readFileSync(join(out, BASELINE_CSV), "utf8").trim().split("\n").length, csv.length, "the same pairs judged under the built-in defaults");
  t.deepEqual(
    (await leftovers()).filter((x) => !baseline.includes(x)),
    [],
  );
});
