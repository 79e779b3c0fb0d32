#!/usr/bin/env bash
# Stops exactly the processes that up.sh DIR started (from their PID files) and
# removes DIR. With --keep, leaves DIR (and its logs) in place.
#
# Usage: down.sh [--keep] DIR
set -uo pipefail
keep=0
if [[ "${1:-}" == "--keep" ]]; then keep=1; shift; fi
[[ $# -eq 1 ]] || { echo "usage: $0 [--keep] DIR" >&2; exit 2; }
[[ -d "$1" ]] || exit 0
dir=$(cd "$1" && pwd)

# Reverse start order: kwok, the scheduler and the controller manager first, etcd last.
for component in kwok scheduler controller-manager apiserver etcd; do
  pidfile="$dir/$component.pid"
  [[ -f "$pidfile" ]] || continue
  pid=$(cat "$pidfile")
  # Only signal the process if it is still the one we started: a PID can be reused
  # after the process is gone, so check that its command line names this DIR's files.
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | grep -qF -e "$dir" -e "$(cat "$dir/etcd-data.path" 2>/dev/null || echo "$dir")"; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$pidfile"
done
if [[ -f "$dir/etcd-data.path" ]]; then
  rm -rf "$(cat "$dir/etcd-data.path")"
  rm -f "$dir/etcd-data.path"
fi
(( keep )) || rm -rf "$dir"
exit 0
