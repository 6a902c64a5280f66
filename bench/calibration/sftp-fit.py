#!/usr/bin/python3
"""Fits the SFTP per-file costs on docs/calibration/sftp.jsonl (bench/calibration/sftp.py).

  sftpFileCpu  = least-squares slope of T(N) across the idle path (round trips ~0.2 ms) less one
                 file's bytes at the path's rate (the model sends the bytes as a flow of their own,
                 at the network model's default efficiency): the host time per file
  sftpFileRtts = (slope of T(N) beside the opposite-direction flow - the idle slope) / RTT, on the
                 repetitions whose RTT was steady (the previous copies had already moved the flow's
                 queue onto the link into the source; see docs/tcp-fluid.md "stranded bytes"):
                 the request/response RTT measured just before (median of 10) is then the RTT the
                 copy sees. The first repetition (queue still upstream, RTT rising during the copy
                 as the model's stranded bytes grow) is printed for comparison, not fitted.
Usage: python3 bench/calibration/sftp-fit.py [docs/calibration/sftp.jsonl]
"""
import json
import sys


def slope(pts):
    n = len(pts)
    mx = sum(x for x, _ in pts) / n
    my = sum(y for _, y in pts) / n
    return sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)


recs = [json.loads(l) for l in open(sys.argv[1] if len(sys.argv) > 1 else "docs/calibration/sftp.jsonl")]
# the network model's default efficiency (src/network/network-model.ts): payload rate / link rate
EFFICIENCY = 0.96
idle_recs = [r for r in recs if r["kind"] == "scp" and not r["background"]]
idle = [(r["files"], r["elapsed_s"]) for r in idle_recs]
idle_slope = slope(idle)
(bytes_s,) = {r["file_bytes"] * 8 / (r["bw_mbps"] * 1e6 * EFFICIENCY) for r in idle_recs}
cpu = idle_slope - bytes_s
print("idle: per-file slope %.4f s, of it one file's bytes %.4f s -> sftpFileCpu = %.5f s" % (idle_slope, bytes_s, cpu))
ks = []
for rep in sorted({r["rep"] for r in recs if r["background"]}):
    rtt = [r["rtt_median_s"] for r in recs if r["kind"] == "rtt" and r["background"] and r["rep"] == rep][0]
    pts = [(r["files"], r["elapsed_s"]) for r in recs if r["kind"] == "scp" and r["background"] and r["rep"] == rep]
    s = slope(pts)
    # the opposite-direction flow leaves the data's direction idle: a file's bytes and host time
    # cost what they cost on the idle path, the rest is round trips
    k = (s - idle_slope) / rtt
    steady = rtt > 0.1
    print("loaded rep %d: RTT %.1f ms, per-file slope %.3f s, T(1) %.2f s -> %.2f round trips per file%s"
          % (rep, rtt * 1e3, s, dict(pts)[1], k, "" if steady else " (RTT not steady: not fitted)"))
    if steady:
        ks.append(k)
print("sftpFileRtts = %.2f (mean over %d steady repetitions)" % (sum(ks) / len(ks), len(ks)))
