#!/usr/bin/env bash
# Builds the controller-runtime comparison peer into OUT.
# Usage: bench/peer/build.sh OUT
# Needs Go and either a warm module cache or the Go module proxy; go.sum pins every module.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUT}
command -v go >/dev/null || { echo "build.sh: Go is needed to build the peer" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
cd "$here"
GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod" go build -trimpath -ldflags "-s -w" -o "$out" .
echo "$out"
