// The real local control plane that integration tests talk to. One per test binary:
// the GoogleTest environment starts it with tests/controlplane/up.sh before the first
// test and stops it with down.sh after the last. Tests get its kubeconfig and
// addresses from controlPlane(), and work in namespaces of their own
// (freshNamespace()) so they do not depend on each other's order.
//
// Set SAGUARD_CONTROLPLANE_DIR to reuse a control plane that is already up (its
// `env` file is read; it is not stopped at the end).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace saguard::testing {

struct ControlPlane {
  std::string dir;            // the folder up.sh was given
  std::string kubeconfig;     // admin identity (system:masters client certificate)
  std::string kubectl;        // path of the kubectl built with the control plane
  std::string binDir;         // folder of etcd, kube-apiserver, kube-controller-manager, kubectl
  std::string apiServerUrl;   // https://127.0.0.1:PORT
  std::string etcdUrl;        // http://127.0.0.1:PORT
  std::string caFile;         // the cluster CA (serving and client certificates)
  std::string adminCertFile;
  std::string adminKeyFile;
  std::string saSigningKeyFile;
};

// The running control plane. Only valid inside a test (after the environment is up).
const ControlPlane& controlPlane();

struct CommandResult {
  int exitCode = -1;
  std::string out;  // standard output
  std::string err;  // standard error
};

// Runs a shell command line, feeding `input` on standard input.
CommandResult run(const std::string& commandLine, const std::string& input = "");

// Runs `kubectl --kubeconfig=<admin> ARGS` against the control plane.
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
