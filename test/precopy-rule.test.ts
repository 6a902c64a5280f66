/**
 * The driver's pre-copy rounds (backends/mininet/driver/precopy.py) against a fake runtime: they stop
 * by the simulator's rule (dirty <= precopyThreshold: converged; precopyMaxRounds reached: not), each
 * round's folder is copied without CRIU's parent link and linked again at the destination, and the
 * record counts what the rounds dumped and copied. CRIU itself runs in test/precopy-vm.test.ts.
 */
import test from "ava";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const DRIVER = join(import.meta.dirname, "..", "backends", "mininet", "driver");
const PYTHON = "/usr/bin/python3";
const maybe = existsSync(PYTHON) ? test : test.skip;

// A runtime whose pre-dumps write `pages` pages and whose dirty amounts come from a list.
const SCRIPT = `
import json, os, sys, tempfile
sys.path.insert(0, sys.argv[1])
import precopy
arg = json.loads(sys.argv[2])
dirty, pages = list(arg["dirty"]), list(arg["pages"])
work, dest = tempfile.mkdtemp(), tempfile.mkdtemp()
calls = []
class Rt:
    def pids(self): return []
    def _dump(self, kind, folder, parent):
        os.makedirs(folder)
        calls.append([kind, os.path.basename(folder), parent])
        with open(os.path.join(folder, "pages-1.img"), "wb") as f: f.write(b"x" * 4096 * pages.pop(0))
        with open(os.path.join(folder, "inventory.img"), "wb") as f: f.write(b"i" * 10)
        if parent: os.symlink(os.path.join("..", parent), os.path.join(folder, "parent"))
    def pre_dump(self, folder, parent): self._dump("pre-dump", folder, parent)
    def dump(self, folder, parent): self._dump("dump", folder, parent)
    def restore(self, folder): calls.append(["restore", os.path.relpath(folder, dest), os.readlink(os.path.join(folder, "parent"))])
def copy(staged):
    target = os.path.join(dest, os.path.basename(staged))
    os.makedirs(target)
    for f in os.listdir(staged):
        with open(os.path.join(staged, f), "rb") as a, open(os.path.join(target, f), "wb") as b: b.write(a.read())
    return 0.5, sum(os.path.getsize(os.path.join(target, f)) for f in os.listdir(target)), target
r = precopy.pre_copy(Rt(), copy, work, arg["threshold"], arg["max"], dirty_bytes=lambda pids: dirty.pop(0))
links = {d: os.readlink(os.path.join(dest, d, "parent")) for d in sorted(os.listdir(dest)) if os.path.islink(os.path.join(dest, d, "parent"))}
print(json.dumps({"r": r, "calls": calls, "links": links, "note": precopy.describe(r)}))
`;

interface Out {
  r: { rounds: number; converged: boolean; transfer_s: number; transferred_bytes: number; round_log: { pages: number; dirty_bytes: number; copied_bytes: number }[]; precopy_note: string | null };
  calls: [string, string, string | null][];
  links: Record<string, string>;
  note: string;
}

function rounds(dirty: number[], pages: number[], threshold: number, max: number): Out {
  const p = spawnSync(PYTHON, ["-c", SCRIPT, DRIVER, JSON.stringify({ dirty, pages, threshold, max })], { encoding: "utf8", timeout: 30_000 });
  if (p.status !== 0) throw new Error(p.stderr);
  return JSON.parse(p.stdout) as Out;
}

maybe("rounds go on while more than the threshold is dirty and stop, converged, at the first round at or under it", (t) => {
  const o = rounds([5e6, 2e6, 1e6], [100, 40, 10, 3], 1e6, 8);
  t.is(o.r.rounds, 3);
  t.true(o.r.converged);
  t.is(o.r.precopy_note, null);
  t.deepEqual(
    o.r.round_log.map((x) => x.pages),
    [100, 40, 10],
  );
  t.deepEqual(
    o.r.round_log.map((x) => x.dirty_bytes),
    [5e6, 2e6, 1e6],
  );
  // pre-dumps chained by their parents, then the final dump on the last round, then the restore
  t.deepEqual(o.calls, [
    ["pre-dump", "pre1", null],
    ["pre-dump", "pre2", "pre1"],
    ["pre-dump", "pre3", "pre2"],
    ["dump", "final", "pre3"],
    ["restore", "final", "../pre3"],
  ]);
  // copies carry no parent link (copied sizes are the pages plus the inventory); the destination's are made again
  t.deepEqual(
    o.r.round_log.map((x) => x.copied_bytes),
    [100 * 4096 + 10, 40 * 4096 + 10, 10 * 4096 + 10],
  );
  t.deepEqual(o.links, { final: "../pre3", pre2: "../pre1", pre3: "../pre2" });
  t.is(o.r.transferred_bytes, 153 * 4096 + 40);
  t.is(o.r.transfer_s, 2);
  t.regex(o.note, /^pre-copy: round 1 100 pages .*; converged; final dump 3 pages/);
});

maybe("a dirty set that never gets under the threshold stops at precopyMaxRounds, not converged", (t) => {
  const o = rounds([4e6, 4e6, 4e6], [100, 50, 50, 50], 1e6, 3);
  t.is(o.r.rounds, 3);
  t.false(o.r.converged);
  t.is(o.r.precopy_note, "pre-copy stopped at the round limit (3) with 4000000 B still dirty (threshold 1000000 B)");
  t.deepEqual(o.calls.at(-2), ["dump", "final", "pre3"]);
});

maybe("one round when the first leaves no more than the threshold dirty", (t) => {
  const o = rounds([0], [100, 1], 1e6, 8);
  t.is(o.r.rounds, 1);
  t.true(o.r.converged);
  t.deepEqual(o.links, { final: "../pre1" });
});
