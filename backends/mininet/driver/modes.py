"""What a plan may ask of the driver, written once: the migration modes and transports it runs
(the simulator's, src/migration/), and the modes that move a running container under runc
(livemig.py) rather than a Docker one (containers.py)."""

MODES = ("stateless", "cold", "pre-copy", "post-copy")
LIVE_MODES = ("pre-copy", "post-copy")
TRANSPORTS = ("ssh", "tcp")
