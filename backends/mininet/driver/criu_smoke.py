#!/usr/bin/python3
"""Proves a CRIU binary by what it does, not by `criu check` (which passes on kernels where every
dump hangs): a real dump and restore of a plain process, then (with --docker, once that binary is
the one dockerd's runc runs) `docker checkpoint create` + `docker start --checkpoint` of the
workload image. Both verify the restored state continued: a counter resumes past its checkpointed
value. Every step is bounded; a hung CRIU is killed by pid and what the test made is removed.

    criu_smoke.py plain  --criu BIN [--timeout S]
    criu_smoke.py docker --image IMAGE [--timeout S]

Prints one JSON line: {"stage", "ok", "reason", "log_tail"}; exit code 0 when it passed.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import (StepTimeout, alive, container_pid, kill_pids, release_container, run_bounded,  # noqa: E402
                   start_from_checkpoint, stat_fields)
from testbed_names import IMAGE_DEFAULT, LABEL_KEY  # noqa: E402

COUNTER = "import sys, time\ni = 0\nwhile True:\n    i += 1\n    open(sys.argv[1], 'w').write(str(i))\n    time.sleep(0.05)\n"
SHELL_COUNTER = "i=0; while :; do i=$((i+1)); echo $i; usleep 50000; done"
LABEL = LABEL_KEY + "=smoke"


def tail(path, n=3):
    try:
        with open(path, errors="replace") as f:
            return [l.rstrip() for l in f.readlines()[-n:]]
    except OSError:
        return []


def read_int(path):
    try:
        with open(path) as f:
            return int(f.read().strip() or -1)
    except (OSError, ValueError):
        return -1


def wait_past(read, value, seconds):
    """Waits until read() > value; returns the first value seen, or None when none came."""
    end = time.monotonic() + seconds
    first = None
    while time.monotonic() < end:
        v = read()
        if v is not None and v >= 0:
            first = v if first is None else first
            if v > value:
                return first
        time.sleep(0.05)
    return first


def smoke_plain(criu, timeout):
    work = tempfile.mkdtemp(prefix="migsim-criu-smoke-")
    images = os.path.join(work, "img")
    os.makedirs(images)
    counter = os.path.join(work, "counter")
    p = subprocess.Popen(["/usr/bin/python3", "-c", COUNTER, counter], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    restored = None
    try:
        if wait_past(lambda: read_int(counter), 2, 5) is None:
            return {"ok": False, "reason": "the test process did not start"}
        dump_log = os.path.join(work, "dump.log")
        try:
            run_bounded([criu, "dump", "-t", str(p.pid), "-D", images, "-o", dump_log, "-v4"], timeout, "dump")
        except StepTimeout:
            return {"ok": False, "reason": "criu dump hung (no result within %.0f s)" % timeout, "log_tail": tail(dump_log)}
        except RuntimeError as e:
            return {"ok": False, "reason": "criu dump failed: %s" % str(e)[-200:], "log_tail": tail(dump_log)}
        p.wait(timeout=5)  # the dumped process is gone: reap it so its pid is free for the restore
        value = read_int(counter)
        restore_log = os.path.join(work, "restore.log")
        try:
            run_bounded([criu, "restore", "-D", images, "-d", "-o", restore_log, "-v4"], timeout, "restore")
        except StepTimeout:
            return {"ok": False, "reason": "criu restore hung", "log_tail": tail(restore_log)}
        except RuntimeError as e:
            return {"ok": False, "reason": "criu restore failed: %s" % str(e)[-200:], "log_tail": tail(restore_log)}
        restored = p.pid if alive(p.pid) else None
        first = wait_past(lambda: read_int(counter), value, 5)
        if restored is None or first is None or first < value or read_int(counter) <= value:
            return {"ok": False, "reason": "restored process did not continue (checkpointed %d, then %s)"
                    % (value, read_int(counter))}
        return {"ok": True, "reason": "dump + restore of a process: counter %d -> %d" % (value, read_int(counter))}
    finally:
        if p.poll() is None:
            kill_pids([p.pid])
            p.wait()
        if restored is not None:
            s = stat_fields(restored)
            if s and s[0].startswith("python"):
                kill_pids([restored])
        shutil.rmtree(work, ignore_errors=True)


def docker_lines(name, timeout):
    out = run_bounded(["docker", "logs", name], timeout, "verify", check=False)
    return [int(x) for x in out.split() if x.isdigit()]


def criu_logs(cid):
    """runc keeps CRIU's logs in the container's work folder (containerd's state tree)."""
    pats = ["/run/containerd/io.containerd.runtime.v2.task/moby/%s/**/*.log" % cid,
            "/var/lib/containerd/io.containerd.runtime.v2.task/moby/%s/**/*.log" % cid,
            "/var/run/docker/containerd/**/%s/**/*.log" % cid]
    found = [f for pat in pats for f in glob.glob(pat, recursive=True) if "dump" in f or "criu" in f]
    return tail(found[0]) if found else []


def smoke_docker(image, timeout):
    tag = "migsim-criu-smoke-%d" % os.getpid()
    src, dst = tag + "-a", tag + "-b"
    step = "start"
    init = 0
    # containerd (docker 20.10) keeps a copy of every checkpoint it makes in /tmp/ctrd-checkpoint*
    leaks = set(glob.glob("/tmp/ctrd-checkpoint*"))
    try:
        run_bounded(["docker", "run", "-d", "--name", src, "--label", LABEL, "--network", "none", image,
                     "sh", "-c", SHELL_COUNTER], timeout, "start")
        init = container_pid(src)
        if wait_past(lambda: (docker_lines(src, timeout) or [-1])[-1], 2, 5) is None:
            return {"ok": False, "reason": "the workload container printed nothing"}
        cid = run_bounded(["docker", "inspect", "-f", "{{.Id}}", src], timeout, "start").strip()
        step = "docker checkpoint create"
        try:
            run_bounded(["docker", "checkpoint", "create", src, "cp"], timeout, "checkpoint")
        except StepTimeout:
            return {"ok": False, "reason": "docker checkpoint create hung (no result within %.0f s)" % timeout,
                    "log_tail": criu_logs(cid)}
        value = docker_lines(src, timeout)[-1]
        folder = "/var/lib/docker/containers/%s/checkpoints/cp" % cid
        step = "docker create"
        nid = run_bounded(["docker", "create", "--name", dst, "--label", LABEL, "--network", "none", image,
                           "sh", "-c", SHELL_COUNTER], timeout, "restore").strip()
        target = "/var/lib/docker/containers/%s/checkpoints" % nid
        os.makedirs(target, exist_ok=True)
        shutil.copytree(folder, os.path.join(target, "cp"))
        step = "docker start --checkpoint"
        try:
            start_from_checkpoint(dst, "cp", timeout, "restore")
        except StepTimeout:
            return {"ok": False, "reason": "docker start --checkpoint hung", "log_tail": criu_logs(nid)}
        first = wait_past(lambda: (docker_lines(dst, timeout) or [-1])[0], -1, 5)
        if first is None or first < value:
            return {"ok": False, "reason": "restored container did not continue (checkpointed %d, restored %s)"
                    % (value, first)}
        return {"ok": True, "reason": "docker checkpoint + restore: counter %d -> %d" % (value, first)}
    except (RuntimeError, StepTimeout, IndexError, ValueError) as e:
        return {"ok": False, "reason": "%s failed: %s" % (step, str(e)[-200:])}
    finally:
        release_container(src, init, timeout=20)
        release_container(dst, timeout=20)
        for d in set(glob.glob("/tmp/ctrd-checkpoint*")) - leaks:
            shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("stage", choices=["plain", "docker"])
    ap.add_argument("--criu")
    ap.add_argument("--image", default=IMAGE_DEFAULT)
    ap.add_argument("--timeout", type=float, default=20)
    a = ap.parse_args()
    if a.stage == "plain":
        if not a.criu:
            ap.error("plain needs --criu BIN")
        r = smoke_plain(a.criu, a.timeout)
    else:
        r = smoke_docker(a.image, a.timeout)
    r = dict({"stage": a.stage, "log_tail": []}, **r)
    sys.stdout.write(json.dumps(r) + "\n")
    sys.exit(0 if r["ok"] else 1)


if __name__ == "__main__":
    main()
