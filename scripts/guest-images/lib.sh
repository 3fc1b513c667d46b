# Shared helpers of the guest-image builders (sourced by build.sh; bash).
# Debian packages are fetched with `apt-get download` and unpacked with `dpkg-deb -x`: nothing is
# installed on the build machine. Downloads are kept in $EUCA_CACHE/debs, keyed by name and version.

CACHE="${EUCA_CACHE:-$HOME/.cache/eucalyptus}"
DEBS="$CACHE/debs"

say() { printf '%s\n' "guest-images: $*" >&2; }
die() { say "error: $*"; exit 1; }

# pin PKG...: prints "PKG=VERSION" lines with the versions `apt-get download` would fetch, from a
# single apt-cache call (apt-cache is slow on a busy machine). The pseudo-package "kernel" stands for
# the versioned image package linux-image-amd64 currently depends on.
pin() {
  local out p v want=""
  for p in "$@"; do [ "$p" = kernel ] && want="$want linux-image-amd64" || want="$want $p"; done
  out=$(apt-cache show --no-all-versions $want 2>/dev/null | awk '
    /^Package: / { p = $2 }
    /^Version: / { print p "=" $2 }
    /^Depends: / && p == "linux-image-amd64" { d = $2; v = $0; sub(/.*\(= */, "", v); sub(/\).*/, "", v); print "kernel=" d "=" v }')
  for p in "$@"; do
    v=$(printf '%s\n' "$out" | awk -v p="$p" 'index($0, p "=") == 1 { print substr($0, length(p) + 2); exit }')
    [ -n "$v" ] || die "apt has no candidate for package ${p/#kernel/linux-image-amd64} (apt-get update? bookworm sources?)"
    printf '%s\n' "$v" | grep -q = || v="$p=$v"
    printf '%s\n' "$v"
  done
}

# fetch PKG=VERSION...: makes sure each .deb is in $DEBS; prints their paths.
fetch() {
  local pv p v f
  mkdir -p "$DEBS"
  for pv in "$@"; do
    p=${pv%%=*}; v=${pv#*=}
    f=$(ls "$DEBS/${p}_"*"${v##*:}_"*.deb 2>/dev/null | head -n1 || true)
    if [ -z "$f" ]; then
      say "downloading $p $v"
      (cd "$DEBS" && apt-get -q download "$p=$v" >&2 2>/dev/null) || (cd "$DEBS" && apt-get download "$p=$v" >&2) \
        || die "apt-get download $p=$v failed"
      f=$(ls "$DEBS/${p}_"*"${v##*:}_"*.deb 2>/dev/null | head -n1 || true)
      [ -n "$f" ] || die "downloaded $p=$v but cannot find its .deb in $DEBS"
    fi
    printf '%s\n' "$f"
  done
}

# content_hash FILE... -- STRING...: a short sha256 over files and strings.
content_hash() {
  {
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do printf 'file %s\n' "$(basename "$1")"; cat "$1"; shift; done
    [ "${1:-}" = "--" ] && shift
    printf '%s\n' "$@"
  } | sha256sum | cut -c1-16
}

# need CMD...: fails with the list of missing commands.
need() {
  local c missing=""
  for c in "$@"; do command -v "$c" >/dev/null 2>&1 || missing="$missing $c"; done
  [ -z "$missing" ] || die "missing commands:$missing"
}

# modules_closure MODROOT VERSION MOD...: the module files (relative to lib/modules/VERSION) of
# MODs and everything they depend on, from modules.dep.
modules_closure() {
  local root=$1 ver=$2; shift 2
  local dep="$root/lib/modules/$ver/modules.dep"
  awk -v want="$*" '
    BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) { m = w[i]; gsub("-", "_", m); need[m] = 1 } }
    { key = $1; sub(":$", "", key); line[key] = $0; b = key; sub(".*/", "", b); sub("\\.ko(\\.[a-z]+)?$", "", b); gsub("-", "_", b); byname[b] = key }
    END {
      for (m in need) { if (!(m in byname)) { print "MISSING " m; continue } add(byname[m]) }
      for (k in out) print k
    }
    function add(k,   parts, i, c) {
      if (k in out) return
      out[k] = 1
      c = split(line[k], parts, " ")
      for (i = 2; i <= c; i++) add(parts[i])
    }' "$dep"
}
