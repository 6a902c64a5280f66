"""The NetSoft 2019 migration protocol on the testbed, step for step as the simulator runs it
(src/migration/protocol.ts, docs/migration.md): trigger -> decision (the MTD set-up, the plan's
key requests, its compute time) -> MIGRATE (manager -> source) -> the mode's moves (checkpoint,
RESTART and the checkpoint files source -> destination, restore) -> SUCCESS (destination ->
source) -> the service's traffic redirected. Each message and file crosses the emulated network, and each step
is real: Docker and CRIU (containers.py), runc and CRIU's lazy pages and pre-dumps (livemig.py,
precopy.py), scp or a TCP stream (transfer.py), the hosts' exchange agents (network.py).

The four modes differ only in what is moved when and in where downtime starts and ends; each
returns the record's fields for its moves. The record is the driver's `record` line
(backends/mininet/driver-lines.ts checks it).
"""
import os
import threading
import time

from containers import criu_step_cap
from jsonout import emit
from livemig import lazy_pages_log
from netutil import dir_bytes, dir_files
from testbed_names import PAGE_SERVER_BASE_PORT


class Steps:
    """One migration's moves between MIGRATE and SUCCESS, shared by the modes: the phase it is in
    (named in a failure, a hang or a censored record), the RESTART connection and the copies."""

    def __init__(self, run, i, m, plan):
        self.run, self.i, self.m = run, i, m
        self.src, self.dst = m["source"], plan["destination"]
        self.cname = run.containers[i]

    def phase(self, name):
        self.run.set_phase(self.i, name)

    def connect(self):
        """Source -> destination connection carrying RESTART: its seconds."""
        return self.run.copies.connect(self.m, self.src, self.dst)

    def send(self, folder):
        """Source -> destination copy of a folder (its connection included): (seconds, received folder)."""
        return self.run.copies.send(self.m, self.src, self.dst, folder, self.i)


def stateless(s):
    """Kill at the source, RESTART, start a fresh container at the destination (its state starts
    over). Recorded as the simulator records a stateless move: the kill in checkpoint_s, the
    RESTART connection in transfer_s, the start in restore_s; down from the kill to the start."""
    docker = s.run.docker
    new_name = "%s-r" % s.cname
    s.phase("kill")
    t = time.monotonic()
    docker.remove(s.cname, "kill")
    kill_s = time.monotonic() - t
    # RESTART: the source opens the migration's connection to the destination, as in every mode
    # (the protocol's message that has the destination start the container)
    s.phase("RESTART message")
    restart_s = s.connect()
    s.phase("start")
    t = time.monotonic()
    docker.create(new_name, s.m, "start")
    docker.start(new_name, "start")
    start_s = time.monotonic() - t
    first = docker.first_counter(new_name, "start")
    if first is None:
        raise RuntimeError("stateless restart of %s on %s produced no output" % (s.cname, s.dst))
    return dict(checkpoint_s=kill_s, transfer_s=restart_s, restore_s=start_s, downtime_s=kill_s + restart_s + start_s,
                checkpoint_bytes=0, transferred_bytes=0, rounds=0,
                note="stateless: kill %.3fs, RESTART %.3fs, start %.3fs; counter restarted at %d" % (kill_s, restart_s, start_s, first))


def cold(s):
    """Stop and checkpoint (CRIU, through Docker), RESTART and the files, restore: down from the
    checkpoint to the restore. The restored counter must continue from the checkpointed one."""
    run, docker = s.run, s.run.docker
    new_name = "%s-r" % s.cname
    cp = "cp%d" % s.i
    s.phase("checkpoint")
    if run.plan.get("options", {}).get("faultInjection") == "criu-hang":
        docker.arm_hang_flag()
    cap = criu_step_cap(s.m["container"])
    down_start = time.monotonic()
    docker.checkpoint(s.cname, cp, cap)
    checkpoint_s = time.monotonic() - down_start
    folder = docker.checkpoint_folder(s.cname, cp)
    before = docker.last_counter(s.cname, "checkpoint")
    size = dir_bytes(folder)
    # The checkpoint files cross the emulated network (connection set-up included).
    s.phase("transfer")
    transfer_s, received = s.send(folder)
    s.phase("restore")
    t = time.monotonic()
    docker.restore(new_name, s.m, received, cp, cap)
    restore_s = time.monotonic() - t
    downtime = time.monotonic() - down_start
    after = docker.first_counter(new_name, "restore")
    if after is None or before is None or after < before:
        raise RuntimeError("restored %s did not continue from its checkpoint (checkpointed counter %s, "
                           "restored %s)" % (s.cname, before, after))
    return dict(checkpoint_s=checkpoint_s, transfer_s=transfer_s, restore_s=restore_s, downtime_s=downtime,
                checkpoint_bytes=size, transferred_bytes=dir_bytes(received), rounds=1,
                counter_checkpointed=before, counter_restored=after,
                note="cold: CRIU checkpoint verified (counter %d -> %d)" % (before, after))


def pre_copy(s):
    """Rounds while the container runs (CRIU pre-dumps, each round's folder copied), until what was
    dirtied meanwhile is at most precopyThreshold or precopyMaxRounds is reached; then stop-and-copy
    and the restore (precopy.py, with runc: livemig.py). Down from the final dump to the restore."""
    return s.run.live.pre_copy(s.i, s.m, s.cname, s.src, s.dst, criu_step_cap(s.m["container"]), s.run.spec["costs"])


def post_copy(s):
    """Minimal state first (CRIU lazy pages), RESTART and its copy, restore and resume; then the
    pages are pulled by request. Down from the checkpoint to the restore; transfer_s is the minimal
    copy plus the page pull (as the simulator)."""
    run, live = s.run, s.run.live
    cap = criu_step_cap(s.m["container"])
    img, work, dst_work = live.lazy_folders(s.i)
    port = PAGE_SERVER_BASE_PORT + s.i
    s.phase("checkpoint")
    down_start = time.monotonic()
    server = live.checkpoint_lazy(s.src, s.cname, img, work, port, cap)
    checkpoint_s = time.monotonic() - down_start
    minimal, minimal_files = dir_bytes(img), dir_files(img)
    s.phase("transfer")
    transfer_s, received = s.send(img)
    s.phase("restore")
    t = time.monotonic()
    client = live.start_page_client(s.dst, s.src, port, received, dst_work, t)
    new = s.cname + "-r"
    live.restore_lazy(s.dst, new, s.m["container"], received, dst_work, cap)
    down_end = time.monotonic()
    restore_s = down_end - t
    s.phase("page pull")
    # the pull is a copy across the emulated network (as slow as its bottleneck and the flows on
    # it), not a CRIU step: bounded by the run's deadline like the image copy
    live.wait(client, run.left(run.deadline), "page pull", "criu lazy-pages (pages still missing)")
    client_exit = time.monotonic()
    pages_s = client_exit - down_end
    live.wait(server, run.left(30), "page pull", "the source's page server (runc checkpoint)")
    # the pull's end beyond its last page: the daemon's close handshake with the page server (its
    # last log line is the disconnect, stamped from its start, which follows `t` by its exec)
    lazy_bytes, last = lazy_pages_log(os.path.join(dst_work, "lazy-pages.log"))
    close_s = max(0.0, client_exit - t - last) if last is not None else None
    before = live.checkpointed_value(s.cname)
    return dict(checkpoint_s=checkpoint_s, transfer_s=transfer_s + pages_s, restore_s=restore_s,
                downtime_s=down_end - down_start, checkpoint_bytes=minimal + lazy_bytes,
                transferred_bytes=dir_bytes(received) + lazy_bytes,
                rounds=0, minimal_bytes=minimal, minimal_files=minimal_files, lazy_bytes=lazy_bytes, minimal_transfer_s=transfer_s,
                pages_s=pages_s, close_s=close_s, counter_checkpointed=before, _verify=(new, before))


# each of modes.MODES (the driver's tests check they match)
MOVES = {"stateless": stateless, "cold": cold, "pre-copy": pre_copy, "post-copy": post_copy}


def wait_trigger(run, trig):
    """A fixed time from t = 0, or a threshold: the watched counter is polled every measurement
    period from t = 0 and the trigger fires at the first sample where the last `samples` samples
    were all strictly above the threshold."""
    if trig["kind"] == "at":
        run.sleep_until(run.t0 + trig["at"])
        return
    period = float(run.spec["measurement"]["period"])
    read = run.network.counter_reader(trig)
    prev, t_prev = read(), time.monotonic()
    above, k = 0, 1
    while True:
        run.sleep_until(run.t0 + k * period)
        k += 1
        v, now = read(), time.monotonic()
        rate = (v - prev) / max(now - t_prev, 1e-9)
        prev, t_prev = v, now
        above = above + 1 if rate > trig["above"] else 0
        if above >= int(trig["samples"]):
            return


def set_up(run, i, plan):
    """MTD set-up at the decision, as the simulator's protocol has it: by default the manager re-keys
    before every migration (a fresh secret and table), sending each key holder its material in an
    SSH session that runs a command, one holder after the other (`rekey.parallel`: all at once;
    `rekey.every`: once per period, later migrations of the period wait for it). Returns the
    seconds this migration waited for it."""
    msgs = [s for s in plan.get("setup", []) if s["from"] != s["to"]]
    if not msgs:
        return 0.0
    rekey = plan.get("rekey") or {}
    every = float(rekey.get("every", 0))
    parallel = bool(rekey.get("parallel", False))
    t = time.monotonic()
    if every <= 0:
        send_setup(run, i, msgs, parallel)
        return time.monotonic() - t
    period = int((t - run.t0) // every)
    with run.lock:
        done = run.rekeys.get(period)
        first = done is None
        if first:
            done = run.rekeys[period] = threading.Event()
    if first:
        try:
            send_setup(run, i, msgs, parallel)
        finally:
            done.set()
    else:
        while not done.wait(0.2):
            run.check_abort()
    return time.monotonic() - t


def send_setup(run, i, msgs, parallel):
    """Each set-up message as an SSH session carrying its bytes: in turn, or all at once."""
    def send(k, msg):
        payload = os.path.join(run.rundir, "setup-%d-%d" % (i, k))
        with open(payload, "wb") as f:
            f.write(b"\0" * int(msg["bytes"]))
        run.copies.session(msg["from"], msg["to"], payload, "set-up")
    if not parallel:
        for k, msg in enumerate(msgs):
            run.check_abort()
            send(k, msg)
        return
    errors = []

    def one(k, msg):
        try:
            send(k, msg)
        except Exception as e:  # noqa: BLE001 - reported below, with the others
            errors.append(e)
    threads = [threading.Thread(target=one, args=(k, msg), daemon=True) for k, msg in enumerate(msgs)]
    for th in threads:
        th.start()
    for th in threads:
        while th.is_alive():
            th.join(0.2)
            run.check_abort()
    if errors:
        raise errors[0]


def decide(run, i, src, plan, t_trig):
    """The decision: the MTD set-up, the plan's key requests one after the other from the source,
    then the computation (manager + plan); the record's decision fields."""
    run.set_phase(i, "set-up")
    setup_s = set_up(run, i, plan)
    run.set_phase(i, "decision")
    costs = run.spec["costs"]
    keys = [{"host": k["host"], "req": k["requestBytes"], "resp": k["responseBytes"], "new": k["newConnection"]}
            for k in plan.get("keyRequests", [])]
    key_s, key_each = run.network.exchange(src, keys)
    compute = float(costs.get("decisionCompute", 0)) + float(plan.get("computeSeconds", 0))
    if compute > 0:
        run.sleep_until(time.monotonic() + compute)
    return {"setup_s": setup_s, "key_retrieval_s": key_s, "key_requests": key_each,
            "decision_s": time.monotonic() - t_trig}


def live_note(rec, note, before, first, last):
    """A live mode's note once its restore is verified (migsim-dirty checks its pages every 20
    counter values): pre-copy's rounds (`note`), or post-copy's minimal image and page pull."""
    if note:
        return "%s; restore verified (counter %d -> %d, %d page checks passed to %d)" % (
            note, before, first, (last - first) // 20, last)
    close = "" if rec.get("close_s") is None else ", the last %.3f s the page server's close" % rec["close_s"]
    return "post-copy: CRIU lazy pages verified (counter %d -> %d, %d page checks passed to %d); " \
        "%d B minimal image in %d files, %d B of pages pulled in %.3f s after the restore%s" % (
            before, first, (last - first) // 20, last, rec["minimal_bytes"], rec["minimal_files"], rec["lazy_bytes"],
            rec["pages_s"], close)


def migrate(run, i, m, plan):
    """Migration `i` from its trigger to its record line."""
    s = Steps(run, i, m, plan)
    src, dst = s.src, s.dst
    ctl = int(run.spec["costs"]["controlBytes"])
    manager = run.spec["manager"]
    rec = {"type": "record", "index": i, "container": m["container"]["name"], "source": src, "destination": dst,
           "mode": m["mode"], "transport": m["transport"]}
    s.phase("trigger")
    wait_trigger(run, m["trigger"])
    t_trig = time.monotonic()
    rec["trigger_s"] = t_trig - run.t0
    with run.lock:
        run.progress.setdefault(i, {})["t_trig"] = t_trig
    rec.update(decide(run, i, src, plan, t_trig))
    run.check_abort()
    # MIGRATE: manager -> source (acknowledged).
    s.phase("MIGRATE message")
    migrate_s = run.network.message(manager, src, ctl) if manager != src else 0.0
    rec["migrate_msg_s"] = migrate_s
    move = MOVES.get(m["mode"])
    if move is None:
        raise RuntimeError("mode %s is not supported on this testbed" % m["mode"])
    rec.update(move(s))
    # SUCCESS: destination -> source (acknowledged); then the service's traffic follows.
    s.phase("SUCCESS message")
    success_s = run.network.message(dst, src, ctl)
    rec["success_msg_s"] = success_s
    rec["control_s"] = migrate_s + success_s
    rec["prepare_s"] = 0.0
    now = time.monotonic()
    rec["total_s"] = now - t_trig
    rec["redirect_s"] = now - run.t0
    s.phase("redirect")
    run.traffic.redirect(m["container"]["name"], src, dst)
    # pre-copy says whether its rounds converged; every other mode has nothing to converge
    rec.setdefault("converged", True)
    verify = rec.pop("_verify", None)
    note = rec.pop("_note", None)
    if verify:
        # after the clock stops: the restored counter continued and its pages passed two checks
        s.phase("verify")
        first, last = run.live.verify(*verify)
        rec["counter_restored"] = first
        rec["note"] = live_note(rec, note, verify[1], first, last)
    if m["mode"] == "cold":
        s.phase("clean-up")
        run.docker.remove(s.cname, "clean-up", check=False)
    s.phase("done")
    emit(rec)
