# KIND cloudinit: a stock-like Debian bookworm cloud image. mmdebstrap (minbase) with systemd,
# linux-image-amd64, cloud-init (EC2 datasource, cloudinit/90-eucalyptus.cfg), openssh-server,
# ifupdown + isc-dhcp-client (cloud-init's fallback: DHCP on the first NIC), sudo. The root file
# system fills the whole disk (ext4 labelled cloudimg-rootfs, no partition table, made with
# mkfs.ext4 -d: no loop device), converted to qcow2. It boots by direct kernel boot with the
# vmlinuz and initrd.img beside it (the same files are in its /boot).

CI_PACKAGES="systemd-sysv linux-image-amd64 initramfs-tools cloud-init openssh-server ifupdown isc-dhcp-client sudo iproute2 netbase"
CI_DISK_SIZE=3G
CI_LABEL=cloudimg-rootfs

kind_inputs() { printf '%s\n' "$HERE/cloudinit.sh" "$HERE/cloudinit/90-eucalyptus.cfg"; }

# The versions of the named packages and of everything they depend on (recursively), plus apt and
# the Essential set: what mmdebstrap installs.
kind_packages() {
  local names essential
  essential=$(apt-cache dumpavail 2>/dev/null | awk '/^Package: / { p = $2 } /^Essential: yes/ { print p }' | sort -u)
  names=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
      --no-replaces --no-enhances $CI_PACKAGES apt $essential 2>/dev/null \
    | awk '/^[a-z0-9]/ { print $1 }' | grep -v '^<' | sort -u)
  [ -n "$names" ] || die "apt-cache knows none of: $CI_PACKAGES"
  apt-cache show --no-all-versions $names 2>/dev/null \
    | awk '/^Package: / { p = $2 } /^Version: / { print p "=" $2 }' | sort -u
}

kind_build() {
  local out=$1 work=$2; shift 2
  local root="$work/rootfs" debs="$DEBS/cloudinit" ver raw="$work/disk.raw"
  need mmdebstrap mkfs.ext4 qemu-img
  mkdir -p "$out" "$debs" "$root"
  say "mmdebstrap bookworm (minbase + ${CI_PACKAGES// /,})"
  mmdebstrap --variant=minbase --mode=root --format=directory \
    --include="${CI_PACKAGES// /,}" \
    --aptopt='Acquire::Languages "none"' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --setup-hook="mkdir -p \"\$1/var/cache/apt/archives\"" \
    --setup-hook="sync-in '$debs' /var/cache/apt/archives/" \
    --essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d"; echo MODULES=list > "$1/etc/initramfs-tools/conf.d/eucalyptus"; printf "%s\n" virtio_pci virtio_blk virtio_net virtio_scsi xen-blkfront xen-netfront ext4 > "$1/etc/initramfs-tools/modules"' \
    --customize-hook="sync-out /var/cache/apt/archives '$debs'" \
    --customize-hook="copy-in '$HERE/cloudinit/90-eucalyptus.cfg' /etc/cloud/cloud.cfg.d/" \
    --customize-hook='echo "policy: enabled" > "$1/etc/cloud/ds-identify.cfg"' \
    --customize-hook='echo "LABEL='"$CI_LABEL"' / ext4 defaults,errors=remount-ro 0 1" > "$1/etc/fstab"' \
    --customize-hook='printf "auto lo\niface lo inet loopback\n\nsource /etc/network/interfaces.d/*\n" > "$1/etc/network/interfaces"' \
    --customize-hook='rm -f "$1"/etc/ssh/ssh_host_*; : > "$1/etc/machine-id"; rm -f "$1/var/lib/dbus/machine-id"; echo debian > "$1/etc/hostname"' \
    bookworm "$root" >&2 || die "mmdebstrap failed"
  rm -f "$debs"/lock; rm -rf "$debs/partial"

  ver=$(ls "$root/lib/modules" | head -n1)
  [ -f "$root/boot/vmlinuz-$ver" ] && [ -f "$root/boot/initrd.img-$ver" ] || die "the kernel or its initrd is missing from the image's /boot"
  cp "$root/boot/vmlinuz-$ver" "$out/vmlinuz"
  cp "$root/boot/initrd.img-$ver" "$out/initrd.img"

  say "making the ext4 file system ($CI_DISK_SIZE) and the qcow2"
  truncate -s "$CI_DISK_SIZE" "$raw"
  mkfs.ext4 -q -F -L "$CI_LABEL" -d "$root" "$raw" || die "mkfs.ext4 -d failed"
  qemu-img convert -O qcow2 "$raw" "$out/disk.qcow2"
  rm -f "$raw"
  cat > "$out/manifest.json" <<JSON
{ "kind": "cloudinit", "disk": "disk.qcow2", "format": "qcow2", "kernel": "vmlinuz", "ramdisk": "initrd.img", "cmdline": "root=LABEL=$CI_LABEL ro console=hvc0 console=ttyS0 net.ifnames=0", "kernelVersion": "$ver", "defaultUser": "debian" }
JSON
  chroot "$root" dpkg-query -W -f '${Package}=${Version}\n' > "$work/installed.txt" 2>/dev/null || true
  say "disk $(du -k "$out/disk.qcow2" | cut -f1) KiB (virtual $CI_DISK_SIZE), initrd $(du -k "$out/initrd.img" | cut -f1) KiB"
}
