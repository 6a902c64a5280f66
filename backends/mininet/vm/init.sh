#!/bin/busybox sh
# The proof VM's init (run-vm.sh puts it in the initramfs): mounts the host's root, shared read-only
# over virtio-9p, with fresh /proc, /sys (cgroup v2 for runc), /dev, /tmp and /run, switches to it,
# runs the script the kernel command line names (migsim_proof=PATH, on that root) and powers off;
# its output is the serial console.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules); do
  modprobe "$m" || echo "init: modprobe $m failed"
done
# CRIU checks TCP repair over the loopback before any action
ip link set lo up
proof="$(sed -n 's/.*migsim_proof=\([^ ]*\).*/\1/p' /proc/cmdline)"
if mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /host; then
  mount -t proc proc /host/proc
  mount -t sysfs sys /host/sys
  mount -t cgroup2 cgroup2 /host/sys/fs/cgroup
  mount -t devtmpfs dev /host/dev
  # CRIU learns devpts' device from its own /dev/pts before it dumps a container's mounts
  mkdir -p /host/dev/pts
  mount -t devpts devpts /host/dev/pts
  mount -t tmpfs tmp /host/tmp
  mount -t tmpfs run /host/run
  echo "init: kernel $(uname -r), running $proof"
  # the shared root becomes the root of the mount namespace (CRIU cannot parse the mounts of a
  # container made under a chroot); the script runs as PID 1 there and powers the VM off by sysrq
  exec switch_root /host /bin/sh -c '"$0"; echo "init: proof exited $?"; echo o > /proc/sysrq-trigger; sleep 60' "$proof"
fi
echo "init: cannot mount the host's root over 9p"
poweroff -f
