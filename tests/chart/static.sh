#!/usr/bin/env bash
# The chart without a cluster: helm lint; the CRD copy equals crd/; `helm template` with
# default values makes the same RBAC, ServiceAccount, CRD and Deployment security settings
# as `kubectl kustomize manifests/default` (compare.py), and a changed security setting is
# caught (the comparison can fail); values with a typo are rejected by values.schema.json;
# the optional objects (PrometheusRule, dashboard, ServiceMonitor, audit webhook) render from
# their one source. Exit 77 (skipped) when helm or kubectl cannot be built.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
tools helm kubectl
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
tpl() { "$HELM" template saguard "$chart" -n saguard-system "$@"; }

echo "== helm lint (default values, then every optional object on)"
"$HELM" lint --strict "$chart" >/dev/null || { "$HELM" lint --strict "$chart"; fail "helm lint"; }
on=(--set prometheusRule.enabled=true --set grafanaDashboard.enabled=true --set metrics.serviceMonitor.enabled=true
    --set auditWebhook.enabled=true --set auditWebhook.tlsSecretName=saguard-audit-tls --set namespace.create=true)
"$HELM" lint --strict "$chart" "${on[@]}" >/dev/null || fail "helm lint with the optional objects"

echo "== the chart's CRD is crd/'s (make manifests copies it)"
cmp "$root/crd/saguard.io_serviceaccountpolicies.yaml" "$chart/files/crds/saguard.io_serviceaccountpolicies.yaml" \
  || fail "charts/saguard/files/crds differs from crd/: run make manifests"

echo "== helm template vs kubectl kustomize manifests/default"
"$KUBECTL" kustomize "$root/manifests/default" > "$work/kustomize.yaml"
tpl > "$work/default.yaml"
python3 "$root/tests/chart/compare.py" "$work/kustomize.yaml" "$work/default.yaml"
tpl --set namespace.create=true > "$work/ns.yaml"
python3 "$root/tests/chart/compare.py" "$work/kustomize.yaml" "$work/ns.yaml" --namespace
# The comparison must fail when a security setting or a role differs.
tpl --set securityContext.readOnlyRootFilesystem=false > "$work/rw.yaml"
if python3 "$root/tests/chart/compare.py" "$work/kustomize.yaml" "$work/rw.yaml" >/dev/null; then
  fail "compare.py did not see readOnlyRootFilesystem=false"
fi
tpl --set rbac.userRoles=false > "$work/noroles.yaml"
if python3 "$root/tests/chart/compare.py" "$work/kustomize.yaml" "$work/noroles.yaml" >/dev/null; then
  fail "compare.py did not see the missing editor/viewer roles"
fi

echo "== values with a typo are rejected by values.schema.json"
reject() {  # name yaml expected-message-fragment
  printf '%s\n' "$2" > "$work/$1.yaml"
  if out=$(tpl -f "$work/$1.yaml" 2>&1); then fail "values $1 ($2) were accepted"; fi
  grep -qi -- "$3" <<<"$out" || fail "values $1: the error does not name $3: $out"
  echo "rejected $1: $(grep -i -m1 -- "$3" <<<"$out" | cut -c1-160)"
}
reject top-level-typo 'replica: 3' "replica"
reject nested-typo $'metrics:\n  serviceMonitr: {enabled: true}' "serviceMonitr"
reject enum 'logFormat: xml' "logFormat"
reject type 'replicas: "two"' "replicas"
reject own-token-off $'serviceAccount:\n  automountServiceAccountToken: false' "automountServiceAccountToken"
if out=$(tpl --set auditWebhook.enabled=true 2>&1); then fail "auditWebhook.enabled without tlsSecretName was accepted"; fi
grep -q 'auditWebhook.tlsSecretName is required' <<<"$out" || fail "auditWebhook without a Secret: $out"

echo "== optional objects: one source each"
tpl "${on[@]}" --set crds.keep=false > "$work/on.yaml"
tpl --set crds.enabled=false > "$work/nocrd.yaml"
python3 - "$work" "$chart" <<'PY'
import json, sys, yaml
work, chart = sys.argv[1], sys.argv[2]
def load(name):
    return {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(open(f"{work}/{name}")) if d}
on, default, nocrd = load("on.yaml"), load("default.yaml"), load("nocrd.yaml")
errors = []
def check(ok, what):
    print(("ok:   " if ok else "FAIL: ") + what)
    if not ok: errors.append(what)
rules = yaml.safe_load(open(f"{chart}/files/prometheus/saguard-alerts.yaml"))
check(on[("PrometheusRule", "saguard")]["spec"] == rules, "PrometheusRule spec == files/prometheus/saguard-alerts.yaml")
cm = on[("ConfigMap", "saguard-dashboard")]
check(json.loads(cm["data"]["saguard.json"]) == json.load(open(f"{chart}/files/grafana/saguard-dashboard.json")),
      "dashboard ConfigMap == files/grafana/saguard-dashboard.json")
check(cm["metadata"]["labels"].get("grafana_dashboard") == "1", "dashboard ConfigMap has label grafana_dashboard=1")
sm = on[("ServiceMonitor", "saguard")]
svc = on[("Service", "saguard-metrics")]
check(all(svc["metadata"]["labels"].get(k) == v for k, v in sm["spec"]["selector"]["matchLabels"].items()),
      "ServiceMonitor selects the metrics Service")
args = on[("Deployment", "saguard-controller")]["spec"]["template"]["spec"]["containers"][0]["args"]
check({"--audit-webhook-bind-address=:9443", "--audit-webhook-cert-file=/etc/saguard/audit-webhook/tls.crt",
       "--audit-webhook-key-file=/etc/saguard/audit-webhook/tls.key",
       "--audit-webhook-client-ca-file=/etc/saguard/audit-webhook-client-ca/ca.crt"} <= set(args),
      "auditWebhook: the four --audit-webhook-* flags")
check(("Service", "saguard-audit") in on, "auditWebhook: a Service")
crd = ("CustomResourceDefinition", "serviceaccountpolicies.saguard.io")
check(default[crd]["metadata"].get("annotations", {}).get("helm.sh/resource-policy") == "keep",
      "crds.keep=true (default): helm.sh/resource-policy: keep")
check("helm.sh/resource-policy" not in on[crd]["metadata"].get("annotations", {}), "crds.keep=false: no keep policy")
check(crd not in nocrd, "crds.enabled=false: no CRD")
check(not any(k[0] in ("PrometheusRule", "ServiceMonitor", "ConfigMap") for k in default),
      "default values: no PrometheusRule, ServiceMonitor or dashboard")
sys.exit(1 if errors else 0)
PY
echo "PASSED: chart static checks"
