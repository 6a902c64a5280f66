#!/usr/bin/env bash
# The pre-copy proof on a kernel with soft-dirty tracking: boots Debian's own kernel
# (linux-image-amd64, whose config has CONFIG_MEM_SOFT_DIRTY=y) under QEMU's software emulation
# and runs the driver's pre-copy there (proof.py beside this script) on migsim-dirty.
#
#   sudo backends/mininet/vm/run-vm.sh [--out FILE]
#
# The VM's root is this host's own file system, shared read-only over virtio-9p: a busybox
# initramfs (Debian's busybox-static) loads the kernel's 9p and virtio modules, mounts it, gives
# it fresh /proc, /sys, /dev, /tmp and /run, and runs proof.py in it with the host's python3, runc
# and CRIU (setup-testbed.sh installs them; this script refuses to start without them). The
# workload is compiled statically here. The proof's JSON line goes to stdout (and --out FILE);
# exit 0 when the proof passed, 1 when it ran and failed, 2 when it could not run.
#
# Downloads and the built initramfs are cached in /var/cache/migsim-vm/<kernel package>_<version>
# (MIGSIM_VM_CACHE overrides the folder). Every step is bounded: apt steps by `timeout`, the VM by
# `timeout -k` (MIGSIM_VM_TIMEOUT seconds, default 600), and the VM is stopped by its pid on every
# exit path, its deadline passed or not.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="${2:?--out needs a file}"; shift 2 ;;
    *) echo "run-vm.sh: unknown argument $1 (expected --out FILE)" >&2; exit 2 ;;
  esac
done
fail() { echo "run-vm.sh: $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || fail "needs root (CRIU in the VM runs as root over the host's file system)"
command -v criu >/dev/null || fail "criu is missing: run backends/mininet/setup-testbed.sh (it builds and installs the CRIU this proof uses)"
command -v runc >/dev/null || fail "runc is missing: apt-get install runc (setup-testbed.sh installs it)"
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 is missing: apt-get install --no-install-recommends qemu-system-x86"
for tool in gcc apt-get apt-cache dpkg-deb gzip timeout; do
  command -v "$tool" >/dev/null || fail "$tool is missing"
done
[ -x /usr/bin/python3 ] || fail "/usr/bin/python3 is missing: apt-get install python3"
vm_timeout="${MIGSIM_VM_TIMEOUT:-600}"
case "$vm_timeout" in ''|*[!0-9]*) fail "MIGSIM_VM_TIMEOUT: expected whole seconds, got $vm_timeout" ;; esac

# 9p root over virtio; the rest because CRIU probes them before any action (libcrc32c, which
# nf_tables needs, wants a crc32c first), dumps a network namespace's conntrack entries and its sockets
# through netlink (nf_conntrack_netlink, the diag modules)
VM_MODULES="virtio_pci 9pnet_virtio 9p crc32c_generic nf_tables nf_conntrack_netlink veth tun unix_diag inet_diag tcp_diag udp_diag netlink_diag af_packet_diag"
apt_bounded() { timeout -k 10 600 apt-get -o DPkg::Lock::Timeout=300 "$@"; }

# The kernel package linux-image-amd64 depends on, and its version: the cache key.
kpkg="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
if [ -z "$kpkg" ]; then
  apt_bounded update >/dev/null || fail "apt-get update failed"
  kpkg="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
fi
[ -n "$kpkg" ] || fail "apt knows no linux-image-amd64 (a Debian package source is needed)"
kver="$(apt-cache policy "$kpkg" | awk '/Candidate:/ {print $2}')"
krel="${kpkg#linux-image-}"
cache_root="${MIGSIM_VM_CACHE:-/var/cache/migsim-vm}"
cache="$cache_root/${kpkg}_${kver}"
mkdir -p "$cache_root"
# one build of the cache at a time (a second run waits for the first's, then uses it)
exec 9>"$cache_root/lock"
timeout 900 flock 9 || fail "another run-vm.sh held $cache_root/lock for 15 minutes"

if [ ! -f "$cache/ready" ]; then
  rm -rf "$cache"
  mkdir -p "$cache/deb"
  # stale package lists name a kernel the mirror has replaced: refresh them once and retry
  (cd "$cache/deb" && { apt_bounded download "$kpkg" busybox-static >/dev/null \
    || { apt_bounded update >/dev/null && apt_bounded download "$kpkg" busybox-static >/dev/null; }; }) \
    || fail "apt-get download $kpkg busybox-static failed"
  x="$cache/x"
  mkdir -p "$x"
  for d in "$cache"/deb/*.deb; do dpkg-deb -x "$d" "$x"; done
  grep -qx 'CONFIG_MEM_SOFT_DIRTY=y' "$x/boot/config-$krel" \
    || fail "$kpkg's config has no CONFIG_MEM_SOFT_DIRTY=y: CRIU cannot pre-dump on it"
  cp "$x/boot/vmlinuz-$krel" "$cache/vmlinuz"
  # the initramfs: busybox, the modules the 9p root needs, their modules.dep, the init script
  r="$cache/initramfs"
  mkdir -p "$r/bin" "$r/lib/modules/$krel" "$r/host" "$r/proc" "$r/sys" "$r/dev"
  cp "$x/bin/busybox" "$r/bin/busybox"
  # the modules init.sh loads, with what they depend on (modules.dep of the whole package)
  "$x/bin/busybox" depmod -b "$x" "$krel"
  for name in $VM_MODULES; do
    line="$(grep -E "(^|/)$name\.ko:" "$x/lib/modules/$krel/modules.dep")" || fail "$kpkg has no module $name"
    for m in $(echo "$line" | tr -d ':'); do
      mkdir -p "$r/lib/modules/$krel/$(dirname "$m")"
      cp "$x/lib/modules/$krel/$m" "$r/lib/modules/$krel/$m"
    done
  done
  "$r/bin/busybox" depmod -b "$r" "$krel"
  cp "$here/init.sh" "$r/init"
  echo "$VM_MODULES" > "$r/modules"
  chmod 755 "$r/init" "$r/bin/busybox"
  (cd "$r" && find . | "$r/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -1 > "$cache/initramfs.cpio.gz")
  rm -rf "$x" "$r" "$cache/deb"
  echo "$kpkg $kver" > "$cache/ready"
fi
exec 9>&-

# not under /tmp: the VM mounts a fresh /tmp over the shared root's
runs="${MIGSIM_VM_CACHE:-/var/cache/migsim-vm}/runs"
mkdir -p "$runs"
work="$(mktemp -d "$runs/run-XXXXXXXX")"
pidfile="$work/qemu.pid"
stop_vm() {
  if [ -s "$pidfile" ]; then
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -rf "$work"
}
trap stop_vm EXIT
trap 'exit 2' INT TERM
chmod 755 "$work"
gcc -static -O2 -o "$work/migsim-dirty" "$repo/backends/mininet/workload/migsim-dirty.c" \
  || fail "gcc -static could not build the workload (apt-get install gcc libc6-dev)"
# the proof and the driver it runs, copied beside the workload: the checkout itself may be under
# /tmp or /run, which the VM mounts afresh (CI clones into a folder of its own choosing)
mkdir -p "$work/vm"
cp "$here/proof.py" "$work/vm/proof.py"
cp -r "$repo/backends/mininet/driver" "$work/driver"
# what the VM's init runs, by path on the shared root (paths quoted once, here)
printf '#!/bin/sh\nexport PATH=/usr/sbin:/usr/bin:/sbin:/bin\nexec /usr/bin/python3 %q %q /tmp/precopy-proof\n' \
  "$work/vm/proof.py" "$work/migsim-dirty" > "$work/proof.sh"
chmod 755 "$work/proof.sh"

console="$work/console.log"
echo "run-vm.sh: booting $kpkg $kver under QEMU (software emulation), bound ${vm_timeout} s" >&2
set +e
# one vCPU: the proof needs no more, and ava runs it beside other test files
timeout -k 10 "$vm_timeout" qemu-system-x86_64 \
  -accel tcg -cpu max -smp 1 -m 2048 \
  -kernel "$cache/vmlinuz" -initrd "$cache/initramfs.cpio.gz" \
  -append "console=ttyS0 panic=-1 loglevel=3 migsim_proof=$work/proof.sh" \
  -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
  -net none -nographic -no-reboot -monitor none -pidfile "$pidfile" > "$console" 2>&1 < /dev/null &
wait $!
qemu_rc=$?
set -e
line="$(grep -a '^{"type": "precopy-proof"' "$console" | tail -n 1 | tr -d '\r' || true)"
if [ -z "$line" ]; then
  reason="the VM printed no proof result"
  [ "$qemu_rc" = 124 ] && reason="the VM did not finish within ${vm_timeout} s"
  echo "run-vm.sh: $reason (qemu exit $qemu_rc); its console's last lines:" >&2
  tr -d '\r' < "$console" | tail -n 25 >&2
  exit 2
fi
echo "$line"
[ -z "$out" ] || printf '%s\n' "$line" > "$out"
case "$line" in
  *'"verified": true'*) exit 0 ;;
  *)
    echo "run-vm.sh: the proof failed; the VM console's last lines:" >&2
    tr -d '\r' < "$console" | grep -av '^{"type": "precopy-proof"' | tail -n 25 >&2
    exit 1 ;;
esac
