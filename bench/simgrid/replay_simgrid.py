#!/usr/bin/python3
"""Replay a flow-workload-v1 file (`migsim workload`) in SimGrid (Debian's python3-simgrid 3.32).

Usage: /usr/bin/python3 replay_simgrid.py WORKLOAD.json [--out transfers.csv] [--cfg network/model:CM02 ...]

Platform: the workload's two-level tree as nested Star zones: one zone per rack whose centre is
the ToR (access link a{i} of host i is a split-duplex link: UP host->ToR, DOWN ToR->host), inside a
root Star zone whose centre is the core (uplink u{r}, split duplex). Routes are exactly the
workload's rule. Every transfer is one Comm.sendto_async from host src to host dst of its size,
started at its time by one driver actor. Prints one JSON line: wall seconds of loading+platform
and of the simulation, the simulated end, the number of transfers.
"""
import argparse
import json
import sys
import time

import simgrid
from simgrid import Comm, Engine, LinkInRoute, NetZone, this_actor


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workload")
    ap.add_argument("--out", help="write id,src,dst,bytes,start,end here")
    ap.add_argument("--equal-rtt", action="store_true",
                    help="uplink latency 0, so every route has the same latency: SimGrid weights sharing by 1/latency, "
                         "and equal latencies make its allocation plain max-min (for cross-checking)")
    ap.add_argument("--cfg", action="append", default=[], help="SimGrid configuration item, e.g. network/model:CM02")
    a = ap.parse_args()
    t0 = time.perf_counter()
    with open(a.workload) as f:
        doc = json.load(f)
    assert doc["format"] == "flow-workload-v1" and doc["topology"]["type"] == "two-level-tree"
    # SimGrid bandwidths are bytes/s; the workload's are bit/s (hence / 8 below).
    e = Engine([sys.argv[0], "--log=root.thres:critical"] + [f"--cfg={c}" for c in a.cfg])

    links = {l["id"]: l for l in doc["links"]}
    root = NetZone.create_star_zone("world")
    hosts = []
    racks = {}
    for h in doc["hosts"]:
        r = h["rack"]
        if r not in racks:
            z = NetZone.create_star_zone(f"rack{r}")
            z.set_parent(root)
            tor = z.create_router(f"tor{r}")
            z.add_route(tor, None, None, None, [], True)
            racks[r] = (z, tor)
        z, _ = racks[r]
        host = z.create_host(h["name"], 1e9)
        acc = links[f"a{h['id']}"]
        link = z.create_split_duplex_link(f"a{h['id']}", acc["bandwidth_bps"] / 8).set_latency(acc["latency_s"]).seal()
        z.add_route(host.netpoint, None, None, None, [LinkInRoute(link, LinkInRoute.Direction.UP)], True)
        host.seal()
        hosts.append(host)
    for r, (z, tor) in sorted(racks.items()):
        z.seal()
        up = links[f"u{r}"]
        link = root.create_split_duplex_link(f"u{r}", up["bandwidth_bps"] / 8).set_latency(0 if a.equal_rtt else up["latency_s"]).seal()
        root.add_route(z.netpoint, None, tor, None, [LinkInRoute(link, LinkInRoute.Direction.UP)], True)
    root.seal()

    transfers = sorted(doc["transfers"], key=lambda t: (t["start"], t["id"]))
    comms = []

    def driver():
        for t in transfers:
            if t["start"] > Engine.clock:
                this_actor.sleep_until(t["start"])
            comms.append((t, Comm.sendto_async(hosts[t["src"]], hosts[t["dst"]], t["bytes"])))
        for _, c in comms:
            c.wait()

    simgrid.Actor.create("driver", hosts[0], driver)
    t1 = time.perf_counter()
    e.run()
    t2 = time.perf_counter()
    if a.out:
        with open(a.out, "w") as f:
            f.write("id,src,dst,bytes,start,end\n")
            for t, c in sorted(comms, key=lambda x: x[0]["id"]):
                f.write(f"{t['id']},{t['src']},{t['dst']},{t['bytes']},{t['start']!r},{c.finish_time!r}\n")
    print(json.dumps({"simulator": f"SimGrid {simgrid.simgrid_version}", "transfers": len(transfers),
                      "setup_s": round(t1 - t0, 3), "simulate_s": round(t2 - t1, 3), "total_s": round(t2 - t0, 3),
                      "simulated_end_s": Engine.clock}))


if __name__ == "__main__":
    main()
