"""Pre-copy with CRIU's incremental dumps, for any runtime and any copy step.

The round logic is the simulator's (src/migration/protocol.ts preCopy, costs precopyThreshold and
precopyMaxRounds), with the dirty amount measured instead of modelled:
  round k     a pre-dump while the process runs (`criu pre-dump` / `runc checkpoint --pre-dump`,
              each round's images with the previous round's as parent: CRIU writes only the pages
              dirtied since that round, the kernel's soft-dirty bits say which), then the round's
              folder is copied to the destination
  dirty       the pages the process dirtied since the round's pre-dump, read from the soft-dirty bit
              of /proc/PID/pagemap (bit 55) over its private writable mappings, without clearing it
  stop        dirty <= threshold: converged; rounds == max_rounds: not converged (as the simulator)
  final       the dump with the process stopped (parent: the last round), its copy, the restore;
              downtime runs from the final dump's start to the restore's end
The runtime (`pre_dump`, `dump`, `restore`, `pids`) and the copy step are the caller's: runc across
the emulated network on the testbed (livemig.py), criu directly with a local copy in the VM proof
(backends/mininet/vm/). Each copy carries one round's folder without CRIU's `parent` link (scp
would follow it and send every earlier round again); the link is made again at the destination,
where the rounds' folders are siblings as at the source.
"""
import os
import shutil
import struct
import time

from netutil import dir_bytes

PAGE_SIZE = 4096
# /proc/PID/pagemap: one 64-bit entry per virtual page; bit 55 is the soft-dirty bit
SOFT_DIRTY = 1 << 55
PARENT_LINK = "parent"


def process_tree(pid):
    """pid and every descendant (threads' children included), parents first."""
    out, todo = [], [int(pid)]
    while todo:
        p = todo.pop(0)
        out.append(p)
        try:
            tids = os.listdir("/proc/%d/task" % p)
        except OSError:
            continue
        for t in tids:
            try:
                with open("/proc/%d/task/%s/children" % (p, t)) as f:
                    todo += [int(c) for c in f.read().split()]
            except OSError:
                pass
    return out


def soft_dirty_bytes(pids):
    """Bytes of private writable memory the processes dirtied since CRIU last cleared their soft-dirty
    bits (a pre-dump clears them): what the next incremental dump has to write."""
    pages = 0
    for pid in pids:
        try:
            with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/pagemap" % pid, "rb") as pm:
                for line in maps:
                    fields = line.split()
                    # shared mappings are dumped whole by CRIU (shmem), not tracked by soft-dirty
                    if len(fields) < 2 or "w" not in fields[1] or "p" not in fields[1]:
                        continue
                    start, end = (int(x, 16) for x in fields[0].split("-"))
                    if len(fields) > 5 and fields[5] == "[vsyscall]":
                        continue
                    pm.seek(start // PAGE_SIZE * 8)
                    data = pm.read((end - start) // PAGE_SIZE * 8)
                    for (entry,) in struct.iter_unpack("<Q", data):
                        if entry & SOFT_DIRTY:
                            pages += 1
        except (OSError, ValueError):
            # a process that ended meanwhile has nothing left to dump
            continue
    return pages * PAGE_SIZE


def pages_written(folder):
    """Pages CRIU wrote into one image folder (its pages-N.img files; pages found unchanged in the
    parent are only referenced there)."""
    total = 0
    for f in os.listdir(folder):
        if f.startswith("pages-") and f.endswith(".img"):
            total += os.path.getsize(os.path.join(folder, f))
    return total // PAGE_SIZE


def stage(folder, staging_root):
    """A copy of one round's image folder without its parent link, under staging_root with the same
    name (hard links: no data is copied)."""
    out = os.path.join(staging_root, os.path.basename(folder))
    os.makedirs(out)
    for f in sorted(os.listdir(folder)):
        src = os.path.join(folder, f)
        if f == PARENT_LINK or os.path.islink(src) or not os.path.isfile(src):
            continue
        try:
            os.link(src, os.path.join(out, f))
        except OSError:
            shutil.copy2(src, os.path.join(out, f))
    return out


def relink(received, parent_name):
    """The parent link of a received round, pointing at its sibling (CRIU resolves it relative to the folder)."""
    if parent_name:
        os.symlink(os.path.join("..", parent_name), os.path.join(received, PARENT_LINK))


def check_rule(threshold, max_rounds):
    threshold, max_rounds = float(threshold), int(max_rounds)
    if not threshold >= 0:
        raise ValueError("precopyThreshold must be a number of bytes >= 0, got %r" % threshold)
    if max_rounds < 1:
        raise ValueError("precopyMaxRounds must be a whole number >= 1, got %r" % max_rounds)
    return threshold, max_rounds


def pre_copy(rt, copy, workdir, threshold, max_rounds, on_phase=lambda phase: None, clock=time.monotonic,
             dirty_bytes=soft_dirty_bytes):
    """Migrates one running process tree by pre-copy.

    rt.pids()                   the process tree (its root first) whose memory is tracked
    rt.pre_dump(folder, parent) CRIU pre-dump into `folder` (parent: the previous round's folder name or None)
    rt.dump(folder, parent)     the final dump, the process stopped (and gone once it returns)
    rt.restore(folder)          restore from the received final folder; returns when the process runs
    copy(staged)                sends one staged folder; returns (seconds, bytes on the destination,
                                the received folder's path); received rounds must be siblings
    dirty_bytes(pids)           what the tree dirtied since the last pre-dump (soft-dirty bits; a
                                test passes its own)
    Returns the record's fields: checkpoint_s, transfer_s, restore_s, downtime_s, checkpoint_bytes,
    transferred_bytes, rounds, converged, round_log (one dict per pre-dump round) and final.
    """
    threshold, max_rounds = check_rule(threshold, max_rounds)
    staging = os.path.join(workdir, "send")
    os.makedirs(staging, exist_ok=True)

    def step(dump, name, parent):
        """One dump into WORKDIR/name and its copy: when the dump started, the received folder, the figures."""
        folder = os.path.join(workdir, name)
        start = clock()
        dump(folder, parent)
        dump_s = clock() - start
        pages = pages_written(folder)
        seconds, nbytes, received = copy(stage(folder, staging))
        relink(received, parent)
        return start, received, {"pages": pages, "dumped_bytes": pages * PAGE_SIZE, "dump_s": dump_s,
                                 "copied_bytes": nbytes, "copy_s": seconds}

    log, parent = [], None
    converged = True
    while True:
        n = len(log) + 1
        on_phase("pre-copy round")
        _, _, figures = step(rt.pre_dump, "pre%d" % n, parent)
        dirty = dirty_bytes(rt.pids())
        log.append(dict({"round": n}, dirty_bytes=dirty, **figures))
        parent = "pre%d" % n
        if dirty <= threshold:
            break
        if n >= max_rounds:
            converged = False
            break
    on_phase("stop-and-copy")
    t_down, received, final = step(rt.dump, "final", parent)
    on_phase("restore")
    t = clock()
    rt.restore(received)
    end = clock()
    steps = log + [final]
    # the whole image the restore reads: every round's folder plus the final one
    names = ["pre%d" % r["round"] for r in log] + ["final"]
    image = sum(dir_bytes(os.path.join(workdir, name)) for name in names)
    note = None
    if not converged:
        note = "pre-copy stopped at the round limit (%d) with %d B still dirty (threshold %d B)" % (
            max_rounds, dirty, threshold)
    return dict(checkpoint_s=sum(x["dump_s"] for x in steps), transfer_s=sum(x["copy_s"] for x in steps),
                restore_s=end - t, downtime_s=end - t_down, checkpoint_bytes=image,
                transferred_bytes=sum(x["copied_bytes"] for x in steps), rounds=len(log), converged=converged,
                round_log=log, final=final, precopy_note=note)


def describe(fields):
    """One line for the record's note: what each round dumped and copied, and how it ended."""
    rounds = ", ".join("round %d %d pages (%d B copied in %.3f s, %d B dirty after)" % (
        r["round"], r["pages"], r["copied_bytes"], r["copy_s"], r["dirty_bytes"]) for r in fields["round_log"])
    f = fields["final"]
    end = "converged" if fields["converged"] else fields["precopy_note"]
    return "pre-copy: %s; %s; final dump %d pages (%d B copied in %.3f s)" % (rounds, end, f["pages"],
                                                                            f["copied_bytes"], f["copy_s"])
