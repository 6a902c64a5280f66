"""What a plan may ask of the driver: the migration modes and transports it runs (read from the
plan's JSON Schema, made from src/formats/modes.ts, by contract.py), and the modes that move a running container under runc
(livemig.py) rather than a Docker one (containers.py)."""

from contract import MIGRATION_MODES as MODES, TRANSPORTS  # noqa: F401 - the schema's lists, re-exported

LIVE_MODES = ("pre-copy", "post-copy")
