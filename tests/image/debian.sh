# Sourced by rootfs.sh and podman-build.sh: how a Debian 12 root filesystem like the
# debian:12-slim image is made with mmdebstrap from Debian's mirror. minbase (Essential and
# apt), no recommends, and slim's dpkg path excludes (docs but their copyright, man pages,
# locales, info), which stay in /etc/dpkg/dpkg.cfg.d so later installs skip them too; the apt
# lists and caches are removed at the end.
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=${SAGUARD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SLIM_OPTS=(
  --variant=minbase --aptopt='APT::Install-Recommends "false"'
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/groff/*'
  --dpkgopt='path-exclude=/usr/share/lintian/*'
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*'
)
