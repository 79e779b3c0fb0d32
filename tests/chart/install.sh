#!/usr/bin/env bash
# The chart on a real local control plane of its own (tests/controlplane/up.sh):
#  1. helm install, with the audit webhook receiver on (its TLS and client-CA Secrets made from
#     the control plane's audit certificates) and the monitoring objects on (prometheus-operator's
#     CRDs installed first, so the API server validates them): the CRD is established, RBAC, the
#     ServiceAccount, the Deployment and both Services exist, and the ServiceMonitor,
#     PrometheusRule and dashboard ConfigMap are stored as rendered (nothing pruned);
#  2. saguard runs in-cluster style (the demo's way: a TokenRequest token of the chart's
#     ServiceAccount, KUBERNETES_SERVICE_HOST/PORT, SAGUARD_SERVICEACCOUNT_DIR) with the
#     arguments of the chart's Deployment and its Secret volumes laid out as the kubelet would
#     mount them: it becomes leader, enforces a policy (patches a ServiceAccount, writes status),
#     is never refused (no 403), and receives the API server's audit batches over the chart's TLS
#     settings; its /metrics exposes every metric the alerts and the dashboard name;
#  3. helm upgrade with logLevel=debug changes that one argument and nothing else (the
#     rendered manifest and every object's resourceVersion but the Deployment's);
#     an upgrade with a typo in the values is rejected and makes no revision;
#  4. helm uninstall with crds.keep=true (default) keeps the CRD and its policies;
#     installed again with crds.keep=false, uninstall removes the CRD.
# Usage: install.sh SAGUARD_BINARY     Exit 77 (skipped) when a tool cannot be built.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
[[ $# -eq 1 && -x $1 ]] || { echo "usage: $0 SAGUARD_BINARY" >&2; exit 2; }
saguard=$1
tools helm kubectl monitoring-crds
work=$(mktemp -d /tmp/saguard-chart-test.XXXXXX)
saguard_pid=""
cleanup() {
  [[ -n "$saguard_pid" ]] && kill "$saguard_pid" 2>/dev/null && wait "$saguard_pid" 2>/dev/null || true
  bash "$root/tests/controlplane/down.sh" "$work/cp" >/dev/null 2>&1 || true
  if [[ ${KEEP_LOGS:-0} == 1 ]]; then echo "logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap "exit 1" TERM INT   # so that a ctest timeout still stops the control plane
step() { echo "== $* ($((SECONDS))s)"; }

step "control plane in $work/cp"
SAGUARD_CP_MUTATING_ADMISSION=1 SAGUARD_CP_AUDIT=1 bash "$root/tests/controlplane/up.sh" "$work/cp" 2>&1 | tail -1
source "$work/cp/env"
k() { "$KUBECTL" "$@"; }
h() { "$HELM" --kubeconfig "$KUBECONFIG" "$@"; }
ns=saguard-system
crd=customresourcedefinition/serviceaccountpolicies.saguard.io

step "helm install (audit webhook and monitoring objects on)"
for c in servicemonitors prometheusrules; do
  k apply --server-side -f "$MONITORING_CRDS/monitoring.coreos.com_$c.yaml" >/dev/null
  k wait --for=condition=Established --timeout=30s customresourcedefinition/$c.monitoring.coreos.com >/dev/null
done
k create namespace $ns >/dev/null
k create secret tls saguard-audit-tls -n $ns --cert="$AUDIT_WEBHOOK_CERT" --key="$AUDIT_WEBHOOK_KEY" >/dev/null
k create secret generic saguard-audit-client-ca -n $ns --from-file=ca.crt="$AUDIT_WEBHOOK_CLIENT_CA" >/dev/null
h install saguard "$chart" -n $ns --set auditWebhook.enabled=true --set auditWebhook.tlsSecretName=saguard-audit-tls \
  --set auditWebhook.clientCASecretName=saguard-audit-client-ca --set metrics.serviceMonitor.enabled=true \
  --set prometheusRule.enabled=true --set grafanaDashboard.enabled=true >/dev/null
k wait --for=condition=Established --timeout=30s $crd >/dev/null
for o in clusterrole/saguard-manager clusterrolebinding/saguard-manager clusterrole/saguard-serviceaccountpolicy-editor \
         clusterrole/saguard-serviceaccountpolicy-viewer "-n $ns serviceaccount/saguard" "-n $ns role/saguard-leader-election" \
         "-n $ns rolebinding/saguard-leader-election" "-n $ns role/saguard-evidence" "-n $ns rolebinding/saguard-evidence" \
         "-n $ns deployment/saguard-controller" "-n $ns service/saguard-metrics" "-n $ns service/saguard-audit"; do
  # shellcheck disable=SC2086
  k get $o >/dev/null || fail "helm install did not make $o"
done
echo "installed: CRD established, RBAC, ServiceAccount, Deployment, metrics and audit Services"
h get manifest saguard -n $ns > "$work/manifest-1.yaml"
for o in servicemonitor/saguard prometheusrule/saguard configmap/saguard-dashboard; do
  k get "$o" -n $ns -o json > "$work/live-${o%%/*}.json" || fail "helm install did not make $o"
done
python3 - "$work" "$chart" <<'PY' || fail "the API server did not keep a monitoring object as the chart made it"
import json, sys, yaml
work, chart = sys.argv[1:3]
rendered = {d["kind"]: d for d in yaml.safe_load_all(open(f"{work}/manifest-1.yaml")) if d}
bad = 0
for kind, field in (("ServiceMonitor", "spec"), ("PrometheusRule", "spec"), ("ConfigMap", "data")):
    live = json.load(open(f"{work}/live-{kind.lower()}.json"))
    if live[field] != rendered[kind][field]:
        print(f"{kind}: stored {field} differs from the rendered one (pruned or defaulted?)"); bad = 1
rules = yaml.safe_load(open(f"{chart}/files/prometheus/saguard-alerts.yaml"))
if json.load(open(f"{work}/live-prometheusrule.json"))["spec"] != rules:
    print("PrometheusRule: stored spec differs from files/prometheus/saguard-alerts.yaml"); bad = 1
sys.exit(bad)
PY
echo "ServiceMonitor, PrometheusRule, dashboard ConfigMap accepted by prometheus-operator's CRDs and stored unchanged"

step "saguard in-cluster style with the chart's ServiceAccount token and the Deployment's arguments"
mounts="$work/mounts"
# The Deployment's arguments, its mount paths moved below $mounts, the webhook on the port the
# control plane's audit backend posts to; and the Secret volumes as "secret key file" lines.
python3 - "$work/manifest-1.yaml" "$mounts" "$AUDIT_WEBHOOK_PORT" "$work/args" "$work/volumes" <<'PY'
import sys, yaml
manifest, mounts, port, args_out, volumes_out = sys.argv[1:6]
pod = next(d for d in yaml.safe_load_all(open(manifest)) if d and d["kind"] == "Deployment")["spec"]["template"]["spec"]
c = pod["containers"][0]
paths = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
with open(volumes_out, "w") as f:
    for v in pod.get("volumes", []):
        for item in v["secret"]["items"]:
            print(v["secret"]["secretName"], item["key"], mounts + paths[v["name"]] + "/" + item["path"], file=f)
with open(args_out, "w") as f:
    for a in c["args"]:
        if a.startswith(("--metrics-bind-address", "--health-probe-bind-address")):
            continue
        if a.startswith("--audit-webhook-bind-address="):
            a = f"--audit-webhook-bind-address=127.0.0.1:{port}"
        for p in paths.values():
            a = a.replace("=" + p, "=" + mounts + p)
        print(a, file=f)
PY
mapfile -t args < "$work/args"
while read -r secret key file; do  # what the kubelet would mount, read back from the cluster
  mkdir -p "$(dirname "$file")"
  k get secret "$secret" -n $ns -o "jsonpath={.data.${key//./\\.}}" | base64 -d > "$file"
  [[ -s $file ]] || fail "Secret $secret has no key $key"
done < "$work/volumes"
grep -q -- '--audit-webhook-client-ca-file=' "$work/args" || fail "the chart's Deployment has no --audit-webhook-* flags"
read -r mport pport < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]; print(*[x.getsockname()[1] for x in s])')
sa="$work/serviceaccount"; mkdir -p "$sa"
k create token saguard -n $ns --duration=1h > "$sa/token"
cp "$CONTROLPLANE_CA" "$sa/ca.crt"; echo -n $ns > "$sa/namespace"
port=${APISERVER_URL##*:}
echo "saguard ${args[*]} --metrics-bind-address=127.0.0.1:$mport --health-probe-bind-address=127.0.0.1:$pport"
env -u KUBECONFIG KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$port" SAGUARD_SERVICEACCOUNT_DIR="$sa" \
  POD_NAME=saguard-controller-test "$saguard" "${args[@]}" --metrics-bind-address=127.0.0.1:$mport \
  --health-probe-bind-address=127.0.0.1:$pport > "$work/saguard.log" 2>&1 &
saguard_pid=$!
wait_for() {  # seconds description command...
  local until=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    (( SECONDS < until )) || { tail -20 "$work/saguard.log"; fail "$what (waited)"; }
    kill -0 "$saguard_pid" 2>/dev/null || { tail -20 "$work/saguard.log"; fail "saguard exited: $what"; }
    sleep 0.5
  done
}
metrics() { curl -fsS "http://127.0.0.1:$mport/metrics"; }
wait_for 60 "/readyz ready" curl -fsS "http://127.0.0.1:$pport/readyz"
wait_for 60 "leader of Lease saguard.io-controller" bash -c \
  "curl -fsS http://127.0.0.1:$mport/metrics | grep -q '^leader_election_master_status{name=\"saguard.io-controller\"} 1'"
k get lease saguard.io-controller -n $ns >/dev/null || fail "no Lease in $ns"
k create namespace chart-test >/dev/null
wait_for 30 "namespace chart-test has its default ServiceAccount" k get serviceaccount default -n chart-test
k apply -f "$root/manifests/samples/saguard_v1alpha1_serviceaccountpolicy.yaml" >/dev/null
wait_for 60 "chart-test/default patched to automountServiceAccountToken: false" bash -c \
  "[[ \$('$KUBECTL' get serviceaccount default -n chart-test -o jsonpath='{.automountServiceAccountToken}') == false ]]"
wait_for 60 "policy status Ready=True" bash -c \
  "[[ \$('$KUBECTL' get serviceaccountpolicy default-accounts-no-token -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}') == True ]]"
metrics > "$work/metrics.txt"
if grep -E '^rest_client_requests_total\{[^}]*code="403"' "$work/metrics.txt"; then fail "saguard was refused (403) with the chart's RBAC"; fi
grep -qi forbidden "$work/saguard.log" && { grep -i forbidden "$work/saguard.log" | head -5; fail "Forbidden in saguard's log"; }
echo "leader, /readyz ready, policy enforced and Ready, no 403: the chart's RBAC suffices"
wait_for 60 "audit batches received by the webhook (TLS from the chart's Secrets)" bash -c \
  "curl -fsS http://127.0.0.1:$mport/metrics | grep -E '^saguard_audit_events_total\\{[^}]*source=\"webhook\"' | grep -E 'result=\"(accepted|ignored)\"' | grep -qvE ' 0\$'"
metrics > "$work/metrics.txt"
grep -E '^saguard_audit_events_total\{[^}]*source="webhook"' "$work/metrics.txt" | grep -v ' 0$'
if grep -E '^saguard_audit_events_total\{[^}]*result="unauthenticated"' "$work/metrics.txt" | grep -qv ' 0$'; then
  fail "the webhook refused the API server's client certificate"
fi
python3 "$root/tests/chart/metric_names.py" "$chart/files/prometheus/saguard-alerts.yaml" \
  "$chart/files/grafana/saguard-dashboard.json" "$work/metrics.txt"
kill "$saguard_pid"; wait "$saguard_pid" || fail "saguard did not end with status 0 on SIGTERM"; saguard_pid=""

step "helm upgrade --set logLevel=debug changes that and nothing else"
objects() {  # kind/name [namespace] of every object of a manifest
  python3 - "$1" <<'PY'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d: print(f'{d["kind"]}/{d["metadata"]["name"]}', d["metadata"].get("namespace", ""))
PY
}
versions() {
  while read -r obj objns; do
    echo "$obj $(k get "$obj" ${objns:+-n "$objns"} -o jsonpath='{.metadata.resourceVersion}')"
  done < <(objects "$work/manifest-1.yaml")
}
versions > "$work/rv-1"
h upgrade saguard "$chart" -n $ns --reuse-values --set logLevel=debug >/dev/null
h get manifest saguard -n $ns > "$work/manifest-2.yaml"
changed=$(diff "$work/manifest-1.yaml" "$work/manifest-2.yaml" | grep '^[<>]' || true)
expected=$'<         - --log-level=info\n>         - --log-level=debug'
[[ "$changed" == "$expected" ]] || { echo "$changed"; fail "the upgrade changed more (or less) than --log-level"; }
k get deployment saguard-controller -n $ns -o jsonpath='{.spec.template.spec.containers[0].args}' | grep -q -- '--log-level=debug' \
  || fail "the live Deployment does not have --log-level=debug"
versions > "$work/rv-2"
moved=$(diff "$work/rv-1" "$work/rv-2" | grep '^>' | cut -c3- | cut -d' ' -f1 || true)
[[ "$moved" == "Deployment/saguard-controller" ]] || { echo "changed objects: ${moved:-none}"; fail "the upgrade wrote objects other than the Deployment"; }
echo "manifest: one line changed (--log-level); live: only Deployment/saguard-controller got a new resourceVersion"
printf 'replica: 3\n' > "$work/typo.yaml"
if h upgrade saguard "$chart" -n $ns --reuse-values -f "$work/typo.yaml" > "$work/typo.out" 2>&1; then fail "an upgrade with the typo 'replica' was accepted"; fi
grep -q "additional properties 'replica' not allowed" "$work/typo.out" || { cat "$work/typo.out"; fail "the typo was not rejected by the schema"; }
[[ $(h history saguard -n $ns -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') == 2 ]] \
  || fail "the rejected upgrade made a revision"
echo "upgrade with 'replica: 3' rejected by the schema; still 2 revisions"

step "helm uninstall with crds.keep=true keeps the CRD and the policies"
h uninstall saguard -n $ns --wait >/dev/null
k get $crd >/dev/null || fail "crds.keep=true: the CRD was deleted"
k get serviceaccountpolicy default-accounts-no-token >/dev/null || fail "crds.keep=true: the policy is gone"
if k get clusterrole saguard-manager >/dev/null 2>&1; then fail "uninstall left ClusterRole saguard-manager"; fi
echo "CRD and policy kept, the rest removed"

step "installed again with crds.keep=false, helm uninstall removes the CRD"
h install saguard "$chart" -n $ns --set crds.keep=false >/dev/null || fail "install over the kept CRD failed"
[[ -z $(k get $crd -o jsonpath='{.metadata.annotations.helm\.sh/resource-policy}') ]] || fail "crds.keep=false: keep policy still on the CRD"
h uninstall saguard -n $ns --wait >/dev/null
k wait --for=delete $crd --timeout=60s >/dev/null 2>&1 || fail "crds.keep=false: the CRD is still there after 60 s"
echo "CRD removed"
echo "PASSED: chart install, in-cluster run, upgrade, uninstall ($((SECONDS))s)"
