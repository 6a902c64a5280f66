"""Names shared by the driver's modules and the testbed's scripts (setup-testbed.sh, stop-testbed.sh
write the same paths and labels)."""
import re

NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
# the plan schema's default image (src/formats/driver.ts); setup-testbed.sh builds it, with the
# live-migration workload (WORKLOAD_BIN)
from contract import IMAGE_DEFAULT  # noqa: E402,F401
WORKLOAD_BIN = "/bin/migsim-dirty"
IPERF_BASE_PORT = 5201
RECV_BASE_PORT = 7100
# CRIU page servers of post-copy migrations (one per migration index)
PAGE_SERVER_BASE_PORT = 7300
# State a container holds beyond the memory we allocate (busybox shell, CRIU metadata): measured
# around 190 kB for an idle busybox counter, plus one 64 kB pipe buffer.
CHECKPOINT_BASELINE = 256 * 1024
# The same for a live-migration container (runc + migsim-dirty): its minimal CRIU image measured
# about 42 kB, plus 8 pages (33 kB) of the process's own memory beside what it holds.
LIVE_BASELINE = 75 * 1000
# Label key on every container migsim makes (runs and the CRIU smoke test): clean-up finds
# leftovers by it, never by name.
LABEL_KEY = "migsim.testbed"
CONTAINER_LABEL = LABEL_KEY + "=run"
# The testbed's CRIU wrapper blocks while this file holds a future time (the hang test only).
HANG_FLAG = "/run/migsim-testbed/criu-hang-until"
# A run holds this file's lock while it lives: one run at a time on a testbed (runlock.py).
RUN_LOCK = "/run/migsim-testbed/run.lock"
# Longest a single docker/CRIU step may take, whatever the run's deadline (seconds).
STEP_CAP = 120
# A CRIU dump or restore step may take CRIU_STEP_BASE s plus its checkpoint at CRIU_MIN_RATE bytes/s
# (measured dumps run at hundreds of MB/s); past that it is taken as hung.
CRIU_STEP_BASE = 30
CRIU_MIN_RATE = 20e6
