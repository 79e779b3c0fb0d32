#!/usr/bin/env bash
# Builds the Dockerfile with podman, from base images made of Debian's packages, then runs the
# image as a Kubernetes pod of manifests/manager would: uid/gid 65532, read-only root
# filesystem, no capabilities, no new privileges, no network. Prints the image size.
# Expensive (the build stage compiles saguard from scratch): `make image-podman`, not in
# `make test`. tests/image/README.md says why the runc runtime and the ulimits.
#
# Usage: podman-build.sh     Exit 77 (skipped) without podman, mmdebstrap or root.
# Env:   SAGUARD_DEBIAN_MIRROR (default http://deb.debian.org/debian; debian.sh)
#        IMAGE (default localhost/saguard:dev)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/debian.sh"
image=${IMAGE:-localhost/saguard:dev}
skip() { echo "SKIPPED: podman image build: $*"; exit 77; }
(( EUID == 0 )) || skip "needs root"
command -v podman >/dev/null || skip "podman is missing (apt-get install podman runc)"
command -v mmdebstrap >/dev/null || skip "mmdebstrap is missing (apt-get install mmdebstrap)"
command -v runc >/dev/null || skip "runc is missing (apt-get install runc)"
# crun cannot start containers here (cgroup v1 + v2 hybrid); runc can, when the container's
# rlimits are not above the current ones (setting them needs CAP_SYS_RESOURCE, which root lacks
# on this machine): lower both explicitly.
pod=(podman --runtime runc)
limits=(--ulimit nofile=1024:1024 --ulimit nproc=1000:1000)

# The base images, under the names the Dockerfile uses: Debian 12 root filesystems made by
# mmdebstrap from the mirror: debian:12-slim as debian.sh says, debian:12 (the build stage)
# plain minbase. Made once; `podman rmi` them to make them again.
for name in docker.io/library/debian:12 docker.io/library/debian:12-slim; do
  if ! podman image exists "$name"; then
    t0=$SECONDS
    opts=(--variant=minbase); [[ $name == *-slim ]] && opts=("${DEBIAN_SLIM_OPTS[@]}")
    mmdebstrap --quiet "${opts[@]}" "$DEBIAN_SUITE" - "$DEBIAN_MIRROR" \
      | podman import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$name" >/dev/null
    echo "base image $name from mmdebstrap: $((SECONDS - t0)) s"
  fi
done

# The build context: only what the Dockerfile copies (tracked files), not the build folders.
ctx=$(mktemp -d); trap 'rm -rf "$ctx"' EXIT
(cd "$root" && git ls-files -z -- Dockerfile CMakeLists.txt .ci controller | xargs -0 tar -cf -) | tar -C "$ctx" -xf -
t0=$SECONDS
nice -n 19 "${pod[@]}" build "${limits[@]}" --network host --env CMAKE_BUILD_PARALLEL_LEVEL=2 -t "$image" "$ctx"
echo "podman build: $((SECONDS - t0)) s"

run() {
  "${pod[@]}" run --rm "${limits[@]}" --read-only --user 65532:65532 --cap-drop ALL \
    --security-opt no-new-privileges --network none "$image" "$@"
}
fail=0
out=$(run version 2>&1) && echo "image: saguard version (65532, read-only, no caps): $out" || { echo "FAIL: $out"; fail=1; }
out=$(run run --help 2>&1) && grep -q -- --leader-elect <<<"$out" && echo "image: saguard run --help: $(wc -l <<<"$out") lines" \
  || { echo "FAIL: run --help: $out"; fail=1; }
out=$("${pod[@]}" run --rm "${limits[@]}" --read-only --user 65532:65532 --network none --entrypoint /bin/sh "$image" \
        -c 'id -u; id -g; touch /probe 2>/dev/null && echo writable || echo read-only' 2>&1)
[[ $out == $'65532\n65532\nread-only' ]] && echo "image: runs as 65532:65532, root filesystem read-only" \
  || { echo "FAIL: identity or read-only: $out"; fail=1; }
size=$(podman image inspect "$image" --format '{{.Size}}')
echo "image $image: $size bytes ($((size / 1000000)) MB); base debian:12-slim: $(podman image inspect docker.io/library/debian:12-slim --format '{{.Size}}') bytes"
exit $fail
