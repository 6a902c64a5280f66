"""Facts about the testbed machine's network the run reads: netem support, interface counters,
allowed congestion controls, topology cycles (spanning tree), and containerd's leftover copies."""
import os
import subprocess
import tempfile

from jsonout import warn


def netem_available():
    r = subprocess.run(["unshare", "-n", "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.returncode == 0


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def dir_files(path):
    """files under `path`: what an SFTP copy of the folder opens, closes and stats one by one"""
    return sum(len(files) for _, _, files in os.walk(path))


def net_dev(pid):
    """Interface counters of the network namespace `pid` lives in: name -> 16 numbers
    (rx bytes, packets, errs, drop, fifo, frame, compressed, multicast, then the same for tx)."""
    out = {}
    with open("/proc/%d/net/dev" % pid) as f:
        for line in f.readlines()[2:]:
            name, _, rest = line.partition(":")
            out[name.strip()] = [int(x) for x in rest.split()]
    return out


def containerd_leaks():
    tmp = tempfile.gettempdir()
    try:
        return [os.path.join(tmp, n) for n in os.listdir(tmp) if n.startswith("ctrd-checkpoint")]
    except OSError:
        return []


def allow_congestion_control(cc):
    """A network namespace other than the initial one may only pick an algorithm listed in
    net.ipv4.tcp_allowed_congestion_control (here `reno bbr`): add it there (system-wide; it only
    widens what unprivileged sockets may choose)."""
    path = "/proc/sys/net/ipv4/tcp_allowed_congestion_control"
    try:
        with open(path) as f:
            allowed = f.read().split()
        if cc not in allowed:
            with open(path, "w") as f:
                f.write(" ".join(allowed + [cc]))
    except OSError as e:
        warn("could not allow congestion control %s: %s" % (cc, e))


def has_cycle(names, links):
    parent = {n: n for n in names}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for l in links:
        a, b = find(l["a"]), find(l["b"])
        if a == b:
            return True
        parent[a] = b
    return False


def spanning_tree_root(topo, migrations):
    """The switch the spanning tree is rooted at: the one the first migration's source hangs off
    (the first switch when there is none)."""
    switches = set(topo["switches"])
    if migrations:
        src = migrations[0]["source"]
        for l in topo["links"]:
            for a, b in ((l["a"], l["b"]), (l["b"], l["a"])):
                if a == src and b in switches:
                    return b
    return topo["switches"][0] if topo["switches"] else None


def prioritised_bridge_class():
    """Mininet's LinuxBridge runs `brctl setbridgeprio PRIO` without the bridge's name, so every
    bridge keeps the default priority and the root is whichever has the lowest MAC address, a
    different one from run to run (measured: the same 4 MB copy took 3.8 s on one run, 9.0 s on
    the next, over the slow branch). This subclass sets the priority it was given."""
    from mininet.nodelib import LinuxBridge

    class PrioritisedBridge(LinuxBridge):
        def start(self, controllers):
            LinuxBridge.start(self, controllers)
            if self.stp:
                # the bridge is in the root namespace (Mininet switches are); an argument list, bounded
                r = subprocess.run(["brctl", "setbridgeprio", self.name, str(self.prio)], capture_output=True, text=True, timeout=10)
                if r.returncode != 0:
                    raise RuntimeError("brctl setbridgeprio %s %s failed: %s" % (self.name, self.prio, r.stderr.strip()))

    return PrioritisedBridge
