#!/usr/bin/python3
"""Calibration measurements on a real local Mininet (run through run.sh, as root).

Topology (a dumbbell): h1 h2 h3 - s1 ==(shaped, HTB bw=B Mbit/s, default 1000-packet queue)== s2 - h4 h5 h6.
Host links are plain veth pairs (unshaped). LinuxBridge switches, no controller, no netem
(this kernel has none, so propagation delay is ~0 and only bandwidth and queues are emulated).

Scenarios, for each congestion control (cubic, bbr), set per namespace (sysctl) and per socket:
  single         one transfer of S bytes h1->h4
  together2/3    two/three transfers of S bytes started together (h1->h4, h2->h5, h3->h6)
  staggered2/3   the same, each started `gap` seconds after the previous one
  same-dir       an iperf3 flow h2->h5 runs for `warmup` s, then a transfer of C bytes h1->h4
  opposite-dir   an iperf3 flow h5->h2 runs for `warmup` s, then a transfer of S bytes h1->h4
  rtt            100-byte request/response h1->h4 over an open connection and with a new
                 connection per request, across the idle path and beside an iperf3 flow
                 (same direction h2->h5 and opposite h5->h2)
Transfers write their receive progress every 0.25 s; the bottleneck queues (tc -s -j) are sampled
every 0.1 s. One JSON object per scenario run is appended to --out.
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time

from mininet.link import Link, TCLink
from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge
from mininet.topo import Topo

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "tcptool.py")
PY = "/usr/bin/python3"
SINK_PORT = 6000
ECHO_PORT = 7000
IPERF_PORT = 5201


class Dumbbell(Topo):
    def build(self, bw):
        s1 = self.addSwitch("s1")
        s2 = self.addSwitch("s2")
        for i in (1, 2, 3):
            self.addLink(self.addHost("h%d" % i), s1, cls=Link)
        for i in (4, 5, 6):
            self.addLink(self.addHost("h%d" % i), s2, cls=Link)
        self.addLink(s1, s2, cls=TCLink, bw=bw)


class Reader:
    """Collects the JSON lines a process prints, in a thread."""

    def __init__(self, proc, name):
        self.proc = proc
        self.name = name
        self.lines = []
        self.errors = []
        self.cv = threading.Condition()
        threading.Thread(target=self._out, daemon=True).start()
        threading.Thread(target=self._err, daemon=True).start()

    def _out(self):
        for line in self.proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                obj = {"kind": "text", "text": line}
            with self.cv:
                self.lines.append(obj)
                self.cv.notify_all()

    def _err(self):
        for line in self.proc.stderr:
            self.errors.append(line.rstrip())

    def wait_for(self, pred, timeout):
        end = time.time() + timeout
        with self.cv:
            while True:
                hit = [o for o in self.lines if pred(o)]
                if hit:
                    return hit[0]
                left = end - time.time()
                if left <= 0:
                    return None
                self.cv.wait(left)

    def take(self, pred):
        with self.cv:
            hit = [o for o in self.lines if pred(o)]
            self.lines = [o for o in self.lines if not pred(o)]
            return hit


def qstats(intf):
    out = subprocess.run(["tc", "-s", "-j", "qdisc", "show", "dev", intf], capture_output=True, text=True).stdout
    try:
        qd = json.loads(out)
    except ValueError:
        return None
    root = [q for q in qd if q.get("root")] or qd
    if not root:
        return None
    q = root[0]
    return {"bytes": q.get("bytes", 0), "packets": q.get("packets", 0), "drops": q.get("drops", 0),
            "backlog": q.get("backlog", 0), "qlen": q.get("qlen", 0)}


class QueueSampler:
    def __init__(self, intfs, period=0.1):
        self.intfs = intfs
        self.period = period
        self.samples = {i: [] for i in intfs}
        self.stop_flag = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stop_flag:
            now = time.time()
            for i in self.intfs:
                s = qstats(i)
                if s:
                    self.samples[i].append([now, s["backlog"], s["qlen"], s["bytes"], s["drops"]])
            time.sleep(self.period)

    def stop(self):
        self.stop_flag = True
        self.t.join()
        return self.samples


class Bench:
    def __init__(self, bw, out, log):
        self.bw = bw
        self.out = out
        self.log = log
        self.net = Mininet(topo=Dumbbell(bw=bw), switch=LinuxBridge, controller=None, autoSetMacs=True,
                           waitConnected=False)
        self.net.start()
        link = self.net.linksBetween(self.net["s1"], self.net["s2"])[0]
        a, b = link.intf1, link.intf2
        if a.node.name != "s1":
            a, b = b, a
        self.fwd_if = a.name  # s1 -> s2 (h1..h3 -> h4..h6)
        self.back_if = b.name
        self.procs = []
        self.h = {n: self.net[n] for n in ("h1", "h2", "h3", "h4", "h5", "h6")}
        for h in self.h.values():
            # Mininet hosts and veths: record what the model must know (MTU, offloads stay on).
            h.cmd("ip link set lo up")
        self.sinks = {n: self._spawn(n, [PY, TOOL, "recv", str(SINK_PORT)], "sink-" + n) for n in ("h4", "h5", "h6")}
        self.echo = self._spawn("h4", [PY, TOOL, "echo", str(ECHO_PORT)], "echo-h4")
        for r in list(self.sinks.values()) + [self.echo]:
            if not r.wait_for(lambda o: o.get("kind") == "ready", 10):
                raise RuntimeError("server %s did not start: %s" % (r.name, r.errors))
        self.iperf_servers = {n: self._spawn(n, ["iperf3", "-s", "-p", str(IPERF_PORT)], "iperf3-s-" + n)
                              for n in ("h5", "h2")}
        time.sleep(0.5)
        self.env = {
            "bw_mbps": bw, "fwd_if": self.fwd_if, "back_if": self.back_if,
            "txqueuelen": open("/sys/class/net/%s/tx_queue_len" % self.fwd_if).read().strip(),
            "mtu": open("/sys/class/net/%s/mtu" % self.fwd_if).read().strip(),
            "kernel": os.uname().release,
        }

    def ip(self, n):
        return self.h[n].IP()

    def _spawn(self, host, args, name):
        p = self.h[host].popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return Reader(p, name)

    def set_cc(self, cc):
        # Per-namespace sysctl is refused on this machine ("Operation not permitted"); every TCP
        # source we start sets TCP_CONGESTION on its socket (tcptool) or uses iperf3 -C instead.
        for h in self.h.values():
            h.cmd("sysctl -q -w net.ipv4.tcp_congestion_control=%s 2>/dev/null" % cc)
        self.env["namespace_default_cc"] = self.h["h1"].cmd("sysctl -n net.ipv4.tcp_congestion_control").strip()
        self.env["cc_set_by"] = "socket option TCP_CONGESTION / iperf3 -C"

    def drain(self, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            a, b = qstats(self.fwd_if), qstats(self.back_if)
            if a and b and a["backlog"] == 0 and b["backlog"] == 0:
                time.sleep(0.3)
                a, b = qstats(self.fwd_if), qstats(self.back_if)
                if a["backlog"] == 0 and b["backlog"] == 0:
                    return True
            time.sleep(0.1)
        self.log("queues did not drain in %ss" % timeout)
        return False

    def start_iperf(self, src, dst, cc, seconds=300):
        p = self.h[src].popen(["iperf3", "-c", self.ip(dst), "-p", str(IPERF_PORT), "-t", str(seconds), "-C", cc],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    def stop_proc(self, p):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def ss_snapshot(self, host):
        return self.h[host].cmd("ss -tin state established").strip().splitlines()[:40]

    def transfers(self, cc, flows, timeout, background=None, warmup=4.0, snapshot_at=None):
        """flows: list of (src, dst, bytes, offset). background: (src, dst) of an iperf3 flow."""
        self.drain()
        bg = None
        if background:
            bg = self.start_iperf(background[0], background[1], cc)
            time.sleep(warmup)
        sampler = QueueSampler([self.fwd_if, self.back_if])
        T0 = time.time()
        senders = []
        tags = []
        for k, (src, dst, nbytes, offset) in enumerate(sorted(flows, key=lambda f: f[3])):
            while time.time() < T0 + offset:
                time.sleep(0.005)
            tag = "f%d-%s-%s-%d" % (k, src, dst, int(T0 * 1000) % 10 ** 9)
            deadline = T0 + timeout
            r = self._spawn(src, [PY, TOOL, "send", self.ip(dst), str(SINK_PORT), str(nbytes), cc, tag,
                                  "%.3f" % deadline], "send-" + tag)
            senders.append((r, src, dst, nbytes, offset, tag))
            tags.append(tag)
        snaps = None
        if snapshot_at is not None:
            while time.time() < T0 + snapshot_at:
                time.sleep(0.01)
            snaps = {h: self.ss_snapshot(h) for h in ("h1", "h2", "h5")}
        results = []
        for r, src, dst, nbytes, offset, tag in senders:
            left = max(1.0, T0 + timeout + 5 - time.time())
            send = r.wait_for(lambda o: o.get("kind") == "send", left)
            sink = self.sinks[dst].wait_for(lambda o, t=tag: o.get("kind") == "recv" and o.get("tag") == t, 5)
            self.stop_proc(r.proc)
            results.append({"src": src, "dst": dst, "bytes": nbytes, "offset": offset, "send": send, "recv": sink,
                            "sender_errors": r.errors[-3:]})
            if sink:
                self.sinks[dst].take(lambda o, t=tag: o.get("tag") == t)
        T1 = time.time()
        if bg:
            self.stop_proc(bg)
        q = sampler.stop()
        return T0, T1, results, q, snaps

    def rtt(self, cc, count, gap, background=None, warmup=4.0):
        self.drain()
        bg = None
        if background:
            bg = self.start_iperf(background[0], background[1], cc)
            time.sleep(warmup)
        sampler = QueueSampler([self.fwd_if, self.back_if])
        out = {}
        for mode in ("open", "new"):
            r = self._spawn("h1", [PY, TOOL, "ping", self.ip("h4"), str(ECHO_PORT), str(count), str(gap), mode, cc],
                            "ping-" + mode)
            res = r.wait_for(lambda o: o.get("kind") == "ping", 60)
            self.stop_proc(r.proc)
            out[mode] = res
        if bg:
            self.stop_proc(bg)
        q = sampler.stop()
        return out, q

    def close(self):
        for p in self.procs:
            try:
                self.stop_proc(p)
            except Exception:
                pass
        self.net.stop()


def summarize_queue(q, t_from=None, t_to=None):
    res = {}
    for intf, samples in q.items():
        sel = [s for s in samples if (t_from is None or s[0] >= t_from) and (t_to is None or s[0] <= t_to)]
        if not sel:
            continue
        backlogs = [s[1] for s in sel]
        res[intf] = {"mean_backlog_bytes": sum(backlogs) / len(backlogs), "max_backlog_bytes": max(backlogs),
                     "max_qlen_pkts": max(s[2] for s in sel), "drops": sel[-1][4] - sel[0][4],
                     "sent_bytes": sel[-1][3] - sel[0][3], "span_s": sel[-1][0] - sel[0][0],
                     "series": [[round(s[0] - sel[0][0], 3), s[1]] for s in sel[:: max(1, len(sel) // 60)]]}
    return res


def flow_summary(f, T0):
    send, recv = f["send"], f["recv"]
    o = {"src": f["src"], "dst": f["dst"], "bytes": f["bytes"], "offset_s": f["offset"]}
    if send:
        o["connect_s"] = round(send["t_conn"] - send["t0"], 6)
        o["start_s"] = round(send["t0"] - T0, 4)
        o["aborted"] = bool(send.get("aborted"))
    if recv:
        o["received_bytes"] = recv["bytes"]
        o["complete"] = recv["bytes"] >= f["bytes"] and not (send and send.get("aborted"))
        if send:
            o["completion_s"] = round(recv["t_last"] - send["t0"], 4)
            o["progress"] = [[round(t - send["t0"], 3), b] for t, b in recv["progress"]]
    else:
        o["complete"] = False
    if f["sender_errors"]:
        o["sender_errors"] = f["sender_errors"]
    return o


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--bw", default="10,5")
    ap.add_argument("--cc", default="cubic,bbr")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="one tiny scenario, to check the set-up")
    args = ap.parse_args()
    setLogLevel("warning")
    t_start = time.time()

    def log(msg):
        sys.stderr.write("[%7.1fs] %s\n" % (time.time() - t_start, msg))
        sys.stderr.flush()

    def write(rec):
        with open(args.out, "a") as fh:
            fh.write(json.dumps(rec, sort_keys=True) + "\n")

    for bw in [float(x) for x in args.bw.split(",")]:
        bench = Bench(bw, args.out, log)
        try:
            full = bw >= 10 and not args.quick
            S = int(0.5e6 * bw)       # ~4.2 s alone at the link rate
            C = int(0.1e6 * bw)       # the late transfer beside an established flow
            for cc in args.cc.split(","):
                bench.set_cc(cc)
                base = {"bw_mbps": bw, "cc": cc, "env": bench.env, "topology": "dumbbell"}
                plan = [("single", [("h1", "h4", S, 0.0)], None, 3)]
                if not args.quick:
                    plan += [("together2", [("h1", "h4", S, 0.0), ("h2", "h5", S, 0.0)], None, args.reps)]
                    plan += [("same-dir", [("h1", "h4", C, 0.0)], ("h2", "h5"), args.reps)]
                if full:
                    plan += [
                        ("together3", [("h1", "h4", S, 0.0), ("h2", "h5", S, 0.0), ("h3", "h6", S, 0.0)], None, args.reps),
                        ("staggered2", [("h1", "h4", S, 0.0), ("h2", "h5", S, 1.5)], None, args.reps),
                        ("staggered3", [("h1", "h4", S, 0.0), ("h2", "h5", S, 1.5), ("h3", "h6", S, 3.0)], None, args.reps),
                        ("opposite-dir", [("h1", "h4", S, 0.0)], ("h5", "h2"), args.reps),
                    ]
                for name, flows, bg, reps in plan:
                    for rep in range(reps):
                        timeout = 45.0 if bg else 60.0
                        T0, T1, res, q, snaps = bench.transfers(cc, flows, timeout, background=bg,
                                                                snapshot_at=3.0 if name == "same-dir" else None)
                        rec = dict(base, scenario=name, rep=rep, kind="transfers",
                                   background=({"src": bg[0], "dst": bg[1], "tool": "iperf3", "warmup_s": 4.0}
                                               if bg else None),
                                   flows=[flow_summary(f, T0) for f in res],
                                   queues=summarize_queue(q), wall_s=round(T1 - T0, 3))
                        if snaps:
                            rec["ss"] = snaps
                        write(rec)
                        log("bw=%g %s %s rep %d: %s" % (bw, cc, name, rep, [
                            (f.get("completion_s"), f.get("received_bytes")) for f in rec["flows"]]))
                rtt_plan = [("rtt-idle", None)] if args.quick else [("rtt-idle", None), ("rtt-same-dir", ("h2", "h5"))]
                if full:
                    rtt_plan.append(("rtt-opposite-dir", ("h5", "h2")))
                for name, bg in rtt_plan:
                    count, gap = (20, 0.05) if bg is None else (15, 0.15)
                    out, q = bench.rtt(cc, count, gap, background=bg)
                    rec = dict(base, scenario=name, rep=0, kind="rtt",
                               background=({"src": bg[0], "dst": bg[1], "tool": "iperf3", "warmup_s": 4.0} if bg else None),
                               probe={"src": "h1", "dst": "h4", "req_bytes": 100, "resp_bytes": 100},
                               rtts={m: (o["rtts"] if o else None) for m, o in out.items()},
                               queues=summarize_queue(q))
                    write(rec)
                    log("bw=%g %s %s: open median %s new median %s" % (bw, cc, name, *[
                        (sorted(o["rtts"])[len(o["rtts"]) // 2] if o else None) for o in (out["open"], out["new"])]))
        finally:
            bench.close()
    log("done")


if __name__ == "__main__":
    main()
