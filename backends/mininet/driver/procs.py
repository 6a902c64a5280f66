"""Processes and containers the testbed made, found by pid and parentage (never by name pattern),
commands run with a deadline, and the release of a container a hung CRIU holds.

A hung `criu dump` (runc's child, under the container's containerd shim) is not undone by killing
the `docker checkpoint create` client: the container stays frozen and `docker rm -f` waits behind
it. Killing that criu process by its pid releases the container; `release_container` does that.
"""
import os
import re
import signal
import subprocess
import sys
import time

# docker 20.10 uploads a checkpoint to containerd's content store when a container starts from it;
# if containerd still holds the identical bytes from the checkpoint's creation, that upload fails.
CONTENT_EXISTS = re.compile(r"content (sha256:[0-9a-f]{64}): already exists")
DOCKER_CONTAINERD = ["ctr", "-a", "/var/run/docker/containerd/containerd.sock", "-n", "moby"]


class Aborted(Exception):
    """The run stopped (an error elsewhere, a signal, its deadline) while a step was waiting."""


class StepTimeout(Exception):
    """A bounded step ran past its deadline; `phase` names the protocol phase it belonged to."""

    def __init__(self, phase, what, seconds):
        super().__init__("%s hung: %s did not finish within %.0f s" % (phase, what, seconds))
        self.phase = phase


def run_bounded(cmd, timeout, phase, check=True):
    """Runs an argument list (never a shell string) for at most `timeout` seconds; returns stdout.
    On expiry the command is killed and StepTimeout names the phase."""
    timeout = max(1.0, float(timeout))
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise StepTimeout(phase, " ".join(cmd[:3]), timeout)
    if check and p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd[:3]), p.returncode, err.strip()[-300:]))
    return out


def stat_fields(pid):
    """(comm, state, ppid, start time) of a process, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % int(pid)) as f:
            data = f.read()
    except (OSError, ValueError):
        return None
    comm = data[data.index("(") + 1:data.rindex(")")]
    rest = data[data.rindex(")") + 2:].split()
    return comm, rest[0], int(rest[1]), int(rest[19])


def proc_start_time(pid):
    s = stat_fields(pid)
    return s[3] if s else None


def alive(pid, started=None):
    """True when pid runs and (if given) is the very process that started at `started`; zombies are gone."""
    s = stat_fields(pid)
    return s is not None and s[1] != "Z" and (started is None or s[3] == started)


def children_map():
    kids = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            s = stat_fields(int(name))
            if s:
                kids.setdefault(s[2], []).append(int(name))
    return kids


def descendants(pid, kids=None):
    kids = children_map() if kids is None else kids
    out, todo = [], [int(pid)]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def kill_pids(pids):
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


def kill_descendants(pids):
    """SIGKILL everything that runs below these processes (an scp's ssh client, an sshd's sessions);
    before the parents go, since children are found from their parent only while it lives."""
    kids = children_map()
    kill_pids([d for pid in pids for d in descendants(pid, kids)])


def kill_tree(pid):
    """SIGKILL a process and everything below it, children first."""
    kill_descendants([pid])
    kill_pids([int(pid)])


def container_pid(name, timeout=10):
    """The container's init pid (0 when not running or unknown)."""
    try:
        out = run_bounded(["docker", "inspect", "-f", "{{.State.Pid}}", name], timeout, "clean-up", check=False)
        return int(out.strip() or 0)
    except (StepTimeout, ValueError):
        return 0


def criu_under_shim(init_pid, kids=None):
    """The criu processes runc started for the container whose init is `init_pid` (its shim's
    runc children's criu children), with their own descendants."""
    s = stat_fields(init_pid)
    if not s:
        return []
    kids = children_map() if kids is None else kids
    shim = s[2]
    found = []
    for runc in kids.get(shim, []):
        rs = stat_fields(runc)
        if runc == init_pid or not rs or rs[0] != "runc":
            continue
        for c in kids.get(runc, []):
            cs = stat_fields(c)
            if cs and cs[0] == "criu":
                found += [c] + descendants(c, kids)
    return found


def release_container(name, init_pid=0, timeout=30):
    """Removes a container even when a hung CRIU holds it: kills that criu (by pid, found through
    the container's shim), then `docker rm -f`; if docker still hangs, kills the container's
    processes by pid and tries once more. Returns a list of what was done (for the log)."""
    done = []
    init_pid = init_pid or container_pid(name)
    if init_pid:
        stuck = criu_under_shim(init_pid)
        if stuck:
            kill_pids(stuck)
            done.append("killed hung criu %s" % ",".join(map(str, stuck)))
    for attempt in range(2):
        try:
            run_bounded(["docker", "rm", "-f", name], timeout, "clean-up", check=False)
            return done
        except StepTimeout:
            if attempt == 0 and init_pid and stat_fields(init_pid):
                victims = [init_pid] + descendants(init_pid)
                kill_pids(victims)
                done.append("docker rm hung; killed container processes %s" % ",".join(map(str, victims)))
                time.sleep(0.5)
    done.append("docker rm -f %s still hangs" % name)
    return done


def start_from_checkpoint(name, checkpoint, timeout, phase):
    """`docker start --checkpoint`; when containerd still holds the same checkpoint content from its
    creation ("content sha256:...: already exists"), that stale copy is removed and the start tried
    once more."""
    for attempt in range(2):
        try:
            return run_bounded(["docker", "start", "--checkpoint", checkpoint, name], timeout, phase)
        except RuntimeError as e:
            stale = CONTENT_EXISTS.search(str(e))
            if not stale or attempt:
                raise
            sys.stderr.write("[driver] containerd still holds checkpoint content %s: removed, start retried\n"
                             % stale.group(1))
            run_bounded(DOCKER_CONTAINERD + ["content", "rm", stale.group(1)], 30, phase, check=False)
