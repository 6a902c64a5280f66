"""The driver's migration protocol, driven end to end (`migsim_driver.py run`) in a fake world
(fakeworld.py): for each mode the commands come in the protocol's order (src/migration/protocol.ts:
MIGRATE, checkpoint, RESTART and the files, restore, SUCCESS), a step that runs past its limit takes
its process tree down and names its phase, and a run at its deadline says how far the migration got.

Each scenario's whole command log and JSON lines are also compared with tests/golden/NAME.json, the
record of what the driver sent and printed when it was written (times masked): a change to the
driver that changes a command, its order or a record fails here. After a deliberate change:
MIGSIM_DRIVER_GOLDEN=write python3 -m unittest discover -s backends/mininet/driver/tests
rewrites them; review the diff.
"""
import io
import json
import os
import re
import shutil
import signal
import tempfile
import unittest
from argparse import Namespace

import fakeworld  # noqa: F401 - puts the driver's folder on sys.path
import jsonout
import migsim_driver

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")
MB = 1e6


def link(a, b, capacity, queue=100):
    return {"a": a, "b": b, "capacity": capacity, "capacityBack": capacity, "latency": 0.0005, "queue": queue,
            "mtu": 1500}


# the emulation suite's set-up (test/emulation.test.ts): h1,h2 - s1 ==5 Mbit/s== s2 - h3,h4
COSTS = {
    "statelessSwitchover": 0, "mtdSession": 0, "checkpointBase": 0.3, "checkpointRate": 1e8, "restoreBase": 0.4,
    "restoreRate": 1e8, "restorePerContainer": 0, "compression": 1, "sshHandshakeRtts": 4, "sshCipherRate": 1e9,
    "decisionCompute": 0, "killDuration": 0.1, "startDuration": 0.3, "statelessPrepare": 0,
    "precopyThreshold": 1e6, "precopyMaxRounds": 8, "postcopyMinimal": 0, "postcopyChunk": 65536,
    "postcopyFaultInterval": 1, "controlBytes": 200, "checkpointFiles": 1, "sftpFileRtts": 0, "sftpFileCpu": 0,
    "transferSetup": 0, "sshSetup": 0, "sshCommand": 0, "imageOverhead": 0, "postcopyCheckpointBase": 0.3,
    "postcopyRestoreBase": 0.4,
}


def plan(mode, transport, destination="h4", keys=(), setup=(), trigger_at=0.2):
    migration = {"container": {"name": "app", "checkpoint": 0.5 * MB, "memory": 0.5 * MB, "dirtyRate": 0},
                 "source": "h1", "candidates": ["h2", "h3", "h4"], "trigger": {"kind": "at", "at": trigger_at},
                 "mode": mode, "transport": transport}
    spec = {
        "experiment": "driver-test", "cell": "c0", "cellIndex": 0, "run": 0, "seed": 1, "axes": {},
        "topology": {"name": "dumbbell", "hosts": ["h1", "h2", "h3", "h4"], "switches": ["s1", "s2"],
                     "links": [link("h1", "s1", 10 * MB), link("h2", "s1", 10 * MB), link("s1", "s2", 5 * MB),
                               link("h3", "s2", 10 * MB), link("h4", "s2", 10 * MB)]},
        "network": {"model": "tcp-fluid", "congestionControl": "cubic", "hostStack": "emulated", "routing": "hops",
                    "efficiency": 0.96, "tcpHandshakeRtts": 1},
        "costs": COSTS, "measurement": {"period": 1}, "traffic": [], "migrations": [migration], "probes": [],
        "policy": {"name": "fixed", "params": {}}, "manager": "h2", "horizon": 60,
    }
    p = {"destination": destination, "computeSeconds": 0.001, "setup": list(setup),
         "keyRequests": [{"host": h, "requestBytes": 64, "responseBytes": 96, "newConnection": new} for h, new in keys]}
    return {"spec": spec, "plans": [p], "options": {}}


def drive(plan_obj, deadline=30.0, faults=None, dirty=(), netem=True):
    """One `migsim_driver.py run` in a fresh fake world: (JSON lines printed, the world)."""
    scratch = tempfile.mkdtemp(prefix="migsim-driver-test-")
    world = fakeworld.World(scratch)
    world.netem = netem
    world.faults = dict(faults or {})
    world.dirty = list(dirty)
    path = os.path.join(scratch, "plan.json")
    with open(path, "w") as f:
        json.dump(plan_obj, f)
    out = io.StringIO()
    saved_out = jsonout._out
    saved_signals = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    patches = world.patches()
    try:
        for p in patches:
            p.start()
        jsonout.open_stdout(out)
        code = migsim_driver.cmd_run(Namespace(plan=path, deadline=deadline, no_stdin_watch=True))
    finally:
        for p in reversed(patches):
            p.stop()
        jsonout.open_stdout(saved_out)
        for s, h in saved_signals.items():
            signal.signal(s, h)
        world.close()
        if world.rundir and os.path.isdir(world.rundir):
            shutil.rmtree(world.rundir)
        shutil.rmtree(scratch)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    return code, lines, world


def masked(value):
    """Times vary from run to run: floats, decimal figures inside notes and messages, and the whole
    seconds a message gives a step's limit (what was left of the run)."""
    if isinstance(value, float):
        return "<float>"
    if isinstance(value, str):
        return re.sub(r"\d+ s\b", "<n> s", re.sub(r"\d+\.\d+", "<n>", value))
    if isinstance(value, list):
        return [masked(v) for v in value]
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    return value


def label(entry, manager="h2", src="h1", dst="h4"):
    """The protocol step a recorded command belongs to (None: bookkeeping, set-up, counter reads)."""
    kind = entry[0]
    if kind == "emit":
        return "emit " + entry[1]
    if kind == "exchange":
        # Mininet names a host TAG + its name (fakeworld fixes the tag: "mzz")
        host, reqs = entry[1][3:], entry[2]
        to = {"10.0.0.1": "h1", "10.0.0.2": "h2", "10.0.0.3": "h3", "10.0.0.4": "h4"}[reqs[0][0]]
        if host == manager and to == src:
            return "MIGRATE"
        if host == dst and to == src:
            return "SUCCESS"
        if host == src and to == dst:
            return "RESTART"
        return "key request"
    if kind == "run":
        cmd, phase = entry[1], entry[2]
        if phase == "set-up":
            return None
        if cmd[:3] == ["docker", "checkpoint", "create"]:
            return "checkpoint"
        if cmd[:2] == ["docker", "rm"]:
            return {"kill": "kill", "clean-up": "remove source"}.get(phase)
        if cmd[:2] == ["docker", "create"]:
            return "create"
        if cmd[:2] == ["docker", "start"]:
            return "start"
        return None
    if kind == "start_from_checkpoint":
        return "restore"
    if kind == "popen":
        args = entry[2]
        if args[0] == "scp":
            return "RESTART+transfer"
        if args[0] == "ssh":
            return "RESTART"
        if len(args) > 2 and args[2] == "recv":
            return "receiver"
        if len(args) > 2 and args[2] == "send":
            return "RESTART+transfer"
        return None
    if kind == "spawn":
        args = entry[1]
        core = args[2:] if args[0] == "nsenter" else args
        if core[0] == "criu":
            return "page client"
        if core[0] != "runc":
            return None
        if "checkpoint" in core:
            if "--lazy-pages" in core:
                return "checkpoint"
            return "pre-dump" if "--pre-dump" in core else "dump"
        if "restore" in core:
            return "restore"
    return None


def protocol_steps(world, dst="h4"):
    """The steps from MIGRATE to the migration's record."""
    steps = [s for s in (label(e, dst=dst) for e in world.log) if s]
    return steps[steps.index("MIGRATE"):steps.index("emit record")]


def in_order_of(entries, keys):
    """entries as text (so the order of a record's fields counts too), in order within each key"""
    out = {}
    for e, k in zip(entries, keys):
        out.setdefault(k, []).append(json.dumps(e))
    return out


class Golden:
    def check_golden(self, name, world, lines):
        got = {"log": world.normalised(), "threads": world.threads,
               "lines": [masked(json.loads(json.dumps(l).replace(world.rundir, "RUNDIR"))) for l in lines]}
        path = os.path.join(GOLDEN, name + ".json")
        if os.environ.get("MIGSIM_DRIVER_GOLDEN") == "write":
            os.makedirs(GOLDEN, exist_ok=True)
            with open(path, "w") as f:
                # one command or line per line, so a change shows as a short diff
                f.write("{\"log\": [\n%s\n],\n\"threads\": [\n%s\n],\n\"lines\": [\n%s\n]}\n" % tuple(
                    ",\n".join(json.dumps(x) for x in got[k]) for k in ("log", "threads", "lines")))
        with open(path) as f:
            want = json.load(f)
        # each thread's commands in its order, and each kind of line in its order: how the driver's
        # threads interleave is the machine's doing, not the driver's
        self.assertEqual(in_order_of(got["lines"], [l["type"] for l in got["lines"]]),
                         in_order_of(want["lines"], [l["type"] for l in want["lines"]]), "JSON lines differ from %s" % path)
        self.assertEqual(in_order_of(got["log"], got["threads"]), in_order_of(want["log"], want["threads"]),
                         "commands differ from %s" % path)


class ModeOrder(unittest.TestCase, Golden):
    def record(self, lines):
        recs = [l for l in lines if l["type"] == "record"]
        self.assertEqual(len(recs), 1, lines)
        self.assertEqual([l["type"] for l in lines][-2:], ["done", "cleaned"])
        return recs[0]

    def test_cold_ssh(self):
        code, lines, world = drive(plan("cold", "ssh", keys=[("h3", True)]))
        self.assertEqual(code, 0, lines)
        self.assertEqual(protocol_steps(world), ["MIGRATE", "checkpoint", "RESTART+transfer", "create", "restore",
                                                 "SUCCESS", "remove source"])
        rec = self.record(lines)
        self.assertEqual((rec["counter_checkpointed"], rec["counter_restored"]), (7, 8))
        self.assertEqual(rec["checkpoint_bytes"], 40960 + 42)
        self.assertEqual(rec["transferred_bytes"], 40960 + 42)
        self.assertEqual(len(rec["key_requests"]), 1)
        self.assertEqual(world.alive(), [])
        self.check_golden("cold-ssh", world, lines)

    def test_cold_tcp(self):
        code, lines, world = drive(plan("cold", "tcp"))
        self.assertEqual(code, 0, lines)
        self.assertEqual(protocol_steps(world), ["MIGRATE", "checkpoint", "receiver", "RESTART+transfer", "create",
                                                 "restore", "SUCCESS", "remove source"])
        self.assertEqual(self.record(lines)["transferred_bytes"], 40960 + 42)
        self.check_golden("cold-tcp", world, lines)

    def test_stateless(self):
        for transport, restart in (("tcp", "RESTART"), ("ssh", "RESTART")):
            with self.subTest(transport=transport):
                code, lines, world = drive(plan("stateless", transport, destination="h3"))
                self.assertEqual(code, 0, lines)
                self.assertEqual(protocol_steps(world, dst="h3"), ["MIGRATE", "kill", restart, "create", "start",
                                                                  "SUCCESS"])
                rec = self.record(lines)
                self.assertEqual((rec["checkpoint_bytes"], rec["rounds"]), (0, 0))
                self.assertRegex(rec["note"], r"^stateless: kill \d+\.\d+s, RESTART \d+\.\d+s, start \d+\.\d+s; "
                                              r"counter restarted at 1$")
                self.check_golden("stateless-" + transport, world, lines)

    def test_post_copy(self):
        code, lines, world = drive(plan("post-copy", "tcp"))
        self.assertEqual(code, 0, lines)
        self.assertEqual(protocol_steps(world), ["MIGRATE", "checkpoint", "receiver", "RESTART+transfer",
                                                 "page client", "restore", "SUCCESS"])
        rec = self.record(lines)
        self.assertEqual((rec["minimal_bytes"], rec["lazy_bytes"]), (8192, 25 * 4096))
        self.assertEqual(rec["checkpoint_bytes"], 8192 + 25 * 4096)
        self.assertEqual((rec["counter_checkpointed"], rec["counter_restored"]), (3, 4))
        self.assertRegex(rec["note"], r"^post-copy: CRIU lazy pages verified \(counter 3 -> 4, 2 page checks passed to 50\)")
        self.assertEqual(world.alive(), [])
        self.check_golden("post-copy-tcp", world, lines)

    def test_pre_copy(self):
        code, lines, world = drive(plan("pre-copy", "ssh"), dirty=[5e6, 0])
        self.assertEqual(code, 0, lines)
        self.assertEqual(protocol_steps(world), ["MIGRATE", "pre-dump", "RESTART+transfer", "pre-dump",
                                                 "RESTART+transfer", "dump", "RESTART+transfer", "restore", "SUCCESS"])
        rec = self.record(lines)
        self.assertEqual((rec["rounds"], rec["converged"]), (2, True))
        self.assertEqual([r["pages"] for r in rec["round_log"]], [12, 8])
        self.assertEqual(rec["final"]["pages"], 4)
        self.assertRegex(rec["note"], r"^pre-copy: round 1 12 pages .*; converged; final dump 4 pages .*; restore verified "
                                      r"\(counter 3 -> 4, 2 page checks passed to 50\)$")
        self.check_golden("pre-copy-ssh", world, lines)

    def test_pre_copy_round_limit(self):
        p = plan("pre-copy", "tcp")
        p["spec"]["costs"] = dict(COSTS, precopyMaxRounds=1)
        code, lines, world = drive(p, dirty=[5e6])
        self.assertEqual(code, 0, lines)
        rec = self.record(lines)
        self.assertEqual((rec["rounds"], rec["converged"]), (1, False))
        self.assertRegex(rec["note"], r"pre-copy stopped at the round limit \(1\) with 5000000 B still dirty")
        self.check_golden("pre-copy-tcp-round-limit", world, lines)

    def test_post_copy_ssh(self):
        code, lines, world = drive(plan("post-copy", "ssh"))
        self.assertEqual(code, 0, lines)
        self.assertEqual(protocol_steps(world), ["MIGRATE", "checkpoint", "RESTART+transfer", "page client", "restore",
                                                 "SUCCESS"])
        self.check_golden("post-copy-ssh", world, lines)


    def test_traffic_probes_and_redirect(self):
        p = plan("cold", "tcp", keys=[("h3", True), ("h4", False)], setup=[{"from": "h2", "to": "h3", "bytes": 300}],
                 trigger_at=1.1)
        # apart in time, as a user would start them (the golden check compares each thread on its own)
        p["spec"]["traffic"] = [{"from": "h3", "to": "h1", "kind": "udp", "rate": 1 * MB, "start": 0.5, "service": "app"},
                                {"from": "h2", "to": "h4", "kind": "tcp", "rate": 0, "start": 0.8, "bytes": 1e6}]
        p["spec"]["probes"] = [{"from": "h2", "to": "h3", "at": 0.05, "bytes": 100, "every": 0.1, "count": 2,
                                "newConnection": True}]
        code, lines, world = drive(p)
        self.assertEqual(code, 0, lines)
        self.assertEqual([(l["from"], l["to"]) for l in lines if l["type"] == "probe"], [("h2", "h3")] * 2)
        moved = [l for l in lines if l["type"] == "redirect"]
        self.assertEqual([(l["flow"], l["from"], l["to"]) for l in moved], [(0, "h3", "h4")])
        self.assertEqual(len(self.record(lines)["key_requests"]), 2)
        self.check_golden("traffic-cold-tcp", world, lines)


    def test_threshold_trigger_loops_and_no_netem(self):
        # a triangle of switches (spanning tree, prioritised bridges), queues sized by tc without netem,
        # and a migration triggered when the switch's sent packets stay above a rate
        p = plan("stateless", "tcp", destination="h3")
        topo = p["spec"]["topology"]
        topo["switches"] = ["s1", "s2", "s3"]
        topo["links"] = topo["links"] + [link("s2", "s3", 10 * MB), link("s3", "s1", 2000 * MB)]
        p["spec"]["measurement"] = {"period": 0.1}
        p["spec"]["migrations"][0]["trigger"] = {"kind": "switch", "switch": "s1", "above": 1000, "samples": 2}
        code, lines, world = drive(p, netem=False)
        self.assertEqual(code, 0, lines)
        self.assertEqual(protocol_steps(world, dst="h3"), ["MIGRATE", "kill", "RESTART", "create", "start", "SUCCESS"])
        self.assertTrue(any(e[:2] == ["mininet", "waitConnected"] for e in world.log))
        self.assertEqual(len([e for e in world.log if e[0] == "popen" and e[2][:3] == ["tc", "qdisc", "add"]]), 12)
        self.assertTrue(any(l["type"] == "warning" and "above what HTB shapes" in l["message"] for l in lines))
        self.check_golden("threshold-loops-stateless-tcp", world, lines)

    def test_threshold_port_trigger(self):
        p = plan("cold", "ssh")
        p["spec"]["measurement"] = {"period": 0.1}
        p["spec"]["migrations"][0]["trigger"] = {"kind": "port", "port": "h1-eth0", "above": 1000, "samples": 3}
        code, lines, world = drive(p)
        self.assertEqual(code, 0, lines)
        self.check_golden("threshold-port-cold-ssh", world, lines)


    def test_set_up_sessions_in_parallel(self):
        p = plan("cold", "tcp", setup=[{"from": "h2", "to": "h3", "bytes": 300}, {"from": "h2", "to": "h4", "bytes": 300},
                                       {"from": "h2", "to": "h2", "bytes": 300}])
        p["plans"][0]["rekey"] = {"parallel": True}
        code, lines, world = drive(p)
        self.assertEqual(code, 0, lines)
        sessions = sorted(e[2][-2] for e in world.log if e[0] == "popen" and e[2][0] == "ssh")
        # a session to each other key holder (none to the manager itself), at the decision
        self.assertEqual(sessions, ["root@10.0.0.3", "root@10.0.0.4"])
        steps = protocol_steps(world)
        self.assertEqual(steps[:2], ["MIGRATE", "checkpoint"])
        self.assertGreater(self.record(lines)["setup_s"], 0)


class Contract(unittest.TestCase):
    def test_every_mode_has_its_moves(self):
        import modes
        import protocol
        self.assertEqual(tuple(protocol.MOVES), modes.MODES)
        self.assertTrue(set(modes.LIVE_MODES) < set(modes.MODES))


class Failures(unittest.TestCase, Golden):
    def test_step_timeout_kills_the_process_tree(self):
        code, lines, world = drive(plan("cold", "ssh"), faults={"scp": "timeout"})
        self.assertEqual(code, 1)
        scp = next(p for p in world.procs if p.args[0] == "scp")
        ssh = world.children[scp.pid][0]
        # the tree below scp first (its ssh client), then scp itself
        kills = [e[1] for e in world.log if e[0] == "SIGKILL"]
        self.assertIn(ssh, kills)
        self.assertIn(scp.pid, kills)
        self.assertLess(kills.index(ssh), kills.index(scp.pid))
        err = next(l for l in lines if l["type"] == "error")
        self.assertEqual((err["phase"], err["migration"]), ("transfer", 0))
        self.assertRegex(err["message"], r"^migration 0 \(app\), phase transfer: transfer hung: scp on h1 did not finish")
        self.assertEqual([l["type"] for l in lines if l["type"] == "censored"], [])
        self.assertEqual(world.alive(), [])
        self.check_golden("timeout-scp", world, lines)

    def test_live_step_timeout_kills_the_process_tree(self):
        code, lines, world = drive(plan("post-copy", "ssh"), faults={"runc restore": "timeout"})
        self.assertEqual(code, 1)
        restore = next(p for p in world.procs if "restore" in p.args and "runc" in p.args)
        kills = [e[1] for e in world.log if e[0] == "SIGKILL"]
        self.assertIn(restore.pid, kills)
        err = next(l for l in lines if l["type"] == "error")
        self.assertEqual((err["phase"], err["migration"]), ("restore", 0))
        self.assertRegex(err["message"], r"restore hung: runc restore --lazy-pages did not finish")
        self.assertEqual(world.alive(), [])
        self.check_golden("timeout-runc-restore", world, lines)

    def test_deadline_gives_a_censored_record(self):
        code, lines, world = drive(plan("cold", "ssh", trigger_at=0.1), deadline=5.0, faults={"scp": "until-killed"})
        self.assertEqual(code, 1)
        censored = [l for l in lines if l["type"] == "censored"]
        self.assertEqual(len(censored), 1, lines)
        c = censored[0]
        self.assertEqual((c["migration"], c["phase"]), (0, "transfer"))
        # what the copy delivered before the deadline: the whole checkpoint folder here
        self.assertEqual(c["bytes_moved"], 40960 + 42)
        self.assertGreater(c["elapsed_s"], 0)
        self.assertLess(c["elapsed_s"], 5.0)
        err = next(l for l in lines if l["type"] == "error")
        self.assertEqual((err["phase"], err["migration"]), ("transfer", 0))
        self.assertRegex(err["message"], r"deadline|hung")
        self.assertEqual([l["type"] for l in lines][-1], "cleaned")
        self.assertEqual(world.alive(), [])

    def test_a_failed_probe_ends_the_run_with_an_error_line(self):
        # a probe whose helper prints something that is not its JSON: the run's error names the probe
        # (its error entry has the shape a migration's has, so the run ends with one error line)
        p = plan("cold", "tcp", trigger_at=1.1)
        p["spec"]["probes"] = [{"from": "h2", "to": "h3", "at": 0.05, "bytes": 100, "every": 0.1, "count": 2,
                                "newConnection": True}]
        code, lines, world = drive(p, faults={"probe": "garbage"})
        self.assertEqual(code, 1, lines)
        err = next(l for l in lines if l["type"] == "error")
        self.assertEqual((err["phase"], err["migration"]), ("probe", None))
        self.assertRegex(err["message"], r"probe 0 \(h2->h3\)")
        self.assertEqual([l["type"] for l in lines][-1], "cleaned")
        self.assertEqual(world.alive(), [])


if __name__ == "__main__":
    unittest.main()
