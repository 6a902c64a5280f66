"""One migsim run on Mininet + Docker + CRIU: builds the emulated network (network.py), starts the
services in its hosts and the workload containers (containers.py, livemig.py), then from t = 0 the
background traffic and probes (traffic.py) and one thread per migration (protocol.py), until every
migration has its record or the run's deadline.

Every docker, CRIU, scp and iperf3 step is bounded by a deadline derived from the run's; a step
that expires raises StepTimeout naming its phase, and clean-up first releases containers a hung
CRIU holds (procs.release_container), then removes processes, links and the run folder. What the
run made is listed in RUNDIR/state.json as it is made, so `migsim_driver.py cleanup RUNDIR` (and
stop-testbed.sh) can remove it even when this process was killed.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

import protocol
from cleanup import cleanup_state, release_containers
from containers import Docker
from jsonout import emit, log
from livemig import Live
from modes import LIVE_MODES
from netutil import containerd_leaks, dir_bytes
from network import Network
from procs import Aborted, kill_descendants, proc_start_time
from testbed_names import IMAGE_DEFAULT, NAME, STEP_CAP
from traffic import Traffic
from transfer import Transfer

__all__ = ["Aborted", "Run", "RunFailed"]


class RunFailed(Exception):
    """The run could not finish: `phase` is the protocol phase it was in, `migration` its index."""

    def __init__(self, phase, message, migration=None):
        super().__init__(message)
        self.phase = phase
        self.migration = migration


def check_name(kind, value):
    if not isinstance(value, str) or not NAME.match(value) or value.startswith("-"):
        raise ValueError("invalid %s name %r (expected [A-Za-z0-9_.-]+)" % (kind, value))
    return value


class Run:
    def __init__(self, plan, deadline):
        self.plan = plan
        self.spec = plan["spec"]
        self.deadline = deadline
        self.image = plan.get("options", {}).get("image", IMAGE_DEFAULT)
        if not re.match(r"^[A-Za-z0-9_.:/-]+$", self.image):
            raise ValueError("invalid image name %r" % self.image)
        self.rundir = tempfile.mkdtemp(prefix="migsim-tbrun-")
        self.tag = "m" + os.path.basename(self.rundir)[-2:].lower().replace("_", "x")
        self.state = {"rundir": self.rundir, "driver": [os.getpid(), proc_start_time(os.getpid())],
                      "pids": [], "containers": [], "container_pids": {}, "links": [], "hang_flag": False,
                      # containerd (docker 20.10) keeps a copy of every checkpoint it makes or restores
                      # in /tmp/ctrd-checkpoint*; clean-up removes those newer than this list
                      "containerd_before": sorted(containerd_leaks())}
        # what each migration is doing, so a failure or a hang names its phase
        self.phase = {}
        self.procs = []
        self.lock = threading.RLock()
        self.stop = threading.Event()
        self.errors = []
        # per triggered migration: when it was triggered and where its copy lands, so a run ended at
        # its deadline can say how far each migration got (a censored observation, not a gap)
        self.progress = {}
        # MTD re-key periods (rekey.every): period -> set when its set-up was sent
        self.rekeys = {}
        self.t0 = None
        self.started = time.monotonic()
        # per migration: its container's name
        self.containers = []
        self.network = Network(self)
        self.docker = Docker(self)
        self.copies = Transfer(self)
        # what livemig's pre-copy copies each round's folder with (the VM proof gives its own)
        self.transfer = self.copies.send
        self.traffic = Traffic(self)
        self.live = Live(self)

    # --- bookkeeping for clean-up (also read by `cleanup RUNDIR` if this process is killed)
    def save_state(self):
        tmp = os.path.join(self.rundir, "state.json.tmp")
        with open(tmp, "w") as f:
            json.dump(self.state, f)
        os.replace(tmp, os.path.join(self.rundir, "state.json"))

    def track_pid(self, pid):
        with self.lock:
            self.state["pids"].append([pid, proc_start_time(pid)])
            self.save_state()

    def track_container(self, name):
        with self.lock:
            self.state["containers"].append(name)
            self.save_state()

    def popen(self, host, cmd, **kw):
        """A process in a host's namespace, tracked for clean-up."""
        p = host.popen(cmd, stdout=kw.pop("stdout", subprocess.DEVNULL), stderr=kw.pop("stderr", sys.stderr),
                       stdin=subprocess.DEVNULL, **kw)
        self.procs.append(p)
        self.track_pid(p.pid)
        return p

    # --- time and progress
    def left(self, cap=STEP_CAP):
        """Seconds a step may take: what is left of the run, at most `cap`."""
        return max(1.0, min(cap, self.deadline - time.monotonic()))

    def set_phase(self, i, phase):
        with self.lock:
            self.phase[i] = phase

    def in_flight(self):
        with self.lock:
            return ", ".join("migration %d in %s" % kv for kv in sorted(self.phase.items()) if kv[1] != "done")

    def check_abort(self):
        if self.stop.is_set():
            raise Aborted("run aborted")
        if time.monotonic() > self.deadline:
            raise Aborted("run exceeded its deadline")

    def sleep_until(self, t):
        while True:
            self.check_abort()
            left = t - time.monotonic()
            if left <= 0:
                return
            self.stop.wait(min(left, 0.2))

    # --- the run
    def migration_thread(self, i, m, plan):
        try:
            protocol.migrate(self, i, m, plan)
        except Exception as e:  # noqa: BLE001 - reported as the run's error, with the phase it was in
            phase = getattr(e, "phase", None) or self.phase.get(i, "start")
            with self.lock:
                self.errors.append({"migration": i, "phase": phase,
                                    "message": "migration %d (%s), phase %s: %s" % (i, m["container"]["name"], phase, e)})
            self.stop.set()

    def execute(self):
        spec = self.spec
        # pre-copy and post-copy need what Docker lacks (module livemig); refused here, before any set-up,
        # with the line saying what this testbed is missing
        self.live.check_modes(spec)
        t = time.monotonic()
        self.network.build()
        self.network.start_services()
        self.copies.start_servers()
        for i, m in enumerate(spec["migrations"]):
            name = "%s-%s-%d" % (self.tag, check_name("container", m["container"]["name"]), i)
            name = "migsim-%s-%s" % (os.path.basename(self.rundir)[-8:], name)
            if m["mode"] in LIVE_MODES:
                self.live.start(name, m["container"], "set-up")
            else:
                self.docker.create(name, m, "set-up")
                self.docker.start(name, "set-up")
            self.containers.append(name)
        emit({"type": "ready", "build_s": time.monotonic() - t,
              "hosts": {h: self.network.ip[h] for h in spec["topology"]["hosts"]}})
        self.t0 = time.monotonic()
        self.traffic.start()
        threads = self.traffic.start_probes()
        for i, m in enumerate(spec["migrations"]):
            th = threading.Thread(target=self.migration_thread, args=(i, m, self.plan["plans"][i]), daemon=True)
            th.start()
            threads.append(th)
        for th in threads:
            while th.is_alive():
                th.join(0.2)
                if time.monotonic() > self.deadline:
                    busy = self.in_flight()
                    first = next((i for i, p in sorted(self.phase.items()) if p != "done"), None)
                    self.stop.set()
                    self.report_censored()
                    raise RunFailed(self.phase[first] if first is not None else "set-up",
                                    "run exceeded its deadline of %.0f s%s"
                                    % (self.deadline - self.started, " (%s)" % busy if busy else ""), first)
                if self.stop.is_set() and self.errors:
                    break
        if self.errors:
            # a step bounded by what was left of the run (an scp, a receiver) times out at the deadline
            # itself, sometimes before the loop above sees it: that is the deadline too
            if time.monotonic() >= self.deadline - 1.0:
                self.report_censored()
            first = self.errors[0]
            raise RunFailed(first["phase"], "; ".join(e["message"] for e in self.errors), first["migration"])
        emit({"type": "counters", "hosts": self.network.host_counters()})

    def report_censored(self):
        """At the deadline: for each migration triggered and not done, the phase it reached, how long it
        had been going (a lower bound on its total) and the bytes its copy had delivered."""
        now = time.monotonic()
        with self.lock:
            progress = {i: dict(p) for i, p in self.progress.items()}
            phases = dict(self.phase)
        for i, p in sorted(progress.items()):
            if "t_trig" not in p or phases.get(i) == "done":
                continue
            recv = p.get("recv_dir")
            emit({"type": "censored", "migration": i, "phase": phases.get(i, "trigger"),
                  "elapsed_s": now - p["t_trig"], "bytes_moved": dir_bytes(recv) if recv and os.path.isdir(recv) else 0})

    def cleanup(self):
        self.stop.set()
        # First release the containers (a hung CRIU holds them, and the processes below wait on it).
        with self.lock:
            state = json.loads(json.dumps(self.state))
        release_containers(state)
        self.live.cleanup()
        kill_descendants([p.pid for p in self.procs if p.poll() is None])
        for p in self.procs:
            if p.poll() is None:
                try:
                    p.terminate()
                except OSError:
                    pass
        for p in self.procs:
            try:
                p.wait(timeout=3)
            except subprocess.TimeoutExpired:
                p.kill()
        try:
            self.network.stop()
        except Exception as e:  # noqa: BLE001
            log("net.stop: %s" % e)
        cleanup_state(self.state)
