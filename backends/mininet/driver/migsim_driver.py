#!/usr/bin/python3
"""migsim testbed driver: replays one migsim run on Mininet + Docker + CRIU.

Run as root with the system Python (Mininet is a package of /usr/bin/python3):

    migsim_driver.py run PLAN.json [--deadline SECONDS]   one run; JSON lines on stdout
    migsim_driver.py cleanup RUNDIR                       remove what a killed run left behind
    migsim_driver.py preflight                            list what the testbed lacks (JSON)

The other sub-commands (server, exchange, probe, recv, send) are helpers the driver starts inside
Mininet host namespaces. Stdout carries only JSON lines ({"type": ...}); everything else, including
the output of child processes, goes to stderr. Stdin closing (the SSH connection dropped) aborts the
run, and every exit path removes the network, containers, processes and temporary files.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
IMAGE_DEFAULT = "migsim-busybox:1"
SERVER_PORT = 7000
IPERF_BASE_PORT = 5201
RECV_BASE_PORT = 7100
# State a container holds beyond the memory we allocate (busybox shell, CRIU metadata): measured
# around 190 kB for an idle busybox counter, plus one 64 kB pipe buffer.
CHECKPOINT_BASELINE = 256 * 1024
HEADER = struct.Struct("!QQ")

_out_lock = threading.Lock()
_out = None


def emit(obj):
    with _out_lock:
        _out.write(json.dumps(obj, separators=(",", ":")) + "\n")
        _out.flush()


def warn(message):
    emit({"type": "warning", "message": message})


def log(message):
    sys.stderr.write("[driver] %s\n" % message)
    sys.stderr.flush()


class Aborted(Exception):
    pass


def check_name(kind, value):
    if not isinstance(value, str) or not NAME.match(value) or value.startswith("-"):
        raise ValueError("invalid %s name %r (expected [A-Za-z0-9_.-]+)" % (kind, value))
    return value


# ------------------------------------------------------------------ helpers run in host namespaces

def recv_exact(sock, n):
    chunks = []
    while n > 0:
        chunk = sock.recv(min(n, 1 << 16))
        if not chunk:
            raise ConnectionError("connection closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def send_zeros(sock, n):
    block = b"\0" * (1 << 16)
    while n > 0:
        k = min(n, len(block))
        sock.sendall(block[:k])
        n -= k


def cmd_server(args):
    """Request/response server: each request is HEADER(request bytes, response bytes) + payload."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.ip, args.port))
    srv.listen(64)

    def handle(conn):
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while True:
                try:
                    req, resp = HEADER.unpack(recv_exact(conn, HEADER.size))
                except ConnectionError:
                    return
                recv_exact(conn, req)
                send_zeros(conn, resp)
        except OSError:
            pass
        finally:
            conn.close()

    print("ready", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def exchange_once(conns, ip, req, resp, new_connection):
    """One request/response; returns seconds (including the connection set-up when it opens one)."""
    t = time.monotonic()
    sock = None if new_connection else conns.get(ip)
    if sock is None:
        sock = socket.create_connection((ip, SERVER_PORT), timeout=60)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not new_connection:
            conns[ip] = sock
    sock.sendall(HEADER.pack(req, resp))
    send_zeros(sock, req)
    recv_exact(sock, resp)
    if new_connection:
        sock.close()
    return time.monotonic() - t


def cmd_exchange(args):
    """Sequential request/responses from this host; prints one JSON object with the durations."""
    reqs = json.loads(args.requests)
    conns = {}
    start = time.monotonic()
    durations = [exchange_once(conns, r["ip"], r["req"], r["resp"], r["new"]) for r in reqs]
    end = time.monotonic()
    for s in conns.values():
        s.close()
    print(json.dumps({"start": start, "end": end, "durations": durations}), flush=True)


def cmd_agent(_args):
    """A long-lived exchange client in one host: one JSON list of requests per stdin line, one JSON
    result per stdout line. Keeps process start-up out of the measured protocol phases."""
    print("ready", flush=True)
    for line in sys.stdin:
        reqs = json.loads(line)
        conns = {}
        try:
            start = time.monotonic()
            durations = [exchange_once(conns, r["ip"], r["req"], r["resp"], r["new"]) for r in reqs]
            end = time.monotonic()
            print(json.dumps({"start": start, "end": end, "durations": durations}), flush=True)
        except OSError as e:
            print(json.dumps({"error": str(e)}), flush=True)
        finally:
            for s in conns.values():
                s.close()


def cmd_probe(args):
    """Probes at absolute monotonic times: prints one JSON line per answered request."""
    p = json.loads(args.spec)
    conns = {}
    for i in range(p["count"]):
        at = p["at"] + i * p["every"]
        delay = at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sent = time.monotonic()
        try:
            rtt = exchange_once(conns, p["ip"], p["bytes"], p["bytes"], p["new"])
            print(json.dumps({"sent": sent, "rtt": rtt}), flush=True)
        except OSError as e:
            print(json.dumps({"sent": sent, "error": str(e)}), flush=True)


def cmd_recv(args):
    """Receives one tar stream on a TCP port and unpacks it into a folder."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.ip, args.port))
    srv.listen(1)
    print("ready", flush=True)
    conn, _ = srv.accept()
    os.makedirs(args.dest, exist_ok=True)
    with conn, conn.makefile("rb") as f, tarfile.open(fileobj=f, mode="r|") as tar:
        tar.extractall(args.dest)
    print("done", flush=True)


def cmd_send(args):
    sock = socket.create_connection((args.ip, args.port), timeout=60)
    with sock, sock.makefile("wb") as f:
        with tarfile.open(fileobj=f, mode="w|") as tar:
            tar.add(args.src, arcname=os.path.basename(args.src.rstrip("/")))
        f.flush()
        sock.shutdown(socket.SHUT_WR)
        sock.recv(1)  # wait for the receiver to close: the data is on the destination


# ------------------------------------------------------------------ the run

def sh(cmd, timeout=120, check=True):
    """Runs a command (an argument list, never a shell string) and returns its stdout."""
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd[:3]), r.returncode, r.stderr.strip()[-300:]))
    return r.stdout


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


def proc_start_time(pid):
    try:
        with open("/proc/%d/stat" % int(pid)) as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


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
        self.state = {"rundir": self.rundir, "pids": [], "containers": [], "links": []}
        self.net = None
        self.procs = []
        self.lock = threading.RLock()
        self.stop = threading.Event()
        self.errors = []
        self.t0 = None

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

    def run_in(self, host, args, timeout=120):
        """Runs a command inside a host's namespace (no shell); returns (code, stdout, stderr)."""
        p = self.host(host).popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                  text=True)
        self.procs.append(p)
        try:
            out, err = p.communicate(timeout=max(1, min(timeout, self.deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise Aborted("%s on %s timed out" % (args[0], host))
        return p.returncode, out, err

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
            warn("topology has cycles: Linux bridges run spanning tree, so routes follow the spanning tree "
                 "(not necessarily the simulator's shortest paths) and start-up waits for STP to converge")
        if not netem and any(l["latency"] > 0 for l in topo["links"]):
            warn("no netem on this kernel: link latencies are not emulated (no propagation delay); "
                 "bandwidth and queue sizes are")
        net = Mininet(controller=None, switch=LinuxBridge, link=TCLink, build=False, autoSetMacs=True,
                      waitConnected=False)
        self.net = net
        for h in topo["hosts"]:
            net.addHost(self.hname[h])
        for i, s in enumerate(topo["switches"]):
            net.addSwitch(self.sname[s], cls=LinuxBridge, stp=loops, dpid="%016x" % (i + 1))
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
                code, _, err = self.run_in(h, ["sysctl", "-q", "-w", "net.ipv4.tcp_congestion_control=%s" % cc])
                if code != 0:
                    warn("congestion control %s not set on %s: %s" % (cc, h, err.strip()))
                    break

    def host(self, name):
        return self.net.get(self.hname[name])

    def helper(self, *args):
        return ["/usr/bin/python3", os.path.abspath(__file__)] + list(args)

    def wait_ready(self, p, what):
        line = p.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError("%s did not start" % what)

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
        if any(m["transport"] == "ssh" for m in self.spec["migrations"]):
            self.start_sshds()

    def start_sshds(self):
        d = self.rundir
        sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(d, "host_key")])
        sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(d, "client_key")])
        shutil.copy(os.path.join(d, "client_key.pub"), os.path.join(d, "authorized_keys"))
        hostkey = open(os.path.join(d, "host_key.pub")).read().split()[:2]
        with open(os.path.join(d, "known_hosts"), "w") as f:
            for h in self.spec["topology"]["hosts"]:
                f.write("%s %s %s\n" % (self.ip[h], hostkey[0], hostkey[1]))
        os.makedirs("/run/sshd", exist_ok=True)
        dests = set()
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
                                             "socket.create_connection((sys.argv[1],22),1)", self.ip[h]])
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

    def start_container(self, name, m, restore_from=None):
        cmd = ["docker", "create", "--name", name, "--network", "none", self.image] + self.container_cmd(m["container"])
        self.track_container(name)
        cid = sh(cmd).strip()
        return cid

    def last_counter(self, name):
        out = sh(["docker", "logs", "--tail", "1", name])
        return int(out.strip().splitlines()[-1]) if out.strip() else None

    def first_counter(self, name, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            out = sh(["docker", "logs", name])
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
        if m["transport"] == "ssh":
            t = time.monotonic()
            code, _, err = self.run_in(src, [
                "scp", "-q", "-r", "-B", "-i", os.path.join(self.rundir, "client_key"),
                "-o", "UserKnownHostsFile=%s" % os.path.join(self.rundir, "known_hosts"),
                "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=30",
                folder, "root@%s:%s/" % (self.ip[dst], dest_dir)], timeout=self.deadline - time.monotonic())
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
                                                        "--src", folder), timeout=self.deadline - time.monotonic())
            if code != 0 or recv.wait(timeout=max(1, self.deadline - time.monotonic())) != 0:
                raise RuntimeError("tcp transfer %s->%s failed: %s" % (src, dst, err.strip()[-300:]))
            elapsed = time.monotonic() - t
        return elapsed, os.path.join(dest_dir, os.path.basename(folder))

    def migrate(self, i, m, plan):
        src, dst = m["source"], plan["destination"]
        cname = self.containers[i]
        costs = self.spec["costs"]
        ctl = int(costs.get("controlBytes", 200))
        manager = self.spec["manager"]
        rec = {"type": "record", "index": i, "container": m["container"]["name"], "source": src, "destination": dst,
               "mode": m["mode"], "transport": m["transport"]}
        trig = m["trigger"]
        if trig["kind"] == "at":
            self.sleep_until(self.t0 + trig["at"])
        else:
            self.wait_threshold(trig)
        t_trig = time.monotonic()
        rec["trigger_s"] = t_trig - self.t0
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
        migrate_s, _ = self.exchange(manager, [{"host": src, "req": ctl, "resp": 1, "new": True}]) \
            if manager != src else (0.0, [])
        rec["migrate_msg_s"] = migrate_s
        new_name = "%s-r" % cname
        if m["mode"] == "stateless":
            t = time.monotonic()
            sh(["docker", "rm", "-f", cname])
            kill_s = time.monotonic() - t
            t = time.monotonic()
            self.start_container(new_name, m)
            sh(["docker", "start", new_name])
            start_s = time.monotonic() - t
            first = self.first_counter(new_name)
            if first is None:
                raise RuntimeError("stateless restart of %s on %s produced no output" % (cname, dst))
            rec.update(checkpoint_s=0.0, transfer_s=0.0, restore_s=start_s, downtime_s=kill_s + start_s,
                       checkpoint_bytes=0, transferred_bytes=0, rounds=0,
                       note="stateless: kill %.3fs, start %.3fs; counter restarted at %d" % (kill_s, start_s, first))
        elif m["mode"] == "cold":
            cp = "cp%d" % i
            leaks_before = set(containerd_leaks())
            t_cp = time.monotonic()
            sh(["docker", "checkpoint", "create", cname, cp])
            checkpoint_s = time.monotonic() - t_cp
            cid = sh(["docker", "inspect", "-f", "{{.Id}}", cname]).strip()
            folder = "/var/lib/docker/containers/%s/checkpoints/%s" % (cid, cp)
            before = self.last_counter(cname)
            size = dir_bytes(folder)
            # The checkpoint files cross the emulated network (connection set-up included).
            transfer_s, received = self.transfer(m, src, dst, folder, i)
            t = time.monotonic()
            nid = self.start_container(new_name, m)
            target = "/var/lib/docker/containers/%s/checkpoints" % nid
            os.makedirs(target, exist_ok=True)
            shutil.copytree(received, os.path.join(target, cp))
            sh(["docker", "start", "--checkpoint", cp, new_name])
            restore_s = time.monotonic() - t
            downtime = time.monotonic() - t_cp
            self.remove_containerd_leaks(leaks_before, os.path.join(target, cp))
            after = self.first_counter(new_name)
            if after is None or before is None or after < before:
                raise RuntimeError("restored %s did not continue from its checkpoint (checkpointed counter %s, "
                                   "restored %s)" % (cname, before, after))
            rec.update(checkpoint_s=checkpoint_s, transfer_s=transfer_s, restore_s=restore_s, downtime_s=downtime,
                       checkpoint_bytes=size, transferred_bytes=dir_bytes(received), rounds=1,
                       counter_checkpointed=before, counter_restored=after,
                       note="cold: CRIU checkpoint verified (counter %d -> %d)" % (before, after))
        else:
            raise RuntimeError("mode %s is not supported on this testbed" % m["mode"])
        # SUCCESS: destination -> manager; then the source removes the old container.
        # SUCCESS: destination -> source (acknowledged); then the service's traffic follows.
        success_s, _ = self.exchange(dst, [{"host": src, "req": ctl, "resp": 1, "new": True}])
        rec["success_msg_s"] = success_s
        rec["control_s"] = migrate_s + success_s
        rec["prepare_s"] = 0.0
        now = time.monotonic()
        rec["total_s"] = now - t_trig
        rec["redirect_s"] = now - self.t0
        self.redirect(m["container"]["name"], src, dst)
        rec["converged"] = True
        if m["mode"] == "cold":
            sh(["docker", "rm", "-f", cname], check=False)
        emit(rec)

    def remove_containerd_leaks(self, before, folder):
        """containerd (docker 20.10) leaves a copy of every checkpoint it creates or restores in
        /tmp/ctrd-checkpoint*: remove the new ones that hold exactly this checkpoint."""
        try:
            with open(os.path.join(folder, "descriptors.json"), "rb") as f:
                ours = f.read()
        except OSError:
            return
        for d in set(containerd_leaks()) - before:
            try:
                with open(os.path.join(d, "descriptors.json"), "rb") as f:
                    same = f.read() == ours
            except OSError:
                continue
            if same:
                shutil.rmtree(d, ignore_errors=True)

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
        except Aborted as e:
            self.errors.append("migration %d: %s" % (i, e))
        except Exception as e:  # noqa: BLE001 - reported as the run's error
            self.errors.append("migration %d (%s): %s" % (i, m["container"]["name"], e))
            self.stop.set()

    def setup_messages(self):
        msgs = []
        for p in self.plan["plans"]:
            msgs += p.get("setup", [])
        total = 0.0
        for msg in msgs:
            s, _ = self.exchange(msg["from"], [{"host": msg["to"], "req": int(msg["bytes"]), "resp": 1, "new": True}])
            total += s
        return total

    def execute(self):
        spec = self.spec
        for m in spec["migrations"]:
            if m["mode"] not in ("cold", "stateless"):
                raise RuntimeError("mode %s is not supported on this testbed: docker checkpoint has no CRIU "
                                   "pre-dump or lazy-pages option; use cold or stateless" % m["mode"])
        t = time.monotonic()
        self.build()
        self.start_services()
        self.containers = []
        for i, m in enumerate(spec["migrations"]):
            name = "%s-%s-%d" % (self.tag, check_name("container", m["container"]["name"]), i)
            name = "migsim-%s-%s" % (os.path.basename(self.rundir)[-8:], name)
            self.start_container(name, m)
            sh(["docker", "start", name])
            self.containers.append(name)
        setup_s = self.setup_messages()
        emit({"type": "ready", "setup_s": setup_s, "build_s": time.monotonic() - t,
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
                    self.stop.set()
                    raise Aborted("run exceeded its deadline")
                if self.stop.is_set() and self.errors:
                    break
        if self.errors:
            raise RuntimeError("; ".join(self.errors))
        counters = {}
        for h in spec["topology"]["hosts"]:
            intfs = net_dev(self.host(h).pid)
            counters[h] = {"rx_bytes": sum(v[0] for k, v in intfs.items() if k != "lo"),
                           "tx_bytes": sum(v[8] for k, v in intfs.items() if k != "lo")}
        emit({"type": "counters", "hosts": counters})
        emit({"type": "setup", "setup_s": setup_s})

    def cleanup(self):
        self.stop.set()
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


def cleanup_state(state):
    """Removes what a state record lists: containers, processes, bridges/interfaces, the run folder."""
    for name in state.get("containers", []):
        if NAME.match(name):
            subprocess.run(["docker", "rm", "-f", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for pid, started in state.get("pids", []):
        # Only the very process that was recorded: a reused pid has another start time.
        if started is not None and proc_start_time(pid) == started:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
    for br in state.get("links", []):
        if NAME.match(br) and os.path.exists("/sys/class/net/%s" % br):
            # A switch's ports are named <switch>-ethN; deleting them removes the host ends too.
            for intf in os.listdir("/sys/class/net"):
                if intf.startswith(br + "-eth"):
                    subprocess.run(["ip", "link", "del", intf], stderr=subprocess.DEVNULL)
            subprocess.run(["ip", "link", "del", br], stderr=subprocess.DEVNULL)
    rundir = state.get("rundir", "")
    if rundir.startswith(tempfile.gettempdir() + "/migsim-tbrun-") and os.path.isdir(rundir):
        shutil.rmtree(rundir, ignore_errors=True)


def cmd_cleanup(args):
    path = os.path.join(args.rundir, "state.json")
    if not os.path.exists(path):
        emit({"type": "cleanup", "removed": False, "message": "no state in %s" % args.rundir})
        return 0
    with open(path) as f:
        cleanup_state(json.load(f))
    emit({"type": "cleanup", "removed": True})
    return 0


def cmd_preflight(_args):
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
    criu = shutil.which("criu")
    if criu is None:
        missing.append({"what": "criu", "fix": "run backends/mininet/setup-testbed.sh (builds CRIU 4.1.1)"})
    elif subprocess.run([criu, "check"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
        missing.append({"what": "working criu (`criu check` fails)",
                        "fix": "run backends/mininet/setup-testbed.sh (builds CRIU 4.1.1)"})
    if shutil.which("docker"):
        r = subprocess.run(["docker", "info", "--format", "{{.ExperimentalBuild}}"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True, timeout=20)
        if r.returncode != 0:
            missing.append({"what": "running dockerd", "fix": "start `dockerd --experimental` (setup-testbed.sh does)"})
        elif r.stdout.strip() != "true":
            missing.append({"what": "dockerd in experimental mode", "fix": "restart dockerd with --experimental"})
        else:
            r = subprocess.run(["docker", "image", "inspect", _args.image], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            if r.returncode != 0:
                fix = "run backends/mininet/setup-testbed.sh" if _args.image == IMAGE_DEFAULT else \
                    "build or import it on the testbed (busybox sh, dd, sleep, usleep are needed)"
                missing.append({"what": "image %s" % _args.image, "fix": fix})
    if os.geteuid() != 0:
        missing.append({"what": "root", "fix": "log in as root (Mininet, Docker and CRIU need it)"})
    emit({"type": "preflight", "missing": missing, "netem": netem_available()})
    return 0


def cmd_run(args):
    with open(args.plan) as f:
        plan = json.load(f)
    run = Run(plan, time.monotonic() + args.deadline)

    def on_signal(signum, _frame):
        run.stop.set()
        raise Aborted("interrupted by signal %d" % signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    def watch_stdin():
        # The controlling side keeps stdin open; EOF means it went away.
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
        emit({"type": "error", "message": str(e) or e.__class__.__name__})
        code = 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        run.cleanup()
        emit({"type": "cleaned"})
    return code


def main():
    global _out
    # Keep stdout for JSON lines only: fd 1 goes to stderr, so children cannot write into it.
    _out = os.fdopen(os.dup(1), "w")
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
    p = sub.add_parser("preflight")
    p.add_argument("--image", default=IMAGE_DEFAULT)
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
        sys.stdout = _out
    fn = {"run": cmd_run, "cleanup": cmd_cleanup, "preflight": cmd_preflight, "server": cmd_server,
          "exchange": cmd_exchange, "agent": cmd_agent, "probe": cmd_probe, "recv": cmd_recv, "send": cmd_send}[args.cmd]
    sys.exit(fn(args) or 0)


if __name__ == "__main__":
    main()
