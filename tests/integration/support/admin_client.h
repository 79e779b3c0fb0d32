// A kube::Client with the admin identity of the integration tests' control plane. Header
// only: the e2e binary compiles integration/support/*.cpp too and does not link saguard's
// libraries.
#pragma once

#include <memory>
#include <stdexcept>

#include "integration/support/controlplane_env.h"
#include "kube/config.h"
#include "kube/rest_client.h"

namespace saguard::testing {

// Throws std::runtime_error when the client cannot be made.
inline std::unique_ptr<kube::Client> adminClient() {
  auto config = kube::loadKubeconfig(controlPlane().kubeconfig);
  if (!config.ok()) throw std::runtime_error(config.error().describe());
  auto client = kube::makeRestClient(*config);
  if (!client.ok()) throw std::runtime_error(client.error().describe());
  return std::move(*client);
}

}  // namespace saguard::testing
