#!/usr/bin/env bash
# Builds a guest image once and caches it by content.
#   scripts/guest-images/build.sh busybox|cloudinit
# Output: ${EUCA_CACHE:-$HOME/.cache/eucalyptus}/images/KIND-<hash>/ (printed on the last stdout
# line), with manifest.json naming the files in that directory. The hash covers the build scripts
# and the exact Debian package versions used, so a second run with nothing changed only checks
# apt's candidate versions and prints the same directory. Progress goes to stderr.
# Needs root (mknod-free, but mmdebstrap --mode=root and file ownership in the images), apt with
# bookworm sources, dpkg-deb, cpio, gzip; cloudinit also mmdebstrap and qemu-img.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/lib.sh"

KIND="${1:-}"
case "$KIND" in
  busybox|cloudinit) ;;
  *) die "usage: build.sh busybox|cloudinit (got '${KIND}')" ;;
esac
[ "$(id -u)" = 0 ] || die "must run as root (files in the image are owned by root; mmdebstrap --mode=root)"

. "$HERE/$KIND.sh"
# The kind's script defines: kind_inputs (files hashed), kind_packages (PKG=VERSION lines),
# kind_build OUTDIR (writes the image and manifest.json into OUTDIR).
mkdir -p "$CACHE/images"
# Resolving versions costs apt-cache seconds; they only change when apt's lists do, so the answer is
# kept per state of /var/lib/apt/lists (and of these scripts).
APTSTATE=$(stat -c '%n %s %Y' /var/lib/apt/lists/*Packages* 2>/dev/null | content_hash "$HERE/lib.sh" $(kind_inputs) -- "$(cat)")
MEMO="$CACHE/images/.$KIND-packages-$APTSTATE"
if [ -s "$MEMO" ]; then
  PKGS=$(cat "$MEMO")
else
  PKGS=$(kind_packages)
  printf '%s\n' "$PKGS" > "$MEMO.$$" && mv "$MEMO.$$" "$MEMO"
fi
HASH=$(content_hash "$HERE/build.sh" "$HERE/lib.sh" $(kind_inputs) -- $PKGS)
OUT="$CACHE/images/$KIND-$HASH"

exec 9>"$CACHE/images/.$KIND-$HASH.lock"
flock 9
if [ -f "$OUT/manifest.json" ]; then
  say "cached: $OUT"
  printf '%s\n' "$OUT"
  exit 0
fi

TMP=$(mktemp -d "$CACHE/images/.$KIND-$HASH.XXXXXX")
trap '[ -n "${EUCA_GUEST_KEEP:-}" ] && say "kept $TMP" || rm -rf "$TMP"' EXIT
START=$(date +%s)
say "building $KIND ($HASH) in $TMP"
kind_build "$TMP/out" "$TMP" $PKGS
printf '%s\n' $PKGS > "$TMP/out/packages.txt"
rm -rf "$OUT"
mv "$TMP/out" "$OUT"
say "built $KIND in $(( $(date +%s) - START )) s: $OUT"
printf '%s\n' "$OUT"
