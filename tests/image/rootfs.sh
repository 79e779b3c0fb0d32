#!/usr/bin/env bash
# Makes the Dockerfile's runtime stage as a plain directory: a Debian 12 root filesystem made
# like debian:12-slim (debian.sh: mmdebstrap minbase from Debian's mirror) with only
# .ci/runtime-packages.txt installed, cached outside the tree keyed by that list and debian.sh.
# No container engine is needed; tests/image/check.sh runs saguard in it with chroot.
#
# Usage: rootfs.sh     prints the rootfs folder; exit 3 (with a message) when mmdebstrap or
#                      root is missing, so that callers can skip rather than fail
# Env:   SAGUARD_CACHE_DIR   cache root (default: ${XDG_CACHE_HOME:-~/.cache}/saguard)
#        SAGUARD_DEBIAN_MIRROR  (default http://deb.debian.org/debian; debian.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/debian.sh"
list="$here/../../.ci/runtime-packages.txt"
packages=$(sed 's/#.*//' "$list" | tr -s ' \t' '\n' | grep -v '^$' | sort -u | paste -sd, -)
key=$( (echo "$packages"; cat "$here/debian.sh") | sha256sum | cut -c1-12)
cache_root=${SAGUARD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/saguard}
root="$cache_root/image/rootfs-bookworm-$key"

if [[ -x "$root/usr/bin/env" && -f "$root/.saguard-complete" ]]; then
  echo "$root"; exit 0
fi
command -v mmdebstrap >/dev/null || { echo "rootfs.sh: mmdebstrap is missing (apt-get install mmdebstrap)" >&2; exit 3; }
(( EUID == 0 )) || { echo "rootfs.sh: needs root (mmdebstrap root mode, chroot)" >&2; exit 3; }
mkdir -p "$cache_root/image"
rm -rf "$root.partial"
echo "rootfs.sh: mmdebstrap $DEBIAN_SUITE (slim) + $packages into $root (first run only)" >&2
mmdebstrap --quiet "${DEBIAN_SLIM_OPTS[@]}" --include="$packages" \
  "$DEBIAN_SUITE" "$root.partial" "$DEBIAN_MIRROR" >&2
touch "$root.partial/.saguard-complete"
rm -rf "$root" && mv "$root.partial" "$root"
echo "$root"
