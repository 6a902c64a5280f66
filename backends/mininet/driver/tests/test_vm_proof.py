"""The pre-copy VM proof (backends/mininet/vm/proof.py) drives the driver's Live with a stand-in run
(LocalRun: no Mininet, no Docker, a local copy): what Live asks of a run must stay what LocalRun
gives. Here it runs in the fake world (fakeworld.py); test/precopy-vm.test.ts runs it for real."""
import os
import shutil
import sys
import tempfile
import unittest

import fakeworld

sys.path.insert(0, os.path.join(fakeworld.DRIVER, "..", "vm"))
import proof  # noqa: E402


class VmProof(unittest.TestCase):
    def test_live_pre_copy_with_the_proofs_stand_in_run(self):
        scratch = tempfile.mkdtemp(prefix="migsim-driver-test-")
        world = fakeworld.World(scratch)
        world.dirty = [5e6, 0]
        patches = world.patches()
        try:
            for p in patches:
                p.start()
            work = os.path.join(scratch, "work")
            os.makedirs(work)
            live = proof.VmLive(proof.LocalRun(work, 1e9))
            live.rootfs = os.path.join(work, "rootfs")
            os.makedirs(live.rootfs)
            live.run.state["runc_root"] = live.root
            live.run.state["runc_ids"] = []
            c = proof.container(1 << 20, 4096, 0)
            live.start("workload", c, "set-up")
            fields = live.pre_copy(0, {"container": c, "transport": "tcp"}, "workload", None, None, 30,
                                   {"precopyThreshold": 1e6, "precopyMaxRounds": 8})
            new, before = fields.pop("_verify")
            first, last = live.verify(new, before)
            live.cleanup()
        finally:
            for p in reversed(patches):
                p.stop()
            world.close()
            shutil.rmtree(scratch)
        self.assertEqual((fields["rounds"], fields["converged"]), (2, True))
        self.assertEqual((before, first, last), (3, 4, 50))
        self.assertRegex(fields["_note"], r"^pre-copy: round 1 12 pages .* round 2 8 pages .*; converged; final dump 4 pages")
        # every runc ran in this namespace (no host to enter), with its messages in the work folder
        spawned = [e[1] for e in world.log if e[0] == "spawn"]
        self.assertEqual([a[0] for a in spawned], ["runc"] * len(spawned))
        self.assertEqual([a[a.index("--root") + 2] for a in spawned],
                         ["run", "checkpoint", "checkpoint", "checkpoint", "restore"])


if __name__ == "__main__":
    unittest.main()
