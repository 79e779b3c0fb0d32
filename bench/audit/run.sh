#!/usr/bin/env bash
# `saguard audit -A -o json` against the kubectl + jq one-liner that
# tests/integration/audit_command_test.cpp compares it with (issue #7), on a control plane that
# is already populated (bench/populate, or any cluster):
#
#   kubectl get pods --all-namespaces -o json \
#     | jq -r '.items[] | select(.spec.automountServiceAccountToken != false) | .metadata.name'
#
# Usage: bench/audit/run.sh [-n RUNS] [--warmup N] [TARGET]
#   TARGET  a control-plane folder (tests/controlplane/up.sh DIR: DIR/env is sourced), an env
#           file like it, or a kubeconfig. Default: $KUBECONFIG.
#   -n      counted runs of each command (default 5), after --warmup runs of each (default 1),
#           taken in turn (saguard, one-liner, saguard, ...) so that drift hits both alike.
# Env: SAGUARD_BINARY  the saguard binary (default: build/controller/saguard)
#      KUBECTL         kubectl (default: the env file's, else kubectl on PATH)
#
# Each run is timed by GNU time (/usr/bin/time; wall clock from date +%s%N): wall, user+sys
# CPU, and peak RSS (for the one-liner: of kubectl and of jq, each process on its own). Prints
# min/median/max of each figure and the ratio saguard/one-liner (median of the pair-by-pair
# ratios), plus the pod counts: both outputs go to files that are counted, then dropped.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

runs=5
warmup=1
target=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    -n) runs=$2; shift ;;
    --warmup) warmup=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown flag $1" >&2; exit 2 ;;
    *) target=$1 ;;
  esac
  shift
done

if [[ -n "$target" ]]; then
  if [[ -d "$target" ]]; then
    # shellcheck disable=SC1091
    source "$target/env"
  elif grep -q '^\(export \)\{0,1\}KUBECONFIG=' "$target" 2>/dev/null; then
    # shellcheck disable=SC1090
    source "$target"
  else
    KUBECONFIG=$target
  fi
fi
[[ -n "${KUBECONFIG:-}" && -f "$KUBECONFIG" ]] || { echo "run.sh: no kubeconfig (give TARGET or set KUBECONFIG)" >&2; exit 2; }
export KUBECONFIG
kubectl=${KUBECTL:-$(command -v kubectl || true)}
saguard=${SAGUARD_BINARY:-$root/build/controller/saguard}
[[ -x "$saguard" ]] || { echo "run.sh: $saguard not found: build saguard (make build) or set SAGUARD_BINARY" >&2; exit 2; }
[[ -n "$kubectl" && -x "$kubectl" ]] || { echo "run.sh: kubectl not found: set KUBECTL" >&2; exit 2; }
for tool in jq /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing (make deps)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/saguard-bench-audit-XXXXXX)
trap 'rm -rf "$work"' EXIT
filter='.items[] | select(.spec.automountServiceAccountToken != false) | .metadata.name'
export saguard kubectl filter work

# One run of each; appends "wall_s cpu_s rss_kb [rss2_kb]" to $work/NAME.tsv when counted.
run_saguard() {  # counted(0/1)
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -f '%U %S %M %x' -o "$work/t.saguard" "$saguard" audit -A -o json >"$work/out.saguard"
  t1=$(date +%s%N)
  read -r u s m x < "$work/t.saguard"
  [[ "$x" == 0 ]] || { echo "run.sh: saguard audit exited $x" >&2; exit 1; }
  (( $1 )) && echo "$(( t1 - t0 )) $u $s $m" >> "$work/saguard.tsv"
  return 0
}
run_oneliner() {  # counted(0/1)
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -f '%U %S %M %x' -o "$work/t.pipe" bash -c 'set -o pipefail
    /usr/bin/time -f %M -o "$work/t.kubectl" "$kubectl" get pods --all-namespaces -o json \
      | /usr/bin/time -f %M -o "$work/t.jq" jq -r "$filter" >"$work/out.jq"'
  t1=$(date +%s%N)
  read -r u s m x < "$work/t.pipe"
  [[ "$x" == 0 ]] || { echo "run.sh: the kubectl + jq one-liner exited $x" >&2; exit 1; }
  (( $1 )) && echo "$(( t1 - t0 )) $u $s $(tail -1 "$work/t.kubectl") $(tail -1 "$work/t.jq")" >> "$work/oneliner.tsv"
  return 0
}

pods_total=$("$kubectl" get pods --all-namespaces --no-headers 2>/dev/null | wc -l)
echo "cluster: $pods_total pods ($("$kubectl" get namespaces --no-headers | wc -l) namespaces); runs: $warmup warm-up + $runs counted of each, in turn"
for ((i = 0; i < warmup; i++)); do run_saguard 0; run_oneliner 0; done
: > "$work/saguard.tsv"; : > "$work/oneliner.tsv"
for ((i = 0; i < runs; i++)); do run_saguard 1; run_oneliner 1; done

saguard_pods=$(jq '.pods | length' "$work/out.saguard")
jq_pods=$(grep -c . "$work/out.jq" || true)
echo "saguard audit: $saguard_pods pods hold a token ($(wc -c < "$work/out.saguard") bytes of JSON)"
echo "one-liner:     $jq_pods pods listed (the pod field alone; see tests/integration/audit_command_test.cpp)"
echo

# Statistics: min/median/max per figure, and the pair-by-pair ratio saguard/one-liner.
awk -v runs="$runs" '
  function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
  function med(a, n) { return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  function row(label, a, n, fmt,   i, b) {
    for (i = 1; i <= n; i++) b[i] = a[i]
    sort(b, n)
    printf "%-34s " fmt "  " fmt "  " fmt "\n", label, b[1], med(b, n), b[n]
  }
  FNR == 1 { f++ }
  f == 1 { n1++; sw[n1] = $1 / 1e9; sc[n1] = $2 + $3; sm[n1] = $4 / 1024 }
  f == 2 { n2++; ow[n2] = $1 / 1e9; oc[n2] = $2 + $3; ok[n2] = $4 / 1024; oj[n2] = $5 / 1024; os[n2] = ($4 + $5) / 1024 }
  END {
    printf "%-34s %9s  %9s  %9s\n", "figure", "min", "median", "max"
    row("saguard wall (s)", sw, n1, "%9.3f")
    row("one-liner wall (s)", ow, n2, "%9.3f")
    row("saguard CPU user+sys (s)", sc, n1, "%9.3f")
    row("one-liner CPU user+sys (s)", oc, n2, "%9.3f")
    row("saguard peak RSS (MiB)", sm, n1, "%9.1f")
    row("kubectl peak RSS (MiB)", ok, n2, "%9.1f")
    row("jq peak RSS (MiB)", oj, n2, "%9.1f")
    row("kubectl+jq peak RSS sum (MiB)", os, n2, "%9.1f")
    n = n1 < n2 ? n1 : n2
    for (i = 1; i <= n; i++) { rw[i] = sw[i] / ow[i]; rc[i] = oc[i] > 0 ? sc[i] / oc[i] : 0; rm[i] = sm[i] / os[i] }
    print ""
    print "ratio saguard / one-liner (pair by pair):"
    row("wall", rw, n, "%9.3f")
    row("CPU user+sys", rc, n, "%9.3f")
    row("peak RSS (vs kubectl+jq sum)", rm, n, "%9.3f")
  }' "$work/saguard.tsv" "$work/oneliner.tsv"
