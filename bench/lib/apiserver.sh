# The API server's side of a benchmark (issue 19), sourced by bench/run.sh and
# bench/list/server_memory.sh. The caller sets root (the checkout), cp_dir (a control plane
# that tests/controlplane/up.sh started), work and logs (folders), and defines log MESSAGE.

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
