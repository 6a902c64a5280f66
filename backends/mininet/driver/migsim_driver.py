#!/usr/bin/python3
"""migsim testbed driver: replays one migsim run on Mininet + Docker + CRIU.

Run as root with the system Python (Mininet is a package of /usr/bin/python3):

    migsim_driver.py run PLAN.json [--deadline SECONDS]   one run; JSON lines on stdout
    migsim_driver.py cleanup RUNDIR                       remove what a killed or hung run left behind
    migsim_driver.py cleanup-all                          remove what every migsim run left (stop-testbed.sh)
    migsim_driver.py preflight                            list what the testbed lacks (JSON)
    migsim_driver.py host                                 kernel, CRIU, CPUs and load average (JSON)

The other sub-commands (server, exchange, agent, probe, recv, send) are helpers the driver starts
inside Mininet host namespaces (hosttools.py). Stdout carries only JSON lines ({"type": ...});
everything else, including the output of child processes, goes to stderr. Stdin closing (the SSH
connection dropped, or the controller giving up) aborts the run, and every exit path removes the
network, containers, processes and temporary files, then prints {"type": "cleaned"}.

Modules: testbed_run.py (one run: deadline, threads, clean-up, state file), protocol.py (a migration,
step for step as src/migration/protocol.ts), network.py (Mininet, host namespaces, exchanges),
containers.py (Docker containers and their CRIU checkpoints), livemig.py (runc containers for
post-copy and pre-copy, which live modes this testbed can run), precopy.py (pre-copy's rounds),
transfer.py (the RESTART connection and the copies, ssh or tcp), traffic.py (flows, probes,
redirect), modes.py (the modes and transports a plan may name), procs.py (bounded steps,
processes, releasing a container a hung CRIU holds), cleanup.py (removing what a run made),
hosttools.py (in-namespace helpers), criu_smoke.py (the set-up's CRIU proof), jsonout.py.
Tests without a testbed: tests/ (python3 -m unittest discover -s tests; test/driver-structure.test.ts).
"""
import argparse
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hosttools  # noqa: E402
from contract import ContractError, read_plan  # noqa: E402
from jsonout import emit, open_stdout  # noqa: E402
from procs import StepTimeout, alive, release_container, run_bounded  # noqa: E402
from cleanup import cleanup_state, remove_hang_flag  # noqa: E402
from livemig import mode_problems  # noqa: E402
from netutil import netem_available  # noqa: E402
from runlock import TestbedBusy, hold_testbed  # noqa: E402
from testbed_names import IMAGE_DEFAULT, LABEL_KEY  # noqa: E402
from testbed_run import Aborted, Run  # noqa: E402

CRIU_PROVEN = os.path.join(os.environ.get("MIGSIM_TESTBED_STATE", "/var/lib/migsim-testbed"), "criu-proven.json")


def criu_problem():
    """Why the installed CRIU cannot be trusted on this kernel (None when setup-testbed.sh proved it
    here with a real dump and restore)."""
    if shutil.which("criu") is None:
        return "criu"
    try:
        with open(CRIU_PROVEN) as f:
            proven = json.load(f)
    except (OSError, ValueError):
        return "a CRIU proven on this kernel (no smoke-test record %s)" % CRIU_PROVEN
    kernel = os.uname().release
    if proven.get("kernel") != kernel:
        return "a CRIU proven on this kernel (CRIU %s was proven on kernel %s, this is %s)" % (
            proven.get("version"), proven.get("kernel"), kernel)
    return None


def cmd_host(args):
    """What the host runs and how busy it is: checkpoint and restore times depend on both (a busy
    host's come out slower), so calibrations and validations record it."""
    with open("/proc/loadavg") as f:
        load = f.read().split()
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        with open(CRIU_PROVEN) as f:
            criu = str(json.load(f).get("version", ""))
    except (OSError, ValueError):
        criu = ""
    emit({"type": "host", "kernel": os.uname().release, "cpus": os.cpu_count() or 0, "cpu": cpu, "criu": criu,
          "load1": float(load[0]), "load5": float(load[1])})
    return 0


def cmd_preflight(args):
    missing = []
    try:
        import mininet.net  # noqa: F401
    except ImportError:
        missing.append({"what": "mininet", "fix": "apt-get install --no-install-recommends mininet"})
    for tool, pkg in (("brctl", "bridge-utils"), ("iperf3", "iperf3"), ("scp", "openssh-client"),
                      ("tc", "iproute2"), ("docker", "docker.io"), ("unshare", "util-linux")):
        if shutil.which(tool) is None:
            missing.append({"what": tool, "fix": "apt-get install --no-install-recommends %s" % pkg})
    if not os.path.exists("/usr/sbin/sshd"):
        missing.append({"what": "sshd", "fix": "apt-get install --no-install-recommends openssh-server"})
    problem = criu_problem()
    if problem:
        missing.append({"what": problem,
                        "fix": "run backends/mininet/setup-testbed.sh (it chooses a CRIU by a real dump and restore)"})
    if shutil.which("docker"):
        r = subprocess.run(["docker", "info", "--format", "{{.ExperimentalBuild}}"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True, timeout=20)
        if r.returncode != 0:
            missing.append({"what": "running dockerd", "fix": "start `dockerd --experimental` (setup-testbed.sh does)"})
        elif r.stdout.strip() != "true":
            missing.append({"what": "dockerd in experimental mode", "fix": "restart dockerd with --experimental"})
        else:
            r = subprocess.run(["docker", "image", "inspect", args.image], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=20)
            if r.returncode != 0:
                fix = "run backends/mininet/setup-testbed.sh" if args.image == IMAGE_DEFAULT else \
                    "build or import it on the testbed (busybox sh, dd, sleep, usleep are needed)"
                missing.append({"what": "image %s" % args.image, "fix": fix})
    if os.geteuid() != 0:
        missing.append({"what": "root", "fix": "log in as root (Mininet, Docker and CRIU need it)"})
    # live modes: why each cannot run here (the backend refuses a run that asks for one, before it starts)
    modes = mode_problems(args.image) if not missing else {}
    emit({"type": "preflight", "missing": missing, "netem": netem_available(), "modes": modes})
    return 0


def cmd_run(args):
    try:
        plan = read_plan(args.plan)
    except ContractError as e:
        sys.stderr.write("%s\n" % e)
        emit({"type": "error", "message": str(e), "phase": "set-up"})
        return 2
    try:
        lock = hold_testbed()  # noqa: F841 - held open until the process ends
    except TestbedBusy as e:
        emit({"type": "error", "message": str(e), "phase": "set-up"})
        return 1
    run = Run(plan, time.monotonic() + args.deadline)

    def on_signal(signum, _frame):
        busy = run.in_flight()
        run.stop.set()
        raise Aborted("interrupted by signal %d%s" % (signum, " (%s)" % busy if busy else ""))

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    def watch_stdin():
        # The controlling side keeps stdin open; EOF means it went away (or gave up on this run).
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except OSError:
            pass
        if not run.stop.is_set():
            os.kill(os.getpid(), signal.SIGTERM)

    if not args.no_stdin_watch:
        threading.Thread(target=watch_stdin, daemon=True).start()
    emit({"type": "start", "rundir": run.rundir})
    code = 0
    try:
        run.execute()
        emit({"type": "done"})
    except BaseException as e:  # noqa: BLE001 - every failure is reported, then cleaned up
        # a failure outside a migration's own thread (deadline, signal) is put on the first one in flight
        busy = [i for i, p in sorted(run.phase.items()) if p != "done"]
        migration = getattr(e, "migration", None)
        if migration is None and busy:
            migration = busy[0]
        phase = getattr(e, "phase", None) or (run.phase[migration] if migration is not None else "set-up")
        emit({"type": "error", "message": str(e) or e.__class__.__name__, "phase": phase, "migration": migration})
        code = 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        run.cleanup()
        emit({"type": "cleaned"})
    return code


def cmd_cleanup(args):
    path = os.path.join(args.rundir, "state.json")
    if not os.path.exists(path):
        emit({"type": "cleanup", "removed": False, "message": "no state in %s" % args.rundir})
        return 0
    with open(path) as f:
        state = json.load(f)
    cleanup_state(state)
    emit({"type": "cleanup", "removed": True})
    return 0


def cmd_cleanup_all(_args):
    """Everything migsim runs left on this testbed (stop-testbed.sh): every run folder's state
    (stopping its driver if it still runs), then any container still carrying the label the driver
    and the CRIU smoke test put on theirs, the hang flag, and the controllers' upload folders."""
    tmp = tempfile.gettempdir()
    for path in sorted(glob.glob(os.path.join(tmp, "migsim-tbrun-*", "state.json"))):
        try:
            with open(path) as f:
                state = json.load(f)
        except (OSError, ValueError):
            state = {"rundir": os.path.dirname(path)}
        pid, started = (state.get("driver") or [0, None])[:2]
        cleanup_state(state)
        emit({"type": "cleanup", "rundir": os.path.dirname(path), "driver_was_running": bool(pid) and alive(pid, started)})
    try:
        names = run_bounded(["docker", "ps", "-a", "--filter", "label=" + LABEL_KEY, "--format", "{{.Names}}"],
                            30, "clean-up", check=False).split()
    except StepTimeout:
        names = []
    for name in names:
        done = release_container(name)
        emit({"type": "cleanup", "container": name, "done": done})
    remove_hang_flag()
    for d in glob.glob(os.path.join(tmp, "migsim-tb-*")):
        if os.path.isdir(d) and re.match(r"^migsim-tb-[A-Za-z0-9]{8}$", os.path.basename(d)):
            shutil.rmtree(d, ignore_errors=True)
    return 0


def main():
    # Keep stdout for JSON lines only: fd 1 goes to stderr, so children cannot write into it.
    out = os.fdopen(os.dup(1), "w")
    open_stdout(out)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("run")
    p.add_argument("plan")
    p.add_argument("--deadline", type=float, default=600)
    p.add_argument("--no-stdin-watch", action="store_true")
    p = sub.add_parser("cleanup")
    p.add_argument("rundir")
    sub.add_parser("cleanup-all")
    p = sub.add_parser("preflight")
    p.add_argument("--image", default=IMAGE_DEFAULT)
    sub.add_parser("host")
    p = sub.add_parser("server")
    p.add_argument("--ip", required=True)
    p.add_argument("--port", type=int, required=True)
    p = sub.add_parser("exchange")
    p.add_argument("requests")
    sub.add_parser("agent")
    p = sub.add_parser("probe")
    p.add_argument("spec")
    p = sub.add_parser("recv")
    p.add_argument("--ip", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dest", required=True)
    p = sub.add_parser("send")
    p.add_argument("--ip", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--src", required=True)
    args = ap.parse_args()
    if args.cmd in ("server", "exchange", "agent", "probe", "recv", "send"):
        # Helpers print their results on stdout for the driver to read.
        sys.stdout = out
        return getattr(hosttools, "cmd_" + args.cmd)(args) or 0
    fn = {"run": cmd_run, "cleanup": cmd_cleanup, "cleanup-all": cmd_cleanup_all, "preflight": cmd_preflight,
          "host": cmd_host}[args.cmd]
    sys.exit(fn(args) or 0)


if __name__ == "__main__":
    main()
