"""A stand-in for everything outside the driver (Mininet, the hosts' processes, docker, runc, CRIU,
the kernel's counters), so a whole `migsim_driver.py run` executes on any machine and every
command it would send is recorded, in order, in `World.log`.

Nothing here touches the machine: commands are never run, no signal is sent (the fake pids lie
above any kernel's pid_max), docker's and sshd's folders are redirected into a scratch folder, and
the run folder's name ends in a fixed suffix so two runs' logs compare equal. Each JSON line the
driver prints is in the log too (["emit", type]), where it was printed.

Faked by name in every driver module that holds the name (so the fakes follow a function that
moves between modules): emit (recorded, then printed), run_bounded, start_from_checkpoint, kill_pids, children_map, net_dev,
netem_available, allow_congestion_control, mode_problems, raise_pipe_max_size, containerd_leaks,
dir_bytes. Faked globally for the test's duration: subprocess.Popen (runc and CRIU), os.makedirs,
shutil.copytree, tempfile.mkdtemp, and the `mininet` package.
"""
import io
import json
import os
import shutil
import sys
import tempfile
import threading
import types
from unittest import mock

DRIVER = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if DRIVER not in sys.path:
    sys.path.insert(0, DRIVER)

from fakeprocs import FakeBridgeEnd, FakeHost, FakeLink, FakeProc, FakeStdin, FakeStdout  # noqa: E402

# above any kernel's pid_max (2^22): no real process has these pids
PROC_PID = 9_200_000
CONTAINER_PID = 9_300_000
RUN_SUFFIX = "testrnzz"
# paths the driver writes outside its run folder; redirected into the world's scratch folder
REDIRECTED = ("/var/lib/docker", "/run/sshd")
ORIGINAL_MAKEDIRS = os.makedirs
ORIGINAL_COPYTREE = shutil.copytree
ORIGINAL_MKDTEMP = tempfile.mkdtemp


def thread_key():
    """Which of the driver's threads sent a command, named the same from run to run: the main
    thread, or a thread's target with its index (flows, probes, migrations and set-up sessions are
    numbered). Threads run in an order the machine's load decides; each thread's own order does not."""
    t = threading.current_thread()
    if t is threading.main_thread():
        return "main"
    args = getattr(t, "_args", ())
    name = getattr(getattr(t, "_target", None), "__name__", "thread")
    return "%s %d" % (name, args[0]) if args and isinstance(args[0], int) else name


class World:
    """The recorded run: `log` holds every command in the order the driver sent it, `threads` the
    thread that sent each."""

    def __init__(self, scratch):
        self.scratch = scratch
        self.log = []
        self.threads = []
        self.lock = threading.Lock()
        self.pids = 0
        self.procs = []
        self.nodes = {}
        self.ports = {}
        self.containers = {}
        self.recv = {}
        # what a test makes go wrong: {"scp": "timeout" | "until-killed", ...}
        self.faults = {}
        # pre-copy: the dirty bytes each round leaves (soft-dirty bits, faked)
        self.dirty = []
        self.children = {}
        self.rundir = None
        self.reads = 0
        self.netem = True

    # --- bookkeeping
    def record(self, *entry):
        with self.lock:
            self.log.append(list(entry))
            self.threads.append(thread_key())

    def next_pid(self):
        with self.lock:
            self.pids += 1
            return PROC_PID + self.pids

    def path(self, p):
        """A path the driver writes outside its run folder, inside the scratch folder instead."""
        p = os.fspath(p)
        for root in REDIRECTED:
            if p == root or p.startswith(root + "/"):
                return self.scratch + p
        return p

    def normalised(self):
        """The log with the run folder and the driver's folder named, so two runs compare equal."""
        text = json.dumps(self.log)
        if self.rundir:
            text = text.replace(self.rundir, "RUNDIR")
        return json.loads(text.replace(DRIVER, "DRIVER"))

    def alive(self):
        return [p.args for p in self.procs if p.returncode is None]

    # --- the Mininet package
    def mininet_modules(self):
        world = self

        class Mininet:
            def __init__(self, **kw):
                world.record("mininet", "new", sorted(kw))
                self.hosts, self.switches = [], []

            def addHost(self, name):
                world.record("mininet", "addHost", name)
                h = FakeHost(world, name, len(self.hosts))
                world.nodes[name] = h
                self.hosts.append(h)
                return h

            def addSwitch(self, name, cls=None, stp=False, prio=None, dpid=None):
                world.record("mininet", "addSwitch", name, cls.__name__, stp, prio, dpid)
                s = FakeBridgeEnd(world, name)
                world.nodes[name] = s
                self.switches.append(s)
                return s

            def addLink(self, a, b, params1=None, params2=None):
                world.record("mininet", "addLink", a, b, params1, params2)
                na = world.ports[a] = world.ports.get(a, -1) + 1
                nb = world.ports[b] = world.ports.get(b, -1) + 1
                return FakeLink(world.nodes[a], world.nodes[b], na, nb)

            def start(self):
                world.record("mininet", "start")

            def waitConnected(self, timeout=None):
                world.record("mininet", "waitConnected", timeout)
                return True

            def get(self, name):
                return world.nodes[name]

            def stop(self):
                world.record("mininet", "stop")

        class LinuxBridge:
            pass

        class TCLink:
            pass

        mods = {n: types.ModuleType(n) for n in ("mininet", "mininet.net", "mininet.nodelib", "mininet.link", "mininet.log")}
        mods["mininet.net"].Mininet = Mininet
        mods["mininet.nodelib"].LinuxBridge = LinuxBridge
        mods["mininet.link"].TCLink = TCLink
        mods["mininet.log"].setLogLevel = lambda level: None
        return mods

    # --- commands inside a Mininet host
    def host_command(self, host, args):
        helper = args[2] if len(args) > 2 and args[1].endswith("migsim_driver.py") else None
        # times, not choices: an iperf3 client's duration (what is left of the run), a probe's start
        # (on this machine's monotonic clock)
        shown = [("<s>" if i and args[0] == "iperf3" and args[i - 1] == "-t" else a) for i, a in enumerate(args)]
        if helper == "probe":
            shown[3] = json.dumps(dict(json.loads(args[3]), at="<t>"))
        self.record("popen", host.name, shown)
        if helper == "probe":
            count = json.loads(args[3])["count"]
            answer = "not json\n" if self.faults.get("probe") == "garbage" else json.dumps({"sent": 1.0, "rtt": 0.01}) + "\n"
            out = FakeStdout([answer] * count)
            out.close_stream()
            return FakeProc(self, args, stdout=out)
        if helper in ("server", "recv"):
            p = FakeProc(self, args, lasting=True, stdout=FakeStdout(["ready\n"]))
            if helper == "recv":
                self.recv[args[args.index("--port") + 1]] = (args[args.index("--dest") + 1], p)
            return p
        if helper == "agent":
            out = FakeStdout(["ready\n"])
            p = FakeProc(self, args, lasting=True, stdout=out)

            def answer(line):
                reqs = json.loads(line)
                self.record("exchange", host.name, [[r["ip"], r["req"], r["resp"], r["new"]] for r in reqs])
                out.push(json.dumps({"start": 1.0, "end": 1.25, "durations": [0.125] * len(reqs)}) + "\n")
            p.stdin = FakeStdin(answer)
            return p
        if helper == "send":
            src = args[args.index("--src") + 1]
            dest, recv = self.recv[args[args.index("--port") + 1]]
            ORIGINAL_COPYTREE(self.path(src), os.path.join(dest, os.path.basename(src.rstrip("/"))))
            recv._end(0)
            return FakeProc(self, args)
        if args[0] == "scp":
            src, target = args[-2], args[-1].split(":", 1)[1]
            ORIGINAL_COPYTREE(self.path(src), os.path.join(target, os.path.basename(src.rstrip("/"))))
            fault = self.faults.get("scp")
            if fault:
                p = FakeProc(self, args, lasting=fault == "until-killed", hang="timeout" if fault == "timeout" else "until-killed")
                # scp runs its own ssh client: the tree a timeout must take down
                ssh = FakeProc(self, ["ssh", "(scp's client)"], lasting=True)
                self.children[p.pid] = [ssh.pid]
                return p
            return FakeProc(self, args)
        if args[0] in ("iperf3", "/usr/sbin/sshd"):
            return FakeProc(self, args, lasting=True)
        return FakeProc(self, args)

    # --- commands the driver runs in its own namespace (run_bounded, Popen)
    def run_bounded(self, cmd, timeout, phase, check=True):
        self.record("run", list(cmd), phase)
        if cmd[:2] == ["docker", "create"]:
            name = cmd[cmd.index("--name") + 1]
            self.containers[name] = "id-" + name
            return "id-%s\n" % name
        if cmd[:2] == ["docker", "inspect"]:
            if cmd[3] == "{{.Id}}":
                return self.containers.get(cmd[4], "id-" + cmd[4]) + "\n"
            return "%d\n" % (CONTAINER_PID + sorted(self.containers).index(cmd[4]) if cmd[4] in self.containers else 0)
        if cmd[:3] == ["docker", "checkpoint", "create"]:
            folder = self.path("/var/lib/docker/containers/%s/checkpoints/%s" % (self.containers[cmd[3]], cmd[4]))
            ORIGINAL_MAKEDIRS(folder)
            for name, size in (("pages-1.img", 40960), ("inventory.img", 42)):
                with open(os.path.join(folder, name), "wb") as f:
                    f.write(b"p" * size)
            return ""
        if cmd[:2] == ["docker", "logs"]:
            name = cmd[-1]
            if name.endswith("-r") and not self.containers_started_fresh(name):
                return "8\n9\n"
            return "1\n2\n3\n4\n5\n6\n7\n" if "--tail" not in cmd else "7\n"
        if cmd[:2] == ["docker", "export"]:
            with open(cmd[3], "wb") as f:
                f.write(b"tar")
            return ""
        if cmd[0] == "ssh-keygen":
            key = cmd[cmd.index("-f") + 1]
            for p in (key, key + ".pub"):
                with open(p, "w") as f:
                    f.write("ssh-ed25519 AAAAtestkey root@test\n")
            return ""
        if cmd[:2] == ["runc", "spec"]:
            with open(os.path.join(cmd[cmd.index("--bundle") + 1], "config.json"), "w") as f:
                json.dump({"process": {"args": ["sh"]}, "root": {"path": "rootfs"}}, f)
            return ""
        if cmd[:3] == ["runc", "--root", cmd[2]] and cmd[3] == "state":
            return json.dumps({"pid": CONTAINER_PID + 77})
        return ""

    def containers_started_fresh(self, name):
        """A stateless move's container starts from scratch (no --checkpoint start in the log)."""
        return not any(e[0] == "start_from_checkpoint" and e[1] == name for e in self.log)

    def start_from_checkpoint(self, name, checkpoint, timeout, phase):
        self.record("start_from_checkpoint", name, checkpoint, phase)
        return ""

    def popen(self, args, stdout=None, stderr=None, stdin=None, text=None, pass_fds=(), **_kw):
        """subprocess.Popen for runc and CRIU (Live): each does its part of the file work."""
        args = list(args)
        # the status pipe's descriptor number depends on what else the process has open
        self.record("spawn", [("<fd>" if i and args[i - 1] == "--status-fd" else a) for i, a in enumerate(args)])
        core = args[2:] if args[0] == "nsenter" else args
        if core[0] == "runc" and core[1] == "--log":
            core = core[:1] + core[3:]
        if core[0] == "runc":
            verb = core[3]
            if verb == "run":
                return FakeProc(self, args, stdout=io.StringIO("1\n2\n3\n"))
            if verb == "checkpoint":
                img = core[core.index("--image-path") + 1]
                if "--lazy-pages" in core:
                    os.write(int(core[core.index("--status-fd") + 1]), b"\0")
                    with open(os.path.join(img, "pages-1.img"), "wb") as f:
                        f.write(b"m" * 8192)
                    return FakeProc(self, args)
                ORIGINAL_MAKEDIRS(img, exist_ok=True)
                n = len([d for d in os.listdir(os.path.dirname(img)) if not d.endswith("-work") and d != "send"])
                with open(os.path.join(img, "pages-1.img"), "wb") as f:
                    f.write(b"p" * 4096 * max(1, 16 - 4 * n))
                if "--parent-path" in core:
                    os.symlink(core[core.index("--parent-path") + 1], os.path.join(img, "parent"))
                return FakeProc(self, args)
            if verb == "restore":
                hang = self.faults.get("runc restore")
                lines = "".join("%d\n" % v for v in range(4, 51))
                return FakeProc(self, args, stdout=io.StringIO(lines), hang=hang)
        if core[0] == "criu" and core[1] == "lazy-pages":
            work = core[core.index("-W") + 1]
            with open(os.path.join(work, "lazy-pages.socket"), "w"):
                pass
            with open(os.path.join(work, "lazy-pages.log"), "w") as f:
                # CRIU's stamped lines: the pages it will pull, then its disconnect once they are in
                f.write("(00.000100) uffd: 1-11: Found 25 pages to be handled by UFFD\n"
                        "(00.000200) page-xfer: Disconnect from the page server\n")
            return FakeProc(self, args)
        return FakeProc(self, args)

    def kill_pids(self, pids):
        # one entry per signal: what the machine would see, however the driver batches its calls
        for pid in pids:
            self.record("SIGKILL", pid)
        for p in self.procs:
            if p.pid in pids:
                p._end(-9)

    def children_map(self):
        return {k: list(v) for k, v in self.children.items()}

    def net_dev(self, pid):
        """Every interface's counters, all grown by the same amount at each read."""
        with self.lock:
            self.reads += 1
            n = self.reads
            names = ["lo"] + ["%s-eth%d" % (node, k) for node, last in sorted(self.ports.items()) for k in range(last + 1)]
        return {name: [n * 100000 + i for i in range(16)] for name in names}

    def dir_bytes(self, path):
        total = 0
        for root, _, files in os.walk(self.path(path)):
            for f in files:
                total += os.path.getsize(os.path.join(root, f))
        return total

    def dirty_bytes(self, pids):
        return self.dirty.pop(0)

    # --- installing the fakes
    def patches(self):
        """Context managers that put this world in place of the machine."""
        world = self
        import jsonout
        emit = jsonout.emit

        def emit_recorded(obj):
            world.record("emit", obj["type"])
            emit(obj)

        names = {
            "emit": emit_recorded,
            "run_bounded": self.run_bounded,
            "start_from_checkpoint": self.start_from_checkpoint,
            "kill_pids": self.kill_pids,
            "children_map": self.children_map,
            "net_dev": self.net_dev,
            "netem_available": lambda: world.netem,
            "allow_congestion_control": lambda cc: world.record("allow_congestion_control", cc),
            "mode_problems": lambda image: {"pre-copy": None, "post-copy": None},
            "raise_pipe_max_size": lambda: world.record("raise_pipe_max_size"),
            "containerd_leaks": lambda: [],
            "dir_bytes": self.dir_bytes,
            "hold_testbed": lambda: None,
        }
        out = []
        for mod in list(sys.modules.values()):
            f = getattr(mod, "__file__", None)
            if not f or os.path.dirname(os.path.abspath(f)) != DRIVER:
                continue
            for name, fake in names.items():
                if hasattr(mod, name):
                    out.append(mock.patch.object(mod, name, fake))

        def makedirs(p, *a, **kw):
            return ORIGINAL_MAKEDIRS(world.path(p), *a, **kw)

        def copytree(a, b, *args, **kw):
            return ORIGINAL_COPYTREE(world.path(a), world.path(b), *args, **kw)

        def mkdtemp(suffix=None, prefix=None, dir=None):
            if prefix == "migsim-tbrun-":
                world.rundir = ORIGINAL_MKDTEMP(suffix=RUN_SUFFIX, prefix=prefix, dir=dir)
                return world.rundir
            return ORIGINAL_MKDTEMP(suffix=suffix, prefix=prefix, dir=dir)

        out += [mock.patch("os.makedirs", makedirs), mock.patch("shutil.copytree", copytree),
                mock.patch("tempfile.mkdtemp", mkdtemp), mock.patch("subprocess.Popen", self.popen),
                mock.patch.dict(sys.modules, self.mininet_modules())]
        import precopy
        defaults = precopy.pre_copy.__defaults__
        out.append(mock.patch.object(precopy.pre_copy, "__defaults__", defaults[:-1] + (self.dirty_bytes,)))
        return out

    def close(self):
        for p in self.procs:
            if isinstance(p.stdout, FakeStdout):
                p.stdout.release()
