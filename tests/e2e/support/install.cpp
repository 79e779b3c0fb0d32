#include "e2e/support/install.h"

#include <gtest/gtest.h>

#include "integration/support/helpers.h"

namespace saguard::testing {

void installSaguard(const ControlPlane& plane) {
  for (const std::string& args :
       {"apply -f " + source("manifests/manager/namespace.yaml"),
        "apply -k " + source("manifests/rbac"),
        "apply -f " + source("crd/saguard.io_serviceaccountpolicies.yaml"),
        std::string("wait --for=condition=Established --timeout=60s "
                    "crd/serviceaccountpolicies.saguard.io")}) {
    auto r = plane.kubectl(args);
    if (r.exitCode != 0) ADD_FAILURE() << args << ": " << r.err;
  }
}

std::string saguardToken(const ControlPlane& plane) {
  auto r = plane.kubectl("create token saguard -n saguard-system --duration=1h");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  return trimmed(r.out);
}

}  // namespace saguard::testing
