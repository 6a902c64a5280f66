# Source this from .ci/run (`. .ci/testbed.sh`): sets up the local Mininet + Docker + CRIU testbed
# (backends/mininet/setup-testbed.sh; fast when already set up on this machine) and exports its
# address, so the emulation suite (test/emulation.test.ts) runs for real instead of being skipped.
# MIGSIM_TESTBED_REQUIRED=1 makes that suite fail, not skip, if the testbed is somehow missing.
# Needs root (CI runs as root here); nothing is left running that CI did not start through it:
# call `bash backends/mininet/stop-testbed.sh` to stop its sshd and dockerd.
_migsim_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_migsim_log="${TMPDIR:-/tmp}/migsim-setup-testbed.log"
echo "== testbed: backends/mininet/setup-testbed.sh (log: $_migsim_log)"
if MIGSIM_TESTBED="$(bash "$_migsim_root/backends/mininet/setup-testbed.sh" 2>"$_migsim_log" | tail -n 1)" \
   && [ -n "$MIGSIM_TESTBED" ]; then
  export MIGSIM_TESTBED
  export MIGSIM_TESTBED_REQUIRED=1
  echo "== testbed ready at $MIGSIM_TESTBED"
else
  echo "== testbed set-up failed:" >&2
  tail -n 20 "$_migsim_log" >&2
  unset MIGSIM_TESTBED
  export MIGSIM_TESTBED_REQUIRED=1
  # The emulation suite fails at once with this line instead of waiting on a testbed that is not there.
  MIGSIM_TESTBED_SETUP_ERROR="$(grep -E 'ERROR' "$_migsim_log" | tail -n 1)"
  export MIGSIM_TESTBED_SETUP_ERROR="${MIGSIM_TESTBED_SETUP_ERROR:-$(tail -n 1 "$_migsim_log")}"
fi
unset _migsim_root _migsim_log
