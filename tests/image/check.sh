#!/usr/bin/env bash
# Proves the Dockerfile's runtime stage without a container engine: the saguard binary,
# stripped as the Dockerfile strips it, copied into the Debian 12 root filesystem that
# rootfs.sh makes from .ci/runtime-packages.txt, must find every shared library there and
# run `saguard version` and `saguard run --help` as uid/gid 65532 with the root filesystem
# mounted read-only (the Deployment's readOnlyRootFilesystem), no capabilities, no new privileges.
#
# Usage: check.sh SAGUARD_BINARY
# Exit:  0 passed; 1 failed; 77 skipped (no mmdebstrap, not root, no unshare): the message says why.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[[ $# -eq 1 && -x $1 ]] || { echo "usage: $0 SAGUARD_BINARY" >&2; exit 2; }
binary=$1
skip() { echo "SKIPPED: image runtime check: $*"; exit 77; }
(( EUID == 0 )) || skip "needs root (chroot, a read-only bind mount)"
command -v mmdebstrap >/dev/null || skip "mmdebstrap is missing (apt-get install mmdebstrap)"
command -v unshare >/dev/null && command -v setpriv >/dev/null || skip "unshare/setpriv (util-linux) missing"
unshare -m true 2>/dev/null || skip "cannot make a mount namespace here (unshare -m failed)"

t0=$SECONDS
root=$(bash "$here/rootfs.sh") || { rc=$?; [[ $rc == 3 ]] && skip "rootfs.sh could not run"; exit 1; }
echo "rootfs: $root ($((SECONDS - t0)) s)"
install -m 0755 -D "$binary" "$root/usr/local/bin/saguard"
strip "$root/usr/local/bin/saguard"
echo "rootfs size with saguard: $(du -sm --exclude=proc "$root" | cut -f1) MB (binary stripped: $(du -m "$root/usr/local/bin/saguard" | cut -f1) MB)"

fail=0
# Every shared library: the dynamic loader of the rootfs lists what it resolves.
libs=$(chroot "$root" /lib64/ld-linux-x86-64.so.2 --list /usr/local/bin/saguard)
if grep -q 'not found' <<<"$libs"; then
  echo "FAIL: shared libraries missing in the runtime rootfs:"; grep 'not found' <<<"$libs"; fail=1
else
  echo "every shared library found ($(grep -c '=>' <<<"$libs") resolved)"
fi

# In a private mount namespace: the rootfs bind-mounted read-only, then chroot as 65532.
run() {
  unshare -m --propagation private bash -c '
    set -e; r=$1; shift
    mount --bind "$r" "$r"; mount -o remount,bind,ro "$r"
    exec chroot --userspec=65532:65532 "$r" \
      setpriv --no-new-privs --inh-caps=-all --bounding-set=-all -- /usr/local/bin/saguard "$@"
  ' _ "$root" "$@"
}
uid=$(chroot --userspec=65532:65532 "$root" /bin/sh -c 'echo "$(id -u):$(id -g)"')
[[ $uid == 65532:65532 ]] || { echo "FAIL: chroot --userspec ran as $uid, not 65532:65532"; fail=1; }
if out=$(run version 2>&1); then
  echo "saguard version (uid 65532, read-only root): $out"
else
  echo "FAIL: saguard version: $out"; fail=1
fi
if out=$(run run --help 2>&1) && grep -q -- '--leader-elect' <<<"$out"; then
  echo "saguard run --help (uid 65532, read-only root): $(wc -l <<<"$out") lines, names --leader-elect"
else
  echo "FAIL: saguard run --help: $out"; fail=1
fi
# The read-only mount is really read-only for the process (a check that can fail).
if unshare -m --propagation private bash -c 'r=$1; mount --bind "$r" "$r"; mount -o remount,bind,ro "$r";
     chroot --userspec=65532:65532 "$r" /bin/sh -c "echo x > /tmp/probe"' _ "$root" 2>/dev/null; then
  echo "FAIL: the root filesystem was writable"; fail=1
fi
exit $fail
