/**
 * Pre-copy for real, on a kernel with soft-dirty tracking: backends/mininet/vm/run-vm.sh boots
 * Debian's kernel under QEMU and runs the driver's pre-copy (driver/livemig.py Live.pre_copy with
 * runc, its rounds driver/precopy.py's) on migsim-dirty. Needs root, qemu-system-x86_64, gcc and the
 * testbed's runc and CRIU (setup-testbed.sh); skipped without them, unless
 * MIGSIM_PRECOPY_VM_REQUIRED=1 (.ci/run sets it), where it fails instead.
 * `npm run test:precopy-vm` runs this file alone.
 */
import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const SCRIPT = join(root, "backends", "mininet", "vm", "run-vm.sh");
// the VM's own bound (run-vm.sh stops it past this), inside ava's 8-minute test timeout
const VM_TIMEOUT_S = 400;

function onPath(tool: string): boolean {
  return spawnSync("sh", ["-c", 'command -v "$1"', "sh", tool], { timeout: 10_000 }).status === 0;
}

const missing = [...(process.getuid?.() === 0 ? [] : ["root"]), ...["qemu-system-x86_64", "criu", "runc", "gcc"].filter((t) => !onPath(t))];
const required = process.env["MIGSIM_PRECOPY_VM_REQUIRED"] === "1";
const maybe = missing.length === 0 || required ? test : test.skip;
if (missing.length > 0 && !required) console.log(`pre-copy VM test skipped: needs ${missing.join(", ")}`);

interface Round {
  round: number;
  pages: number;
  copied_bytes: number;
  dirty_bytes: number;
}

interface Proof {
  verified: boolean;
  error?: string;
  rounds: number;
  converged: boolean;
  downtime_s: number;
  round_log: Round[];
  final: { pages: number };
  threshold: number;
  counter_checkpointed: number;
  counter_restored: number;
  page_checks_passed: number;
}

maybe("pre-copy in a VM with soft-dirty: rounds shrink, stop by the threshold, and the restored process is whole", (t) => {
  t.deepEqual(missing, [], "the pre-copy VM proof is required here (MIGSIM_PRECOPY_VM_REQUIRED=1)");
  const d = mkdtempSync(join(tmpdir(), "migsim-precopy-vm-"));
  try {
    const out = join(d, "proof.json");
    const r = spawnSync("bash", [SCRIPT, "--out", out], {
      encoding: "utf8",
      timeout: (VM_TIMEOUT_S + 60) * 1000,
      env: { ...process.env, MIGSIM_VM_TIMEOUT: String(VM_TIMEOUT_S) },
    });
    t.is(r.status, 0, `run-vm.sh exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
    if (r.status !== 0) return;
    const text = readFileSync(out, "utf8");
    t.log(text.trim());
    const p = JSON.parse(text) as Proof;
    t.log(`rounds ${p.round_log.map((x) => `${x.pages} pages`).join(", ")}; final ${p.final.pages} pages; downtime ${p.downtime_s.toFixed(2)} s (emulated)`);
    t.true(p.verified, p.error);
    t.true(p.rounds >= 2, `rounds ${p.rounds}`);
    t.is(p.round_log.length, p.rounds);
    const first = p.round_log[0]!;
    for (const x of p.round_log.slice(1)) t.true(x.pages < first.pages, `round ${x.round} dumped ${x.pages} pages, the first ${first.pages}`);
    // the rule: every round but the last left more than the threshold dirty, the last at most that
    t.true(p.converged);
    for (const x of p.round_log.slice(0, -1)) t.true(x.dirty_bytes > p.threshold, `round ${x.round} left ${x.dirty_bytes} B dirty`);
    t.true(p.round_log.at(-1)!.dirty_bytes <= p.threshold);
    t.true(p.final.pages < first.pages);
    // the restored process continued from its checkpoint and its pages passed two checks
    t.is(p.counter_restored, p.counter_checkpointed + 1);
    t.true(p.page_checks_passed >= 2);
    t.true(p.downtime_s > 0);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
