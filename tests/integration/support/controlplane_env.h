// The real local control plane that integration tests talk to. One per test binary:
// the GoogleTest environment starts it with tests/controlplane/up.sh before the first
// test and stops it with down.sh after the last. Tests get its kubeconfig and
// addresses from controlPlane(), and work in namespaces of their own
// (freshNamespace()) so they do not depend on each other's order.
//
// Set SAGUARD_CONTROLPLANE_DIR to reuse a control plane that is already up (its
// `env` file is read; it is not stopped at the end). Start that one with
// `SAGUARD_CP_AUDIT=1 SAGUARD_CP_MUTATING_ADMISSION=1 up.sh DIR`, as the environment does;
// otherwise the tests that read the audit log or use MutatingAdmissionPolicy are skipped.
//
// A test that needs a control plane of its own (to kill its API server, or to start it
// with other flags) uses DedicatedControlPlane (tests/e2e/support/) and gets the same
// ControlPlane description of it.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace saguard::testing {

struct CommandResult {
  int exitCode = -1;
  std::string out;  // standard output
  std::string err;  // standard error
};

// Runs a shell command line, feeding `input` on standard input.
CommandResult run(const std::string& commandLine, const std::string& input = "");

// What up.sh wrote for auditing (SAGUARD_CP_AUDIT=1); every field is empty when the control
// plane was started without it. The API server records the requests of service accounts
// (group system:serviceaccounts) at level Metadata, nothing else, in two places: the log
// file (one JSON event per line, written before the response returns) and a webhook that
// POSTs audit.k8s.io/v1 EventList batches to webhookUrl about once a second. Nothing listens
// on webhookPort until a test starts a receiver there (saguard --audit-webhook-bind-address
// 127.0.0.1:PORT); batches that find no receiver are retried for ~17 s, then dropped.
struct ControlPlaneAudit {
  std::string logPath;          // AUDIT_LOG_PATH: DIR/audit.log
  std::string webhookPort;      // AUDIT_WEBHOOK_PORT: reserved loopback port for the receiver
  std::string webhookUrl;       // AUDIT_WEBHOOK_URL: https://127.0.0.1:PORT/audit
  std::string webhookCertFile;  // AUDIT_WEBHOOK_CERT: the receiver's serving certificate
  std::string webhookKeyFile;   // AUDIT_WEBHOOK_KEY   (signed by the cluster CA, 127.0.0.1)
  std::string clientCaFile;     // AUDIT_WEBHOOK_CLIENT_CA: the CA the receiver trusts
  std::string clientCertFile;   // AUDIT_CLIENT_CERT: the API server's client certificate, for
  std::string clientKeyFile;    // AUDIT_CLIENT_KEY   a test that POSTs as the API server does

  bool enabled() const { return !logPath.empty(); }
};

// A control plane that tests/controlplane/up.sh started, as its `env` file describes it.
struct ControlPlane {
  std::string dir;           // the folder up.sh was given
  std::string kubeconfig;    // admin identity (system:masters client certificate)
  std::string kubectlPath;   // path of the kubectl built with the control plane
  std::string binDir;        // folder of the control plane's binaries (build.sh)
  std::string apiServerUrl;  // https://127.0.0.1:PORT
  std::string etcdUrl;       // http://127.0.0.1:PORT
  std::string caFile;        // the cluster CA (serving and client certificates)
  std::string adminCertFile;
  std::string adminKeyFile;
  std::string saSigningKeyFile;
  ControlPlaneAudit audit;  // empty unless started with SAGUARD_CP_AUDIT=1
  // SAGUARD_CP_MUTATING_ADMISSION=1 (env MUTATING_ADMISSION=1): kube-apiserver runs with the
  // MutatingAdmissionPolicy feature gate and serves admissionregistration.k8s.io/v1beta1, so
  // MutatingAdmissionPolicy objects exist and are applied. False: up.sh passed neither flag
  // (tests/controlplane/README.md says what each does alone).
  bool mutatingAdmission = false;
  // SAGUARD_CP_NODES=N (env NODES=N): the workload controllers, kube-scheduler and N nodes
  // simulated by kwok run, so Deployments, StatefulSets, DaemonSets and Jobs make pods that
  // are scheduled and reach Running. 0: none of them (pods a test makes stay Pending).
  int nodes = 0;

  // Reads DIR/env (its `export KEY=VALUE` lines); kubeconfig is empty when there is none.
  static ControlPlane fromDir(const std::string& dir);

  // Runs `kubectl --kubeconfig=<admin> ARGS` against this control plane.
  CommandResult kubectl(const std::string& args, const std::string& input = "") const;
  // The port of apiServerUrl ("6443" of https://127.0.0.1:6443).
  std::string apiServerPort() const;

  // etcd through its JSON gateway: the current revision, and a physical compaction up to
  // `revision`. Throw std::runtime_error when etcd does not answer as expected.
  std::int64_t etcdRevision() const;
  void compactEtcd(std::int64_t revision) const;

  // tests/controlplane/apiserver.sh: stops only kube-apiserver (SIGTERM, or SIGKILL at
  // once with `kill`) and starts it again with the same flags on the same port, returning
  // once /readyz is ok. etcd and kube-controller-manager keep running.
  CommandResult stopApiServer(bool kill = false) const;
  CommandResult startApiServer() const;

  // The sum of apiserver_request_total for a verb ("LIST", "PATCH", "APPLY") and resource
  // ("serviceaccounts"), from the API server's own /metrics. A watch is counted only when it
  // ends.
  long apiRequestTotal(const std::string& verb, const std::string& resource) const;
};

// The shared control plane of the test binary, started with SAGUARD_CP_AUDIT=1 and
// SAGUARD_CP_MUTATING_ADMISSION=1 (its `audit` is filled in and `mutatingAdmission` true,
// unless SAGUARD_CONTROLPLANE_DIR named one started without them).
// Only valid inside a test (after the environment is up).
const ControlPlane& controlPlane();

// Runs `kubectl --kubeconfig=<admin> ARGS` against controlPlane().
CommandResult kubectl(const std::string& args, const std::string& input = "");

// Creates a namespace named "<prefix>-<random>" with the given labels and returns its
// name; it is not deleted afterwards (the control plane goes away with the binary).
std::string freshNamespace(const std::string& prefix,
                           const std::vector<std::pair<std::string, std::string>>& labels = {});

// Waits (up to `timeoutMs`) until kube-controller-manager gives a new namespace its
// `default` ServiceAccount: after a test that restarts the API server, its informers
// may take a while to reconnect. Returns whether it does.
bool waitForControllerManager(int timeoutMs = 60'000);

// Applies the ServiceAccountPolicy CRD of the source tree (crd/) and waits until it is
// Established; returns whether it is. Idempotent: every suite that needs it calls it.
bool installPolicyCrd();

// controlPlane().apiRequestTotal(verb, resource).
long apiRequestTotal(const std::string& verb, const std::string& resource);

// `kubectl get -o json ARGS`, parsed; null when kubectl fails or prints no JSON.
nlohmann::json kubectlJson(const std::string& args);

// Polls `predicate` every 50 ms until it is true or `timeoutMs` passes; returns the
// last answer. Tests assert on its result, never on wall-clock figures.
bool eventually(int timeoutMs, const std::function<bool()>& predicate);

}  // namespace saguard::testing
