#!/usr/bin/env bash
# saguard's audit ingest path (bench/audit_ingest, C++) against the Go encoding/json
# reference (bench/audit_ingest/reference), on the same generated file of audit events.
#
# Usage: bench/audit_ingest/run.sh [--events N] [--runs K] [--no-memory]
#
#   1. builds the reference with the machine's `go` into ~/.cache/saguard/bench (its one
#      dependency, k8s.io/apiserver, pinned in reference/go.mod and go.sum, comes from Go's
#      module cache or proxy; go's own build cache makes a rebuild instant);
#   2. audit_ingest_bench --write FILE: N generated events (default 200,000) as JSON lines;
#   3. audit_ingest_bench --read FILE and the reference twice (GOMAXPROCS=1: one core, its
#      garbage collector included) on that file, best of K runs each (default 5): decoding
#      into structs of the fields used (--types trimmed, the strictest reference), and into
#      k8s.io/apiserver's auditv1.Event, whole (--types apiserver, what a Go program that
#      imports the API's types decodes into);
#   4. checks that all three did the same work (events, uses, accounts, the sums of lastUsed
#      and lastRefused, the entries of the bounded lists) and prints saguard/reference ratios
#      of events/s (wall and CPU) for decoding alone and for the whole path, both shapes,
#      against each reference.
#
# Environment:
#   BENCH_BUILD_DIR  where audit_ingest_bench was built (default: build; a Release build,
#                    e.g. cmake -DCMAKE_BUILD_TYPE=Release, gives the figures to quote)
#   GO               the go command (default: go on PATH)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

events=200000
runs=5
memory=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) events=$2; shift ;;
    --runs) runs=$2; shift ;;
    --no-memory) memory=(--no-memory) ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

build=${BENCH_BUILD_DIR:-$root/build}
bench=$build/bench/audit_ingest/audit_ingest_bench
[[ -x "$bench" ]] || { echo "run.sh: $bench not found: build the audit_ingest_bench target (or set BENCH_BUILD_DIR)" >&2; exit 2; }
go=${GO:-$(command -v go || true)}
[[ -n "$go" && -x "$go" ]] || { echo "run.sh: go not found: install Go or set GO" >&2; exit 2; }
command -v jq >/dev/null || { echo "run.sh: jq is missing (make deps)" >&2; exit 2; }

cache=${XDG_CACHE_HOME:-$HOME/.cache}/saguard/bench
mkdir -p "$cache"
reference=$cache/audit_ingest_reference
echo "building the reference with $("$go" version) into $reference"
(cd "$root/bench/audit_ingest/reference" &&
  GOTOOLCHAIN=local GOFLAGS=-mod=readonly "$go" build -trimpath -o "$reference" .)

work=$(mktemp -d /tmp/saguard-bench-audit-ingest-XXXXXX)
trap 'rm -rf "$work"' EXIT
file=$work/events.jsonl
"$bench" --write "$file" --events "$events"

echo
echo "== saguard (C++): $bench"
"$bench" --read "$file" --runs "$runs" "${memory[@]}" | tee "$work/saguard.out"
echo
for types in trimmed apiserver; do
  echo "== reference (Go encoding/json, --types $types, GOMAXPROCS=1)"
  GOMAXPROCS=1 "$reference" --runs "$runs" --types "$types" "$file" | tee "$work/reference-$types.out"
  echo
done

sed -n 's/^json: //p' "$work/saguard.out" >"$work/saguard.json"
for types in trimmed apiserver; do
  sed -n 's/^json: //p' "$work/reference-$types.out" >"$work/reference-$types.json"
  for field in events uses accounts last_used_sum last_refused_sum pod_entries access_entries; do
    a=$(jq -r ".$field" "$work/saguard.json")
    b=$(jq -r ".$field" "$work/reference-$types.json")
    if [[ "$a" != "$b" ]]; then
      echo "run.sh: saguard and the reference (--types $types) disagree on $field: $a vs $b" >&2
      exit 1
    fi
  done
done
echo "same work on all sides: $(jq -r '"\(.events) events, \(.uses) uses, \(.accounts) accounts, \(.pod_entries) pod and \(.access_entries) access entries"' "$work/saguard.json")"
for types in trimmed apiserver; do
  echo
  echo "against the reference --types $types:"
  printf '%-8s %-8s %14s %14s %8s %14s %14s %8s\n' shape depth "saguard ev/s" "go ev/s" ratio "saguard cpu" "go cpu" ratio
  for shape in batch lines; do
    for depth in decode record; do
      jq -r -n --slurpfile s "$work/saguard.json" --slurpfile g "$work/reference-$types.json" \
        --arg shape "$shape" --arg depth "$depth" '
        ($s[0][$shape][$depth]) as $a | ($g[0][$shape][$depth]) as $b |
        [$shape, $depth, $a.events_per_s, $b.events_per_s, ($a.events_per_s / $b.events_per_s),
         $a.cpu_events_per_s, $b.cpu_events_per_s, ($a.cpu_events_per_s / $b.cpu_events_per_s)]
        | @tsv' | awk -F'\t' '{ printf "%-8s %-8s %14.0f %14.0f %7.1fx %14.0f %14.0f %7.1fx\n", $1, $2, $3, $4, $5, $6, $7, $8 }'
    done
  done
done
echo "(record = decode + tokenUseOf + the ledger; the reference: Unmarshal + the same filter + a map of the same bounded records)"
