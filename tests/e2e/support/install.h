// saguard installed on a control plane as `make deploy` would, minus the Deployment: its
// namespace, manifests/rbac and the CRD (Established), and a token of its ServiceAccount
// for a SaguardProcess (ServiceAccountDir) to run as.
//
//   installSaguard(plane);
//   ServiceAccountDir tokens(saguardToken(plane), plane.caFile);
//   SaguardProcess saguard({.serviceAccountDir = tokens.path(), .log = ...,
//                           .apiServerUrl = plane.apiServerUrl});
#pragma once

#include <string>

#include "integration/support/controlplane_env.h"

namespace saguard::testing {

// A failure is a test failure (ADD_FAILURE naming the step).
void installSaguard(const ControlPlane& plane);
// An hour's token of saguard-system/saguard; "" (and a test failure) when refused.
std::string saguardToken(const ControlPlane& plane);

}  // namespace saguard::testing
