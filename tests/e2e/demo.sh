#!/usr/bin/env bash
# `make demo`: saguard's main job on a local control plane, told as a story.
#
#   1. start a real local control plane and install saguard's CRD and RBAC
#   2. run saguard as its own ServiceAccount (a token minted with TokenRequest, exactly
#      the permissions of manifests/rbac), in-cluster style
#   3. create namespaces, pods and a RoleBinding to a `default` account
#   4. the classic audit: kubectl + jq "which pods hold a token"
#   5. apply a ServiceAccountPolicy; show the patched accounts, the Events and the policy
#      status
#   6. finish the job: `saguard restart` replaces the pods that still hold a token
#   7. admission and GitOps: the API server's own warning; a field Argo CD declares is left alone
# The control plane simulates one node (kwok), so the Deployment's pods run and roll.
# Everything is torn down at the end; KEEP=1 leaves it running and says how to connect.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
saguard=${SAGUARD_BIN:-$root/build/controller/saguard}
dir=${DEMO_DIR:-$(mktemp -d /tmp/saguard-demo-XXXXXX)}
[[ -x "$saguard" ]] || { echo "demo: $saguard not found; run 'make build' first" >&2; exit 1; }

bold=$'\033[1m'; dim=$'\033[2m'; reset=$'\033[0m'
[[ -t 1 ]] || { bold=""; dim=""; reset=""; }
step() { echo; echo "${bold}==> $*${reset}"; }
show() {  # prints the command as a user would type it, then runs it
  local text="$*"
  text=${text#bash -c }
  text=${text//"$KUBECTL"/kubectl}
  text=${text//"$saguard"/saguard}
  echo "${dim}\$ $text${reset}"
  "$@"
}

saguard_pid=""
cleanup() {
  [[ -n "$saguard_pid" ]] && kill "$saguard_pid" 2>/dev/null && wait "$saguard_pid" 2>/dev/null
  bash "$root/tests/controlplane/down.sh" "$dir/cp"
  rm -rf "$dir"
}
if [[ "${KEEP:-0}" != 1 ]]; then trap cleanup EXIT; fi

step "Starting a local Kubernetes control plane (etcd, kube-apiserver, controllers, scheduler, one kwok node)"
SAGUARD_CP_NODES=1 bash "$root/tests/controlplane/up.sh" "$dir/cp" 2>&1 | tail -1
source "$dir/cp/env"
k() { "$KUBECTL" "$@"; }

step "Installing saguard: the ServiceAccountPolicy CRD and least-privilege RBAC"
k apply -f "$root/crd/saguard.io_serviceaccountpolicies.yaml" >/dev/null
k apply -f "$root/manifests/manager/namespace.yaml" >/dev/null
k apply -k "$root/manifests/rbac" >/dev/null
k wait --for=condition=Established --timeout=30s crd/serviceaccountpolicies.saguard.io >/dev/null
echo "CRD serviceaccountpolicies.saguard.io, ClusterRole saguard-manager (no secrets, no wildcards)"

step "Starting saguard as its own ServiceAccount, the way it runs in a pod"
sa_dir="$dir/serviceaccount"
mkdir -p "$sa_dir"
k create token saguard -n saguard-system --duration=2h > "$sa_dir/token"
cp "$CONTROLPLANE_CA" "$sa_dir/ca.crt"
echo -n saguard-system > "$sa_dir/namespace"
port=${APISERVER_URL##*:}
KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$port SAGUARD_SERVICEACCOUNT_DIR=$sa_dir \
  "$saguard" run --metrics-bind-address=127.0.0.1:0 --health-probe-bind-address=127.0.0.1:0 \
  >"$dir/saguard.log" 2>&1 &
saguard_pid=$!
echo "saguard running (pid $saguard_pid), log: $dir/saguard.log"

step "Creating workloads: three team namespaces, pods, and a RoleBinding to team-a's default account"
for ns in team-a team-b team-c; do
  k create namespace "$ns" >/dev/null
  k label namespace "$ns" saguard.io/demo=true >/dev/null
done
for ns in team-a team-b team-c; do
  until k get serviceaccount default -n "$ns" >/dev/null 2>&1; do sleep 0.2; done
done
k create serviceaccount deployer -n team-b >/dev/null
k patch serviceaccount deployer -n team-b --type=merge -p '{"automountServiceAccountToken":false}' >/dev/null
pod() {  # ns name serviceAccount [pod automount]
  local extra=""
  [[ -n "${4:-}" ]] && extra="  automountServiceAccountToken: $4"
  k apply -f - >/dev/null <<POD
apiVersion: v1
kind: Pod
metadata: {name: $2, namespace: $1}
spec:
  serviceAccountName: $3
$extra
  containers: [{name: app, image: registry.k8s.io/pause:3.10}]
POD
}
pod team-a web default
pod team-a worker default
pod team-b api default
pod team-b deploy deployer
pod team-c batch default true
k create deployment shop -n team-b --image=registry.k8s.io/pause:3.10 --replicas=2 >/dev/null
k rollout status deployment/shop -n team-b --timeout=60s >/dev/null
k create rolebinding debug-view --clusterrole=view --serviceaccount=team-a:default -n team-a >/dev/null
echo "team-a: web, worker (default account, which a RoleBinding grants 'view')"
echo "team-b: api (default account), deploy (account 'deployer' sets automount false), Deployment shop (2 pods, default account)"
echo "team-c: batch (sets automountServiceAccountToken: true itself)"

step "The classic audit: kubectl + jq, pods that do not set automountServiceAccountToken: false"
show bash -c "$KUBECTL get pods -A -o json | jq -r '.items[] | select(.spec.automountServiceAccountToken != false) | \"\(.metadata.namespace)/\(.metadata.name)\"'"
echo "${dim}(it lists team-b/deploy, which holds no token, and cannot say which tokens are needed)${reset}"

step "Applying a ServiceAccountPolicy: no token for the default accounts of the demo namespaces"
cat <<'POLICY' | tee "$dir/policy.yaml"
apiVersion: saguard.io/v1alpha1
kind: ServiceAccountPolicy
metadata:
  name: default-accounts-no-token
spec:
  mode: Enforce
  namespaces:
    selector:
      matchLabels: {saguard.io/demo: "true"}
  serviceAccounts:
    names: ["default"]
POLICY
k apply -f "$dir/policy.yaml"
for ns in team-a team-b team-c; do
  until [[ "$(k get serviceaccount default -n "$ns" -o jsonpath='{.automountServiceAccountToken}')" == "false" ]]; do sleep 0.1; done
done
sleep 2

step "What changed: the default accounts now say automountServiceAccountToken: false"
for ns in team-a team-b team-c; do
  "$KUBECTL" get serviceaccounts -n "$ns" --no-headers \
    -o custom-columns='NAMESPACE:.metadata.namespace,ACCOUNT:.metadata.name,AUTOMOUNT:.automountServiceAccountToken'
done | awk 'BEGIN {printf "%-10s %-10s %s\n", "NAMESPACE", "ACCOUNT", "AUTOMOUNT"} {printf "%-10s %-10s %s\n", $1, $2, $3}'

step "Events saguard emitted (events.k8s.io/v1, reportingController saguard.io/controller)"
show "$KUBECTL" get events.events.k8s.io -A \
  -o custom-columns='NAMESPACE:.metadata.namespace,TYPE:.type,REASON:.reason,OBJECT:.regarding.kind,NAME:.regarding.name,NOTE:.note' \
  --field-selector reportingController=saguard.io/controller

step "The policy and its status"
show "$KUBECTL" get serviceaccountpolicies
show bash -c "$KUBECTL get sap default-accounts-no-token -o jsonpath='{range .status.findings[*]}{.reason}{\"\t\"}{.namespace}/{.name}{\"\n\"}{end}'"

step "A new pod in team-a now gets no token; the old ones keep theirs until recreated"
pod team-a fresh default
show bash -c "$KUBECTL get pods -n team-a -o json | jq -r '.items[] | \"\(.metadata.name): token volume = \([.spec.volumes[]? | select(.projected.sources[]?.serviceAccountToken)] | length > 0)\"'"

step "Finishing the job: saguard restart replaces the pods that still hold a token, through their Deployment"
show "$saguard" restart -n team-b
show "$saguard" restart -n team-b --yes --interval 0s
show bash -c "$KUBECTL get pods -n team-b -l app=shop -o json | jq -r '.items[] | select(.metadata.deletionTimestamp == null) | \"\(.metadata.name): token volume = \([.spec.volumes[]? | select(.projected.sources[]?.serviceAccountToken)] | length > 0)\"'"
echo "${dim}(the bare pod team-b/api stays as it is: nothing would recreate it; --include-bare-pods deletes such pods)${reset}"

step "At admission (spec.admission, default Warn): the API server itself warns about a pod that asks for the token"
show bash -c "$KUBECTL run asks -n team-a --image=registry.k8s.io/pause:3.10 --overrides='{\"spec\":{\"automountServiceAccountToken\":true}}' 2>&1"
show "$KUBECTL" get validatingadmissionpolicies,validatingadmissionpolicybindings -l app.kubernetes.io/managed-by=saguard

step "GitOps: Argo CD applies a namespace whose default account Git declares automountServiceAccountToken: true"
k create namespace team-d >/dev/null
k label namespace team-d saguard.io/demo=true >/dev/null
show bash -c "printf 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: team-d}\nautomountServiceAccountToken: true\n' | $KUBECTL apply --server-side --force-conflicts --field-manager=argocd-controller -f -"
until "$KUBECTL" get events.events.k8s.io -n team-d --field-selector reason=DeclaredByOwner -o name 2>/dev/null | grep -q .; do sleep 0.2; done
echo "${dim}(saguard does not fight Git: no patch, one Warning naming the owner and the fix)${reset}"
show "$KUBECTL" get serviceaccount default -n team-d -o jsonpath='{.automountServiceAccountToken}{"\n"}'
show "$KUBECTL" get events.events.k8s.io -n team-d --field-selector reason=DeclaredByOwner -o jsonpath='{range .items[*]}{.type} {.reason}: {.note}{"\n"}{end}'

if [[ "${KEEP:-0}" == 1 ]]; then
  echo
  echo "${bold}Left running.${reset} Connect with: export KUBECONFIG=$KUBECONFIG; kubectl=$KUBECTL"
  echo "saguard pid $saguard_pid, log $dir/saguard.log; stop with: kill $saguard_pid; bash tests/controlplane/down.sh $dir/cp"
fi
