#include "e2e/support/dedicated_control_plane.h"

#include "integration/support/helpers.h"

namespace saguard::testing {

DedicatedControlPlane::DedicatedControlPlane(const std::string& apiServerArgs)
    : dir_(makeTempDir("dedicated-cp")) {
  const std::string args =
      apiServerArgs.empty() ? "" : "SAGUARD_CP_APISERVER_ARGS=" + shellQuote(apiServerArgs) + " ";
  auto started = run(args + source("tests/controlplane/up.sh") + " " + dir_);
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
