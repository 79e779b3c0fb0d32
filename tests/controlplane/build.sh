#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and kwok
# from Go modules (through the Go module proxy; nothing prebuilt is downloaded) into a
# cache folder outside the source tree, keyed by the pinned versions and the wrapper
# modules' content, so only the first run pays for the build. A folder missing only some
# binaries (one made before a binary joined the list) gets just those.
#
# Usage: build.sh            prints the folder that holds the six binaries
# Env:   SAGUARD_CACHE_DIR   cache root (default: ${XDG_CACHE_HOME:-~/.cache}/saguard)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.sh"

key=$(cat "$here"/versions.sh "$here"/k8s/go.mod "$here"/k8s/go.sum "$here"/k8s/tools.go \
          "$here"/etcd/go.mod "$here"/etcd/go.sum "$here"/etcd/main.go | sha256sum | cut -c1-12)
cache_root=${SAGUARD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/saguard}
bin_dir="$cache_root/controlplane/k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION-$key"

binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwok-stages.yaml)
missing=()
for b in "${binaries[@]}"; do [[ -s "$bin_dir/$b" ]] || missing+=("$b"); done
if (( ${#missing[@]} == 0 )); then
  echo "$bin_dir"
  exit 0
fi

command -v go >/dev/null || { echo "build.sh: Go is needed to build the control plane (apt-get install golang, or a newer Go)" >&2; exit 1; }
rm -rf "$bin_dir.partial"
if [[ -d "$bin_dir" ]]; then cp -a "$bin_dir" "$bin_dir.partial"; else mkdir -p "$bin_dir.partial"; fi
log="$cache_root/controlplane/build.log"
echo "build.sh: building ${missing[*]} ($KUBERNETES_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION) into $bin_dir; first run only, several minutes (log: $log)" >&2

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
for b in "${missing[@]}"; do
  case $b in
    etcd) build etcd etcd saguard.io/controlplane/etcd ;;
    kubectl) build k8s kubectl k8s.io/kubernetes/cmd/kubectl "$ldflags" ;;
    kwok)  # its go.mod has no replace lines, so go install builds it at the pinned version
      echo "build.sh: go install sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" >&2
      if ! GOBIN="$bin_dir.partial" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" >>"$log" 2>&1; then
        echo "build.sh: building kwok failed; see $log" >&2
        tail -20 "$log" >&2
        exit 1
      fi ;;
    kwok-stages.yaml)  # kwok's own "fast" stages from the same module: nodes Ready at once, pods Running, Job pods done
      kwok_src=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
      for f in node/fast/node-initialize pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
        cat "$kwok_src/kustomize/stage/$f.yaml" && echo "---"
      done > "$bin_dir.partial/kwok-stages.yaml" ;;
    *) build k8s "$b" "k8s.io/kubernetes/cmd/$b" "$ldflags" ;;
  esac
done
rm -rf "$bin_dir" && mv "$bin_dir.partial" "$bin_dir"
echo "$bin_dir"
