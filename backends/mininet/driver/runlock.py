"""One migsim run at a time on a testbed. A run's checkpoint, restore and copy times measure the
testbed only when nothing else runs on its cores and links, and two runs at once would share
port numbers (iperf3, page servers) too. The driver holds an exclusive lock on RUN_LOCK for the
whole run; flock is released by the kernel when the process ends, however it ends, and the
descriptor is not inherited by what the run starts. A run that finds the lock taken waits a bounded
time for it: the run before may still be cleaning up after its controller gave up on it."""
import fcntl
import json
import os
import time

from testbed_names import RUN_LOCK


class TestbedBusy(Exception):
    pass


# longer than the controller's clean-up grace for a run it gave up on (backend.ts, 90 s by default)
WAIT_S = 120.0


def hold_testbed(path=RUN_LOCK, wait_s=WAIT_S):
    """Takes the testbed for this process, waiting up to wait_s for a run that holds it, or raises
    TestbedBusy naming that run. Returns the descriptor that holds the lock (it must stay open
    while the run lives)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    give_up = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() < give_up:
                time.sleep(0.2)
                continue
        try:
            holder = json.loads(os.pread(fd, 4096, 0) or b"{}")
        except ValueError:
            holder = {}
        os.close(fd)
        raise TestbedBusy("the testbed is running another migsim run (driver pid %s, since %s; waited %.0f s): one "
                          "run at a time on a testbed; wait for it to end, or end it with stop-testbed.sh"
                          % (holder.get("pid", "unknown"), holder.get("since", "unknown"), wait_s))
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps({"pid": os.getpid(),
                              "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}).encode(), 0)
    return fd
