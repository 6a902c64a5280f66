"""The workload containers of the stateless and cold modes, under Docker: a busybox process tree
holding the container's checkpoint size plus a counter that changes, created, started and read
(the counter says whether a restore continued), and moved by CRIU through `docker checkpoint`.
The live modes' containers run under runc instead (livemig.py)."""
import os
import shutil
import time

from procs import container_pid, run_bounded, start_from_checkpoint
from testbed_names import (CHECKPOINT_BASELINE, CONTAINER_LABEL, CRIU_MIN_RATE, CRIU_STEP_BASE, HANG_FLAG,
                           STEP_CAP)

# dockerd keeps a container's checkpoints in its folder, where `docker start --checkpoint` reads them
DOCKER_CONTAINERS = "/var/lib/docker/containers"


def criu_step_cap(container):
    """Seconds a CRIU dump or restore of this container may take before it counts as hung: a dump
    or restore writes or reads the container's memory, far quicker than CRIU_MIN_RATE."""
    return CRIU_STEP_BASE + float(container["checkpoint"]) / CRIU_MIN_RATE


def workload_command(c):
    """A busybox process tree holding `checkpoint` bytes of state plus a counter that changes."""
    hold = max(0, int(c["checkpoint"]) - CHECKPOINT_BASELINE)
    parts = []
    chunk = 16 * 1024 * 1024
    while hold > 0:
        n = min(hold, chunk)
        # dd holds its n-byte buffer while blocked writing into a pipe nobody reads.
        parts.append("dd if=/dev/urandom bs=%d count=1 2>/dev/null | sleep 2147483647 &" % n)
        hold -= n
    parts.append("i=0; while :; do i=$((i+1)); echo $i; usleep 50000; done")
    return ["sh", "-c", " ".join(parts)]


class Docker:
    """Docker steps of one run, each bounded by what is left of the run (at most its cap)."""

    def __init__(self, run):
        self.run = run

    def call(self, args, phase, check=True, cap=STEP_CAP):
        """`docker ARGS`, bounded; returns its output."""
        return run_bounded(["docker"] + args, self.run.left(cap), phase, check)

    def create(self, name, m, phase):
        self.run.track_container(name)
        return self.call(["create", "--name", name, "--label", CONTAINER_LABEL, "--network", "none", self.run.image]
                        + workload_command(m["container"]), phase).strip()

    def start(self, name, phase, checkpoint=None, cap=STEP_CAP):
        run = self.run
        if checkpoint:
            start_from_checkpoint(name, checkpoint, run.left(cap), phase)
        else:
            self.call(["start", name], phase, cap=cap)
        pid = container_pid(name)
        with run.lock:
            run.state["container_pids"][name] = pid
            run.save_state()

    def remove(self, name, phase, check=True):
        self.call(["rm", "-f", name], phase, check=check)

    def last_counter(self, name, phase):
        out = self.call(["logs", "--tail", "1", name], phase)
        return int(out.strip().splitlines()[-1]) if out.strip() else None

    def first_counter(self, name, phase, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            out = self.call(["logs", name], phase)
            lines = out.strip().splitlines()
            if lines:
                return int(lines[0])
            time.sleep(0.05)
        return None

    def checkpoint(self, name, checkpoint, cap):
        """CRIU dumps the container; it stops."""
        self.call(["checkpoint", "create", name, checkpoint], "checkpoint", cap=cap)

    def checkpoint_folder(self, name, checkpoint):
        """The folder a checkpoint's images are in."""
        cid = self.call(["inspect", "-f", "{{.Id}}", name], "checkpoint").strip()
        return "%s/%s/checkpoints/%s" % (DOCKER_CONTAINERS, cid, checkpoint)

    def restore(self, name, m, received, checkpoint, cap):
        """A new container restored from the received checkpoint folder."""
        nid = self.create(name, m, "restore")
        target = "%s/%s/checkpoints" % (DOCKER_CONTAINERS, nid)
        os.makedirs(target, exist_ok=True)
        shutil.copytree(received, os.path.join(target, checkpoint))
        self.start(name, "restore", checkpoint=checkpoint, cap=cap)

    def arm_hang_flag(self):
        """The hang test's fault: the testbed's CRIU wrapper blocks until the run's deadline."""
        run = self.run
        os.makedirs(os.path.dirname(HANG_FLAG), exist_ok=True)
        with open(HANG_FLAG, "w") as f:
            f.write("%d\n" % int(time.time() + max(0, run.deadline - time.monotonic())))
        with run.lock:
            run.state["hang_flag"] = True
            run.save_state()
