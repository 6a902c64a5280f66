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

# "pid ppid" of every live process, from /proc (fields after the last ')': comm may hold spaces)
process_parents() {
  local stat line pid
  for stat in /proc/[0-9]*/stat; do
    { read -r line < "$stat"; } 2>/dev/null || continue
    pid=${stat#/proc/}; pid=${pid%/stat}
    # shellcheck disable=SC2086 # split into state, ppid, ...
    set -- ${line##*) }
    if [ "$1" != Z ]; then echo "$pid $2"; fi
  done
}

# every live process below pid $1, parents before children
descendants() {
  process_parents | awk -v root="$1" '{ kids[$2] = kids[$2] " " $1 }
    END { n = split(root, q, " "); for (h = 1; h <= n; h++) { m = split(kids[q[h]], c, " "); for (j = 1; j <= m; j++) { print c[j]; q[++n] = c[j] } } }'
}

# The sessions of a client that went away mid-run (an interrupted validate) outlive the sshd
# listener when it stops first: reparented to PID 1, no pid file names them. So they go first,
# found from the listener's pid; what is still below it after 5 s is the same processes (a
# reused pid would not be its descendant) and gets SIGKILL.
stop_descendants() {
  local pid=$1 name=$2 below
  below=$(descendants "$pid")
  [ -n "$below" ] || return 0
  # shellcheck disable=SC2086 # a list of pids
  kill -TERM $below 2>/dev/null || true
  for _ in $(seq 1 50); do
    [ -z "$(descendants "$pid")" ] && break
    sleep 0.1
  done
  below=$(descendants "$pid")
  # shellcheck disable=SC2086 # a list of pids
  [ -z "$below" ] || kill -KILL $below 2>/dev/null || true
  echo "[stop-testbed] ended the processes below $name (pid $pid)" >&2
}

stop_pidfile() {
  local name=$1 file=$2 with_descendants=${3:-} pid
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
    [ -z "$with_descendants" ] || stop_descendants "$pid" "$name"
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

stop_pidfile sshd "$STATE/sshd.pid" with-descendants
rm -f "$STATE/address"
stop_pidfile dockerd "$STATE/dockerd.pid"
