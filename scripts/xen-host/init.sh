#!/bin/sh
# dom0's /init (PID 1) in the eucalyptus Xen test host: no systemd, just what xl needs.
# Every step prints one console line prefixed "EUCA-DOM0:" so a boot can be followed on the serial log.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
say() { echo "EUCA-DOM0: $*" > /dev/console 2>/dev/null || echo "EUCA-DOM0: $*"; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
# What udev would make and devtmpfs does not: Xen's hotplug locking (/etc/xen/scripts/locking.sh,
# claim_lock) stats /dev/stdin and retries for ever when it is missing, so every `block add` of a
# disk was killed on libxl's 40 s hotplug timeout (measured on Xen 4.17.7; see issue 12's report).
ln -sfn /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /dev/shm
mkdir -p /run/sshd /run/xen /var/run /var/log/xen/console /var/lib/xen /var/lib/xenstored
say "mounted"
for m in xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-netback xen-blkback bridge tun loop virtio_pci virtio_net; do
  modprobe "$m" 2>/dev/null || say "modprobe $m failed"
done
mountpoint -q /proc/xen || mount -t xenfs xenfs /proc/xen
say "modules"
hostname xen-dom0
ip link set lo up
# QEMU user-mode network: dom0 is 10.0.2.15, the host's loopback is reachable as 10.0.2.2.
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
say "net eth0 10.0.2.15"
# A bridge for guests, routed (not bridged) to eth0: dom0 is their gateway.
brctl addbr xenbr0
ip addr add 10.0.3.1/24 dev xenbr0
ip link set xenbr0 up
echo 1 > /proc/sys/net/ipv4/ip_forward
touch /run/udhcpd.leases
busybox udhcpd /etc/udhcpd.conf && say "dhcp on xenbr0"
say "bridge xenbr0 10.0.3.1"
/etc/init.d/xen start > /var/log/xen/init.log 2>&1 || say "xen start failed: $(tail -3 /var/log/xen/init.log | tr '\n' ' ')"
say "xen $(xl info xen_version 2>&1)"
/usr/sbin/sshd -E /var/log/sshd.log
say "sshd up"
# PID 1 must not exit; reap orphans.
while :; do wait; sleep 1; done
