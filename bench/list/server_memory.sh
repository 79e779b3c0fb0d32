#!/usr/bin/env bash
# What one listing of N pods costs the API server, two ways (issue 19): the streaming list
# saguard's reflectors sync by (a watch with sendInitialEvents, in protobuf:
# saguard-bench-list --stream-seconds), and the LIST with resourceVersion=0 in protobuf that
# client-go's reflector (the peer's) sends, served from the watch cache (curl). Each on a
# kube-apiserver restarted and left until quiet (bench/lib/apiserver.sh), the two ways
# alternated, R rounds. Prints one line per listing: the server's CPU seconds, its VmRSS
# peak above the value before the request (sampled every 100 ms) and the bytes its heap
# allocated (bench/lib/apiserver.sh, on_fresh_apiserver). A measurement, not a test.
#
# Usage: bench/list/server_memory.sh --pods N [--rounds R] [--stream-seconds S]
# Env:   BENCH_BUILD_DIR  the build with saguard-bench-populate and saguard-bench-list
#                         (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
pods=10000 rounds=3 stream_seconds=20
while [[ $# -gt 0 ]]; do
  case $1 in
    --pods) pods=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --stream-seconds) stream_seconds=$2; shift ;;
    *) echo "server_memory.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
build_dir=${BENCH_BUILD_DIR:-$root/build}
populate=$build_dir/bench/populate/saguard-bench-populate
lister=$build_dir/bench/list/saguard-bench-list
for f in "$populate" "$lister"; do
  [[ -x "$f" ]] || { echo "server_memory.sh: $f not found (make build, or set BENCH_BUILD_DIR)" >&2; exit 2; }
done

# shellcheck source=bench/lib/apiserver.sh
source "$root/bench/lib/apiserver.sh"
populated_controlplane server-memory "$pods"

# listing WAY: one listing of the pods, the way saguard's reflectors sync or the peer's do.
listing() {
  case $1 in
    stream) "$lister" --kubeconfig "$KUBECONFIG" --resource pods --repeat 1 \
              --stream-seconds "$stream_seconds" >>"$logs/list.log" 2>&1 ;;
    list) curl -sf --cacert "$CONTROLPLANE_CA" --cert "$CONTROLPLANE_ADMIN_CERT" \
            --key "$CONTROLPLANE_ADMIN_KEY" -H 'Accept: application/vnd.kubernetes.protobuf' \
            -o "$work/list.pb" "$APISERVER_URL/api/v1/pods?resourceVersion=0&limit=500" ;;
  esac
}

for (( r = 1; r <= rounds; r++ )); do
  if (( r % 2 )); then order=(stream list); else order=(list stream); fi
  for way in "${order[@]}"; do on_fresh_apiserver "$way" listing "$way"; done
done
[[ -s "$work/list.pb" ]] && log "the LIST answer was $(stat -c %s "$work/list.pb") bytes"
