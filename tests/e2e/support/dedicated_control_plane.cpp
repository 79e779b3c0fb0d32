#include "e2e/support/dedicated_control_plane.h"

#include "integration/support/helpers.h"

namespace saguard::testing {

DedicatedControlPlane::DedicatedControlPlane(const DedicatedControlPlaneOptions& options)
    : dir_(makeTempDir("dedicated-cp")) {
  // SAGUARD_CP_AUDIT, SAGUARD_CP_MUTATING_ADMISSION and SAGUARD_CP_NODES are always set, so
  // that the test's own environment does not decide.
  std::string env = std::string("SAGUARD_CP_AUDIT=") + (options.audit ? "1 " : "0 ") +
                    "SAGUARD_CP_MUTATING_ADMISSION=" + (options.mutatingAdmission ? "1 " : "0 ") +
                    "SAGUARD_CP_NODES=" + std::to_string(options.nodes) + " ";
  if (!options.apiServerArgs.empty()) {
    env += "SAGUARD_CP_APISERVER_ARGS=" + shellQuote(options.apiServerArgs) + " ";
  }
  auto started = run(env + source("tests/controlplane/up.sh") + " " + dir_);
  error_ = started.err;
  if (started.exitCode != 0) return;
  plane_ = ControlPlane::fromDir(dir_);
  up_ = !plane_.kubeconfig.empty();
  if (!up_) error_ = dir_ + "/env has no KUBECONFIG";
}

DedicatedControlPlane::~DedicatedControlPlane() {
  run(source("tests/controlplane/down.sh") + " " + dir_);
}

}  // namespace saguard::testing
