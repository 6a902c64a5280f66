"""One migsim run on Mininet + Docker + CRIU: the emulated network, the services in its hosts, the
workload containers, background traffic, probes and the migrations themselves, each phase timed.

Every docker, CRIU, scp and iperf3 step is bounded by a deadline derived from the run's; a step
that expires raises StepTimeout naming its phase, and clean-up first releases containers a hung
CRIU holds (procs.release_container), then removes processes, links and the run folder. What the
run made is listed in RUNDIR/state.json as it is made, so `migsim_driver.py cleanup RUNDIR` (and
stop-testbed.sh) can remove it even when this process was killed.
"""
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from cleanup import cleanup_state, release_containers
from hosttools import SERVER_PORT
from jsonout import emit, log, warn
from livemig import LIVE_MODES, Live
from netutil import (allow_congestion_control, containerd_leaks, dir_bytes, has_cycle, net_dev, netem_available,
                     prioritised_bridge_class, spanning_tree_root)
from procs import (StepTimeout, container_pid, kill_descendants, kill_tree, proc_start_time, run_bounded,
                   start_from_checkpoint)
from testbed_names import CHECKPOINT_BASELINE, CONTAINER_LABEL, HANG_FLAG, IMAGE_DEFAULT, IPERF_BASE_PORT, NAME, RECV_BASE_PORT, STEP_CAP, \
    CRIU_STEP_BASE, CRIU_MIN_RATE


class Aborted(Exception):
    pass


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
        self.net = None
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
        p = host.popen(cmd, stdout=kw.pop("stdout", subprocess.DEVNULL), stderr=kw.pop("stderr", sys.stderr),
                       stdin=subprocess.DEVNULL, **kw)
        self.procs.append(p)
        self.track_pid(p.pid)
        return p

    def left(self, cap=STEP_CAP):
        """Seconds a step may take: what is left of the run, at most `cap`."""
        return max(1.0, min(cap, self.deadline - time.monotonic()))

    def docker(self, args, phase, check=True, cap=STEP_CAP):
        return run_bounded(["docker"] + args, self.left(cap), phase, check)

    def run_in(self, host, args, phase, timeout=STEP_CAP, stdin_file=None):
        """Runs a command inside a host's namespace (no shell), its stdin from `stdin_file` if given;
        returns (code, stdout, stderr)."""
        with open(stdin_file, "rb") if stdin_file else open(os.devnull, "rb") as stdin:
            p = self.host(host).popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=stdin, text=True)
        self.procs.append(p)
        self.track_pid(p.pid)
        limit = self.left(timeout)
        try:
            out, err = p.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            # scp runs its own ssh client: killing scp alone would leave that (and the sshd session
            # serving it) running for as long as the machine lives
            kill_tree(p.pid)
            p.communicate()
            raise StepTimeout(phase, "%s on %s" % (args[0], host), limit)
        return p.returncode, out, err

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

    # --- network
    def build(self):
        from mininet.net import Mininet
        from mininet.nodelib import LinuxBridge
        from mininet.link import TCLink
        PrioritisedBridge = prioritised_bridge_class()
        from mininet.log import setLogLevel
        setLogLevel("error")
        topo = self.spec["topology"]
        # Interface names are limited to 15 characters, so nodes get short per-run names.
        self.hname = {h: "%sh%d" % (self.tag, i + 1) for i, h in enumerate(topo["hosts"])}
        self.sname = {s: "%ss%d" % (self.tag, i + 1) for i, s in enumerate(topo["switches"])}
        self.iname = dict(self.hname, **self.sname)
        self.state["links"] = list(self.sname.values())
        self.save_state()
        netem = netem_available()
        loops = has_cycle(topo["hosts"] + topo["switches"], topo["links"])
        if loops:
            warn("topology has cycles: Linux bridges run spanning tree rooted at the first migration's source "
                 "switch, so routes follow the shortest-path tree from there (other pairs may differ from the "
                 "simulator's shortest paths) and start-up waits for STP to converge")
        if not netem and any(l["latency"] > 0 for l in topo["links"]):
            warn("no netem on this kernel: link latencies are not emulated (no propagation delay); "
                 "bandwidth and queue sizes are")
        net = Mininet(controller=None, switch=LinuxBridge, link=TCLink, build=False, autoSetMacs=True,
                      waitConnected=False)
        self.net = net
        for h in topo["hosts"]:
            net.addHost(self.hname[h])
        root = spanning_tree_root(topo, self.spec.get("migrations", []))
        for i, s in enumerate(topo["switches"]):
            # The root bridge gets the lowest priority, so the spanning tree is the shortest-path tree
            # from the migration's source switch (every port has the same cost): the path the simulator takes.
            net.addSwitch(self.sname[s], cls=PrioritisedBridge if loops else LinuxBridge, stp=loops,
                          prio=1 if s == root else 100 + i, dpid="%016x" % (i + 1))
        self.queues = []
        for l in topo["links"]:
            p1, p2 = {}, {}
            for params, cap in ((p1, l["capacity"]), (p2, l.get("capacityBack", l["capacity"]))):
                mbps = cap / 1e6
                if mbps <= 1000:
                    params["bw"] = mbps
                else:
                    warn("link %s-%s: %.0f Mbit/s is above what HTB shapes reliably here; left unshaped"
                         % (l["a"], l["b"], mbps))
                if netem:
                    params["max_queue_size"] = int(l["queue"])
                    if l["latency"] > 0:
                        params["delay"] = "%.3fms" % (l["latency"] * 1000)
            link = net.addLink(self.iname[l["a"]], self.iname[l["b"]], params1=p1, params2=p2)
            if not netem:
                for intf, params in ((link.intf1, p1), (link.intf2, p2)):
                    if "bw" in params:
                        self.queues.append((intf, int(l["queue"])))
        net.start()
        for intf, q in self.queues:
            # Without netem, TCLink cannot size the queue: give the HTB leaf a drop-tail FIFO of the
            # topology's queue length (otherwise it is the interface's txqueuelen, 1000 packets).
            r = intf.node.popen(["tc", "qdisc", "add", "dev", intf.name, "parent", "5:1", "handle", "10:",
                                 "pfifo", "limit", str(q)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            out = r.communicate()[0]
            if r.returncode != 0:
                warn("queue size on %s not set: %s" % (intf.name, out.strip()))
        for h in net.hosts:
            self.track_pid(h.pid)
        if loops:
            if not net.waitConnected(timeout=90):
                raise RuntimeError("spanning tree did not converge within 90 s")
        cc = self.spec["network"].get("congestionControl")
        self.ip = {h: net.get(self.hname[h]).IP() for h in topo["hosts"]}
        if cc:
            allow_congestion_control(cc)
            for h in topo["hosts"]:
                code, _, err = self.run_in(h, ["sysctl", "-q", "-w", "net.ipv4.tcp_congestion_control=%s" % cc],
                                           "network set-up")
                if code != 0:
                    warn("congestion control %s not set on %s: %s" % (cc, h, err.strip()))
                    break

    def host(self, name):
        return self.net.get(self.hname[name])

    def helper(self, *args):
        return ["/usr/bin/python3", os.path.join(os.path.dirname(os.path.abspath(__file__)), "migsim_driver.py")] + list(args)

    def wait_ready(self, p, what, seconds=30):
        ready, _, _ = select.select([p.stdout], [], [], self.left(seconds))
        line = p.stdout.readline() if ready else ""
        if line.strip() != "ready":
            raise RuntimeError("%s did not start%s" % (what, "" if ready else " within %d s" % seconds))

    # --- services inside hosts
    def start_services(self):
        for h in self.spec["topology"]["hosts"]:
            p = self.popen(self.host(h), self.helper("server", "--ip", self.ip[h], "--port", str(SERVER_PORT)),
                           stdout=subprocess.PIPE, text=True)
            self.wait_ready(p, "request/response server on %s" % h)
        self.agents = {}
        for h in self.spec["topology"]["hosts"]:
            p = self.host(h).popen(self.helper("agent"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=sys.stderr, text=True)
            self.procs.append(p)
            self.track_pid(p.pid)
            self.wait_ready(p, "exchange agent on %s" % h)
            self.agents[h] = (p, threading.Lock())
        if any(m["transport"] == "ssh" for m in self.spec["migrations"]) or self.setup_targets():
            self.start_sshds()

    def setup_targets(self):
        """Key holders the MTD set-up reaches by SSH (their sshd must run)."""
        return {s["to"] for p in self.plan["plans"] for s in p.get("setup", []) if s["from"] != s["to"]}

    def start_sshds(self):
        d = self.rundir
        run_bounded(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(d, "host_key")], 30, "services")
        run_bounded(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(d, "client_key")], 30, "services")
        shutil.copy(os.path.join(d, "client_key.pub"), os.path.join(d, "authorized_keys"))
        hostkey = open(os.path.join(d, "host_key.pub")).read().split()[:2]
        with open(os.path.join(d, "known_hosts"), "w") as f:
            for h in self.spec["topology"]["hosts"]:
                f.write("%s %s %s\n" % (self.ip[h], hostkey[0], hostkey[1]))
        os.makedirs("/run/sshd", exist_ok=True)
        dests = self.setup_targets()
        for i, m in enumerate(self.spec["migrations"]):
            if m["transport"] == "ssh":
                dests.add(self.plan["plans"][i]["destination"])
        for h in sorted(dests):
            cfg = os.path.join(d, "sshd_%s.conf" % h)
            with open(cfg, "w") as f:
                f.write("ListenAddress %s\nPort 22\nHostKey %s\nAuthorizedKeysFile %s\nPidFile none\n"
                        "PermitRootLogin prohibit-password\nPasswordAuthentication no\nUsePAM no\nStrictModes no\n"
                        "Subsystem sftp internal-sftp\n"
                        % (self.ip[h], os.path.join(d, "host_key"), os.path.join(d, "authorized_keys")))
            self.popen(self.host(h), ["/usr/sbin/sshd", "-D", "-f", cfg, "-E", os.path.join(d, "sshd_%s.log" % h)])
        # sshd -D does not say when it listens: wait until the port answers.
        for h in sorted(dests):
            for _ in range(100):
                code, _, _ = self.run_in(h, ["/usr/bin/python3", "-c", "import socket,sys;"
                                             "socket.create_connection((sys.argv[1],22),1)", self.ip[h]], "services", 10)
                if code == 0:
                    break
                time.sleep(0.05)
            else:
                raise RuntimeError("sshd in host %s did not start (see %s)" % (h, d))

    # --- workloads
    def container_cmd(self, c):
        """A busybox process tree holding `checkpoint` bytes of state plus a counter that changes."""
        hold = max(0, int(c["checkpoint"]) - CHECKPOINT_BASELINE)
        parts = []
        chunk = 16 * 1024 * 1024
        while hold > 0:
            n = min(hold, chunk)
            # dd holds its n-byte buffer while blocked writing into a pipe nobody reads.
            parts.append("dd if=/dev/urandom bs=%d count=1 2>/dev/null | sleep 2147483647 &" % n)
            hold -= n
        parts.append("i=0; while :; do i=$((i+1)); echo $i; usleep 50000; done")
        return ["sh", "-c", " ".join(parts)]

    def create_container(self, name, m, phase):
        self.track_container(name)
        return self.docker(["create", "--name", name, "--label", CONTAINER_LABEL, "--network", "none", self.image]
                           + self.container_cmd(m["container"]), phase).strip()

    def start_container(self, name, phase, checkpoint=None, cap=STEP_CAP):
        if checkpoint:
            start_from_checkpoint(name, checkpoint, self.left(cap), phase)
        else:
            self.docker(["start", name], phase, cap=cap)
        pid = container_pid(name)
        with self.lock:
            self.state["container_pids"][name] = pid
            self.save_state()

    def last_counter(self, name, phase):
        out = self.docker(["logs", "--tail", "1", name], phase)
        return int(out.strip().splitlines()[-1]) if out.strip() else None

    def first_counter(self, name, phase, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            out = self.docker(["logs", name], phase)
            lines = out.strip().splitlines()
            if lines:
                return int(lines[0])
            time.sleep(0.05)
        return None

    # --- traffic and probes
    def start_traffic(self):
        topo_hosts = self.spec["topology"]["hosts"]
        for i, t in enumerate(self.spec["traffic"]):
            port = IPERF_BASE_PORT + i
            self.popen(self.host(t["to"]), ["iperf3", "-s", "-B", self.ip[t["to"]], "-p", str(port)])
        time.sleep(0.3)
        self.flows = {}
        for i, t in enumerate(self.spec["traffic"]):
            threading.Thread(target=self.traffic_thread, args=(i, t), daemon=True).start()
        del topo_hosts

    def traffic_thread(self, i, t):
        try:
            self.sleep_until(self.t0 + t["start"])
            with self.lock:
                self.flows[i] = self.start_flow(t, IPERF_BASE_PORT + i)
            if t.get("stop") is not None:
                self.sleep_until(self.t0 + t["stop"])
                with self.lock:
                    p = self.flows.get(i)
                    if p is not None and p.poll() is None:
                        p.terminate()
        except Aborted:
            pass

    def start_flow(self, t, port):
        cmd = ["iperf3", "-c", self.ip[t["to"]], "-p", str(port), "--forceflush", "-i", "0"]
        if t["kind"] == "udp":
            cmd += ["-u", "-b", "%d" % int(t["rate"])]
        if t.get("bytes") is not None and t["kind"] == "tcp":
            cmd += ["-n", "%d" % int(t["bytes"])]
        else:
            cmd += ["-t", "%d" % int(max(1, self.deadline - time.monotonic() + 5))]
        return self.popen(self.host(t["from"]), cmd)

    def probe_thread(self, i, p):
        try:
            spec = {"ip": self.ip[p["to"]], "at": self.t0 + p["at"], "every": p["every"], "count": p["count"],
                    "bytes": int(p["bytes"]), "new": bool(p["newConnection"])}
            proc = self.popen(self.host(p["from"]), self.helper("probe", json.dumps(spec)),
                              stdout=subprocess.PIPE, text=True)
            for line in proc.stdout:
                r = json.loads(line)
                if "error" in r:
                    warn("probe %s->%s failed: %s" % (p["from"], p["to"], r["error"]))
                    continue
                emit({"type": "probe", "from": p["from"], "to": p["to"], "sent_s": r["sent"] - self.t0,
                      "rtt_s": r["rtt"]})
            proc.wait()
        except Exception as e:  # noqa: BLE001 - reported, the run goes on
            self.errors.append("probe %d: %s" % (i, e))

    # --- request/response exchanges between hosts (key retrieval, control messages)
    def exchange(self, src, requests):
        reqs = [{"ip": self.ip[r["host"]], "req": int(r["req"]), "resp": int(r["resp"]), "new": bool(r["new"])}
                for r in requests]
        if not reqs:
            return 0.0, []
        proc, lock = self.agents[src]
        with lock:
            proc.stdin.write(json.dumps(reqs) + "\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
        r = json.loads(line) if line.startswith("{") else {"error": "agent on %s exited" % src}
        if "error" in r:
            raise RuntimeError("exchange from %s failed: %s" % (src, r["error"]))
        return r["end"] - r["start"], r["durations"]

    # --- migrations
    def transfer(self, m, src, dst, folder, index):
        dest_dir = os.path.join(self.rundir, "recv", str(index))
        os.makedirs(dest_dir, exist_ok=True)
        with self.lock:
            self.progress.setdefault(index, {})["recv_dir"] = dest_dir
        if m["transport"] == "ssh":
            t = time.monotonic()
            code, _, err = self.run_in(src, ["scp", "-q", "-r", "-B"] + self.ssh_client_options() + [
                folder, "root@%s:%s/" % (self.ip[dst], dest_dir)], "transfer", timeout=self.deadline)
            elapsed = time.monotonic() - t
            if code != 0:
                raise RuntimeError("scp %s->%s failed: %s" % (src, dst, err.strip()[-300:]))
        else:
            port = RECV_BASE_PORT + index
            recv = self.popen(self.host(dst), self.helper("recv", "--ip", self.ip[dst], "--port", str(port),
                                                         "--dest", dest_dir), stdout=subprocess.PIPE, text=True)
            self.wait_ready(recv, "receiver on %s" % dst)
            t = time.monotonic()
            code, _, err = self.run_in(src, self.helper("send", "--ip", self.ip[dst], "--port", str(port),
                                                        "--src", folder), "transfer", timeout=self.deadline)
            try:
                received = recv.wait(timeout=self.left(self.deadline))
            except subprocess.TimeoutExpired:
                raise StepTimeout("transfer", "the receiver on %s" % dst, self.left(self.deadline))
            if code != 0 or received != 0:
                raise RuntimeError("tcp transfer %s->%s failed: %s" % (src, dst, err.strip()[-300:]))
            elapsed = time.monotonic() - t
        return elapsed, os.path.join(dest_dir, os.path.basename(folder))

    def migrate(self, i, m, plan):
        src, dst = m["source"], plan["destination"]
        cname = self.containers[i]
        costs = self.spec["costs"]
        ctl = int(costs["controlBytes"])
        manager = self.spec["manager"]
        rec = {"type": "record", "index": i, "container": m["container"]["name"], "source": src, "destination": dst,
               "mode": m["mode"], "transport": m["transport"]}
        trig = m["trigger"]
        self.set_phase(i, "trigger")
        if trig["kind"] == "at":
            self.sleep_until(self.t0 + trig["at"])
        else:
            self.wait_threshold(trig)
        t_trig = time.monotonic()
        rec["trigger_s"] = t_trig - self.t0
        with self.lock:
            self.progress.setdefault(i, {})["t_trig"] = t_trig
        self.set_phase(i, "set-up")
        rec["setup_s"] = self.set_up(i, plan)
        self.set_phase(i, "decision")
        keys = [{"host": k["host"], "req": k["requestBytes"], "resp": k["responseBytes"], "new": k["newConnection"]}
                for k in plan.get("keyRequests", [])]
        key_s, key_each = self.exchange(src, keys)
        compute = float(costs.get("decisionCompute", 0)) + float(plan.get("computeSeconds", 0))
        if compute > 0:
            self.sleep_until(time.monotonic() + compute)
        rec["key_retrieval_s"] = key_s
        rec["key_requests"] = key_each
        rec["decision_s"] = time.monotonic() - t_trig
        self.check_abort()
        # MIGRATE: manager -> source (acknowledged).
        self.set_phase(i, "MIGRATE message")
        migrate_s, _ = self.exchange(manager, [{"host": src, "req": ctl, "resp": 1, "new": True}]) \
            if manager != src else (0.0, [])
        rec["migrate_msg_s"] = migrate_s
        if m["mode"] == "stateless":
            rec.update(self.move_stateless(i, m, cname, src, dst))
        elif m["mode"] == "cold":
            rec.update(self.move_cold(i, m, cname, src, dst))
        elif m["mode"] == "post-copy":
            criu_cap = CRIU_STEP_BASE + float(m["container"]["checkpoint"]) / CRIU_MIN_RATE
            rec.update(self.live.post_copy(i, m, cname, src, dst, criu_cap))
        elif m["mode"] == "pre-copy":
            criu_cap = CRIU_STEP_BASE + float(m["container"]["checkpoint"]) / CRIU_MIN_RATE
            rec.update(self.live.pre_copy(i, m, cname, src, dst, criu_cap, costs))
        else:
            raise RuntimeError("mode %s is not supported on this testbed" % m["mode"])
        # SUCCESS: destination -> source (acknowledged); then the service's traffic follows.
        self.set_phase(i, "SUCCESS message")
        success_s, _ = self.exchange(dst, [{"host": src, "req": ctl, "resp": 1, "new": True}])
        rec["success_msg_s"] = success_s
        rec["control_s"] = migrate_s + success_s
        rec["prepare_s"] = 0.0
        now = time.monotonic()
        rec["total_s"] = now - t_trig
        rec["redirect_s"] = now - self.t0
        self.set_phase(i, "redirect")
        self.redirect(m["container"]["name"], src, dst)
        # pre-copy says whether its rounds converged; every other mode has nothing to converge
        rec.setdefault("converged", True)
        verify = rec.pop("_verify", None)
        note = rec.pop("_note", None)
        if verify:
            # after the clock stops: the restored counter continued and its pages passed two checks
            self.set_phase(i, "verify")
            first, last = self.live.verify(*verify)
            rec["counter_restored"] = first
            if note:
                rec["note"] = "%s; restore verified (counter %d -> %d, %d page checks passed to %d)" % (
                    note, verify[1], first, (last - first) // 20, last)
            else:
                rec["note"] = "post-copy: CRIU lazy pages verified (counter %d -> %d, %d page checks passed to %d); " \
                    "%d B minimal image, %d B of pages pulled in %.3f s after the restore" % (
                        verify[1], first, (last - first) // 20, last, rec["minimal_bytes"], rec["lazy_bytes"],
                        rec["pages_s"])
        if m["mode"] == "cold":
            self.set_phase(i, "clean-up")
            self.docker(["rm", "-f", cname], "clean-up", check=False)
        self.set_phase(i, "done")
        emit(rec)

    def move_stateless(self, i, m, cname, src, dst):
        """Kill at the source, start a fresh container at the destination (its state starts over)."""
        new_name = "%s-r" % cname
        self.set_phase(i, "kill")
        t = time.monotonic()
        self.docker(["rm", "-f", cname], "kill")
        kill_s = time.monotonic() - t
        # RESTART: the source opens the migration's connection to the destination, as in every mode
        # (the protocol's message that has the destination start the container)
        self.set_phase(i, "RESTART message")
        restart_s = self.restart_message(m, src, dst)
        self.set_phase(i, "start")
        t = time.monotonic()
        self.create_container(new_name, m, "start")
        self.start_container(new_name, "start")
        start_s = time.monotonic() - t
        first = self.first_counter(new_name, "start")
        if first is None:
            raise RuntimeError("stateless restart of %s on %s produced no output" % (cname, dst))
        # as the simulator records a stateless move: the kill in checkpoint_s, the RESTART connection in
        # transfer_s, the start in restore_s
        return dict(checkpoint_s=kill_s, transfer_s=restart_s, restore_s=start_s, downtime_s=kill_s + restart_s + start_s,
                    checkpoint_bytes=0, transferred_bytes=0, rounds=0,
                    note="stateless: kill %.3fs, RESTART %.3fs, start %.3fs; counter restarted at %d" % (kill_s, restart_s, start_s, first))

    def ssh_client_options(self):
        """How scp and ssh reach a destination host's sshd: the run's key, its sshds' host key checked."""
        return ["-i", os.path.join(self.rundir, "client_key"),
                "-o", "UserKnownHostsFile=%s" % os.path.join(self.rundir, "known_hosts"),
                "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=30"]

    def restart_message(self, m, src, dst):
        """Seconds to open the migration's connection from the source to the destination: an ssh
        login running nothing (key exchange and authentication) or a new TCP request/response."""
        if m["transport"] != "ssh":
            seconds, _ = self.exchange(src, [{"host": dst, "req": int(self.spec["costs"]["controlBytes"]), "resp": 1, "new": True}])
            return seconds
        t = time.monotonic()
        code, _, err = self.run_in(src, ["ssh", "-q", "-o", "BatchMode=yes"] + self.ssh_client_options() + [
            "root@%s" % self.ip[dst], "true"], "RESTART message", timeout=self.deadline)
        if code != 0:
            raise RuntimeError("ssh %s->%s failed: %s" % (src, dst, err.strip()[-300:]))
        return time.monotonic() - t

    def move_cold(self, i, m, cname, src, dst):
        """CRIU checkpoint at the source, the files across the emulated network, restore at the destination;
        the restored counter must continue from the checkpointed one."""
        new_name = "%s-r" % cname
        cp = "cp%d" % i
        self.set_phase(i, "checkpoint")
        if self.plan.get("options", {}).get("faultInjection") == "criu-hang":
            self.arm_hang_flag()
        # A dump or restore writes or reads the container's memory: far quicker than this floor rate.
        criu_cap = CRIU_STEP_BASE + float(m["container"]["checkpoint"]) / CRIU_MIN_RATE
        t_cp = time.monotonic()
        self.docker(["checkpoint", "create", cname, cp], "checkpoint", cap=criu_cap)
        checkpoint_s = time.monotonic() - t_cp
        cid = self.docker(["inspect", "-f", "{{.Id}}", cname], "checkpoint").strip()
        folder = "/var/lib/docker/containers/%s/checkpoints/%s" % (cid, cp)
        before = self.last_counter(cname, "checkpoint")
        size = dir_bytes(folder)
        # The checkpoint files cross the emulated network (connection set-up included).
        self.set_phase(i, "transfer")
        transfer_s, received = self.transfer(m, src, dst, folder, i)
        self.set_phase(i, "restore")
        t = time.monotonic()
        nid = self.create_container(new_name, m, "restore")
        target = "/var/lib/docker/containers/%s/checkpoints" % nid
        os.makedirs(target, exist_ok=True)
        shutil.copytree(received, os.path.join(target, cp))
        self.start_container(new_name, "restore", checkpoint=cp, cap=criu_cap)
        restore_s = time.monotonic() - t
        downtime = time.monotonic() - t_cp
        after = self.first_counter(new_name, "restore")
        if after is None or before is None or after < before:
            raise RuntimeError("restored %s did not continue from its checkpoint (checkpointed counter %s, "
                               "restored %s)" % (cname, before, after))
        return dict(checkpoint_s=checkpoint_s, transfer_s=transfer_s, restore_s=restore_s, downtime_s=downtime,
                    checkpoint_bytes=size, transferred_bytes=dir_bytes(received), rounds=1,
                    counter_checkpointed=before, counter_restored=after,
                    note="cold: CRIU checkpoint verified (counter %d -> %d)" % (before, after))

    def arm_hang_flag(self):
        """The hang test's fault: the testbed's CRIU wrapper blocks until the run's deadline."""
        os.makedirs(os.path.dirname(HANG_FLAG), exist_ok=True)
        with open(HANG_FLAG, "w") as f:
            f.write("%d\n" % int(time.time() + max(0, self.deadline - time.monotonic())))
        with self.lock:
            self.state["hang_flag"] = True
            self.save_state()

    def counter_reader(self, trig):
        """A function returning the cumulative counter a threshold trigger watches: bits sent +
        received on a port, or packets sent by a switch's ports."""
        if trig["kind"] == "port":
            node, sep, num = trig["port"].rpartition("-eth")
            if not sep or node not in self.iname or not num.isdigit():
                raise RuntimeError("trigger port %s is not a port of the topology" % trig["port"])
            intf = "%s-eth%s" % (self.iname[node], num)
            pid = self.host(node).pid if node in self.hname else os.getpid()

            def read():
                stats = net_dev(pid).get(intf)
                if stats is None:
                    raise RuntimeError("interface %s (port %s) not found" % (intf, trig["port"]))
                return (stats[0] + stats[8]) * 8
            return read
        sw = trig["switch"]
        if sw not in self.sname:
            raise RuntimeError("trigger switch %s is not a switch of the topology" % sw)
        prefix = self.sname[sw] + "-eth"
        return lambda: sum(v[9] for k, v in net_dev(os.getpid()).items() if k.startswith(prefix))

    def wait_threshold(self, trig):
        """Polls the watched counter every measurement period from t = 0 and returns at the first
        sample where the last `samples` samples were all strictly above the threshold."""
        period = float(self.spec["measurement"]["period"])
        read = self.counter_reader(trig)
        prev, t_prev = read(), time.monotonic()
        run, k = 0, 1
        while True:
            self.sleep_until(self.t0 + k * period)
            k += 1
            v, now = read(), time.monotonic()
            rate = (v - prev) / max(now - t_prev, 1e-9)
            prev, t_prev = v, now
            run = run + 1 if rate > trig["above"] else 0
            if run >= int(trig["samples"]):
                return

    def redirect(self, container, src, dst):
        """Flows of the migrated container's service that end at the source move to the
        destination: the iperf3 client stops and a new one runs between the new end points."""
        for i, t in enumerate(self.spec["traffic"]):
            if t.get("service") != container or src not in (t["from"], t["to"]):
                continue
            with self.lock:
                old = self.flows.get(i)
                moved = dict(t, **{"from": dst if t["from"] == src else t["from"],
                                   "to": dst if t["to"] == src else t["to"]})
                self.spec["traffic"][i] = moved
            if t.get("bytes") is not None:
                warn("finite service flow %d is not redirected (iperf3 cannot resume a transfer)" % i)
                continue
            if old is not None and old.poll() is None:
                old.terminate()
                if moved["to"] != t["to"]:
                    port = IPERF_BASE_PORT + 100 + i
                    self.popen(self.host(moved["to"]), ["iperf3", "-s", "-B", self.ip[moved["to"]], "-p", str(port)])
                    time.sleep(0.2)
                else:
                    port = IPERF_BASE_PORT + i
                self.flows[i] = self.start_flow(moved, port)
            emit({"type": "redirect", "flow": i, "from": moved["from"], "to": moved["to"],
                  "at_s": time.monotonic() - self.t0})

    def migration_thread(self, i, m, plan):
        try:
            self.migrate(i, m, plan)
        except Exception as e:  # noqa: BLE001 - reported as the run's error, with the phase it was in
            phase = getattr(e, "phase", None) or self.phase.get(i, "start")
            with self.lock:
                self.errors.append({"migration": i, "phase": phase,
                                    "message": "migration %d (%s), phase %s: %s" % (i, m["container"]["name"], phase, e)})
            self.stop.set()

    def set_up(self, i, plan):
        """MTD set-up at the decision, as the simulator's protocol has it: by default the manager re-keys
        before every migration (a fresh secret and table), sending each key holder its material in an
        SSH session that runs a command, one holder after the other (`rekey.parallel`: all at once;
        `rekey.every`: once per period, later migrations of the period wait for it). Returns the
        seconds this migration waited for it."""
        msgs = [s for s in plan.get("setup", []) if s["from"] != s["to"]]
        if not msgs:
            return 0.0
        rekey = plan.get("rekey") or {}
        every = float(rekey.get("every", 0))
        parallel = bool(rekey.get("parallel", False))
        t = time.monotonic()
        if every <= 0:
            self.send_setup(i, msgs, parallel)
            return time.monotonic() - t
        period = int((t - self.t0) // every)
        with self.lock:
            done = self.rekeys.get(period)
            first = done is None
            if first:
                done = self.rekeys[period] = threading.Event()
        if first:
            try:
                self.send_setup(i, msgs, parallel)
            finally:
                done.set()
        else:
            while not done.wait(0.2):
                self.check_abort()
        return time.monotonic() - t

    def send_setup(self, i, msgs, parallel):
        def send(k, msg):
            payload = os.path.join(self.rundir, "setup-%d-%d" % (i, k))
            with open(payload, "wb") as f:
                f.write(b"\0" * int(msg["bytes"]))
            code, _, err = self.run_in(msg["from"], ["ssh", "-q", "-o", "BatchMode=yes"] + self.ssh_client_options() + [
                "root@%s" % self.ip[msg["to"]], "cat > /dev/null"], "set-up", timeout=self.deadline, stdin_file=payload)
            if code != 0:
                raise RuntimeError("set-up %s->%s failed: %s" % (msg["from"], msg["to"], err.strip()[-300:]))
        if not parallel:
            for k, msg in enumerate(msgs):
                self.check_abort()
                send(k, msg)
            return
        errors = []
        def one(k, msg):
            try:
                send(k, msg)
            except Exception as e:  # noqa: BLE001 - reported below, with the others
                errors.append(e)
        threads = [threading.Thread(target=one, args=(k, msg), daemon=True) for k, msg in enumerate(msgs)]
        for th in threads:
            th.start()
        for th in threads:
            while th.is_alive():
                th.join(0.2)
                self.check_abort()
        if errors:
            raise errors[0]

    def execute(self):
        spec = self.spec
        # pre-copy and post-copy need what Docker lacks (module livemig); refused here, before any set-up,
        # with the line saying what this testbed is missing
        self.live.check_modes(spec)
        t = time.monotonic()
        self.build()
        self.start_services()
        self.containers = []
        for i, m in enumerate(spec["migrations"]):
            name = "%s-%s-%d" % (self.tag, check_name("container", m["container"]["name"]), i)
            name = "migsim-%s-%s" % (os.path.basename(self.rundir)[-8:], name)
            if m["mode"] in LIVE_MODES:
                self.live.start(name, m["container"], "set-up")
            else:
                self.create_container(name, m, "set-up")
                self.start_container(name, "set-up")
            self.containers.append(name)
        emit({"type": "ready", "build_s": time.monotonic() - t,
              "hosts": {h: self.ip[h] for h in spec["topology"]["hosts"]}})
        self.t0 = time.monotonic()
        self.start_traffic()
        threads = []
        for i, p in enumerate(spec["probes"]):
            th = threading.Thread(target=self.probe_thread, args=(i, p), daemon=True)
            th.start()
            threads.append(th)
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
        counters = {}
        for h in spec["topology"]["hosts"]:
            intfs = net_dev(self.host(h).pid)
            counters[h] = {"rx_bytes": sum(v[0] for k, v in intfs.items() if k != "lo"),
                           "tx_bytes": sum(v[8] for k, v in intfs.items() if k != "lo")}
        emit({"type": "counters", "hosts": counters})

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
        if self.net is not None:
            try:
                self.net.stop()
            except Exception as e:  # noqa: BLE001
                log("net.stop: %s" % e)
        cleanup_state(self.state)
