# The API server's side of a benchmark (issue 19), sourced by bench/run.sh,
# bench/list/server_memory.sh and bench/writes/server_memory.sh. The caller sets root (the
# checkout), cp_dir (a control plane that tests/controlplane/up.sh started), work and logs
# (folders), and defines log MESSAGE; or has populated_controlplane (at the end) do all that.

# apiserver_cpu FILE KEY appends KEY=its utime+stime in seconds; apiserver_rss_sampler FILE
# samples its VmRSS every 100 ms into FILE (the largest so far) until killed.
apiserver_pid() { cat "$cp_dir/apiserver.pid"; }
apiserver_cpu() {
  echo "$2=$(awk -v tck="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); print ($12 + $13) / tck}' "/proc/$(apiserver_pid)/stat")" >> "$1"
}
apiserver_rss_sampler() {
  local status="/proc/$(apiserver_pid)/status" peak=0 rss
  while rss=$(awk '/^VmRSS/ {print $2}' "$status" 2>/dev/null); do
    (( rss > peak )) && { peak=$rss; echo "$peak" > "$1"; }
    sleep 0.1
  done
}

# apiserver_allocated_bytes: the bytes its Go heap has allocated since it started
# (go_memstats_alloc_bytes_total in its /metrics; needs the control plane's env). Unlike its RSS,
# which the Go garbage collector's timing moves by hundreds of MiB between identical runs, the
# difference of two readings is what the requests between them cost its memory, give or take
# the scrape itself (a few MiB).
apiserver_allocated_bytes() {
  curl -sf --cacert "$CONTROLPLANE_CA" --cert "$CONTROLPLANE_ADMIN_CERT" --key "$CONTROLPLANE_ADMIN_KEY" \
    "$APISERVER_URL/metrics" | awk '$1 == "go_memstats_alloc_bytes_total" { printf "%.0f\n", $2 }'
}

# A fresh kube-apiserver (bench/run.sh's header says why), then until it has used under 0.05 CPU seconds
# in a second, three seconds in a row (its caches are filled and its start-up GC is done),
# at most 120 s.
restart_apiserver() {
  bash "$root/tests/controlplane/apiserver.sh" stop "$cp_dir" >>"$logs/apiserver-restarts.log" 2>&1
  bash "$root/tests/controlplane/apiserver.sh" start "$cp_dir" >>"$logs/apiserver-restarts.log" 2>&1
  local f=$work/apiserver-settle quiet=0 previous now
  : > "$f"
  apiserver_cpu "$f" t
  previous=$(tail -1 "$f" | cut -d= -f2)
  for _ in $(seq 1 120); do
    sleep 1
    apiserver_cpu "$f" t
    now=$(tail -1 "$f" | cut -d= -f2)
    if awk -v a="$previous" -v b="$now" 'BEGIN { exit !(b - a < 0.05) }'; then quiet=$((quiet + 1)); else quiet=0; fi
    previous=$now
    (( quiet >= 3 )) && break
  done
  if (( quiet >= 3 )); then log "kube-apiserver restarted and quiet"; else log "kube-apiserver restarted, not quiet after 120 s"; fi
}

# on_fresh_apiserver LABEL COMMAND...: restarts the API server and waits until it is quiet,
# runs COMMAND, and prints one line: what COMMAND cost the server (its CPU seconds, its VmRSS
# before and the peak above that, sampled every 100 ms until a second after COMMAND, and the
# bytes its heap allocated). The caller also sets cp_dir's env (source "$cp_dir/env").
on_fresh_apiserver() {
  local label=$1 facts=$work/fresh-facts rss_file=$work/fresh-rss sampler before peak a0 a1
  shift
  restart_apiserver
  : > "$facts"
  before=$(awk '/^VmRSS/ {print $2}' "/proc/$(apiserver_pid)/status")
  echo 0 > "$rss_file"
  a0=$(apiserver_allocated_bytes)
  apiserver_rss_sampler "$rss_file" &
  sampler=$!
  apiserver_cpu "$facts" start
  "$@"
  apiserver_cpu "$facts" end
  sleep 1  # one more sample after the answer
  kill "$sampler"; wait "$sampler" 2>/dev/null || true
  a1=$(apiserver_allocated_bytes)
  peak=$(cat "$rss_file")
  awk -F= -v label="$label" -v before="$before" -v peak="$peak" -v a0="$a0" -v a1="$a1" \
    '{v[$1] = $2} END { printf "%-8s server CPU %.2f s, VmRSS %d MiB before, peak +%d MiB, allocated %d MiB\n",
                        label, v["end"] - v["start"], before / 1024, (peak - before) / 1024, (a1 - a0) / 1048576 }' "$facts"
}

# populated_controlplane TAG PODS: a new work folder (work, logs, cp_dir), a fresh local
# control plane in it that is taken down on exit, and PODS pods of saguard-bench-populate
# ($populate) in it; defines log. For the scripts that measure one kind of request.
populated_controlplane() {
  local pods=$2
  log_tag=$1
  work=$(mktemp -d "/tmp/saguard-$log_tag-XXXXXX")
  logs=$work/logs cp_dir=$work/cp
  mkdir -p "$logs"
  log() { echo "[$log_tag $(date -u +%H:%M:%S)] $*" >&2; }
  trap 'bash "$root/tests/controlplane/down.sh" "$cp_dir" >/dev/null 2>&1 || true' EXIT
  bash "$root/tests/controlplane/up.sh" "$cp_dir" 2>"$logs/controlplane-up.log"
  # shellcheck disable=SC1091
  source "$cp_dir/env"
  log "populating $pods pods (logs: $logs)"
  "$populate" create --kubeconfig "$KUBECONFIG" --pods "$pods" >"$logs/populate.log" 2>&1
}
