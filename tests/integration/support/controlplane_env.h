// The real local control plane that integration tests talk to. One per test binary:
// the GoogleTest environment starts it with tests/controlplane/up.sh before the first
// test and stops it with down.sh after the last. Tests get its kubeconfig and
// addresses from controlPlane(), and work in namespaces of their own
// (freshNamespace()) so they do not depend on each other's order.
//
// Set SAGUARD_CONTROLPLANE_DIR to reuse a control plane that is already up (its
// `env` file is read; it is not stopped at the end).
//
// A test that needs a control plane of its own (to kill its API server, or to start it
// with other flags) uses DedicatedControlPlane (tests/e2e/support/) and gets the same
// ControlPlane description of it.
#pragma once

#include <cstdint>
#include <functional>
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

// A control plane that tests/controlplane/up.sh started, as its `env` file describes it.
struct ControlPlane {
  std::string dir;           // the folder up.sh was given
  std::string kubeconfig;    // admin identity (system:masters client certificate)
  std::string kubectlPath;   // path of the kubectl built with the control plane
  std::string binDir;        // folder of etcd, kube-apiserver, kube-controller-manager, kubectl
  std::string apiServerUrl;  // https://127.0.0.1:PORT
  std::string etcdUrl;       // http://127.0.0.1:PORT
  std::string caFile;        // the cluster CA (serving and client certificates)
  std::string adminCertFile;
  std::string adminKeyFile;
  std::string saSigningKeyFile;

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
};

// The shared control plane of the test binary. Only valid inside a test (after the
// environment is up).
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

// Polls `predicate` every 50 ms until it is true or `timeoutMs` passes; returns the
// last answer. Tests assert on its result, never on wall-clock figures.
bool eventually(int timeoutMs, const std::function<bool()>& predicate);

}  // namespace saguard::testing
