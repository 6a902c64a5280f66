#!/usr/bin/env bash
# Stops what setup-testbed.sh started (its sshd and the dockerd it launched), by pid file only.
# Installed packages, the CRIU build cache, keys and the workload image stay, so the next
# setup-testbed.sh run is fast. A dockerd this script did not start is left alone. The address
# file goes with the sshd it names, so clients (the emulation tests) see no testbed rather than
# a refused connection; setup-testbed.sh writes it again.
set -euo pipefail
STATE=${MIGSIM_TESTBED_STATE:-/var/lib/migsim-testbed}

stop_pidfile() {
  local name=$1 file=$2 pid
  [ -s "$file" ] || { echo "[stop-testbed] $name: no pid file ($file)" >&2; return 0; }
  pid=$(cat "$file")
  case "$pid" in ''|*[!0-9]*) echo "[stop-testbed] $name: bad pid file $file" >&2; rm -f "$file"; return 0;; esac
  # A stale pid file (reboot) may name a reused pid: only stop it if it is still that program.
  if kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != "$name" ]; then
    echo "[stop-testbed] $name: pid $pid is now $(cat "/proc/$pid/comm" 2>/dev/null); stale pid file removed" >&2
    rm -f "$file"
    return 0
  fi
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    # SIGKILL only the program named: the pid may have been reused after it exited while we waited
    if kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
      echo "[stop-testbed] $name (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    echo "[stop-testbed] stopped $name (pid $pid)" >&2
  else
    echo "[stop-testbed] $name (pid $pid) was not running" >&2
  fi
  rm -f "$file"
}

stop_pidfile sshd "$STATE/sshd.pid"
rm -f "$STATE/address"
stop_pidfile dockerd "$STATE/dockerd.pid"
