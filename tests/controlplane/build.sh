#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager and kubectl from Go modules
# (through the Go module proxy; nothing prebuilt is downloaded) into a cache folder
# outside the source tree, keyed by the pinned versions and the wrapper modules'
# content, so only the first run pays for the build.
#
# Usage: build.sh            prints the folder that holds the four binaries
# Env:   SAGUARD_CACHE_DIR   cache root (default: ${XDG_CACHE_HOME:-~/.cache}/saguard)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.sh"

key=$(cat "$here"/versions.sh "$here"/k8s/go.mod "$here"/k8s/go.sum "$here"/k8s/tools.go \
          "$here"/etcd/go.mod "$here"/etcd/go.sum "$here"/etcd/main.go | sha256sum | cut -c1-12)
cache_root=${SAGUARD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/saguard}
bin_dir="$cache_root/controlplane/k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION-$key"

if [[ -x "$bin_dir/kube-apiserver" && -x "$bin_dir/kube-controller-manager" && -x "$bin_dir/kubectl" && -x "$bin_dir/etcd" ]]; then
  echo "$bin_dir"
  exit 0
fi

command -v go >/dev/null || { echo "build.sh: Go is needed to build the control plane (apt-get install golang, or a newer Go)" >&2; exit 1; }
mkdir -p "$bin_dir.partial"
log="$cache_root/controlplane/build.log"
echo "build.sh: building the control plane ($KUBERNETES_VERSION, etcd $ETCD_VERSION) into $bin_dir; first run only, several minutes (log: $log)" >&2

minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
build() {  # module-dir output package [ldflags]
  local dir=$1 out=$2 pkg=$3 flags=${4:-"-s -w"}
  echo "build.sh: go build $pkg" >&2
  if ! (cd "$here/$dir" && go build -mod=readonly -trimpath -ldflags "$flags" -o "$bin_dir.partial/$out" "$pkg") >>"$log" 2>&1; then
    echo "build.sh: building $out failed; see $log" >&2
    tail -20 "$log" >&2
    exit 1
  fi
}
: > "$log"
build etcd etcd saguard.io/controlplane/etcd
build k8s kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$ldflags"
build k8s kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$ldflags"
build k8s kubectl k8s.io/kubernetes/cmd/kubectl "$ldflags"
rm -rf "$bin_dir" && mv "$bin_dir.partial" "$bin_dir"
echo "$bin_dir"
