#!/usr/bin/env bash
# Makes the Dockerfile's runtime stage as a plain directory: a minimal Debian 12 root
# filesystem (mmdebstrap --variant=minbase from Debian's mirror, like debian:12-slim) with only
# .ci/runtime-packages.txt installed, cached outside the tree keyed by that list.
# No container engine is needed; tests/image/check.sh runs saguard in it with chroot.
#
# Usage: rootfs.sh     prints the rootfs folder; exit 3 (with a message) when mmdebstrap or
#                      root is missing, so that callers can skip rather than fail
# Env:   SAGUARD_CACHE_DIR   cache root (default: ${XDG_CACHE_HOME:-~/.cache}/saguard)
#        SAGUARD_DEBIAN_MIRROR  (default http://deb.debian.org/debian)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
list="$here/../../.ci/runtime-packages.txt"
packages=$(sed 's/#.*//' "$list" | tr -s ' \t' '\n' | grep -v '^$' | sort -u | paste -sd, -)
key=$(printf '%s\n' "bookworm minbase $packages" | sha256sum | cut -c1-12)
cache_root=${SAGUARD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/saguard}
root="$cache_root/image/rootfs-bookworm-$key"
mirror=${SAGUARD_DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [[ -x "$root/usr/bin/env" && -f "$root/.saguard-complete" ]]; then
  echo "$root"; exit 0
fi
command -v mmdebstrap >/dev/null || { echo "rootfs.sh: mmdebstrap is missing (apt-get install mmdebstrap)" >&2; exit 3; }
(( EUID == 0 )) || { echo "rootfs.sh: needs root (mmdebstrap root mode, chroot)" >&2; exit 3; }
mkdir -p "$cache_root/image"
rm -rf "$root.partial"
echo "rootfs.sh: mmdebstrap bookworm minbase + $packages into $root (first run only)" >&2
# Like the Dockerfile: no recommends, apt lists removed afterwards.
mmdebstrap --quiet --variant=minbase --aptopt='APT::Install-Recommends "false"' \
  --include="$packages" --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
  bookworm "$root.partial" "$mirror" >&2
touch "$root.partial/.saguard-complete"
rm -rf "$root" && mv "$root.partial" "$root"
echo "$root"
