#!/usr/bin/python3
"""Run one workload through migsim replay and through SimGrid; print both wall times, peak RSS,
the ratio, and how far the transfers' end times differ.

Usage (from the repository root, after `npm run build`):
  /usr/bin/python3 bench/simgrid/compare.py WORKLOAD.json [--model max-min] [--simgrid-model LV08|CM02]

--simgrid-model CM02 is SimGrid's plain max-min (no bandwidth or latency factors, and without the
reverse-direction ACK flows SimGrid adds by default, network/crosstraffic:0, and with uplink
latency 0 so that every route has the same latency: CM02 shares a link in proportion to
1/latency of each flow's route, i.e. favours same-rack transfers 3:1); migsim then runs
with --efficiency 1 so the two allocations are comparable (SimGrid also adds each path's latency
to a transfer, which migsim's max-min does not: 20 us per transfer then). The default LV08 is
SimGrid's default model (bandwidth factor 0.97, latency factor 13.01, cross-traffic on) and is
what the timing comparison uses.
"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def run(cmd):
    """Runs cmd, returns (wall seconds, peak RSS MiB, stdout)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = None, None
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    out = p.stdout.read()
    err = p.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{err}")
    return wall, ru.ru_maxrss / 1024, out


def ends(path):
    with open(path) as f:
        return {int(r["id"]): (float(r["start"]), float(r["end"])) for r in csv.DictReader(f)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workload")
    ap.add_argument("--model", default="max-min")
    ap.add_argument("--simgrid-model", default="LV08", choices=["LV08", "CM02"])
    a = ap.parse_args()
    try:
        import simgrid  # noqa: F401
    except ImportError:
        sys.exit("SimGrid's Python bindings are not installed (Debian: apt-get install python3-simgrid)")
    tmp = tempfile.mkdtemp(prefix="migsim-sg-")
    ours = ["node", os.path.join(REPO, "bin", "migsim.js"), "replay", a.workload, "--model", a.model, "--out", tmp]
    if a.simgrid_model == "CM02":
        ours += ["--efficiency", "1"]
    w1, m1, out1 = run(ours)
    sg_csv = os.path.join(tmp, "simgrid.csv")
    sg = ["/usr/bin/python3", os.path.join(HERE, "replay_simgrid.py"), a.workload, "--out", sg_csv,
          "--cfg", f"network/model:{a.simgrid_model}"]
    if a.simgrid_model == "CM02":
        # plain max-min: no simulated ACK flows, and equal route latencies (CM02 weights by 1/latency)
        sg += ["--cfg", "network/crosstraffic:0", "--equal-rtt"]
    w2, m2, out2 = run(sg)
    print(f"workload   {os.path.basename(a.workload)}")
    print(f"migsim     {a.model:8s} wall {w1:8.2f} s  peak RSS {m1:7.0f} MiB   | {out1.strip()}")
    print(f"SimGrid    {a.simgrid_model:8s} wall {w2:8.2f} s  peak RSS {m2:7.0f} MiB   | {out2.strip()}")
    print(f"ratio      SimGrid / migsim wall time = {w2 / w1:.1f}")
    mine, theirs = ends(os.path.join(tmp, "transfers.csv")), ends(sg_csv)
    diffs = sorted(abs(mine[i][1] - theirs[i][1]) for i in mine)
    rel = sorted(abs(mine[i][1] - theirs[i][1]) / (theirs[i][1] - theirs[i][0]) for i in mine)
    q = lambda xs, p: xs[min(len(xs) - 1, int(p * len(xs)))]
    print(f"end times  |migsim - SimGrid|: median {q(diffs, .5) * 1e3:.3f} ms, p99 {q(diffs, .99) * 1e3:.3f} ms, "
          f"max {diffs[-1] * 1e3:.3f} ms; relative to duration: median {q(rel, .5):.2e}, max {rel[-1]:.2e}")


if __name__ == "__main__":
    main()
