#!/usr/bin/python3
"""The standing queue behind one TCP flow on a Mininet network built as the driver builds it
(LinuxBridge switches, TCLink HTB shaping, a drop-tail pfifo of the queue length under each
class when netem is missing).

Why: beside established flows the testbed's round trips were 23-63% longer than tcp-fluid's
(docs/validation-random.md). This samples, every 0.4 s for 28 s, the bottleneck port's qdisc
backlog (bytes and packets) and drops, and the sender's cwnd and RTT (ss), while one iperf3 flow
h1 -> h3 fills h3's access link (1.3 Mbit/s unless given; 82-packet queue). Found (docs/tcp-fluid.md): the
queue holds GSO skbs of up to 64 KiB, so its packet limit never binds; the flow keeps ~136 kB
there (TSQ's two skbs) and loses nothing.
With a fourth argument LATE (seconds), a second iperf3 flow qh2 -> qh3 starts LATE seconds after
the first, and each sample adds its cwnd, RTT, minimum RTT, pacing and delivery rate and its
throughput since the last sample (bytes acked): what a late flow beside an established one gets.
A fifth argument sets the queue length (packets, default 82), a sixth the other links' rate, and
a seventh where the bottleneck is: `switch` (default: the switch's port to qh3) or `sender`
(qh1's own access link, its HTB on qh1-eth0; the late flow then also starts at qh1).
Run as root on the testbed: /usr/bin/python3 bench/calibration/queue-probe.py cubic|bbr [Mbit/s] [seconds] [late s|none] [queue] [other Mbit/s] [switch|sender]
"""
import re, subprocess, sys, time
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge
from mininet.link import TCLink
USAGE = "usage: queue-probe.py cubic|bbr|reno [bottleneck Mbit/s, default 1.3] [seconds, default 28] [late flow start s] [queue pkt, default 82] [other links Mbit/s, default 50]"
cc = sys.argv[1] if len(sys.argv) > 1 else "cubic"
try:
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 1.3
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 28.0
    late = float(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] != "none" else None
    qlen = int(sys.argv[5]) if len(sys.argv) > 5 else 82
    other = float(sys.argv[6]) if len(sys.argv) > 6 else 50.0
    at = sys.argv[7] if len(sys.argv) > 7 else "switch"
except ValueError:
    sys.exit(USAGE)
if cc not in ("cubic", "bbr", "reno") or not (0 < rate <= 1000) or not (0 < seconds <= 600) or not (late is None or 0 < late < seconds) \
        or not (1 <= qlen <= 100000) or not (0 < other <= 1000) or at not in ("switch", "sender"):
    sys.exit(USAGE)


def flow_state(ss):
    """cwnd, rtt/min rtt (ms), pacing and delivery rate (bit/s) and bytes acked of the data
    connection among those ss shows (iperf3's control connection shares the port: the one that
    has acked the most)"""
    conns = re.split(r"\n(?=ESTAB|SYN|FIN|CLOSE|LAST|TIME)", ss)
    ss = max(conns, key=lambda c: int((re.search(r"bytes_acked:(\d+)", c) or re.search("()", "")).group(1) or 0))
    def first(pattern, conv=float):
        m = re.search(pattern, ss)
        return conv(m.group(1)) if m else None
    def rate(name):
        m = re.search(name + r" ([\d.]+)([KMG]?)bps", ss)
        return float(m.group(1)) * {"": 1, "K": 1e3, "M": 1e6, "G": 1e9}[m.group(2)] if m else None
    return {"cwnd": first(r"cwnd:(\d+)", int), "rtt": first(r" rtt:([\d.]+)"), "minrtt": first(r"minrtt:([\d.]+)"),
            "pacing": rate("pacing_rate"), "delivery": rate("delivery_rate"), "acked": first(r"bytes_acked:(\d+)", int)}
net = Mininet(controller=None, switch=LinuxBridge, link=TCLink, build=False, autoSetMacs=True, waitConnected=False)
started = []
try:
    for h in ("qh1", "qh2", "qh3"): net.addHost(h)
    net.addSwitch("qs1")
    first = rate if at == "sender" else other
    last = other if at == "sender" else rate
    net.addLink("qh1", "qs1", params1={"bw": first, "max_queue_size": qlen}, params2={"bw": first, "max_queue_size": qlen})
    net.addLink("qh2", "qs1", params1={"bw": other, "max_queue_size": qlen}, params2={"bw": other, "max_queue_size": qlen})
    net.addLink("qh3", "qs1", params1={"bw": last, "max_queue_size": qlen}, params2={"bw": last, "max_queue_size": qlen})
    net.start()
    # as the driver does without netem: a drop-tail FIFO of the queue length under each HTB class
    for l in net.links:
        for intf in (l.intf1, l.intf2):
            print(intf.name, intf.node.cmd("tc qdisc add dev %s parent 5:1 handle 10: pfifo limit %d" % (intf.name, qlen)).strip(), end=" ")
    print(flush=True)
    h1, h2, h3 = net.get("qh1"), net.get("qh2"), net.get("qh3")
    for h in (h1, h2, h3):
        h.cmd("sysctl -qw net.ipv4.tcp_congestion_control=%s" % cc)
    port = "qh1-eth0" if at == "sender" else [i for i in net.get("qs1").intfList() if i.link and "qh3" in (i.link.intf1.node.name, i.link.intf2.node.name)][0].name
    latehost = h1 if at == "sender" else h2
    print("port", port, flush=True)
    print(h1.cmd("tc qdisc show dev %s" % port) if at == "sender" else subprocess.run(["tc", "qdisc", "show", "dev", port], capture_output=True, text=True).stdout, flush=True)
    srv = h3.popen(["iperf3", "-s", "-1", "-p", "5301"])
    started.append(srv)
    time.sleep(0.5)
    cli = h1.popen(["timeout", str(int(seconds) + 12), "iperf3", "-c", h3.IP(), "-p", "5301", "-t", str(int(seconds) + 2), "-C", cc])
    started.append(cli)
    t0 = time.time()
    late_cli = None
    late_acked = (0, t0)
    if late is not None:
        started.append(h3.popen(["iperf3", "-s", "-1", "-p", "5302"]))
    while time.time() - t0 < seconds:
        if late is not None and late_cli is None and time.time() - t0 >= late:
            late_cli = latehost.popen(["timeout", str(int(seconds - late) + 12), "iperf3", "-c", h3.IP(), "-p", "5302", "-t", str(int(seconds - late) + 2), "-C", cc])
            started.append(late_cli)
        q = h1.cmd("tc -s qdisc show dev %s" % port) if at == "sender" else subprocess.run(["tc", "-s", "qdisc", "show", "dev", port], capture_output=True, text=True).stdout
        bl = re.findall(r"backlog (\S+) (\d+)p", q)
        drops = re.findall(r"dropped (\d+)", q)
        ss = h1.cmd("ss -tin dst %s" % h3.IP())
        cwnd = re.findall(r"cwnd:(\d+)", ss)
        wnd = re.findall(r"snd_wnd:(\d+)", ss)
        rtt = re.findall(r" rtt:([\d.]+)", ss)
        line = "%5.1f backlog %s drops %s cwnd %s snd_wnd %s rtt_ms %s" % (time.time() - t0, bl, drops, cwnd, wnd, rtt)
        if late_cli is not None:
            st = flow_state(latehost.cmd("ss -tin dst %s dport = :5302" % h3.IP()))
            now = time.time()
            if st["acked"] is not None:
                mbps = (st["acked"] - late_acked[0]) * 8 / (now - late_acked[1]) / 1e6
                late_acked = (st["acked"], now)
                st["mbps"] = round(mbps, 3)
            line += " | late %s" % st
        print(line, flush=True)
        time.sleep(0.4)
    cli.wait(timeout=30)
    if late_cli is not None:
        late_cli.wait(timeout=30)
    srv.wait(timeout=10)
finally:
    # by handle: a server whose client never connected would wait for ever
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    net.stop()
