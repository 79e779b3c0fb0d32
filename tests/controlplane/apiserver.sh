#!/usr/bin/env bash
# Stops and starts again only the kube-apiserver of a control plane that up.sh DIR
# started: etcd and kube-controller-manager keep running, so the data survives and the
# restarted server answers on the same port with the same flags. Fault tests use it to
# take the API away from a running client.
#
# Usage: apiserver.sh stop [--kill] DIR   SIGTERM (or with --kill, SIGKILL at once),
#                                          waits for the process to exit (SIGKILL after
#                                          10 s: its graceful shutdown can drain watches
#                                          for 30 s and more); remembers its command line
#                                          in DIR/apiserver.cmdline
#        apiserver.sh start DIR             starts it again from DIR/apiserver.cmdline,
#                                          appends to DIR/apiserver.log, writes
#                                          DIR/apiserver.pid; returns once /readyz is ok
# down.sh DIR stops a restarted kube-apiserver like the first one.
set -euo pipefail
usage() { echo "usage: $0 stop [--kill] DIR | start DIR" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
action=$1; shift
signal=TERM
if [[ "$action" == "stop" && "${1:-}" == "--kill" ]]; then signal=KILL; shift; fi
[[ $# -eq 1 && -d "$1" ]] || usage
dir=$(cd "$1" && pwd)
pidfile="$dir/apiserver.pid"
cmdfile="$dir/apiserver.cmdline"

case "$action" in
  stop)
    [[ -f "$pidfile" ]] || { echo "apiserver.sh: $dir has no running kube-apiserver ($pidfile missing)" >&2; exit 1; }
    pid=$(cat "$pidfile")
    # Only the process up.sh (or start) recorded: its command line names this DIR.
    if ! tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | grep -q -- "kube-apiserver.*$dir"; then
      echo "apiserver.sh: PID $pid is not the kube-apiserver of $dir" >&2
      exit 1
    fi
    # argv exactly as started (NUL-separated), so that start repeats every flag and the port.
    cp /proc/"$pid"/cmdline "$cmdfile"
    kill -"$signal" "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; fi
    rm -f "$pidfile"
    echo "apiserver.sh: stopped kube-apiserver $pid (SIG$signal)" >&2
    ;;
  start)
    [[ ! -f "$pidfile" ]] || { echo "apiserver.sh: $dir already has a kube-apiserver ($pidfile)" >&2; exit 1; }
    [[ -s "$cmdfile" ]] || { echo "apiserver.sh: no $cmdfile: run apiserver.sh stop $dir first" >&2; exit 1; }
    mapfile -d '' argv <"$cmdfile"
    echo "--- apiserver.sh start $(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$dir/apiserver.log"
    "${argv[@]}" >>"$dir/apiserver.log" 2>&1 &
    pid=$!
    echo "$pid" >"$pidfile"
    api_url=$(sed -n 's/^export APISERVER_URL=//p' "$dir/env")
    pki="$dir/pki"
    deadline=$((SECONDS + 90))
    until [[ "$(curl -sf --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" "$api_url/readyz" 2>/dev/null)" == "ok" ]]; do
      if ! kill -0 "$pid" 2>/dev/null; then
        echo "apiserver.sh: kube-apiserver exited; last lines of $dir/apiserver.log:" >&2
        tail -15 "$dir/apiserver.log" >&2
        rm -f "$pidfile"
        exit 1
      fi
      (( SECONDS < deadline )) || { echo "apiserver.sh: kube-apiserver not ready after 90s" >&2; exit 1; }
      sleep 0.1
    done
    echo "apiserver.sh: kube-apiserver $pid ready at $api_url" >&2
    ;;
  *) usage ;;
esac
