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
Run as root on the testbed: /usr/bin/python3 bench/calibration/queue-probe.py cubic|bbr [Mbit/s] [seconds]
"""
import re, subprocess, sys, time
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge
from mininet.link import TCLink
USAGE = "usage: queue-probe.py cubic|bbr|reno [bottleneck Mbit/s, default 1.3] [seconds, default 28]"
cc = sys.argv[1] if len(sys.argv) > 1 else "cubic"
try:
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 1.3
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 28.0
except ValueError:
    sys.exit(USAGE)
if cc not in ("cubic", "bbr", "reno") or not (0 < rate <= 1000) or not (0 < seconds <= 600):
    sys.exit(USAGE)
net = Mininet(controller=None, switch=LinuxBridge, link=TCLink, build=False, autoSetMacs=True, waitConnected=False)
started = []
try:
    for h in ("qh1", "qh2", "qh3"): net.addHost(h)
    net.addSwitch("qs1")
    net.addLink("qh1", "qs1", params1={"bw": 50, "max_queue_size": 82}, params2={"bw": 50, "max_queue_size": 82})
    net.addLink("qh2", "qs1", params1={"bw": 50, "max_queue_size": 82}, params2={"bw": 50, "max_queue_size": 82})
    net.addLink("qh3", "qs1", params1={"bw": rate, "max_queue_size": 82}, params2={"bw": rate, "max_queue_size": 82})
    net.start()
    # as the driver does without netem: a drop-tail FIFO of the queue length under each HTB class
    for l in net.links:
        for intf in (l.intf1, l.intf2):
            print(intf.name, intf.node.cmd("tc qdisc add dev %s parent 5:1 handle 10: pfifo limit 82" % intf.name).strip(), end=" ")
    print(flush=True)
    h1, h2, h3 = net.get("qh1"), net.get("qh2"), net.get("qh3")
    for h in (h1, h2, h3):
        h.cmd("sysctl -qw net.ipv4.tcp_congestion_control=%s" % cc)
    port = [i for i in net.get("qs1").intfList() if i.link and "qh3" in (i.link.intf1.node.name, i.link.intf2.node.name)][0].name
    print("port", port, flush=True)
    print(subprocess.run(["tc", "qdisc", "show", "dev", port], capture_output=True, text=True).stdout, flush=True)
    srv = h3.popen(["iperf3", "-s", "-1", "-p", "5301"])
    started.append(srv)
    time.sleep(0.5)
    cli = h1.popen(["timeout", str(int(seconds) + 12), "iperf3", "-c", h3.IP(), "-p", "5301", "-t", str(int(seconds) + 2), "-C", cc])
    started.append(cli)
    t0 = time.time()
    while time.time() - t0 < seconds:
        q = subprocess.run(["tc", "-s", "qdisc", "show", "dev", port], capture_output=True, text=True).stdout
        bl = re.findall(r"backlog (\S+) (\d+)p", q)
        drops = re.findall(r"dropped (\d+)", q)
        ss = h1.cmd("ss -tin dst %s" % h3.IP())
        cwnd = re.findall(r"cwnd:(\d+)", ss)
        wnd = re.findall(r"snd_wnd:(\d+)", ss)
        rtt = re.findall(r" rtt:([\d.]+)", ss)
        print("%5.1f backlog %s drops %s cwnd %s snd_wnd %s rtt_ms %s" % (time.time() - t0, bl, drops, cwnd, wnd, rtt), flush=True)
        time.sleep(0.4)
    cli.wait(timeout=30)
    srv.wait(timeout=10)
finally:
    # by handle: a server whose client never connected would wait for ever
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    net.stop()
