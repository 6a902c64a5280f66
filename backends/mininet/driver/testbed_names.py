"""Names shared by the driver's modules and the testbed's scripts (setup-testbed.sh, stop-testbed.sh
write the same paths and labels)."""
import re

NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
IMAGE_DEFAULT = "migsim-busybox:1"
IPERF_BASE_PORT = 5201
RECV_BASE_PORT = 7100
# State a container holds beyond the memory we allocate (busybox shell, CRIU metadata): measured
# around 190 kB for an idle busybox counter, plus one 64 kB pipe buffer.
CHECKPOINT_BASELINE = 256 * 1024
# Label key on every container migsim makes (runs and the CRIU smoke test): clean-up finds
# leftovers by it, never by name.
LABEL_KEY = "migsim.testbed"
CONTAINER_LABEL = LABEL_KEY + "=run"
# The testbed's CRIU wrapper blocks while this file holds a future time (the hang test only).
HANG_FLAG = "/run/migsim-testbed/criu-hang-until"
# Longest a single docker/CRIU step may take, whatever the run's deadline (seconds).
STEP_CAP = 120
# A CRIU dump or restore step may take CRIU_STEP_BASE s plus its checkpoint at CRIU_MIN_RATE bytes/s
# (measured dumps run at hundreds of MB/s); past that it is taken as hung.
CRIU_STEP_BASE = 30
CRIU_MIN_RATE = 20e6
