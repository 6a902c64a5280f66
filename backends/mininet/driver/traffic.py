"""The run's workload beside the migrations: background flows (iperf3, TCP or UDP, each started
and stopped at its time), probes (timed request/responses, hosttools.py probe), and the redirect
that moves a migrated container's service flows to its destination at SUCCESS."""
import json
import subprocess
import threading
import time

from jsonout import emit, warn
from network import helper
from procs import Aborted
from testbed_names import IPERF_BASE_PORT


class Traffic:
    def __init__(self, run):
        self.run = run
        # per traffic entry: its iperf3 client while it runs
        self.flows = {}

    def start(self):
        """An iperf3 server per flow at its destination now; each client at its start time."""
        run = self.run
        for i, t in enumerate(run.spec["traffic"]):
            port = IPERF_BASE_PORT + i
            run.popen(run.network.host(t["to"]), ["iperf3", "-s", "-B", run.network.ip[t["to"]], "-p", str(port)])
        time.sleep(0.3)
        self.flows = {}
        for i, t in enumerate(run.spec["traffic"]):
            threading.Thread(target=self.flow_thread, args=(i, t), daemon=True).start()

    def flow_thread(self, i, t):
        run = self.run
        try:
            run.sleep_until(run.t0 + t["start"])
            with run.lock:
                self.flows[i] = self.start_flow(t, IPERF_BASE_PORT + i)
            if t.get("stop") is not None:
                run.sleep_until(run.t0 + t["stop"])
                with run.lock:
                    p = self.flows.get(i)
                    if p is not None and p.poll() is None:
                        p.terminate()
        except Aborted:
            pass

    def start_flow(self, t, port):
        run = self.run
        cmd = ["iperf3", "-c", run.network.ip[t["to"]], "-p", str(port), "--forceflush", "-i", "0"]
        if t["kind"] == "udp":
            cmd += ["-u", "-b", "%d" % int(t["rate"])]
        if t.get("bytes") is not None and t["kind"] == "tcp":
            cmd += ["-n", "%d" % int(t["bytes"])]
        else:
            cmd += ["-t", "%d" % int(max(1, run.deadline - time.monotonic() + 5))]
        return run.popen(run.network.host(t["from"]), cmd)

    def start_probes(self):
        """One thread per probe; returns them (the run waits for them with its migrations)."""
        threads = []
        for i, p in enumerate(self.run.spec["probes"]):
            th = threading.Thread(target=self.probe_thread, args=(i, p), daemon=True)
            th.start()
            threads.append(th)
        return threads

    def probe_thread(self, i, p):
        run = self.run
        try:
            spec = {"ip": run.network.ip[p["to"]], "at": run.t0 + p["at"], "every": p["every"], "count": p["count"],
                    "bytes": int(p["bytes"]), "new": bool(p["newConnection"])}
            proc = run.popen(run.network.host(p["from"]), helper("probe", json.dumps(spec)),
                             stdout=subprocess.PIPE, text=True)
            for line in proc.stdout:
                r = json.loads(line)
                if "error" in r:
                    warn("probe %s->%s failed: %s" % (p["from"], p["to"], r["error"]))
                    continue
                emit({"type": "probe", "from": p["from"], "to": p["to"], "sent_s": r["sent"] - run.t0,
                      "rtt_s": r["rtt"]})
            proc.wait()
        except Exception as e:  # noqa: BLE001 - reported as the run's error, as a migration's is
            with run.lock:
                run.errors.append({"migration": None, "phase": "probe", "message": "probe %d (%s->%s): %s" % (i, p["from"], p["to"], e)})

    def redirect(self, container, src, dst):
        """Flows of the migrated container's service that end at the source move to the
        destination: the iperf3 client stops and a new one runs between the new end points."""
        run = self.run
        for i, t in enumerate(run.spec["traffic"]):
            if t.get("service") != container or src not in (t["from"], t["to"]):
                continue
            with run.lock:
                old = self.flows.get(i)
                moved = dict(t, **{"from": dst if t["from"] == src else t["from"],
                                   "to": dst if t["to"] == src else t["to"]})
                run.spec["traffic"][i] = moved
            if t.get("bytes") is not None:
                warn("finite service flow %d is not redirected (iperf3 cannot resume a transfer)" % i)
                continue
            if old is not None and old.poll() is None:
                old.terminate()
                if moved["to"] != t["to"]:
                    port = IPERF_BASE_PORT + 100 + i
                    run.popen(run.network.host(moved["to"]), ["iperf3", "-s", "-B", run.network.ip[moved["to"]],
                                                              "-p", str(port)])
                    time.sleep(0.2)
                else:
                    port = IPERF_BASE_PORT + i
                self.flows[i] = self.start_flow(moved, port)
            emit({"type": "redirect", "flow": i, "from": moved["from"], "to": moved["to"],
                  "at_s": time.monotonic() - run.t0})
