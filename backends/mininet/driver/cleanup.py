"""Removing what a run made, from its state record (RUNDIR/state.json): the driver if it still runs,
containers (releasing a hung CRIU first), processes by pid and start time, the switches' links, the
hang flag, the run folder. Used by the run itself, by `migsim_driver.py cleanup`, and by
stop-testbed.sh through it."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

from jsonout import log
from livemig import release_runc
from netutil import containerd_leaks
from procs import alive, kill_descendants, kill_pids, proc_start_time, release_container
from testbed_names import HANG_FLAG, NAME


def release_containers(state):
    """Removes the run's containers, killing a hung CRIU that holds one (bounded)."""
    pids = state.get("container_pids", {})
    for name in state.get("containers", []):
        if NAME.match(name):
            for what in release_container(name, pids.get(name, 0)):
                log("%s: %s" % (name, what))
    if "containerd_before" in state:
        for d in set(containerd_leaks()) - set(state["containerd_before"]):
            shutil.rmtree(d, ignore_errors=True)
    if state.get("hang_flag"):
        remove_hang_flag()


def remove_hang_flag():
    """The hang test's fault flag (testbed_names.HANG_FLAG), so no later checkpoint blocks."""
    try:
        os.unlink(HANG_FLAG)
    except OSError:
        pass


def stop_driver(state):
    """A driver still running that state (cleanup from outside, e.g. stop-testbed.sh): SIGTERM lets it
    clean up after itself; SIGKILL after 30 s."""
    pid, started = (state.get("driver") or [0, None])[:2]
    if not pid or pid == os.getpid() or not alive(pid, started):
        return
    os.kill(pid, signal.SIGTERM)
    end = time.monotonic() + 30
    while time.monotonic() < end and alive(pid, started):
        time.sleep(0.2)
    if alive(pid, started):
        kill_pids([pid])


def cleanup_state(state):
    """Removes what a state record lists: the driver, containers, processes, bridges/interfaces
    (the host namespaces go with their processes), the run folder."""
    stop_driver(state)
    release_containers(state)
    release_runc(state)
    # Only the very processes that were recorded (a reused pid has another start time), and what
    # runs below them: an scp's ssh client, the sessions of a host's sshd.
    recorded = [int(pid) for pid, started in state.get("pids", [])
                if started is not None and proc_start_time(pid) == started]
    kill_descendants(recorded)
    kill_pids(recorded)
    for br in state.get("links", []):
        if NAME.match(br) and os.path.exists("/sys/class/net/%s" % br):
            # A switch's ports are named <switch>-ethN; deleting them removes the host ends too.
            for intf in os.listdir("/sys/class/net"):
                if intf.startswith(br + "-eth"):
                    subprocess.run(["ip", "link", "del", intf], stderr=subprocess.DEVNULL)
            subprocess.run(["ip", "link", "del", br], stderr=subprocess.DEVNULL)
    rundir = state.get("rundir", "")
    if rundir.startswith(tempfile.gettempdir() + "/migsim-tbrun-") and os.path.isdir(rundir):
        shutil.rmtree(rundir, ignore_errors=True)
