#!/usr/bin/env bash
# Builds helm and promtool from Go modules (through the Go module proxy; nothing prebuilt is
# downloaded) into a cache folder outside the source tree, keyed by the pinned versions, so
# only the first run pays for the build. Beside tests/controlplane/build.sh's cache.
#
# Usage: build.sh [helm|promtool]...   builds the named tools (default: both) and prints the
#                                      folder that holds them
# Env:   SAGUARD_CACHE_DIR   cache root (default: ${XDG_CACHE_HOME:-~/.cache}/saguard)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.sh"

key=$(cat "$here/versions.sh" "$here/build.sh" | sha256sum | cut -c1-12)
cache_root=${SAGUARD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/saguard}
bin_dir="$cache_root/tools/helm-$HELM_VERSION-prometheus-$PROMETHEUS_VERSION-$key"
log="$cache_root/tools/build.log"
tools=("$@"); [[ ${#tools[@]} -gt 0 ]] || tools=(helm promtool)

install() {  # name module-package version [go build flags...]
  local name=$1 pkg=$2 version=$3; shift 3
  [[ -x "$bin_dir/$name" ]] && return 0
  command -v go >/dev/null || { echo "tools/build.sh: Go is needed to build $name (apt-get install golang, or a newer Go)" >&2; exit 1; }
  mkdir -p "$bin_dir.partial-$name"
  echo "tools/build.sh: go install $pkg@$version into $bin_dir; first run only, a few minutes (log: $log)" >&2
  # Outside a module, `go install pkg@version` builds with that module's own go.mod and
  # go.sum, which pin every dependency (it refuses a go.mod with replace directives).
  if ! (cd / && GOBIN="$bin_dir.partial-$name" GOFLAGS=-buildvcs=false nice go install -trimpath \
          "$@" "$pkg@$version") >>"$log" 2>&1; then
    echo "tools/build.sh: building $name failed; see $log" >&2
    tail -20 "$log" >&2
    exit 1
  fi
  mkdir -p "$bin_dir"
  mv "$bin_dir.partial-$name/$name" "$bin_dir/$name" && rmdir "$bin_dir.partial-$name"
}

mkdir -p "$cache_root/tools"
# One build at a time (ctest -j runs several chart tests, each asking for its tools).
exec 9>"$cache_root/tools/.lock"
flock 9
for t in "${tools[@]}"; do
  case $t in
    # helm's version is a linker variable that `go install` leaves at its minor ("v4.3").
    helm) install helm "$HELM_MODULE/cmd/helm" "$HELM_VERSION" \
            -ldflags "-s -w -X $HELM_MODULE/internal/version.version=$HELM_VERSION" ;;
    # remove_all_sd: promtool without Prometheus's service-discovery plugins (the cloud SDKs),
    # which checking and testing rules never use (tests/tools/README.md: build times).
    promtool) install promtool "$PROMETHEUS_MODULE/cmd/promtool" "$PROMETHEUS_VERSION" \
                -ldflags "-s -w" -tags remove_all_sd ;;
    *) echo "tools/build.sh: unknown tool $t (helm, promtool)" >&2; exit 2 ;;
  esac
done
echo "$bin_dir"
