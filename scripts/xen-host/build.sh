#!/usr/bin/env bash
# Builds the dom0 image of the eucalyptus Xen test host (real Xen 4.17, booted under QEMU) from
# Debian packages, once, cached by content under ${EUCA_CACHE:-$HOME/.cache/eucalyptus}/xen-host-<hash>/.
# The hash covers this script, init.sh and the exact versions of every package named below.
# Output directory (its path is the last line on stdout):
#   xen.gz-less multiboot image `xen`, dom0 kernel `vmlinuz`, `dom0-initrd.gz` (the whole root file system),
#   `id_ed25519` (+ .pub) the login key of user `euca` (passwordless sudo), `host_ed25519_key.pub` the pinned host key,
#   `manifest.json` { xen, kernel, initrd, user, key, hostKey, versions, kernelVersion }.
# Needs root, mmdebstrap, cpio, gzip, ssh-keygen, apt sources for bookworm.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${EUCA_CACHE:-$HOME/.cache/eucalyptus}"
log() { echo "xen-host: $*" >&2; }

[ "$(id -u)" = 0 ] || { log "must run as root (mmdebstrap --mode=root, chroot)"; exit 2; }
for t in mmdebstrap cpio gzip ssh-keygen apt-get apt-cache dpkg-deb; do
  command -v "$t" >/dev/null || { log "missing tool: $t"; exit 2; }
done

candidate() { apt-cache policy "$1" | awk '/Candidate:/ { print $2 }'; }
kpkg="$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ { print $2; exit }')"
[ -n "$kpkg" ] || { log "cannot resolve linux-image-amd64 (apt-get update?)"; exit 2; }
include="xen-utils-4.17,openssh-server,iproute2,kmod,sudo,procps,bridge-utils,iptables,busybox,mount"
versions=""
for p in xen-hypervisor-4.17-amd64 "$kpkg" ${include//,/ }; do
  v="$(candidate "$p")"
  [ -n "$v" ] && [ "$v" != "(none)" ] || { log "package $p has no candidate version"; exit 2; }
  versions+="$p=$v"$'\n'
done
hash="$( { cat "$here/build.sh" "$here/init.sh"; printf '%s' "$versions"; } | sha256sum | cut -c1-16)"
out="$cache/xen-host-$hash"
if [ -f "$out/manifest.json" ]; then
  echo "$out"
  exit 0
fi

t0=$(date +%s)
mkdir -p "$cache"
work="$(mktemp -d "$cache/.xen-host-build.XXXXXX")"
cleanup() {
  # Never rm -rf through a mount mmdebstrap may have left in the chroot (/dev, /proc, /sys).
  local m
  for m in $(awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r); do umount -l "$m" || true; done
  if awk -v w="$work/" 'index($2, w) == 1 { found = 1 } END { exit !found }' /proc/mounts; then
    log "left $work in place: something is still mounted under it"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
mkdir -p "$work/out" "$work/debs" "$work/x"

log "downloading xen-hypervisor-4.17-amd64 and $kpkg"
( cd "$work/debs" && apt-get download -q xen-hypervisor-4.17-amd64 "$kpkg" >&2 )
for d in "$work"/debs/*.deb; do dpkg-deb -x "$d" "$work/x"; done
xengz="$(ls "$work"/x/boot/xen-4.17*-amd64.gz 2>/dev/null | head -1)"
[ -n "$xengz" ] || xengz="$(ls "$work"/x/boot/xen-*.gz | head -1)"
gunzip -c "$xengz" > "$work/out/xen"
kver="$(ls "$work/x/lib/modules" | head -1)"
cp "$work/x/boot/vmlinuz-$kver" "$work/out/vmlinuz"

log "mmdebstrap (minbase + $include)"
root="$work/root"
src=/etc/apt/sources.list.d/debian.sources
[ -f "$src" ] || src=/etc/apt/sources.list
mmdebstrap --variant=minbase --mode=root --include="$include" \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --aptopt='Acquire::Retries "3"' \
  bookworm "$root" "$src" >&2

log "kernel modules for $kver"
mods="xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-netback xen-blkback bridge tun loop virtio_pci virtio_net"
# The package ships no modules.dep (depmod makes it on install): run the image's depmod on the
# extracted tree, moved into the chroot for that.
mkdir -p "$root/tmp/km/lib"
mv "$work/x/lib/modules" "$root/tmp/km/lib/modules"
chroot "$root" /sbin/depmod -b /tmp/km "$kver"
kmods="$root/tmp/km/lib/modules/$kver"
mkdir -p "$root/lib/modules/$kver"
cp "$kmods"/modules.order "$kmods"/modules.builtin* "$root/lib/modules/$kver/" 2>/dev/null || true
need=""
for m in $mods; do
  # modules.dep: "kernel/path/name.ko.xz: dep1.ko.xz dep2.ko.xz"; names use - or _ interchangeably
  pat="$(echo "$m" | sed 's/[-_]/[-_]/g')"
  line="$(grep -E "/${pat}\.ko(\.[a-z]+)?:" "$kmods/modules.dep" || true)"
  if [ -z "$line" ]; then
    grep -qE "/${pat}\.ko" "$kmods/modules.builtin" && continue
    log "module $m not found in $kver"; exit 3
  fi
  need+=" $(echo "$line" | tr -d ':')"
done
for f in $(echo "$need" | tr ' ' '\n' | sort -u); do
  mkdir -p "$root/lib/modules/$kver/$(dirname "$f")"
  cp "$kmods/$f" "$root/lib/modules/$kver/$f"
done
rm -rf "$root/tmp/km"
chroot "$root" /sbin/depmod "$kver"

log "user, keys, init"
chroot "$root" useradd -m -s /bin/sh euca
chroot "$root" usermod -p '*' euca
echo 'euca ALL=(ALL) NOPASSWD: ALL' > "$root/etc/sudoers.d/euca"
chmod 440 "$root/etc/sudoers.d/euca"
ssh-keygen -q -t ed25519 -N '' -C euca@xen-host -f "$work/out/id_ed25519"
mkdir -p "$root/home/euca/.ssh"
cp "$work/out/id_ed25519.pub" "$root/home/euca/.ssh/authorized_keys"
chroot "$root" chown -R euca:euca /home/euca/.ssh
chmod 700 "$root/home/euca/.ssh"; chmod 600 "$root/home/euca/.ssh/authorized_keys"
rm -f "$root"/etc/ssh/ssh_host_*
ssh-keygen -q -t ed25519 -N '' -C root@xen-dom0 -f "$root/etc/ssh/ssh_host_ed25519_key"
cp "$root/etc/ssh/ssh_host_ed25519_key.pub" "$work/out/host_ed25519_key.pub"
cat > "$root/etc/ssh/sshd_config.d/euca.conf" <<'CONF'
HostKey /etc/ssh/ssh_host_ed25519_key
PasswordAuthentication no
UsePAM no
UseDNS no
MaxSessions 64
MaxStartups 64:30:128
CONF
echo 'XENCONSOLED_ARGS="--log=guest --log-dir=/var/log/xen/console"' >> "$root/etc/default/xen"
echo 'XENCONSOLED_TRACE=guest' >> "$root/etc/default/xen"
echo xen-dom0 > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\txen-dom0\n' > "$root/etc/hosts"
# Where the node agent keeps configs, instance disks and its image cache (it runs as euca).
mkdir -p "$root/var/lib/eucalyptus/xen" "$root/var/lib/eucalyptus/instances" "$root/var/lib/eucalyptus/cache"
chroot "$root" chown -R euca:euca /var/lib/eucalyptus
# Guests on xenbr0 get an address by DHCP from dom0 (busybox udhcpd).
cat > "$root/etc/udhcpd.conf" <<'CONF'
start 10.0.3.10
end 10.0.3.200
interface xenbr0
lease_file /run/udhcpd.leases
pidfile /run/udhcpd.pid
opt router 10.0.3.1
opt subnet 255.255.255.0
opt lease 86400
CONF
install -m 755 "$here/init.sh" "$root/init"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

log "packing the initramfs"
( cd "$root" && find . -xdev -print0 | cpio --null -o -H newc --quiet ) | gzip -1 > "$work/out/dom0-initrd.gz"

node_json() {
  printf '{\n  "xen": "xen",\n  "kernel": "vmlinuz",\n  "initrd": "dom0-initrd.gz",\n  "user": "euca",\n'
  printf '  "key": "id_ed25519",\n  "hostKey": "host_ed25519_key.pub",\n  "kernelVersion": "%s",\n' "$kver"
  printf '  "xenCmdline": "com1=115200,8n1 console=com1 dom0_mem=1024M,max:1024M noreboot",\n'
  printf '  "kernelCmdline": "console=hvc0 earlyprintk=xen panic=-1",\n'
  printf '  "versions": {'
  sep=""
  while IFS='=' read -r p v; do [ -n "$p" ] && printf '%s\n    "%s": "%s"' "$sep" "$p" "$v" && sep=","; done <<< "$versions"
  printf '\n  },\n  "buildSeconds": %s\n}\n' "$(( $(date +%s) - t0 ))"
}
node_json > "$work/out/manifest.json"
rm -rf "$out"
mv "$work/out" "$out"
log "built in $(( $(date +%s) - t0 )) s: $(du -sh "$out" | cut -f1)"
echo "$out"
