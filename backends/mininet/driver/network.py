"""The emulated network of one run: the Mininet topology (hosts, Linux bridges, shaped links and
their queues, spanning tree when the topology has cycles), commands inside a host's network
namespace, the request/response services every host runs (hosttools.py), the exchanges the
protocol's messages travel by, and the interface counters a threshold trigger and the run's
summary read."""
import json
import os
import select
import subprocess
import sys
import threading

from hosttools import SERVER_PORT
from jsonout import warn
from netutil import (allow_congestion_control, has_cycle, net_dev, netem_available, prioritised_bridge_class,
                     spanning_tree_root)
from procs import StepTimeout, kill_tree
from testbed_names import STEP_CAP

DRIVER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migsim_driver.py")


def helper(*args):
    """The command line of one of the driver's helpers (hosttools.py), to run inside a host."""
    return ["/usr/bin/python3", DRIVER_SCRIPT] + list(args)


class Network:
    """The run's Mininet network; `ip` maps each topology host to its address once it is built."""

    def __init__(self, run):
        self.run = run
        self.mininet = None
        self.ip = {}
        # per host: its exchange agent process and the lock that keeps one exchange at a time on it
        self.agents = {}

    def build(self):
        from mininet.net import Mininet
        from mininet.nodelib import LinuxBridge
        from mininet.link import TCLink
        PrioritisedBridge = prioritised_bridge_class()
        from mininet.log import setLogLevel
        setLogLevel("error")
        run = self.run
        topo = run.spec["topology"]
        # Interface names are limited to 15 characters, so nodes get short per-run names.
        self.hname = {h: "%sh%d" % (run.tag, i + 1) for i, h in enumerate(topo["hosts"])}
        self.sname = {s: "%ss%d" % (run.tag, i + 1) for i, s in enumerate(topo["switches"])}
        self.iname = dict(self.hname, **self.sname)
        run.state["links"] = list(self.sname.values())
        run.save_state()
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
        self.mininet = net
        for h in topo["hosts"]:
            net.addHost(self.hname[h])
        root = spanning_tree_root(topo, run.spec.get("migrations", []))
        for i, s in enumerate(topo["switches"]):
            # The root bridge gets the lowest priority, so the spanning tree is the shortest-path tree
            # from the migration's source switch (every port has the same cost): the path the simulator takes.
            net.addSwitch(self.sname[s], cls=PrioritisedBridge if loops else LinuxBridge, stp=loops,
                          prio=1 if s == root else 100 + i, dpid="%016x" % (i + 1))
        queues = []
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
                        queues.append((intf, int(l["queue"])))
        net.start()
        for intf, q in queues:
            # Without netem, TCLink cannot size the queue: give the HTB leaf a drop-tail FIFO of the
            # topology's queue length (otherwise it is the interface's txqueuelen, 1000 packets).
            r = intf.node.popen(["tc", "qdisc", "add", "dev", intf.name, "parent", "5:1", "handle", "10:",
                                 "pfifo", "limit", str(q)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            out = r.communicate()[0]
            if r.returncode != 0:
                warn("queue size on %s not set: %s" % (intf.name, out.strip()))
        for h in net.hosts:
            run.track_pid(h.pid)
        if loops:
            if not net.waitConnected(timeout=90):
                raise RuntimeError("spanning tree did not converge within 90 s")
        cc = run.spec["network"].get("congestionControl")
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
        return self.mininet.get(self.hname[name])

    def run_in(self, host, args, phase, timeout=STEP_CAP, stdin_file=None):
        """Runs a command inside a host's namespace (no shell), its stdin from `stdin_file` if given;
        returns (code, stdout, stderr)."""
        run = self.run
        with open(stdin_file, "rb") if stdin_file else open(os.devnull, "rb") as stdin:
            p = self.host(host).popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=stdin, text=True)
        run.procs.append(p)
        run.track_pid(p.pid)
        limit = run.left(timeout)
        try:
            out, err = p.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            # scp runs its own ssh client: killing scp alone would leave that (and the sshd session
            # serving it) running for as long as the machine lives
            kill_tree(p.pid)
            p.communicate()
            raise StepTimeout(phase, "%s on %s" % (args[0], host), limit)
        return p.returncode, out, err

    def wait_ready(self, p, what, seconds=30):
        """A helper says "ready" on its first line once it listens."""
        ready, _, _ = select.select([p.stdout], [], [], self.run.left(seconds))
        line = p.stdout.readline() if ready else ""
        if line.strip() != "ready":
            raise RuntimeError("%s did not start%s" % (what, "" if ready else " within %d s" % seconds))

    def start_services(self):
        """A request/response server and an exchange agent in every host (hosttools.py)."""
        run = self.run
        hosts = run.spec["topology"]["hosts"]
        for h in hosts:
            p = run.popen(self.host(h), helper("server", "--ip", self.ip[h], "--port", str(SERVER_PORT)),
                          stdout=subprocess.PIPE, text=True)
            self.wait_ready(p, "request/response server on %s" % h)
        for h in hosts:
            p = self.host(h).popen(helper("agent"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=sys.stderr, text=True)
            run.procs.append(p)
            run.track_pid(p.pid)
            self.wait_ready(p, "exchange agent on %s" % h)
            self.agents[h] = (p, threading.Lock())

    def exchange(self, src, requests):
        """Request/responses from `src`, one after the other (key retrieval, control messages):
        (seconds for them all, each one's seconds)."""
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

    def message(self, src, dst, nbytes):
        """One protocol message on a new connection, acknowledged: its seconds."""
        seconds, _ = self.exchange(src, [{"host": dst, "req": int(nbytes), "resp": 1, "new": True}])
        return seconds

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

    def host_counters(self):
        """Bytes each host received and sent over the run (loopback left out)."""
        counters = {}
        for h in self.run.spec["topology"]["hosts"]:
            intfs = net_dev(self.host(h).pid)
            counters[h] = {"rx_bytes": sum(v[0] for k, v in intfs.items() if k != "lo"),
                           "tx_bytes": sum(v[8] for k, v in intfs.items() if k != "lo")}
        return counters

    def stop(self):
        if self.mininet is not None:
            self.mininet.stop()
