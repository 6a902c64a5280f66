#!/usr/bin/env bash
# Leaves the testbed machine clean, even after a run hung: first everything migsim runs made
# (driver/migsim_driver.py cleanup-all: drivers still running, containers, a CRIU hung in a dump,
# processes by pid, Mininet links and host namespaces, work folders), then the sshd and the dockerd
# setup-testbed.sh started, by pid file only. Installed packages, the CRIU build cache, keys and the
# workload image stay, so the next setup-testbed.sh run is fast. A dockerd this script did not start
# is left alone. The address file goes with the sshd it names, so clients (the emulation tests) see
# no testbed rather than a refused connection; setup-testbed.sh writes it again.
set -euo pipefail
STATE=${MIGSIM_TESTBED_STATE:-/var/lib/migsim-testbed}
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Only while Docker answers can its containers be released; bounded like every step here.
if [ -x /usr/bin/python3 ] && timeout 20 docker info >/dev/null 2>&1; then
  timeout -k 10 300 /usr/bin/python3 "$HERE/driver/migsim_driver.py" cleanup-all \
    | sed 's/^/[stop-testbed] /' >&2 || echo "[stop-testbed] clean-up of runs did not finish" >&2
fi

# A process that exited but was not reaped (our parent shell is gone and PID 1 may not reap) is done.
running() {
  local pid=$1 state
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

stop_pidfile() {
  local name=$1 file=$2 pid
  [ -s "$file" ] || { echo "[stop-testbed] $name: no pid file ($file)" >&2; return 0; }
  pid=$(cat "$file")
  case "$pid" in ''|*[!0-9]*) echo "[stop-testbed] $name: bad pid file $file" >&2; rm -f "$file"; return 0;; esac
  # A stale pid file (reboot) may name a reused pid: only stop it if it is still that program.
  if running "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != "$name" ]; then
    echo "[stop-testbed] $name: pid $pid is now $(cat "/proc/$pid/comm" 2>/dev/null); stale pid file removed" >&2
    rm -f "$file"
    return 0
  fi
  if running "$pid"; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do running "$pid" || break; sleep 0.1; done
    # SIGKILL only the program named: the pid may have been reused after it exited while we waited
    if running "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
      echo "[stop-testbed] $name (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    echo "[stop-testbed] stopped $name (pid $pid)" >&2
  else
    echo "[stop-testbed] $name (pid $pid) was not running" >&2
  fi
  rm -f "$file"
}

# The sessions of a client that went away mid-run (an interrupted validate) outlive the listener
# when it stops first: reparented to PID 1, no pid file names them. So its descendants go first,
# found from the listener's pid (children by /proc/*/stat's parent field), deepest last listed.
descendants() {
  local parent=$1 pid ppid
  for stat in /proc/[0-9]*/stat; do
    pid=${stat#/proc/}; pid=${pid%/stat}
    ppid=$(awk '{print $4}' "$stat" 2>/dev/null) || continue
    if [ "$ppid" = "$parent" ]; then
      echo "$pid"
      descendants "$pid"
    fi
  done
}

stop_sessions() {
  local file=$1 pid sessions
  [ -s "$file" ] || return 0
  pid=$(cat "$file")
  case "$pid" in ''|*[!0-9]*) return 0;; esac
  running "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sshd ] || return 0
  sessions=$(descendants "$pid")
  [ -n "$sessions" ] || return 0
  # shellcheck disable=SC2086 # a list of pids
  kill -TERM $sessions 2>/dev/null || true
  for _ in $(seq 1 50); do
    local left=0
    for s in $sessions; do running "$s" && left=1; done
    [ "$left" = 0 ] && break
    sleep 0.1
  done
  echo "[stop-testbed] ended $(echo "$sessions" | wc -w) sshd session process(es) of pid $pid" >&2
}

stop_sessions "$STATE/sshd.pid"
stop_pidfile sshd "$STATE/sshd.pid"
rm -f "$STATE/address"
stop_pidfile dockerd "$STATE/dockerd.pid"
