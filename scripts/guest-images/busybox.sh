# KIND busybox: the Debian kernel + an initramfs of busybox-static, dropbear and the virtio/Xen PV
# front-end drivers; its /init is busybox/init (see there for what it does at boot).

BB_MODULES="virtio_pci virtio_net virtio_blk xen-netfront xen-blkfront"
BB_LIBPKGS="libc6 libcrypt1 libtomcrypt1 libtommath1 libgmp10 zlib1g"

kind_inputs() { printf '%s\n' "$HERE/busybox.sh" "$HERE/busybox/init" "$HERE/busybox/udhcpc.script"; }

kind_packages() {
  pin kernel busybox-static dropbear-bin $BB_LIBPKGS
}

kind_build() {
  local out=$1 work=$2; shift 2
  local pv deb kroot="$work/kernel" root="$work/root" ver f m
  need dpkg-deb cpio gzip busybox flock
  mkdir -p "$out" "$kroot" "$root" "$work/pkgs"
  for pv in "$@"; do
    deb=$(fetch "$pv")
    case "$pv" in
      linux-image-*) say "unpacking $(basename "$deb")"; dpkg-deb -x "$deb" "$kroot" ;;
      *) dpkg-deb -x "$deb" "$work/pkgs" ;;
    esac
  done
  ver=$(ls "$kroot/lib/modules" | head -n1)
  [ -n "$ver" ] && [ -f "$kroot/boot/vmlinuz-$ver" ] || die "no kernel in the linux-image package"
  cp "$kroot/boot/vmlinuz-$ver" "$out/vmlinuz"

  # The file tree: busybox applets in /bin, everything else links there.
  mkdir -p "$root"/{bin,dev,etc/dropbear,proc,sys,run,tmp,root/.ssh,var,lib/x86_64-linux-gnu,lib64,usr/share/udhcpc,lib/modules/$ver}
  ln -s bin "$root/sbin"; ln -s ../bin "$root/usr/bin"; ln -s ../bin "$root/usr/sbin"; ln -s ../run "$root/var/run"
  cp "$work/pkgs/bin/busybox" "$root/bin/busybox"
  for f in $("$root/bin/busybox" --list); do [ "$f" = busybox ] || ln -s busybox "$root/bin/$f"; done
  cp "$work/pkgs/usr/sbin/dropbear" "$root/bin/dropbear"
  cp "$work/pkgs/usr/bin/dropbearkey" "$root/bin/dropbearkey"
  # The shared libraries dropbear needs, taken from the unpacked packages (not from this machine).
  local ld=lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
  [ -f "$work/pkgs/$ld" ] || ld=usr/$ld
  [ -f "$work/pkgs/$ld" ] || die "no dynamic loader in libc6"
  cp -L "$work/pkgs/$ld" "$root/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
  ln -s ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$root/lib64/ld-linux-x86-64.so.2"
  local libs
  libs=$("$work/pkgs/$ld" --library-path "$work/pkgs/usr/lib/x86_64-linux-gnu:$work/pkgs/lib/x86_64-linux-gnu" \
    --list "$root/bin/dropbear") || die "cannot list dropbear's libraries"
  if printf '%s\n' "$libs" | grep -q 'not found'; then die "dropbear needs a library not in $BB_LIBPKGS: $libs"; fi
  for f in $(printf '%s\n' "$libs" | awk '/=>/ && $1 !~ /ld-linux/ { print $3 }'); do
    case "$f" in "$work/pkgs/"*) cp -L "$f" "$root/lib/x86_64-linux-gnu/" ;; *) die "library from outside the packages: $f" ;; esac
  done
  chroot "$root" /bin/dropbear -V >/dev/null 2>&1 || chroot "$root" /bin/dropbearkey 2>&1 | grep -qi usage \
    || die "dropbear does not run inside the image tree"

  # Kernel modules and their dependencies; modules.dep by busybox depmod.
  say "resolving modules: $BB_MODULES"
  busybox depmod -b "$kroot" "$ver"
  for m in $(modules_closure "$kroot" "$ver" $BB_MODULES); do
    [ "$m" != MISSING ] || die "a module is not in kernel $ver: $(modules_closure "$kroot" "$ver" $BB_MODULES | grep MISSING)"
    mkdir -p "$root/lib/modules/$ver/$(dirname "$m")"
    cp "$kroot/lib/modules/$ver/$m" "$root/lib/modules/$ver/$m"
  done
  cp "$kroot/lib/modules/$ver/modules.builtin" "$kroot/lib/modules/$ver/modules.order" "$root/lib/modules/$ver/"
  busybox depmod -b "$root" "$ver"

  printf 'root:x:0:0:root:/root:/bin/sh\n' > "$root/etc/passwd"
  printf 'root:*:19000:0:99999:7:::\n' > "$root/etc/shadow"; chmod 600 "$root/etc/shadow"
  printf 'root:x:0:\n' > "$root/etc/group"
  printf '/bin/sh\n' > "$root/etc/shells"
  printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n' > "$root/etc/nsswitch.conf"
  printf '127.0.0.1 localhost\n' > "$root/etc/hosts"
  chmod 700 "$root/root" "$root/root/.ssh"
  install -m 0755 "$HERE/busybox/init" "$root/init"
  install -m 0755 "$HERE/busybox/udhcpc.script" "$root/usr/share/udhcpc/default.script"

  say "packing initrd"
  (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -9 -n > "$out/initrd.img"
  cat > "$out/manifest.json" <<JSON
{ "kind": "busybox", "kernel": "vmlinuz", "ramdisk": "initrd.img", "cmdline": "console=hvc0 console=ttyS0 panic=-1", "kernelVersion": "$ver" }
JSON
  say "initrd $(du -k "$out/initrd.img" | cut -f1) KiB, kernel $(du -k "$out/vmlinuz" | cut -f1) KiB"
}
