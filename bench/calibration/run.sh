#!/bin/sh
# Runs the calibration measurements on a local Mininet (needs root, mininet, bridge-utils, iperf3).
# Usage: bench/calibration/run.sh [--quick] [--bw 10,5] [--cc cubic,bbr] [--reps 2]
# Appends to docs/calibration/measured.jsonl (OUT=... to write elsewhere). Always cleans up.
# Caution: `mn -c` removes every Mininet leftover on the machine (also another job's running
# network) and deletes /tmp/*.log; run it when no other Mininet experiment is running. The whole
# set takes about 11 minutes.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-$ROOT/docs/calibration/measured.jsonl}
mkdir -p "$(dirname "$OUT")"
cleanup() { mn -c >/dev/null 2>&1 || true; }
trap cleanup EXIT INT TERM
cleanup
/usr/bin/python3 "$HERE/measure.py" --out "$OUT" "$@"
