#!/usr/bin/python3
"""SFTP copies (scp -r, as the Mininet backend moves checkpoint folders) on a real local Mininet.

Why: on the testbed an SSH checkpoint copy out of a host that receives an iperf3 flow took ~40 s
for 3 MB (a plain TCP copy: 6 s). The copy itself is not starved: scp in SFTP mode (OpenSSH >= 9)
waits for the server's answer to several requests per file (open, close, attributes...), and those
answers come back through the queue the opposite-direction flow keeps (~220 ms at 5 Mbit/s), and a
CRIU checkpoint folder holds tens of files. This measures the time of `scp -r` for folders of N
small files, across an idle path and beside an opposite-direction iperf3 flow, and the round trip
of a 100-byte request/response over an open connection in the same conditions, so that
(T(N) - T(1)) / (N - 1) / RTT = round trips per file, T(1) / RTT ~ handshake round trips.

Topology (the start of fig3-homogeneous.yaml, every link TCLink bw=5 Mbit/s, 1000-packet queue):
h1 - s1 - h2, s1 - s2 - h3. Background: iperf3 h1 -> h2 (CUBIC), copies h2 -> h3 (sshd on h3,
internal-sftp, as migsim_driver.py configures it). One JSON line per measurement to --out.
Run as root: /usr/bin/python3 bench/calibration/sftp.py --out docs/calibration/sftp.jsonl
"""
import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time

from mininet.link import TCLink
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge
from mininet.topo import Topo

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "tcptool.py")
PY = "/usr/bin/python3"


class Chain(Topo):
    def build(self, bw):
        s1 = self.addSwitch("s1")
        s2 = self.addSwitch("s2")
        self.addLink(self.addHost("h1"), s1, cls=TCLink, bw=bw)
        self.addLink(self.addHost("h2"), s1, cls=TCLink, bw=bw)
        self.addLink(s1, s2, cls=TCLink, bw=bw)
        self.addLink(s2, self.addHost("h3"), cls=TCLink, bw=bw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--bw", type=float, default=5)
    ap.add_argument("--files", default="1,16,48")
    ap.add_argument("--file-bytes", type=int, default=4096)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--cc", default="cubic")
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="sftp-cal-")
    net = Mininet(topo=Chain(bw=args.bw), switch=LinuxBridge, controller=None, autoSetMacs=True, waitConnected=False)
    net.start()
    procs = []

    def spawn(h, cmd, **kw):
        p = h.popen(cmd, **kw)
        procs.append(p)
        return p

    def stop(p):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    out = open(args.out, "a")
    try:
        h1, h2, h3 = net["h1"], net["h2"], net["h3"]
        for h in (h1, h2, h3):
            h.cmd("ip link set lo up")
            h.cmd("sysctl -q -w net.ipv4.tcp_congestion_control=%s" % args.cc)
        for f in ("host_key", "client_key"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(d, f)], check=True)
        shutil.copy(os.path.join(d, "client_key.pub"), os.path.join(d, "authorized_keys"))
        hk = open(os.path.join(d, "host_key.pub")).read().split()[:2]
        with open(os.path.join(d, "known_hosts"), "w") as f:
            f.write("%s %s %s\n" % (h3.IP(), hk[0], hk[1]))
        cfg = os.path.join(d, "sshd.conf")
        with open(cfg, "w") as f:
            f.write("ListenAddress %s\nPort 22\nHostKey %s/host_key\nAuthorizedKeysFile %s/authorized_keys\n"
                    "PidFile none\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nUsePAM no\n"
                    "StrictModes no\nSubsystem sftp internal-sftp\n" % (h3.IP(), d, d))
        os.makedirs("/run/sshd", exist_ok=True)
        spawn(h3, ["/usr/sbin/sshd", "-D", "-f", cfg, "-E", os.path.join(d, "sshd.log")])
        spawn(h2, ["iperf3", "-s", "-p", "5201"], stdout=subprocess.DEVNULL)
        echo = spawn(h3, [PY, TOOL, "echo", "7000"], stdout=subprocess.PIPE, text=True)
        echo.stdout.readline()
        time.sleep(1)
        folders = {}
        for n in [int(x) for x in args.files.split(",")]:
            src = os.path.join(d, "src%d" % n, "ckpt")
            os.makedirs(src)
            for i in range(n):
                with open(os.path.join(src, "f%03d.img" % i), "wb") as f:
                    f.write(os.urandom(args.file_bytes))
            folders[n] = src
        base = {"bw_mbps": args.bw, "cc": args.cc, "file_bytes": args.file_bytes, "kernel": os.uname().release,
                "ssh": subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()}
        for bg in (False, True):
            ip = None
            if bg:
                ip = spawn(h1, ["iperf3", "-c", h2.IP(), "-p", "5201", "-t", "600", "-C", args.cc],
                           stdout=subprocess.DEVNULL)
                time.sleep(4)
            else:
                time.sleep(1)
            for rep in range(args.reps):
                pp = h2.popen([PY, TOOL, "ping", h3.IP(), "7000", "10", "0.05", "open", args.cc],
                              stdout=subprocess.PIPE, text=True)
                ping = json.loads(pp.communicate(timeout=60)[0].strip().splitlines()[-1])
                rtts = sorted(ping["rtts"])
                rec = dict(base, kind="rtt", background=bg, rep=rep, rtt_median_s=rtts[len(rtts) // 2], rtts=rtts)
                out.write(json.dumps(rec) + "\n")
                out.flush()
                print(json.dumps(rec))
                for n, src in sorted(folders.items()):
                    dest = os.path.join(d, "recv", "%s-%d-%d" % (bg, rep, n))
                    os.makedirs(dest)
                    t0 = time.time()
                    p = h2.popen(["scp", "-q", "-r", "-B", "-i", os.path.join(d, "client_key"),
                                  "-o", "UserKnownHostsFile=%s" % os.path.join(d, "known_hosts"),
                                  "-o", "StrictHostKeyChecking=yes", src, "root@%s:%s/" % (h3.IP(), dest)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                    err = p.communicate(timeout=300)[1]
                    t = time.time() - t0
                    got = len(os.listdir(os.path.join(dest, "ckpt"))) if os.path.isdir(os.path.join(dest, "ckpt")) else 0
                    rec = dict(base, kind="scp", background=bg, rep=rep, files=n, bytes=n * args.file_bytes,
                               elapsed_s=t, rc=p.returncode, received_files=got, err=err[-200:])
                    out.write(json.dumps(rec) + "\n")
                    out.flush()
                    print(json.dumps(rec))
            if ip:
                stop(ip)
    finally:
        for p in procs:
            stop(p)
        net.stop()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
