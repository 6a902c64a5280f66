#!/usr/bin/env bash
# Bring up a single-node Slurm cluster on this machine without systemd (for CI and for trying
# `migsim slurm` locally): Debian's munge + slurmctld + slurmd,
# started by hand, pid files under /run, no accounting, batch_sched_delay=0.
# Idempotent: a daemon whose pid file names a live process is left running.
# Stop everything with scripts/slurm-down.sh.
set -euo pipefail

[ "$(id -u)" -eq 0 ] || { echo "slurm-up: must run as root" >&2; exit 1; }

CONF=/etc/slurm/slurm.conf
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
MUNGE_PID=/run/munge/munged.pid
LOGDIR=/var/log/slurm

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

install_packages() {
  local pkgs=(munge slurmctld slurmd slurm-client)
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
     && command -v munged >/dev/null; then
    return
  fi
  # Keep package scripts from starting services (there is no init system to start them with);
  # an init script that fails would abort the install. Only remove a policy-rc.d we created.
  local made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    made_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  local apt=(apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends "${pkgs[@]}")
  if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}"; then
    apt-get -o DPkg::Lock::Timeout=900 update
    DEBIAN_FRONTEND=noninteractive "${apt[@]}"
  fi
  if [ "$made_policy" -eq 1 ]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
}

start_munge() {
  install -d -o munge -g munge -m 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    if command -v mungekey >/dev/null; then mungekey --create --keyfile=/etc/munge/munge.key --force
    else dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none; fi
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
  fi
  if alive "$MUNGE_PID"; then return; fi
  rm -f "$MUNGE_PID" /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock
  runuser -u munge -- /usr/sbin/munged
}

write_conf() {
  # RealMemory above what slurmd measures drains the node: use 95% of it.
  local measured cpus mem
  measured=$(slurmd -C | head -n 1)
  cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$measured")
  mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$measured")
  mem=$(( mem * 95 / 100 ))
  install -d -m 0755 /etc/slurm "$LOGDIR" /var/spool/slurmctld /var/spool/slurmd
  cat > "$CONF" <<CONF
# Written by migsim scripts/slurm-up.sh: single-node cluster, no accounting, no cgroups.
ClusterName=migsim
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdLogFile=$LOGDIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
MpiDefault=none
NodeName=localhost CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
}

start_slurm() {
  if ! alive "$CTLD_PID"; then rm -f "$CTLD_PID"; slurmctld -i; fi
  if ! alive "$SLURMD_PID"; then rm -f "$SLURMD_PID"; slurmd -N localhost; fi
  local state=""
  for _ in $(seq 1 120); do
    state=$(sinfo -h -n localhost -o '%t' 2>/dev/null | head -n 1 || true)
    case "$state" in
      idle|mix|alloc) echo "slurm-up: node localhost is $state"; return 0 ;;
      drain*|down*) scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 0.5
  done
  echo "slurm-up: node did not become idle (state: ${state:-none}); see $LOGDIR" >&2
  return 1
}

install_packages
start_munge
write_conf
start_slurm
