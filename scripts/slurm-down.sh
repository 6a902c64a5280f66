#!/usr/bin/env bash
# Stop the single-node Slurm cluster started by scripts/slurm-up.sh: each daemon by its pid file
# (never by name), then remove pid files, including the one slurmctld leaves behind on exit.
set -euo pipefail

stop() {
  local name=$1 pidfile=$2 pid
  if [ -f "$pidfile" ]; then
    pid=$(cat "$pidfile")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then echo "slurm-down: $name ($pid) ignored SIGTERM, sending SIGKILL" >&2; kill -KILL "$pid" || true; fi
      echo "slurm-down: stopped $name ($pid)"
    fi
    rm -f "$pidfile"
  fi
}

stop slurmd /run/slurmd.pid
stop slurmctld /run/slurmctld.pid
stop munged /run/munge/munged.pid
