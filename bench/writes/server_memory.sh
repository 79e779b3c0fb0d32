#!/usr/bin/env bash
# What the writes of one initial sync cost the API server, two ways (issue 19): N pods are
# populated (N/20 namespaces), and every `default` account is made compliant with nothing
# else running, by saguard's own write (a server-side apply, reconcile::ApiWriter) or by the
# peer's (controller-runtime's JSON merge patch): saguard-bench-populate disable --write.
# Before each, the accounts are reset to non-compliant and the kube-apiserver is restarted
# and left until quiet; the two ways alternate, R rounds. Prints one line per round and way:
# the server's CPU seconds, its VmRSS peak above the value before, and the bytes its heap
# allocated (bench/lib/apiserver.sh, on_fresh_apiserver). A measurement, not a test; the
# Events saguard writes beside its patches are not part of it.
#
# Usage: bench/writes/server_memory.sh --pods N [--rounds R] [--concurrency C]
# Env:   BENCH_BUILD_DIR  the build with saguard-bench-populate (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
pods=10000 rounds=3 concurrency=2  # saguard runs 2 workers by default, the peer 1
while [[ $# -gt 0 ]]; do
  case $1 in
    --pods) pods=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --concurrency) concurrency=$2; shift ;;
    *) echo "server_memory.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
build_dir=${BENCH_BUILD_DIR:-$root/build}
populate=$build_dir/bench/populate/saguard-bench-populate
[[ -x "$populate" ]] || { echo "server_memory.sh: $populate not found (make build, or set BENCH_BUILD_DIR)" >&2; exit 2; }

# shellcheck source=bench/lib/apiserver.sh
source "$root/bench/lib/apiserver.sh"
populated_controlplane write-memory "$pods"

# disable WAY: every reset account made compliant with WAY's write; its count goes to the log.
disable() {
  "$populate" disable --kubeconfig "$KUBECONFIG" --write "$1" --connections 1 \
    --concurrency "$concurrency" >>"$logs/populate.log" 2>&1
  log "$(tail -1 "$logs/populate.log")"
}

for (( r = 1; r <= rounds; r++ )); do
  if (( r % 2 )); then order=(saguard peer); else order=(peer saguard); fi
  for way in "${order[@]}"; do
    "$populate" reset --kubeconfig "$KUBECONFIG" >>"$logs/populate.log" 2>&1
    on_fresh_apiserver "$way" disable "$way"
  done
done
