"""runlock.py: a second run on a testbed is refused while the first holds it, with the holder named,
and the testbed is free again once the holder's process has ended."""
import os
import subprocess
import sys
import tempfile
import time
import unittest

DRIVER = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, DRIVER)

from runlock import TestbedBusy, hold_testbed  # noqa: E402

TRY = ("import sys, runlock\ntry:\n    runlock.hold_testbed(sys.argv[1], float(sys.argv[2]))\n"
       "except runlock.TestbedBusy as e:\n    print(e)\n    sys.exit(3)\nprint('held')\n")


def other_process(path, wait_s=0.0):
    return subprocess.Popen([sys.executable, "-c", TRY, path, str(wait_s)], cwd=DRIVER, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


class RunLock(unittest.TestCase):
    def test_one_run_at_a_time(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "run", "run.lock")
            fd = hold_testbed(path)
            try:
                busy = other_process(path)
                out, err = busy.communicate(timeout=30)
                self.assertEqual(busy.returncode, 3, err)
                self.assertIn("another migsim run (driver pid %d, since 20" % os.getpid(), out)
                with self.assertRaises(TestbedBusy):
                    hold_testbed(path, 0.0)  # a second descriptor, even in the same process
                # one that may wait gets the testbed once the holder is gone
                waiting = other_process(path, 20.0)
                time.sleep(0.5)
                self.assertIsNone(waiting.poll(), "it waits while the lock is held")
            finally:
                os.close(fd)
            out, err = waiting.communicate(timeout=30)
            self.assertEqual((waiting.returncode, out.strip()), (0, "held"), err)


if __name__ == "__main__":
    unittest.main()
