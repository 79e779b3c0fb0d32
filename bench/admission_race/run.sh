#!/usr/bin/env bash
# The race of issue 15, measured: an account created together with its pod (one `kubectl
# apply`, as a Helm install does) can see its pod admitted, with a token, before saguard's
# patch of the account lands. How many pods get a token, with saguard as it is (arm A) and
# with a MutatingAdmissionPolicy that sets the field at the account's CREATE (arm B).
#
# Usage: bench/admission_race/run.sh [--rounds N] [--verb apply|create|post]
#   --rounds  default 100
#   --verb    how the account and the pod are sent:
#             apply   `kubectl apply -f` of the two-document file (the default; the issue's
#                     case): a GET of each object before its POST; ~5 ms from the account's
#                     answer to the pod's
#             create  `kubectl create -f` of the same file: ~32 ms between the two answers
#             post    one curl, two POSTs back to back on one keep-alive connection (close
#                     to a client-go program creating them in order; Helm itself was not
#                     measured): the narrowest window
#
# On a control plane of its own (tests/controlplane/up.sh with SAGUARD_CP_MUTATING_ADMISSION=1,
# in a temporary folder, stopped with down.sh at the end):
#   - saguard runs as its own ServiceAccount (a TokenRequest token, the permissions of
#     manifests/rbac), in-cluster style, as tests/e2e/demo.sh runs it, with one
#     ServiceAccountPolicy per arm in mode Enforce that selects every account of the arm's
#     namespaces (labels saguard.io/admission-race=true, saguard.io/admission-race-arm=a|b);
#   - arm A's policy has `admission: None`: saguard as it was before issue 15, patching the
#     account after it sees it;
#   - arm B's has `admission: Warn`, so saguard also keeps a MutatingAdmissionPolicy that sets
#     automountServiceAccountToken: false at the account's CREATE (ARM_B=controller, the
#     default); or, with ARM_B=render, the output of `saguard admission render --mutating` is
#     applied with kubectl as a GitOps tool would, and the policy itself says `admission:
#     None`. Either way the mutating policy is checked to act (a server-side dry run) before
#     the first round;
#   - each round makes, for arm A and then for arm B, a new namespace and then the account and
#     a Pod using it, the Pod right after the account, sent as --verb says (default one
#     `kubectl apply -f` of a two-document file). The arms alternate so that both see the same
#     machine load.
# Afterwards it counts the pods whose spec has a projected serviceAccountToken volume (the
# ground truth: what the ServiceAccount admission plugin injected) and, as a check that saguard
# did its job in both arms, the accounts whose automountServiceAccountToken is false.
#
# Prints: "pods with a token: A n/N, B m/N". Exits 1 when a step fails.
#
# Environment:
#   SAGUARD_BINARY  the saguard binary (default: build/controller/saguard)
#   ARM_B           controller (default) or render: who writes arm B's admission objects
#   KEEP=1          leave the control plane and saguard running, and say where
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=100
verb=apply
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --verb) verb=$2; shift 2 ;;
    *) echo "usage: $0 [--rounds N] [--verb apply|create|post]" >&2; exit 2 ;;
  esac
done
[[ "$verb" == apply || "$verb" == create || "$verb" == post ]] ||
  { echo "admission_race: --verb must be apply, create or post" >&2; exit 2; }
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "admission_race: --rounds must be a positive number" >&2; exit 2; }
saguard=${SAGUARD_BINARY:-$root/build/controller/saguard}
arm_b=${ARM_B:-controller}
[[ "$arm_b" == controller || "$arm_b" == render ]] || { echo "admission_race: ARM_B must be controller or render" >&2; exit 2; }
[[ -x "$saguard" ]] || { echo "admission_race: $saguard not found (build it, or set SAGUARD_BINARY)" >&2; exit 1; }
command -v jq >/dev/null || { echo "admission_race: needs jq" >&2; exit 1; }

dir=$(mktemp -d /tmp/saguard-admission-race-XXXXXX)
saguard_pid=""
cleanup() {
  if [[ -n "$saguard_pid" ]]; then kill "$saguard_pid" 2>/dev/null && wait "$saguard_pid" 2>/dev/null; fi
  bash "$root/tests/controlplane/down.sh" "$dir/cp"
  rm -rf "$dir"
}
if [[ "${KEEP:-0}" != 1 ]]; then trap cleanup EXIT; fi
say() { echo "admission_race: $*" >&2; }

say "starting a control plane with MutatingAdmissionPolicy (SAGUARD_CP_MUTATING_ADMISSION=1) in $dir/cp"
SAGUARD_CP_MUTATING_ADMISSION=1 bash "$root/tests/controlplane/up.sh" "$dir/cp" 2>"$dir/up.log" ||
  { cat "$dir/up.log" >&2; exit 1; }
source "$dir/cp/env"
k() { "$KUBECTL" "$@"; }

say "installing saguard's CRD and RBAC, starting $saguard as ServiceAccount saguard-system/saguard"
k apply -f "$root/crd/saguard.io_serviceaccountpolicies.yaml" >/dev/null
k apply -f "$root/manifests/manager/namespace.yaml" >/dev/null
k apply -k "$root/manifests/rbac" >/dev/null
k wait --for=condition=Established --timeout=30s crd/serviceaccountpolicies.saguard.io >/dev/null
sa_dir="$dir/serviceaccount"
mkdir -p "$sa_dir"
k create token saguard -n saguard-system --duration=2h >"$sa_dir/token"
cp "$CONTROLPLANE_CA" "$sa_dir/ca.crt"
echo -n saguard-system >"$sa_dir/namespace"
KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=${APISERVER_URL##*:} SAGUARD_SERVICEACCOUNT_DIR=$sa_dir \
  "$saguard" run --metrics-bind-address=127.0.0.1:0 --health-probe-bind-address=127.0.0.1:0 \
  >"$dir/saguard.log" 2>&1 &
saguard_pid=$!

# One ServiceAccountPolicy per arm, the same but for its namespaces and `admission`: Enforce,
# every account of the namespaces labelled for the arm.
policy_yaml() {  # arm admission
  cat <<POLICY
apiVersion: saguard.io/v1alpha1
kind: ServiceAccountPolicy
metadata:
  name: admission-race-$1
spec:
  mode: Enforce
  admission: $2
  namespaces:
    selector:
      matchLabels: {saguard.io/admission-race: "true", saguard.io/admission-race-arm: $1}
POLICY
}
policy_yaml a None | k apply -f - >/dev/null
case "$arm_b" in
  controller)  # saguard keeps arm B's admission objects itself (Warn: never refuses a pod)
    policy_yaml b Warn | k apply -f - >/dev/null ;;
  render)  # committed as GitOps would: the rendered objects, the policy itself at None
    policy_yaml b Warn >"$dir/policy-b.yaml"
    "$saguard" admission render -f "$dir/policy-b.yaml" --mutating | k apply -f - >/dev/null
    policy_yaml b None | k apply -f - >/dev/null ;;
esac

# saguard is working once it has enforced the policies on accounts that exist before the rounds.
for arm in a b; do
  k create namespace "race-warmup-$arm" >/dev/null
  k label namespace "race-warmup-$arm" saguard.io/admission-race=true saguard.io/admission-race-arm=$arm >/dev/null
  k create serviceaccount warmup -n "race-warmup-$arm" >/dev/null
done
deadline=$((SECONDS + 60))
until [[ "$(k get serviceaccount warmup -n race-warmup-a -o jsonpath='{.automountServiceAccountToken}')" == "false" ]]; do
  kill -0 "$saguard_pid" 2>/dev/null || { tail -20 "$dir/saguard.log" >&2; say "saguard exited"; exit 1; }
  (( SECONDS < deadline )) || { tail -20 "$dir/saguard.log" >&2; say "saguard did not enforce the policy in 60 s"; exit 1; }
  sleep 0.2
done
# Arm B's MutatingAdmissionPolicy acts (a server-side dry run runs admission in full).
deadline=$((SECONDS + 60))
until k create serviceaccount probe -n race-warmup-b --dry-run=server -o json |
  jq -e '.automountServiceAccountToken == false' >/dev/null; do
  (( SECONDS < deadline )) || {
    k get serviceaccountpolicy admission-race-b -o jsonpath='{.status.conditions}' >&2
    say "arm B's MutatingAdmissionPolicy did not act within 60 s"; exit 1; }
  sleep 0.2
done
k get mutatingadmissionpolicies -o name | sed 's/^/admission_race: arm B: /' >&2

round_post() {  # ns: the account and the pod as JSON, POSTed back to back by one curl
  local sa pod common
  sa="{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\",\"metadata\":{\"name\":\"app\",\"namespace\":\"$1\"}}"
  pod="{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"namespace\":\"$1\",\"labels\":{\"saguard.io/admission-race-pod\":\"true\"}},"
  pod+="\"spec\":{\"serviceAccountName\":\"app\",\"containers\":[{\"name\":\"app\",\"image\":\"registry.k8s.io/pause:3.10\"}]}}"
  common=(--cacert "$CONTROLPLANE_CA" --cert "$CONTROLPLANE_ADMIN_CERT" --key "$CONTROLPLANE_ADMIN_KEY"
          -sS -o /dev/null -H 'Content-Type: application/json' -w '%{http_code}\n')
  local codes
  codes=$(curl "${common[@]}" -X POST "$APISERVER_URL/api/v1/namespaces/$1/serviceaccounts" -d "$sa" \
    --next "${common[@]}" -X POST "$APISERVER_URL/api/v1/namespaces/$1/pods" -d "$pod" | tr '\n' ' ')
  [[ "$codes" == "201 201 " ]] || { say "POSTs in $1 answered $codes"; return 1; }
}

round_yaml() {  # ns
  cat <<YAML
apiVersion: v1
kind: ServiceAccount
metadata: {name: app, namespace: $1}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: $1, labels: {saguard.io/admission-race-pod: "true"}}
spec:
  serviceAccountName: app
  containers: [{name: app, image: registry.k8s.io/pause:3.10}]
YAML
}

say "$rounds rounds ($verb), arms A and B alternating"
started=$SECONDS
for ((i = 1; i <= rounds; i++)); do
  for arm in a b; do
    ns=race-$arm-$i
    k create namespace "$ns" >/dev/null
    k label namespace "$ns" saguard.io/admission-race=true saguard.io/admission-race-arm=$arm >/dev/null
    if [[ "$verb" == post ]]; then round_post "$ns"; else round_yaml "$ns" | k "$verb" -f - >/dev/null; fi
  done
  (( i % 20 == 0 )) && say "round $i/$rounds ($((SECONDS - started)) s)"
done

# saguard patches every account sooner or later: wait for that (up to 60 s), then count.
count_accounts_off() {  # arm
  k get serviceaccounts -A -o json |
    jq --arg arm "$1" '[.items[] | select(.metadata.name == "app" and (.metadata.namespace | startswith("race-" + $arm + "-")) and .automountServiceAccountToken == false)] | length'
}
deadline=$((SECONDS + 60))
until [[ "$(count_accounts_off a)" == "$rounds" && "$(count_accounts_off b)" == "$rounds" ]]; do
  (( SECONDS < deadline )) || break
  sleep 0.5
done
count_pods_with_token() {  # arm
  k get pods -A -l saguard.io/admission-race-pod=true -o json |
    jq --arg arm "$1" '[.items[] | select(.metadata.namespace | startswith("race-" + $arm + "-"))
      | select([.spec.volumes[]?.projected.sources[]? | select(has("serviceAccountToken"))] | length > 0)] | length'
}
count_pods() {  # arm
  k get pods -A -l saguard.io/admission-race-pod=true -o json |
    jq --arg arm "$1" '[.items[] | select(.metadata.namespace | startswith("race-" + $arm + "-"))] | length'
}
a_token=$(count_pods_with_token a); b_token=$(count_pods_with_token b)
echo "pods created: A $(count_pods a)/$rounds, B $(count_pods b)/$rounds"
echo "accounts with automountServiceAccountToken false afterwards: A $(count_accounts_off a)/$rounds, B $(count_accounts_off b)/$rounds"
echo "pods with a token: A $a_token/$rounds, B $b_token/$rounds"
if [[ "${KEEP:-0}" == 1 ]]; then
  say "left running: export KUBECONFIG=$KUBECONFIG; saguard pid $saguard_pid, log $dir/saguard.log;" \
    "stop with: kill $saguard_pid; bash $root/tests/controlplane/down.sh $dir/cp"
fi
