"""runlock.py: a second run on a testbed is refused while the first holds it, with the holder named,
and the testbed is free again once the holder's process has ended."""
import os
import subprocess
import sys
import tempfile
import unittest

DRIVER = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, DRIVER)

from runlock import TestbedBusy, hold_testbed  # noqa: E402

TRY = "import sys, runlock\ntry:\n    runlock.hold_testbed(sys.argv[1])\nexcept runlock.TestbedBusy as e:\n    print(e)\n    sys.exit(3)\n"


def other_process(path):
    return subprocess.run([sys.executable, "-c", TRY, path], cwd=DRIVER, capture_output=True, text=True, timeout=30)


class RunLock(unittest.TestCase):
    def test_one_run_at_a_time(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "run", "run.lock")
            fd = hold_testbed(path)
            try:
                busy = other_process(path)
                self.assertEqual(busy.returncode, 3, busy.stderr)
                self.assertIn("another migsim run (driver pid %d, since 20" % os.getpid(), busy.stdout)
                with self.assertRaises(TestbedBusy):
                    hold_testbed(path)  # a second descriptor, even in the same process
            finally:
                os.close(fd)
            free = other_process(path)
            self.assertEqual(free.returncode, 0, free.stdout + free.stderr)


if __name__ == "__main__":
    unittest.main()
