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
# On failure: says which component failed and where its log is, stops what it started.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[[ $# -eq 1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }
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
) || fail pki "openssl could not create the certificates in $pki"

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
"$bin_dir/kube-controller-manager" \
  --kubeconfig "$dir/kubeconfig" \
  --authentication-kubeconfig "$dir/kubeconfig" --authorization-kubeconfig "$dir/kubeconfig" \
  --controllers serviceaccount-controller,serviceaccount-token-controller,root-ca-certificate-publisher-controller,namespace-controller,garbage-collector-controller \
  --service-account-private-key-file "$pki/sa.key" \
  --root-ca-file "$pki/ca.crt" \
  --use-service-account-credentials=false \
  --leader-elect=false \
  --bind-address 127.0.0.1 --secure-port "$kcm_port" \
  --v=1 >"$dir/controller-manager.log" 2>&1 &
echo $! > "$dir/controller-manager.pid"
kcm_healthy() { [[ "$(curl -sfk "https://127.0.0.1:$kcm_port/healthz")" == "ok" ]]; }
wait_for controller-manager 60 kcm_healthy

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
ENV
echo "up.sh: control plane ready at $api_url (KUBECONFIG=$dir/kubeconfig)" >&2
