"""One migsim run at a time on a testbed. A run's checkpoint, restore and copy times measure the
testbed only when nothing else runs on its cores and links, and two runs at once would share
port numbers (iperf3, page servers) too. The driver holds an exclusive lock on RUN_LOCK for the
whole run; flock is released by the kernel when the process ends, however it ends, and the
descriptor is not inherited by what the run starts."""
import fcntl
import json
import os
import time

from testbed_names import RUN_LOCK


class TestbedBusy(Exception):
    pass


def hold_testbed(path=RUN_LOCK):
    """Takes the testbed for this process, or raises TestbedBusy naming the run that has it.
    Returns the descriptor that holds the lock (it must stay open while the run lives)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            holder = json.loads(os.pread(fd, 4096, 0) or b"{}")
        except ValueError:
            holder = {}
        os.close(fd)
        raise TestbedBusy("the testbed is running another migsim run (driver pid %s, since %s): one run at a time "
                          "on a testbed; wait for it to end, or end it with stop-testbed.sh"
                          % (holder.get("pid", "unknown"), holder.get("since", "unknown"))) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps({"pid": os.getpid(),
                              "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}).encode(), 0)
    return fd
