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
