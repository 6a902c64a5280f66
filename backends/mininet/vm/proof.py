#!/usr/bin/python3
"""The pre-copy proof: the driver's pre-copy (driver/precopy.py) on a kernel with soft-dirty tracking,
CRIU run directly (no runc, no network: the copy step is a local copy into a destination folder,
paced to a link's rate).

    proof.py WORKLOAD WORKDIR [--hold BYTES] [--wset BYTES] [--threshold BYTES] [--max-rounds N] [--link-bps BITS]

Runs as root on the kernel under test (run-vm.sh boots one and runs this inside). Prints one JSON
line {"type": "precopy-proof", ...}: the record's fields (rounds, converged, downtime_s, ...), each
round's pages, bytes, copy time and dirty amount, and the restored workload's counters; exit 0 when
the restored process continued from its checkpointed counter and passed two page checks, 1 otherwise.

The dirty rate is derived from this machine's speed, not fixed: a probe process of the same size is
pre-dumped twice, the first round (everything) taking T1, the second (nothing dirty) taking T0, CRIU's
cost of a round whatever it copies. With rate R a round leaves about R x (its duration) dirty, so the
rule converges when R x T0 < threshold and needs a second round when R x T1 > threshold; the rate
threshold / sqrt(T0 x T1) leaves both sides the same margin, sqrt(T1 / T0). Under software emulation
the absolute times mean nothing; that the rounds shrink, stop by the rule and restore whole does.
"""
import argparse
import ctypes
import json
import math
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "driver"))
from precopy import PAGE_SIZE, describe, pre_copy, process_tree, relink, stage  # noqa: E402

PR_SET_CHILD_SUBREAPER = 36
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


def log_tail(path):
    try:
        with open(path, errors="replace") as f:
            errs = [l.strip() for l in f if "Error" in l]
        return " | ".join(errs[-3:])
    except OSError:
        return ""


class Criu:
    """The runtime pre_copy drives: criu on one process tree (a session leader, stdio in files)."""

    def __init__(self, proc, logs, out=None):
        self.proc = proc
        self.out = out
        # the output file's length when the final dump stopped the process (what it printed before)
        self.printed = None
        self.pid = proc.pid
        self.logs = logs
        self.restored = None

    def pids(self):
        return process_tree(self.pid)

    def _criu(self, action, folder, parent, extra):
        logf = os.path.join(self.logs, "%s-%s.log" % (action, os.path.basename(folder)))
        cmd = ["criu", action, "-D", folder, "-o", logf, "-v4"] + extra
        if parent:
            cmd += ["--prev-images-dir", os.path.join("..", parent)]
        try:
            run(cmd, "criu %s %s" % (action, os.path.basename(folder)))
        except Failed as e:
            raise Failed("%s; %s" % (e, log_tail(logf)))

    def pre_dump(self, folder, parent):
        os.makedirs(folder)
        self._criu("pre-dump", folder, parent, ["-t", str(self.pid), "--track-mem"])

    def dump(self, folder, parent):
        os.makedirs(folder)
        self._criu("dump", folder, parent, ["-t", str(self.pid), "--track-mem"])
        # CRIU killed it: reap it, or its pid stays taken and the restore cannot have it back
        self.proc.wait(timeout=30)
        if self.out:
            self.printed = os.path.getsize(self.out)

    def restore(self, folder):
        self._criu("restore", folder, None, ["-d"])
        self.restored = self.pid


class Output:
    """migsim-dirty's stdout file: counter lines, or CORRUPT."""

    def __init__(self, path):
        self.path = path

    def read(self, offset=0, limit=-1):
        with open(self.path, errors="replace") as f:
            f.seek(offset)
            text = f.read(limit)
        lines = [l.strip() for l in text.splitlines()]
        corrupt = next((l for l in lines if l.startswith("CORRUPT")), None)
        return [int(l) for l in lines if l.isdigit()], corrupt

    def wait(self, pred, seconds, offset=0):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            values, corrupt = self.read(offset)
            if corrupt:
                raise Failed("the workload reported %s" % corrupt)
            if values and pred(values[-1]):
                return values
            time.sleep(0.1)
        values, _ = self.read(offset)
        raise Failed("the workload's counter stopped at %s" % (values[-1] if values else "nothing"))


def start(workload, args, workdir, name):
    out = os.path.join(workdir, "%s.out" % name)
    err = open(os.path.join(workdir, "%s.err" % name), "w")
    # a session leader with no terminal: CRIU dumps it without --shell-job
    p = subprocess.Popen([workload] + [str(a) for a in args], stdout=open(out, "w"), stderr=err,
                         stdin=subprocess.DEVNULL, start_new_session=True, cwd=workdir)
    Output(out).wait(lambda v: v >= 2, 120)
    return p, Output(out)


def stop(p):
    if p is not None and p.poll() is None:
        p.kill()
        p.wait(timeout=30)


def kill_pid(pid):
    try:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    except (OSError, ChildProcessError):
        pass


def local_copy(dest, link_bps):
    """The copy step: one staged round into `dest`, paced to a link of `link_bps` bits/s (a copy
    inside one machine is no network: pacing gives each round the time its bytes would take on
    one); the received rounds are siblings there."""
    def copy(staged):
        t = time.monotonic()
        target = os.path.join(dest, os.path.basename(staged))
        shutil.copytree(staged, target)
        os.sync()
        size = sum(os.path.getsize(os.path.join(target, f)) for f in os.listdir(target))
        done = t + size * 8 / link_bps
        while time.monotonic() < done:
            time.sleep(min(0.1, done - time.monotonic()))
        seconds = time.monotonic() - t
        return seconds, size, target
    return copy


def probe_round_times(workload, workdir, hold, link_bps):
    """(T1, T0): a first pre-dump plus copy of a process holding `hold` bytes, then a second one with
    nothing dirty (CRIU's cost of a round whatever it copies)."""
    pdir = os.path.join(workdir, "probe")
    os.makedirs(pdir)
    p, _ = start(workload, [hold, PAGE_SIZE, 0], pdir, "probe")
    try:
        rt = Criu(p, pdir)
        copy = local_copy(os.path.join(pdir, "dest"), link_bps)
        os.makedirs(os.path.join(pdir, "dest"))
        times = []
        parent = None
        for n in (1, 2):
            folder = os.path.join(pdir, "pre%d" % n)
            t = time.monotonic()
            rt.pre_dump(folder, parent)
            _, _, received = copy(stage(folder, os.path.join(pdir, "send")))
            relink(received, parent)
            times.append(time.monotonic() - t)
            parent = "pre%d" % n
        return times[0], times[1]
    finally:
        stop(p)
        shutil.rmtree(pdir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workload")
    ap.add_argument("workdir")
    ap.add_argument("--hold", type=int, default=64 << 20)
    ap.add_argument("--wset", type=int, default=8 << 20)
    # the simulator's defaults (src/migration/costs.ts)
    ap.add_argument("--threshold", type=float, default=1e6)
    ap.add_argument("--max-rounds", type=int, default=8)
    ap.add_argument("--link-bps", type=float, default=32e6)
    a = ap.parse_args()
    libc = ctypes.CDLL(None, use_errno=True)
    # restored processes (criu restore -d) become our children, so they are reaped and stopped here
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    result = {"type": "precopy-proof", "kernel": os.uname().release}
    proc = None
    rt = None
    try:
        features = run(["criu", "check", "--feature", "mem_dirty_track"], "criu check --feature mem_dirty_track", 60)
        result["criu_check"] = features.strip().splitlines()[-1] if features.strip() else "ok"
        result["criu"] = run(["criu", "--version"], "criu --version", 60).split("\n")[0]
        t1, t0 = probe_round_times(a.workload, a.workdir, a.hold, a.link_bps)
        rate = int(a.threshold / math.sqrt(max(t0, 1e-3) * t1))
        result["probe"] = {"first_round_s": t1, "empty_round_s": t0, "margin": math.sqrt(t1 / max(t0, 1e-3))}
        result["workload"] = {"hold": a.hold, "wset": a.wset, "rate": rate}
        result["threshold"] = a.threshold
        result["max_rounds"] = a.max_rounds
        result["link_bps"] = a.link_bps
        proc, out = start(a.workload, [a.hold, a.wset, rate], a.workdir, "workload")
        rt = Criu(proc, a.workdir, out.path)
        dest = os.path.join(a.workdir, "dest")
        os.makedirs(dest)
        fields = pre_copy(rt, local_copy(dest, a.link_bps), os.path.join(a.workdir, "src"), a.threshold, a.max_rounds)
        before = out.read(0, rt.printed)[0][-1]
        after = out.wait(lambda v: v >= before + 2 * CHECK_EVERY + 1, 180, rt.printed)
        if after[0] != before + 1:
            raise Failed("the restored counter did not continue from the checkpointed one (checkpointed %d, "
                         "restored %d)" % (before, after[0]))
        if os.waitpid(rt.restored, os.WNOHANG) != (0, 0):
            raise Failed("the restored process ended")
        result.update({k: v for k, v in fields.items() if k != "precopy_note"})
        result["note"] = describe(fields)
        result.update(counter_checkpointed=before, counter_restored=after[0], counter_last=after[-1],
                      page_checks_passed=after[-1] // CHECK_EVERY - before // CHECK_EVERY, verified=True)
        code = 0
    except (Failed, OSError, ValueError) as e:
        result.update(verified=False, error=str(e))
        code = 1
    finally:
        stop(proc)
        if rt is not None and rt.restored:
            kill_pid(rt.restored)
    print(json.dumps(result), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
