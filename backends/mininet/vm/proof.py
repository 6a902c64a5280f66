#!/usr/bin/python3
"""The pre-copy proof: the driver's own pre-copy (livemig.py Live.pre_copy with runc, driving the
rounds of precopy.py) on a kernel with soft-dirty tracking, one machine standing in for the testbed:
no Mininet (every runc in this namespace), no Docker (the containers' root is a folder holding the
static workload), and the copy step a local copy paced to a link's rate. The restored container is
verified by the driver's own check (Live.verify: counter continued, two page checks passed).

    proof.py WORKLOAD WORKDIR [--hold BYTES] [--wset BYTES] [--threshold BYTES] [--max-rounds N] [--link-bps BITS]

Runs as root on the kernel under test, with runc, CRIU and cgroup v2 (run-vm.sh boots one and runs
this inside); WORKDIR must not exist. Prints one JSON line {"type": "precopy-proof", ...}: the
record's fields (rounds, converged, downtime_s, ...), each round's pages, bytes, copy time and dirty
amount, and the restored workload's counters; exit 0 when the restored container continued from its
checkpointed counter and passed two page checks, 1 otherwise.

The dirty rate is derived from this machine's speed, not fixed: a probe container of the same size is
pre-dumped twice, the first round (everything) taking T1, the second (nothing dirty) taking T0, CRIU's
cost of a round whatever it copies. With rate R a round leaves about R x (its duration) dirty, so the
rule converges when R x T0 < threshold and needs a second round when R x T1 > threshold; the rate
threshold / sqrt(T0 x T1) leaves both sides the same margin, sqrt(T1 / T0). Under software emulation
the absolute times mean nothing; that the rounds shrink, stop by the rule and restore whole does.
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "driver"))
from livemig import Live, RuncPreCopy, release_runc  # noqa: E402
from netutil import dir_bytes  # noqa: E402
from precopy import PAGE_SIZE, relink, stage  # noqa: E402
from testbed_names import LIVE_BASELINE, WORKLOAD_BIN  # noqa: E402

STEP_S = 300
# migsim-dirty checks its pages every 20 counter values (workload/migsim-dirty.c)
CHECK_EVERY = 20


class Failed(Exception):
    pass


def run(cmd, what, timeout=STEP_S):
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                           text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Failed("%s did not finish within %d s" % (what, timeout))
    if r.returncode != 0:
        raise Failed("%s failed (exit %d): %s" % (what, r.returncode, r.stdout.strip()[-400:]))
    return r.stdout


class LocalRun:
    """What the driver's Live (livemig.py) asks of a testbed run, on one machine: no Mininet hosts
    (every runc runs in this namespace), no Docker (the rootfs is a folder holding the workload), and
    a transfer that is a local copy paced to a link's rate (a copy inside one machine is no network:
    pacing gives each round the time its bytes would take on one)."""

    def __init__(self, rundir, link_bps):
        self.rundir = rundir
        self.link_bps = link_bps
        self.procs = []
        self.lock = threading.RLock()
        self.state = {}

    def save_state(self):
        pass

    def track_pid(self, pid):
        pass

    def left(self, cap=STEP_S):
        return cap

    def set_phase(self, i, phase):
        pass

    def transfer(self, m, src, dst, folder, index):
        t = time.monotonic()
        target = os.path.join(self.rundir, "recv", str(index), os.path.basename(folder))
        shutil.copytree(folder, target)
        os.sync()
        done = t + dir_bytes(target) * 8 / self.link_bps
        while time.monotonic() < done:
            time.sleep(min(0.1, done - time.monotonic()))
        return time.monotonic() - t, target


class VmLive(Live):
    """The driver's Live with one difference: the containers' root is writable. Restoring a container
    whose root is read-only fails in the VM (CRIU 4.2.1 on Debian's 6.1: "Can't create a temporary
    directory: Read-only file system" when it pivots into the restored root), which the testbed's
    kernel does not show; nothing of pre-copy depends on it (the workload writes only its memory)."""

    def bundle(self, cid, args):
        b = super().bundle(cid, args)
        path = os.path.join(b, "config.json")
        with open(path) as f:
            cfg = json.load(f)
        cfg["root"]["readonly"] = False
        with open(path, "w") as f:
            json.dump(cfg, f)
        return b


def rootfs(workload, rundir):
    """The containers' root: the static workload at the path the driver starts it from."""
    r = os.path.join(rundir, "rootfs")
    os.makedirs(os.path.join(r, os.path.dirname(WORKLOAD_BIN).lstrip("/")))
    shutil.copy(workload, os.path.join(r, WORKLOAD_BIN.lstrip("/")))
    return r


def container(hold, wset, rate):
    """A container spec whose workload_args are migsim-dirty HOLD WSET RATE."""
    return {"checkpoint": hold + LIVE_BASELINE, "memory": wset, "dirtyRate": rate}


def probe_round_times(live, hold):
    """(T1, T0): a first pre-dump plus copy of a container holding `hold` bytes, then a second one
    with nothing dirty (CRIU's cost of a round whatever it copies)."""
    cid = "probe"
    live.start(cid, container(hold, PAGE_SIZE, 0), "set-up")
    work = os.path.join(live.run.rundir, "probe")
    os.makedirs(work)
    rt = RuncPreCopy(live, cid, None, None, None, None, work, STEP_S)
    times, parent = [], None
    for n in (1, 2):
        folder = os.path.join(work, "pre%d" % n)
        t = time.monotonic()
        rt.pre_dump(folder, parent)
        _, received = live.run.transfer(None, None, None, stage(folder, os.path.join(work, "send")), "probe")
        relink(received, parent)
        times.append(time.monotonic() - t)
        parent = "pre%d" % n
    run(["runc", "--root", live.root, "delete", "-f", cid], "runc delete %s" % cid, 60)
    shutil.rmtree(work)
    shutil.rmtree(os.path.join(live.run.rundir, "recv", "probe"))
    return times[0], times[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workload")
    ap.add_argument("workdir")
    ap.add_argument("--hold", type=int, default=64 << 20)
    ap.add_argument("--wset", type=int, default=8 << 20)
    # the simulator's defaults (src/migration/costs.ts)
    ap.add_argument("--threshold", type=float, default=1e6)
    ap.add_argument("--max-rounds", type=int, default=8)
    ap.add_argument("--link-bps", type=float, default=16e6)
    a = ap.parse_args()
    result = {"type": "precopy-proof", "kernel": os.uname().release, "runtime": "runc"}
    os.makedirs(a.workdir)
    live = VmLive(LocalRun(a.workdir, a.link_bps))
    live.rootfs = rootfs(a.workload, a.workdir)
    live.run.state["runc_root"] = live.root
    live.run.state["runc_ids"] = []
    try:
        features = run(["criu", "check", "--feature", "mem_dirty_track"], "criu check --feature mem_dirty_track", 60)
        result["criu_check"] = features.strip().splitlines()[-1] if features.strip() else "ok"
        result["criu"] = run(["criu", "--version"], "criu --version", 60).split("\n")[0]
        t1, t0 = probe_round_times(live, a.hold)
        rate = int(a.threshold / math.sqrt(max(t0, 1e-3) * t1))
        result["probe"] = {"first_round_s": t1, "empty_round_s": t0, "margin": math.sqrt(t1 / max(t0, 1e-3))}
        result["workload"] = {"hold": a.hold, "wset": a.wset, "rate": rate}
        result.update(threshold=a.threshold, max_rounds=a.max_rounds, link_bps=a.link_bps)
        c = container(a.hold, a.wset, rate)
        live.start("workload", c, "set-up")
        fields = live.pre_copy(0, {"container": c, "transport": "tcp"}, "workload", None, None, STEP_S,
                               {"precopyThreshold": a.threshold, "precopyMaxRounds": a.max_rounds})
        new, before = fields.pop("_verify")
        first, last = live.verify(new, before)
        if first != before + 1:
            raise Failed("the restored counter did not continue from the checkpointed one (checkpointed %d, "
                         "restored %d)" % (before, first))
        result.update(fields)
        result["note"] = result.pop("_note")
        result.update(counter_restored=first, counter_last=last,
                      page_checks_passed=last // CHECK_EVERY - before // CHECK_EVERY, verified=True)
        code = 0
    except Exception as e:  # noqa: BLE001 - every failure is the proof's result, printed as its line
        result.update(verified=False, error="%s: %s" % (type(e).__name__, e))
        code = 1
    finally:
        live.cleanup()
        release_runc(live.run.state)
    print(json.dumps(result), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
