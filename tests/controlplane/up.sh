#!/usr/bin/env bash
# Starts a real local Kubernetes control plane on loopback: etcd, kube-apiserver and
# kube-controller-manager of the pinned release (versions.sh), on free ports, with
# RBAC on, the ServiceAccount admission plugin on (pods get kube-api-access-* token
# volumes) and the controllers that give each namespace its `default` account.
#
# Usage: up.sh DIR
#   Returns once /readyz answers ok. Writes into DIR:
#     kubeconfig       admin identity (client certificate in system:masters)
#     env              shell variables: KUBECONFIG, KUBECTL, APISERVER_URL, ETCD_URL, BIN_DIR, ...
#     *.pid, *.log     one per component; down.sh DIR stops exactly these processes
#     pki/             CA, serving and client certificates, service-account signing keys
# Several control planes can run at once in separate DIRs.
# SAGUARD_CP_APISERVER_ARGS adds kube-apiserver flags (tests use it to inject faults).
# SAGUARD_CP_AUDIT=1 turns on the API server's audit: requests made by service accounts
#   (group system:serviceaccounts) are recorded at level Metadata, nothing else, and go to
#   two backends: the log DIR/audit.log (JSON lines) and a webhook that POSTs
#   audit.k8s.io/v1 EventList batches to https://127.0.0.1:AUDIT_WEBHOOK_PORT/audit with a
#   client certificate (nothing listens there until a test starts a receiver). Also writes
#     audit-policy.yaml, audit-webhook.kubeconfig   what kube-apiserver reads
#     pki/audit-client-ca.*   the CA of the webhook's client identity (the receiver trusts it)
#     pki/audit-client.*      that identity: the API server's client certificate
#     pki/audit-webhook.*     the receiver's serving certificate (cluster CA, 127.0.0.1)
#   and exports AUDIT_* variables in DIR/env (README.md lists them).
#   SAGUARD_CP_AUDIT_LOG_MAXSIZE (MB) rotates the log; the default never does in a test's life.
#   Cannot be combined with --audit-* flags in SAGUARD_CP_APISERVER_ARGS (bench/run.sh's way).
# SAGUARD_CP_MUTATING_ADMISSION=1 serves MutatingAdmissionPolicy: kube-apiserver gets
#   --feature-gates=MutatingAdmissionPolicy=true (a beta gate, off by default in 1.34) and
#   --runtime-config=admissionregistration.k8s.io/v1beta1=true (a beta API, not served by
#   default); the admission plugin of the same name is on by default. DIR/env records
#   MUTATING_ADMISSION=1 (0 without it). Cannot be combined with --feature-gates or
#   --runtime-config in SAGUARD_CP_APISERVER_ARGS: use one or the other.
# SAGUARD_CP_NODES=N (default 0) makes it a cluster that behaves like a real one: the
#   controller manager also runs the workload controllers (Deployment, ReplicaSet,
#   StatefulSet, DaemonSet, Job, CronJob, TTL-after-finished, pod GC), kube-scheduler runs,
#   and kwok simulates N nodes (kwok-node-0..N-1, annotation kwok.x-k8s.io/node=fake, no
#   taints) and their pods: scheduled pods reach Running, Job pods complete, DaemonSets get
#   one pod per node. Returns once every node is Ready. DIR/env records NODES=N. With 0, no
#   workload controller runs: tests that make ReplicaSets and pods by hand keep them.
# On failure: says which component failed and where its log is, stops what it started.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[[ $# -eq 1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }

audit=0
case "${SAGUARD_CP_AUDIT:-0}" in
  1) audit=1 ;;
  0) ;;
  *) echo "up.sh: SAGUARD_CP_AUDIT must be 1 (audit on) or 0 (off), not '${SAGUARD_CP_AUDIT}'" >&2; exit 2 ;;
esac
if (( audit )) && [[ "${SAGUARD_CP_APISERVER_ARGS:-}" == *--audit-* ]]; then
  echo "up.sh: SAGUARD_CP_AUDIT=1 sets kube-apiserver's --audit-* flags itself; SAGUARD_CP_APISERVER_ARGS" \
    "also has some ('${SAGUARD_CP_APISERVER_ARGS}'): use one or the other" >&2
  exit 2
fi
mutating_admission=0
case "${SAGUARD_CP_MUTATING_ADMISSION:-0}" in
  1) mutating_admission=1 ;;
  0) ;;
  *) echo "up.sh: SAGUARD_CP_MUTATING_ADMISSION must be 1 (served) or 0 (not), not '${SAGUARD_CP_MUTATING_ADMISSION}'" >&2; exit 2 ;;
esac
if (( mutating_admission )) && [[ "${SAGUARD_CP_APISERVER_ARGS:-}" == *--feature-gates* || "${SAGUARD_CP_APISERVER_ARGS:-}" == *--runtime-config* ]]; then
  echo "up.sh: SAGUARD_CP_MUTATING_ADMISSION=1 sets kube-apiserver's --feature-gates and --runtime-config itself;" \
    "SAGUARD_CP_APISERVER_ARGS also has one ('${SAGUARD_CP_APISERVER_ARGS}'): use one or the other" >&2
  exit 2
fi
nodes=${SAGUARD_CP_NODES:-0}
[[ "$nodes" =~ ^[0-9]+$ ]] ||
  { echo "up.sh: SAGUARD_CP_NODES must be a number of simulated nodes (0: none), not '$nodes'" >&2; exit 2; }
# lumberjack, the API server's log writer, reads --audit-log-maxsize 0 as "rotate at 100 MB":
# the default here is 1 TiB, so the log is one file for the whole life of a test control plane.
audit_log_maxsize=${SAGUARD_CP_AUDIT_LOG_MAXSIZE:-1048576}
[[ "$audit_log_maxsize" =~ ^[0-9]+$ ]] ||
  { echo "up.sh: SAGUARD_CP_AUDIT_LOG_MAXSIZE must be a number of megabytes, not '$audit_log_maxsize'" >&2; exit 2; }

mkdir -p "$1"
dir=$(cd "$1" && pwd)
[[ ! -e "$dir/apiserver.pid" ]] || { echo "up.sh: $dir already holds a control plane (run down.sh $dir first)" >&2; exit 1; }

bin_dir=$("$here/build.sh")

fail() {  # component message
  echo "up.sh: $1 failed: $2" >&2
  if [[ -f "$dir/$1.log" ]]; then
    echo "up.sh: last lines of $dir/$1.log:" >&2
    tail -15 "$dir/$1.log" >&2
  fi
  "$here/down.sh" --keep "$dir" >/dev/null 2>&1 || true
  exit 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# --- certificates ----------------------------------------------------------------------
pki="$dir/pki"
mkdir -p "$pki"
(
  cd "$pki"
  ossl() { openssl "$@" >/dev/null 2>&1; }
  ossl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 -subj "/CN=saguard-test-ca"
  cat > serving.ext <<EXT
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc
extendedKeyUsage=serverAuth
EXT
  ossl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver"
  ossl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 30 -extfile serving.ext
  echo "extendedKeyUsage=clientAuth" > client.ext
  ossl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=saguard-admin"
  ossl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out admin.crt -days 30 -extfile client.ext
  ossl genrsa -out sa.key 2048
  ossl rsa -in sa.key -pubout -out sa.pub
  if (( audit )); then
    # The webhook's client identity has a CA of its own, so that a receiver trusting it
    # accepts the API server and no cluster user. ECDSA P-256 keys: an RSA key costs up to
    # 0.3 s on a busy 2-core machine, and every integration run makes these three.
    ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1)
    ossl req -x509 "${ec[@]}" -nodes -keyout audit-client-ca.key -out audit-client-ca.crt -days 30 -subj "/CN=saguard-audit-client-ca"
    ossl req "${ec[@]}" -nodes -keyout audit-client.key -out audit-client.csr -subj "/CN=kube-apiserver-audit-webhook"
    ossl x509 -req -in audit-client.csr -CA audit-client-ca.crt -CAkey audit-client-ca.key -CAcreateserial -out audit-client.crt -days 30 -extfile client.ext
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > audit-webhook.ext
    ossl req "${ec[@]}" -nodes -keyout audit-webhook.key -out audit-webhook.csr -subj "/CN=saguard-audit-webhook"
    ossl x509 -req -in audit-webhook.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out audit-webhook.crt -days 30 -extfile audit-webhook.ext
  fi
) || fail pki "openssl could not create the certificates in $pki"

# --- audit (SAGUARD_CP_AUDIT=1) ---------------------------------------------------------
audit_args=()
if (( audit )); then
  cat > "$dir/audit-policy.yaml" <<'POLICY'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
    userGroups: ["system:serviceaccounts"]
  - level: None
POLICY
  # Reserved now, listened on later by the test's receiver (saguard --audit-webhook-bind-address).
  audit_webhook_port=$(free_port)
  audit_webhook_url="https://127.0.0.1:$audit_webhook_port/audit"
  cat > "$dir/audit-webhook.kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: saguard-audit-webhook
  cluster:
    server: $audit_webhook_url
    certificate-authority: $pki/ca.crt
users:
- name: kube-apiserver
  user:
    client-certificate: $pki/audit-client.crt
    client-key: $pki/audit-client.key
contexts:
- name: saguard-audit-webhook
  context: {cluster: saguard-audit-webhook, user: kube-apiserver}
current-context: saguard-audit-webhook
KUBECONFIG
  # The log is written before each response returns (blocking mode, the default). The
  # webhook sends what gathered each second (batch-max-wait) and, when nobody answers,
  # tries a batch 5 times, waiting 2, 3, 4.5 and 6.75 s (+0-20 % jitter) in between, then
  # drops it: a receiver that starts up to ~17 s after an event still gets it (with the
  # default 10 s it would be ~80 s; with 1 s, ~9 s, too short for a test that starts saguard
  # a few seconds late).
  audit_args=(
    --audit-policy-file "$dir/audit-policy.yaml"
    --audit-log-path "$dir/audit.log" --audit-log-format json --audit-log-maxsize "$audit_log_maxsize"
    --audit-webhook-config-file "$dir/audit-webhook.kubeconfig"
    --audit-webhook-mode batch --audit-webhook-batch-max-wait 1s
    --audit-webhook-initial-backoff 2s
  )
fi

# --- mutating admission policies (SAGUARD_CP_MUTATING_ADMISSION=1) ------------------------
mutating_admission_args=()
if (( mutating_admission )); then
  mutating_admission_args=(
    --feature-gates=MutatingAdmissionPolicy=true
    --runtime-config=admissionregistration.k8s.io/v1beta1=true
  )
fi

# --- etcd ------------------------------------------------------------------------------
etcd_port=$(free_port); etcd_peer_port=$(free_port)
etcd_url="http://127.0.0.1:$etcd_port"
# etcd's data on tmpfs when there is one: tests do not need durability, only speed.
if [[ -d /dev/shm && -w /dev/shm ]]; then
  etcd_data=$(mktemp -d "/dev/shm/saguard-etcd-$(basename "$dir").XXXXXX")
else
  etcd_data="$dir/etcd-data"
fi
echo "$etcd_data" > "$dir/etcd-data.path"
"$bin_dir/etcd" --name default --data-dir "$etcd_data" \
  --listen-client-urls "$etcd_url" --advertise-client-urls "$etcd_url" \
  --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
  --initial-cluster "default=http://127.0.0.1:$etcd_peer_port" \
  --unsafe-no-fsync --quota-backend-bytes $((8 * 1024 * 1024 * 1024)) \
  --log-level warn >"$dir/etcd.log" 2>&1 &
echo $! > "$dir/etcd.pid"

wait_for() {  # component seconds command...
  local component=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  while ! "$@" >/dev/null 2>&1; do
    kill -0 "$(cat "$dir/$component.pid")" 2>/dev/null || fail "$component" "the process exited"
    (( SECONDS < deadline )) || fail "$component" "not ready after ${seconds}s"
    sleep 0.2
  done
}
wait_for etcd 30 curl -sf "$etcd_url/health"

# --- kube-apiserver ---------------------------------------------------------------------
api_port=$(free_port)
api_url="https://127.0.0.1:$api_port"
"$bin_dir/kube-apiserver" \
  --etcd-servers "$etcd_url" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
  --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
  --client-ca-file "$pki/ca.crt" \
  --authorization-mode RBAC \
  --service-cluster-ip-range 10.0.0.0/24 \
  --allow-privileged=true \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$pki/sa.pub" \
  --service-account-signing-key-file "$pki/sa.key" \
  --profiling=false \
  ${audit_args[@]+"${audit_args[@]}"} \
  ${mutating_admission_args[@]+"${mutating_admission_args[@]}"} \
  --v=1 ${SAGUARD_CP_APISERVER_ARGS:-} >"$dir/apiserver.log" 2>&1 &
echo $! > "$dir/apiserver.pid"

admin_curl() { curl -sf --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" "$@"; }
api_ready() { [[ "$(admin_curl "$api_url/readyz")" == "ok" ]]; }
wait_for apiserver 90 api_ready

# --- kubeconfig -----------------------------------------------------------------------
cat > "$dir/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: saguard-test
  cluster:
    server: $api_url
    certificate-authority: $pki/ca.crt
users:
- name: saguard-admin
  user:
    client-certificate: $pki/admin.crt
    client-key: $pki/admin.key
contexts:
- name: saguard-test
  context: {cluster: saguard-test, user: saguard-admin}
current-context: saguard-test
KUBECONFIG

# --- kube-controller-manager --------------------------------------------------------------
kcm_port=$(free_port)
controllers=serviceaccount-controller,serviceaccount-token-controller,root-ca-certificate-publisher-controller,namespace-controller,garbage-collector-controller
if (( nodes > 0 )); then
  controllers+=,deployment-controller,replicaset-controller,statefulset-controller,daemonset-controller
  controllers+=,job-controller,cronjob-controller,ttl-after-finished-controller,pod-garbage-collector-controller
fi
"$bin_dir/kube-controller-manager" \
  --kubeconfig "$dir/kubeconfig" \
  --authentication-kubeconfig "$dir/kubeconfig" --authorization-kubeconfig "$dir/kubeconfig" \
  --controllers "$controllers" \
  --service-account-private-key-file "$pki/sa.key" \
  --root-ca-file "$pki/ca.crt" \
  --use-service-account-credentials=false \
  --leader-elect=false \
  --bind-address 127.0.0.1 --secure-port "$kcm_port" \
  --v=1 >"$dir/controller-manager.log" 2>&1 &
echo $! > "$dir/controller-manager.pid"

# --- nodes (SAGUARD_CP_NODES): kube-scheduler places pods, kwok plays the kubelets ---------
if (( nodes > 0 )); then
  scheduler_port=$(free_port)
  "$bin_dir/kube-scheduler" \
    --kubeconfig "$dir/kubeconfig" \
    --authentication-kubeconfig "$dir/kubeconfig" --authorization-kubeconfig "$dir/kubeconfig" \
    --leader-elect=false \
    --bind-address 127.0.0.1 --secure-port "$scheduler_port" \
    --v=1 >"$dir/scheduler.log" 2>&1 &
  echo $! > "$dir/scheduler.pid"
  # kwok's "fast" stages (build.sh takes them from the kwok module): nodes become Ready, pods
  # bound to them Running, pods of Jobs Succeeded, deleted pods go at once. No heartbeat:
  # without the node-lifecycle controller nothing marks a node NotReady.
  "$bin_dir/kwok" \
    --kubeconfig "$dir/kubeconfig" --config "$bin_dir/kwok-stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --cidr 10.1.0.0/16 --node-ip 127.0.0.1 \
    >"$dir/kwok.log" 2>&1 &
  echo $! > "$dir/kwok.pid"
  for ((i = 0; i < nodes; i++)); do
    cat <<NODE
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {kubernetes.io/hostname: kwok-node-$i, kubernetes.io/os: linux, kubernetes.io/arch: amd64, type: kwok}
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "250"}
  capacity: {cpu: "32", memory: 256Gi, pods: "250"}
---
NODE
  done > "$dir/nodes.yaml"
  KUBECONFIG="$dir/kubeconfig" "$bin_dir/kubectl" apply -f "$dir/nodes.yaml" >"$dir/nodes.log" 2>&1 ||
    { echo "up.sh: could not create the simulated nodes: $(cat "$dir/nodes.log")" >&2; "$here/down.sh" --keep "$dir" >/dev/null 2>&1 || true; exit 1; }
fi

kcm_healthy() { [[ "$(curl -sfk "https://127.0.0.1:$kcm_port/healthz")" == "ok" ]]; }
wait_for controller-manager 60 kcm_healthy
if (( nodes > 0 )); then
  scheduler_healthy() { [[ "$(curl -sfk "https://127.0.0.1:$scheduler_port/healthz")" == "ok" ]]; }
  wait_for scheduler 60 scheduler_healthy
  nodes_ready() {
    local ready
    ready=$(KUBECONFIG="$dir/kubeconfig" "$bin_dir/kubectl" get nodes -l type=kwok \
      -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$')
    (( ready == nodes ))
  }
  wait_for kwok 60 nodes_ready
  # The API server's TaintNodesByCondition admission gives a new node the not-ready taint;
  # in a real cluster the node-lifecycle controller takes it off once the node is Ready.
  # That controller is not run (it would need kwok's heartbeats), so up.sh takes it off.
  KUBECONFIG="$dir/kubeconfig" "$bin_dir/kubectl" taint nodes -l type=kwok node.kubernetes.io/not-ready:NoSchedule- >>"$dir/nodes.log" 2>&1 ||
    fail kwok "could not take the not-ready taint off the simulated nodes (see $dir/nodes.log)"
fi

mkdir -p "$dir/bin"
ln -sf "$bin_dir/kubectl" "$dir/bin/kubectl"
cat > "$dir/env" <<ENV
export KUBECONFIG=$dir/kubeconfig
export KUBECTL=$bin_dir/kubectl
export BIN_DIR=$bin_dir
export APISERVER_URL=$api_url
export ETCD_URL=$etcd_url
export CONTROLPLANE_CA=$pki/ca.crt
export CONTROLPLANE_ADMIN_CERT=$pki/admin.crt
export CONTROLPLANE_ADMIN_KEY=$pki/admin.key
export CONTROLPLANE_SA_KEY=$pki/sa.key
export KUBERNETES_VERSION=$(source "$here/versions.sh"; echo "$KUBERNETES_VERSION")
export MUTATING_ADMISSION=$mutating_admission
export NODES=$nodes
ENV
if (( audit )); then
  cat >> "$dir/env" <<ENV
export AUDIT_LOG_PATH=$dir/audit.log
export AUDIT_WEBHOOK_PORT=$audit_webhook_port
export AUDIT_WEBHOOK_URL=$audit_webhook_url
export AUDIT_WEBHOOK_CERT=$pki/audit-webhook.crt
export AUDIT_WEBHOOK_KEY=$pki/audit-webhook.key
export AUDIT_WEBHOOK_CLIENT_CA=$pki/audit-client-ca.crt
export AUDIT_CLIENT_CERT=$pki/audit-client.crt
export AUDIT_CLIENT_KEY=$pki/audit-client.key
ENV
fi
echo "up.sh: control plane ready at $api_url (KUBECONFIG=$dir/kubeconfig)" >&2
