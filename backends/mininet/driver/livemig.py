"""Live migration on the testbed: post-copy with CRIU lazy pages, pre-copy with CRIU's incremental
pre-dumps (the rounds are precopy.py's; RuncPreCopy is their runtime here), and the checks that
decide which live modes this testbed can run at all.

Docker's `checkpoint create` offers neither CRIU pre-dump nor lazy pages, so a container that is
to be migrated live runs under runc directly: its own bundle (the workload image's files, exported
once per run), its own runc state folder in the run folder (RUNDIR/runc), the label as an OCI
annotation. Its workload is migsim-dirty (backends/mininet/workload/), which holds the container's
checkpoint size in memory, re-dirties its working set at the container's dirty rate and checks its
pages every second, so a restored container proves its memory came back whole.

Post-copy (protocol.py post_copy puts these steps in order), timed like the cold mode:
  checkpoint  `runc checkpoint --lazy-pages --page-server SRC:PORT` in the source host: CRIU dumps
              everything but the memory pages, stops the container, and serves the pages
  transfer    the minimal image folder across the emulated network (scp or tcp, as cold)
  restore     `criu lazy-pages` (the destination's page client) connects to the source's page
              server across the emulated network; `runc restore --lazy-pages` resumes the container
              with its memory missing: every first touch of a page faults and is fetched
  page pull   the lazy-pages daemon pushes the rest in the background and exits when every page
              has arrived; the source's checkpoint ends when its page server has served them all
downtime = checkpoint start -> restore end; transfer_s = minimal copy + page pull (as the simulator).

Pre-copy: see precopy.py; `runc checkpoint --pre-dump --parent-path` rounds in the source host, each
round's folder across the emulated network by the run's transfer, the final `runc checkpoint` and
`runc restore` in the destination host, verified as post-copy.
"""
import json
import os
import re
import select
import shutil
import subprocess
import threading
import time

import precopy
from jsonout import warn
from modes import LIVE_MODES
from netutil import dir_bytes
from precopy import PAGE_SIZE
from procs import StepTimeout, kill_tree, run_bounded
from testbed_names import CONTAINER_LABEL, LABEL_KEY, LIVE_BASELINE, WORKLOAD_BIN

# CRIU's lazy page server sizes a pipe to 819 pages (page-pipe.h PIPE_MAX_SIZE) and ignores the
# failure: without CAP_SYS_RESOURCE above fs.pipe-max-size its first page answer then fails with
# "splice: Bad file descriptor" (measured on this testbed, whose root lacks CAP_SYS_RESOURCE).
LAZY_PIPE_BYTES = 819 * 4096
PIPE_MAX_SIZE = "/proc/sys/fs/pipe-max-size"
UFFD_PAGES = re.compile(r"Found (\d+) pages to be handled by UFFD")


def criu_feature(name):
    """(True, "") when `criu check --feature NAME` passes, else (False, its last output line)."""
    try:
        r = subprocess.run(["criu", "check", "--feature", name], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, str(e)
    lines = [l.strip() for l in r.stdout.splitlines() if l.strip()]
    return r.returncode == 0, (lines[-1] if lines else "exit code %d" % r.returncode)


def image_has_workload(image):
    """True when the image carries the live workload (setup-testbed.sh adds it to the image)."""
    try:
        r = subprocess.run(["docker", "run", "--rm", "--label", LABEL_KEY + "=preflight", "--network", "none", image,
                            "test", "-x", WORKLOAD_BIN], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


PRECOPY_REFUSAL = ("pre-copy needs CRIU's memory dirty tracking, which this kernel lacks (`criu check --feature "
                   "mem_dirty_track`: %s; the kernel needs CONFIG_MEM_SOFT_DIRTY, without it CRIU's pre-dump aborts)")


def mode_problems(image):
    """For each live mode, why this testbed cannot run it (one line), or None when it can."""
    common = []
    if shutil.which("runc") is None:
        common.append("runc (apt-get install runc)")
    if not image_has_workload(image):
        common.append("%s in image %s (run backends/mininet/setup-testbed.sh)" % (WORKLOAD_BIN, image))
    ok, why = criu_feature("mem_dirty_track")
    if not ok:
        pre = PRECOPY_REFUSAL % why
    else:
        pre = "pre-copy needs %s" % ", ".join(common) if common else None
    lazy = []
    if not os.path.exists("/dev/userfaultfd"):
        ok, why = criu_feature("uffd-noncoop")
        if not ok:
            lazy.append("userfaultfd (`criu check --feature uffd-noncoop`: %s)" % why)
    if not lazy and shutil.which("runc") is not None:
        ok, why = criu_feature("uffd-noncoop")
        if not ok:
            lazy.append("CRIU lazy pages (`criu check --feature uffd-noncoop`: %s)" % why)
    missing = lazy + common
    post = "post-copy needs %s" % ", ".join(missing) if missing else None
    return {"pre-copy": pre, "post-copy": post}


def workload_args(c):
    """migsim-dirty HOLD WSET RATE for a container spec: the checkpoint size held (less what the
    process and CRIU's metadata add), the working set (memory), the dirty rate (bytes/s)."""
    hold = max(PAGE_SIZE, int(c["checkpoint"]) - LIVE_BASELINE)
    wset = min(hold, int(c.get("memory", hold)))
    return [WORKLOAD_BIN, str(hold), str(wset), str(int(c.get("dirtyRate", 0)))]


class Output:
    """The container's stdout, read as it comes: counter values, and whether it reported CORRUPT."""

    def __init__(self, stream):
        self.values = []
        self.corrupt = None
        self.closed = threading.Event()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        try:
            for line in stream:
                line = line.strip()
                if line.isdigit():
                    self.values.append(int(line))
                elif line.startswith("CORRUPT"):
                    self.corrupt = line
        finally:
            self.closed.set()

    def wait_value(self, pred, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.values and pred(self.values[-1]):
                return True
            if self.closed.is_set() or self.corrupt:
                return False
            time.sleep(0.02)
        return False


class Live:
    """The runc side of a run: bundles, containers and the live migrations."""

    def __init__(self, run):
        self.run = run
        self.root = os.path.join(run.rundir, "runc")
        self.rootfs = None
        self.outputs = {}
        self.procs = []
        # stderr of each runc/criu process, by pid (its error message when it fails)
        self.errfiles = {}

    def check_modes(self, spec):
        modes = {m["mode"] for m in spec["migrations"] if m["mode"] in LIVE_MODES}
        if not modes:
            return
        problems = mode_problems(self.run.image)
        for mode in sorted(modes):
            if problems[mode]:
                raise RuntimeError(problems[mode])
        raise_pipe_max_size()

    def prepare_rootfs(self):
        """The workload image's files, exported once per run (every runc bundle of the run uses them)."""
        if self.rootfs:
            return self.rootfs
        run = self.run
        name = "migsim-%s-%s-export" % (os.path.basename(run.rundir)[-8:], run.tag)
        run.track_container(name)
        run.docker.call(["create", "--name", name, "--label", CONTAINER_LABEL, run.image, "true"], "set-up")
        tar = os.path.join(run.rundir, "rootfs.tar")
        run.docker.call(["export", "-o", tar, name], "set-up")
        run.docker.call(["rm", "-f", name], "set-up", check=False)
        rootfs = os.path.join(run.rundir, "rootfs")
        os.makedirs(rootfs)
        run_bounded(["tar", "-x", "-f", tar, "-C", rootfs], run.left(), "set-up")
        os.unlink(tar)
        with run.lock:
            run.state["runc_root"] = self.root
            run.state.setdefault("runc_ids", [])
            run.save_state()
        self.rootfs = rootfs
        return rootfs

    def bundle(self, cid, args):
        """A bundle folder for one container: runc's default spec, our process, the shared rootfs."""
        rootfs = self.prepare_rootfs()
        b = os.path.join(self.run.rundir, "bundles", cid)
        os.makedirs(b)
        run_bounded(["runc", "spec", "--bundle", b], self.run.left(30), "set-up")
        path = os.path.join(b, "config.json")
        with open(path) as f:
            cfg = json.load(f)
        cfg["root"] = {"path": rootfs, "readonly": True}
        cfg["process"]["terminal"] = False
        cfg["process"]["args"] = args
        cfg["process"]["env"] = ["PATH=/bin"]
        key, _, value = CONTAINER_LABEL.partition("=")
        cfg["annotations"] = {key: value}
        with open(path, "w") as f:
            json.dump(cfg, f)
        return b

    def track(self, cid):
        with self.run.lock:
            self.run.state["runc_ids"].append(cid)
            self.run.save_state()

    def popen(self, host, args, stdout=subprocess.DEVNULL, **kw):
        """A runc/criu process in a host's network namespace (None: the driver's). Only the network
        namespace: a Mininet host's own mount namespace has no cgroup file system, and CRIU freezes
        the container through it. Its messages go to a file in the run folder, never to its stderr:
        a container that runc starts or restores inherits runc's stdio, and CRIU cannot dump a
        container whose stderr is a file outside it."""
        path = os.path.join(self.run.rundir, "live-%d.log" % len(self.errfiles))
        if args[0] == "runc":
            args = args[:1] + ["--log", path] + args[1:]
        if host:
            args = ["nsenter", "--net=/proc/%d/ns/net" % self.run.network.host(host).pid] + args
        p = subprocess.Popen(args, stdout=stdout, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True, **kw)
        self.errfiles[p.pid] = path
        self.procs.append(p)
        self.run.procs.append(p)
        self.run.track_pid(p.pid)
        return p

    def wait(self, p, seconds, phase, what):
        try:
            code = p.wait(timeout=max(1.0, seconds))
        except subprocess.TimeoutExpired:
            self.stop_tree(p)
            raise StepTimeout(phase, what, seconds)
        if code != 0:
            raise RuntimeError("%s failed (exit %d): %s" % (what, code, self.errors(p)))

    def errors(self, p):
        try:
            with open(self.errfiles.get(p.pid, ""), errors="replace") as f:
                text = f.read().strip()
        except OSError:
            return ""
        # runc names CRIU's log; its last errors say why (past the harmless RLIMIT_NOFILE one)
        m = re.search(r"log file: (\S+?\.log)", text)
        errs = []
        if m:
            try:
                with open(m.group(1), errors="replace") as f:
                    errs = [l.strip() for l in f if "Error" in l and "RLIMIT_NOFILE" not in l][-2:]
            except OSError:
                pass
        return " | ".join([text[-300:]] + errs)

    def start(self, cid, c, phase):
        """Starts a workload container under runc (in the driver's namespace: it has its own)."""
        b = self.bundle(cid, workload_args(c))
        self.track(cid)
        p = self.popen(None, ["runc", "--root", self.root, "run", "-d", "--bundle", b, cid], stdout=subprocess.PIPE)
        self.outputs[cid] = Output(p.stdout)
        self.wait(p, self.run.left(60), phase, "runc run %s" % cid)
        if not self.outputs[cid].wait_value(lambda v: v >= 2, self.run.left(30)):
            raise RuntimeError("workload container %s printed no counter (%s)" % (cid, self.outputs[cid].corrupt or "no output"))

    def lazy_folders(self, i):
        """Post-copy's folders: the minimal image, the source's CRIU work folder and the
        destination's (images and CRIU's logs apart, so only the image crosses the network)."""
        folders = tuple(os.path.join(self.run.rundir, "%s%d" % (n, i)) for n in ("lazy", "lazy-work", "restore-work"))
        for d in folders:
            os.makedirs(d)
        return folders

    def checkpoint_lazy(self, src, cid, img, work, port, criu_cap):
        """`runc checkpoint --lazy-pages --page-server SRC:PORT` in the source host: CRIU dumps
        everything but the memory pages and stops the container. Returns once the minimal image is
        written (runc says so on its status pipe); the process goes on serving the pages."""
        run = self.run
        r, w = os.pipe()
        try:
            ck = self.popen(src, ["runc", "--root", self.root, "checkpoint", "--lazy-pages", "--page-server",
                                  "%s:%d" % (run.network.ip[src], port), "--status-fd", str(w), "--image-path", img,
                                  "--work-path", work, cid], pass_fds=(w,))
        finally:
            os.close(w)
        try:
            ready, _, _ = select.select([r], [], [], run.left(criu_cap))
            status = os.read(r, 1) if ready else b""
        finally:
            os.close(r)
        if status != b"\0":
            if not ready:
                self.stop_tree(ck)
                raise StepTimeout("checkpoint", "runc checkpoint --lazy-pages", run.left(criu_cap))
            # the status pipe closed without "ready": runc is exiting with CRIU's error
            try:
                ck.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.stop_tree(ck)
            raise RuntimeError("runc checkpoint --lazy-pages failed (exit %s): %s" % (ck.poll(), self.errors(ck)))
        return ck

    def start_page_client(self, dst, src, port, received, dst_work, since):
        """`criu lazy-pages` in the destination host, the page client of the source's page server;
        returns once it listens for the restore (its socket exists). `since`: the restore's start."""
        run = self.run
        lazy = self.popen(dst, ["criu", "lazy-pages", "--page-server", "--address", run.network.ip[src], "--port",
                                str(port), "-D", received, "-W", dst_work, "-o", "lazy-pages.log", "-v4"])
        self.errfiles[lazy.pid] = os.path.join(dst_work, "lazy-pages.log")
        sock = os.path.join(dst_work, "lazy-pages.socket")
        while not os.path.exists(sock):
            if lazy.poll() is not None:
                raise RuntimeError("criu lazy-pages exited (%s): %s" % (lazy.returncode, self.errors(lazy)))
            if time.monotonic() - since > run.left(30):
                raise StepTimeout("restore", "criu lazy-pages start", 30)
            time.sleep(0.01)
        return lazy

    def restore_lazy(self, dst, new, c, received, dst_work, criu_cap):
        """`runc restore --lazy-pages` in the destination host: the container resumes with its memory
        missing; every first touch of a page faults and is fetched."""
        b = self.bundle(new, workload_args(c))
        self.track(new)
        rs = self.popen(dst, ["runc", "--root", self.root, "restore", "-d", "--lazy-pages", "--image-path", received,
                              "--work-path", dst_work, "--bundle", b, new], stdout=subprocess.PIPE)
        self.outputs[new] = Output(rs.stdout)
        self.wait(rs, self.run.left(criu_cap), "restore", "runc restore --lazy-pages")

    def checkpointed_value(self, cid):
        """The source container's last counter value: printed before its final dump stopped it (its
        pipe closed when it was removed)."""
        out = self.outputs[cid]
        out.closed.wait(5)
        return out.values[-1] if out.values else None

    def pre_copy(self, i, m, cid, src, dst, criu_cap, costs):
        """Moves a running container by pre-copy (precopy.py's rounds, runc as the runtime, each
        round's folder across the emulated network by the run's transfer); returns the record's fields."""
        run = self.run
        workdir = os.path.join(run.rundir, "precopy%d" % i)
        os.makedirs(workdir)
        new = cid + "-r"
        rt = RuncPreCopy(self, cid, new, src, dst, self.bundle(new, workload_args(m["container"])), workdir, criu_cap)

        def copy(staged):
            seconds, received = run.transfer(m, src, dst, staged, i)
            return seconds, dir_bytes(received), received

        fields = precopy.pre_copy(rt, copy, workdir, costs["precopyThreshold"], costs["precopyMaxRounds"],
                                  on_phase=lambda phase: run.set_phase(i, phase))
        before = self.checkpointed_value(cid)
        note = precopy.describe(fields)
        fields.pop("precopy_note")
        return dict(fields, counter_checkpointed=before, _verify=(new, before), _note=note)

    def verify(self, new, before):
        """The restored container continued from the checkpointed counter and, two page checks later
        (every page's stamp summed, once a second), still runs with its memory intact."""
        out = self.outputs[new]
        if not out.wait_value(lambda v: True, 10) or before is None:
            raise RuntimeError("restored %s printed nothing (%s)" % (new, out.corrupt or "no output"))
        first = out.values[0]
        if first < before:
            raise RuntimeError("restored %s did not continue from its checkpoint (checkpointed counter %d, restored %d)"
                               % (new, before, first))
        # migsim-dirty checks its pages every 20 counter values
        if not out.wait_value(lambda v: v >= first + 41, 15):
            raise RuntimeError("restored %s stopped after its restore: %s" % (new, out.corrupt or "output ended at %s"
                                                                             % (out.values[-1] if out.values else None)))
        return first, out.values[-1]

    def stop_tree(self, p):
        """A runc or criu process and everything it started (a hung CRIU is runc's child)."""
        kill_tree(p.pid)
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                self.stop_tree(p)


class RuncPreCopy:
    """precopy.pre_copy's runtime on the testbed: runc checkpoint --pre-dump rounds in the source host,
    the final checkpoint, and runc restore in the destination host (as post-copy, in the host's
    network namespace only)."""

    def __init__(self, live, cid, new, src, dst, bundle, workdir, criu_cap):
        self.live, self.cid, self.new, self.src, self.dst = live, cid, new, src, dst
        self.bundle, self.workdir, self.criu_cap = bundle, workdir, criu_cap
        self.pid = None

    def pids(self):
        if self.pid is None:
            out = run_bounded(["runc", "--root", self.live.root, "state", self.cid], self.live.run.left(30),
                              "pre-copy round")
            self.pid = int(json.loads(out)["pid"])
        return precopy.process_tree(self.pid)

    def _checkpoint(self, folder, parent, pre, phase):
        live = self.live
        # CRIU's logs apart from the images, so only the images cross the network
        work = folder + "-work"
        os.makedirs(work)
        args = ["runc", "--root", live.root, "checkpoint", "--image-path", folder, "--work-path", work]
        if pre:
            args.append("--pre-dump")
        if parent:
            args += ["--parent-path", os.path.join("..", parent)]
        p = live.popen(self.src, args + [self.cid])
        live.wait(p, live.run.left(self.criu_cap), phase, "runc checkpoint%s" % (" --pre-dump" if pre else ""))

    def pre_dump(self, folder, parent):
        self._checkpoint(folder, parent, True, "pre-copy round")

    def dump(self, folder, parent):
        self._checkpoint(folder, parent, False, "stop-and-copy")

    def restore(self, folder):
        live = self.live
        work = os.path.join(self.workdir, "restore-work")
        os.makedirs(work)
        live.track(self.new)
        p = live.popen(self.dst, ["runc", "--root", live.root, "restore", "-d", "--image-path", folder,
                                  "--work-path", work, "--bundle", self.bundle, self.new], stdout=subprocess.PIPE)
        live.outputs[self.new] = Output(p.stdout)
        live.wait(p, live.run.left(self.criu_cap), "restore", "runc restore")


# a CRIU log line's time stamp: seconds since the process started logging
CRIU_LOG_STAMP = re.compile(r"^\((\d+\.\d+)\)", re.M)


def lazy_pages_log(log):
    """What the lazy-pages daemon's log says, read once: the bytes it had to bring over (the pages
    CRIU left out of the minimal dump; 0 without a log), and the seconds from its start to its last
    stamped line (its disconnect from the page server, written once the last page is in; None
    without one)."""
    try:
        with open(log, errors="replace") as f:
            text = f.read()
    except OSError:
        return 0, None
    stamps = CRIU_LOG_STAMP.findall(text)
    return sum(int(n) for n in UFFD_PAGES.findall(text)) * PAGE_SIZE, (float(stamps[-1]) if stamps else None)


def raise_pipe_max_size():
    """CRIU's lazy page server needs pipes of LAZY_PIPE_BYTES (see above): widen fs.pipe-max-size."""
    try:
        with open(PIPE_MAX_SIZE) as f:
            cur = int(f.read().strip())
        if cur < LAZY_PIPE_BYTES:
            with open(PIPE_MAX_SIZE, "w") as f:
                f.write("%d" % (4 << 20))
            warn("fs.pipe-max-size raised from %d to %d bytes: CRIU's lazy page server needs %d-byte pipes"
                 % (cur, 4 << 20, LAZY_PIPE_BYTES))
    except (OSError, ValueError) as e:
        warn("could not widen fs.pipe-max-size (%s): post-copy page answers may fail" % e)


def release_runc(state):
    """Removes the run's runc containers (out-of-process clean-up reads them from state.json)."""
    root = state.get("runc_root")
    if not root or not os.path.isdir(root):
        return
    for cid in state.get("runc_ids", []):
        try:
            run_bounded(["runc", "--root", root, "delete", "-f", cid], 30, "clean-up", check=False)
        except StepTimeout:
            pass
