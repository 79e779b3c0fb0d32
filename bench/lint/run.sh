#!/usr/bin/env bash
# `saguard lint` throughput: generates N Kubernetes manifests (a mix of ServiceAccounts,
# Deployments, Pods and CronJobs, several documents per file) into a temporary folder and
# times `saguard lint DIR -o json` on it; prints manifests per second.
#
# Usage: bench/lint/run.sh [-N DOCUMENTS] [--per-file K] [-n RUNS] [--warmup N] [--keep DIR]
#   -N          documents in all (default 10000)
#   --per-file  documents per file (default 100)
#   -n          counted runs (default 5) after --warmup runs (default 1)
#   --keep DIR  generate into DIR and keep it (default: a temporary folder, removed)
# Env: SAGUARD_BINARY  the saguard binary (default: build/controller/saguard)
#
# Each run is timed by GNU time (/usr/bin/time; wall clock from date +%s%N). Prints
# min/median/max of wall, CPU and peak RSS, and manifests/s and MB/s at the median wall time.
# The mix, per group of 4 documents: a ServiceAccount (every third one a namespace's `default`;
# every other one sets automountServiceAccountToken: false), then a Deployment, a Pod and a
# CronJob running as it (the pod field unset, true or false in turn). With the built-in
# baseline policy the `default` groups give SAG001/SAG002 findings or are compliant.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

docs=10000
per_file=100
runs=5
warmup=1
keep=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    -N) docs=$2; shift ;;
    --per-file) per_file=$2; shift ;;
    -n) runs=$2; shift ;;
    --warmup) warmup=$2; shift ;;
    --keep) keep=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
saguard=${SAGUARD_BINARY:-$root/build/controller/saguard}
[[ -x "$saguard" ]] || { echo "run.sh: $saguard not found: build saguard (make build) or set SAGUARD_BINARY" >&2; exit 2; }
for tool in python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing (make deps)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/saguard-bench-lint-XXXXXX)
trap 'rm -rf "$work"' EXIT
dir=${keep:-$work/manifests}
mkdir -p "$dir"

python3 - "$dir" "$docs" "$per_file" <<'PY'
import os, sys
out, docs, per_file = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def pod_spec(g, sa, pad):
    """A pod spec at indentation pad: the account, the pod field (unset, true, false), a container."""
    field = ["", "automountServiceAccountToken: true", "automountServiceAccountToken: false", ""][g % 4]
    lines = [f"serviceAccountName: {sa}"] + ([field] if field else []) + [
        "containers:",
        "- name: app",
        f"  image: registry.example/app-{g % 50}:1.{g % 7}",
        '  args: ["--port=8080", "--log-level=info"]',
        "  ports:",
        "  - containerPort: 8080",
        "  resources:",
        "    requests: {cpu: 100m, memory: 128Mi}",
        "    limits: {memory: 256Mi}",
    ]
    return "".join(" " * pad + l + "\n" for l in lines)

def doc(k):
    g, kind = divmod(k, 4)
    ns = f"team-{g // 3}"  # one `default` account per namespace, two more accounts
    sa = "default" if g % 3 == 0 else f"app-{g}"
    meta = lambda name: f"metadata:\n  name: {name}\n  namespace: {ns}\n  labels:\n    app: app-{g}\n    tier: backend\n"
    if kind == 0:
        auto = "automountServiceAccountToken: false\n" if g % 2 else ""
        return f"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {sa}\n  namespace: {ns}\n{auto}"
    if kind == 1:
        return (f"apiVersion: apps/v1\nkind: Deployment\n{meta(f'app-{g}')}spec:\n  replicas: 2\n"
                f"  selector:\n    matchLabels:\n      app: app-{g}\n"
                f"  template:\n    metadata:\n      labels:\n        app: app-{g}\n    spec:\n{pod_spec(g, sa, 6)}")
    if kind == 2:
        return f"apiVersion: v1\nkind: Pod\n{meta(f'pod-{g}')}spec:\n{pod_spec(g, sa, 2)}"
    return (f"apiVersion: batch/v1\nkind: CronJob\n{meta(f'job-{g}')}spec:\n  schedule: \"*/15 * * * *\"\n"
            f"  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n"
            f"{pod_spec(g, sa, 10)}")

written = 0
f = 0
while written < docs:
    n = min(per_file, docs - written)
    with open(os.path.join(out, f"manifests-{f:05d}.yaml"), "w") as fh:
        fh.write("---\n".join(doc(written + j) for j in range(n)))
    written += n
    f += 1
PY
files=$(find "$dir" -name '*.yaml' | wc -l)
bytes=$(cat "$dir"/*.yaml | wc -c)

one_run() {  # counted(0/1)
  local t0 t1 u s m x
  t0=$(date +%s%N)
  /usr/bin/time -f '%U %S %M %x' -o "$work/t" "$saguard" lint "$dir" -o json >"$work/out.json" 2>"$work/err" || true
  t1=$(date +%s%N)
  read -r u s m x < <(tail -1 "$work/t")
  [[ "$x" == 0 || "$x" == 1 ]] || { echo "run.sh: saguard lint exited $x: $(head -5 "$work/err")" >&2; exit 1; }
  (( $1 )) && echo "$(( t1 - t0 )) $u $s $m" >> "$work/runs.tsv"
  return 0
}
for ((i = 0; i < warmup; i++)); do one_run 0; done
: > "$work/runs.tsv"
for ((i = 0; i < runs; i++)); do one_run 1; done

findings=$(python3 -c 'import json, sys, collections
d = json.load(open(sys.argv[1]))
c = collections.Counter(f.get("ruleId", "?") for f in d.get("findings", []))
print(sum(c.values()), "(" + ", ".join(f"{k} {v}" for k, v in sorted(c.items())) + ")")' "$work/out.json" 2>/dev/null || echo "?")
echo "input: $docs documents in $files files, $bytes bytes ($dir); findings: $findings"
echo "runs: $warmup warm-up + $runs counted: saguard lint DIR -o json"
awk -v docs="$docs" -v bytes="$bytes" '
  function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
  function med(a, n) { return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  function row(label, a, n, fmt) { sort(a, n); printf "%-24s " fmt "  " fmt "  " fmt "\n", label, a[1], med(a, n), a[n] }
  { n++; w[n] = $1 / 1e9; c[n] = $2 + $3; m[n] = $4 / 1024; r[n] = docs / w[n] }
  END {
    printf "%-24s %10s  %10s  %10s\n", "figure", "min", "median", "max"
    row("wall (s)", w, n, "%10.3f")
    row("CPU user+sys (s)", c, n, "%10.3f")
    row("peak RSS (MiB)", m, n, "%10.1f")
    row("manifests/s", r, n, "%10.0f")
    printf "throughput at the median wall: %.0f manifests/s, %.1f MB/s\n", docs / med(w, n), bytes / med(w, n) / 1e6
    printf "per CPU second (user+sys, median): %.0f manifests/s (wall well above CPU: a busy machine)\n", docs / med(c, n)
  }' "$work/runs.tsv"
