#!/bin/busybox sh
# The proof VM's init (run-vm.sh puts it in the initramfs): mounts the host's root, shared read-only
# over virtio-9p, with fresh /proc, /sys, /dev, /tmp and /run, runs the script the kernel command
# line names (migsim_proof=PATH, on that root) in it, and powers off; its output is the serial console.
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
  mount -t devtmpfs dev /host/dev
  mount -t tmpfs tmp /host/tmp
  mount -t tmpfs run /host/run
  echo "init: kernel $(uname -r), running $proof"
  chroot /host "$proof"
  echo "init: proof exited $?"
else
  echo "init: cannot mount the host's root over 9p"
fi
sync
poweroff -f
