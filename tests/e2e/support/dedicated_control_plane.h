// A control plane of a test's own, for faults that would break every other test on the
// shared one (killing or restarting its API server) or that need other kube-apiserver
// flags. tests/controlplane/up.sh starts it in a new folder; down.sh stops it and
// removes the folder when the object goes.
//
//   DedicatedControlPlane own("--watch-cache=false");
//   ASSERT_TRUE(own.up()) << own.error();
//   const ControlPlane& plane = own.plane();   // the same description as controlPlane()'s
//   plane.kubectl("get namespaces");
//   SaguardProcess saguard({..., .apiServerUrl = plane.apiServerUrl});
//
//   // plane().audit is filled in; no MutatingAdmissionPolicy served:
//   DedicatedControlPlane audited({.audit = true, .mutatingAdmission = false});
//
//   // Deployments make pods, which kwok's 3 nodes run:
//   DedicatedControlPlane cluster({.nodes = 3});
//
// Starting one takes several seconds (about 6.5 s warm on a 2-core machine).
#pragma once

#include <concepts>
#include <string>

#include "integration/support/controlplane_env.h"

namespace saguard::testing {

struct DedicatedControlPlaneOptions {
  // Extra kube-apiserver flags (up.sh's SAGUARD_CP_APISERVER_ARGS). Default: none.
  std::string apiServerArgs = "";
  // up.sh's SAGUARD_CP_AUDIT=1: an audit policy for service accounts, the log backend and
  // the webhook backend (ControlPlaneAudit says what they give). Cannot be combined with
  // --audit-* flags in apiServerArgs (up.sh fails). Default: off, whatever the test's own
  // environment says.
  bool audit = false;
  // up.sh's SAGUARD_CP_MUTATING_ADMISSION=1: kube-apiserver runs with
  // --feature-gates=MutatingAdmissionPolicy=true and serves admissionregistration.k8s.io/v1beta1
  // (plane().mutatingAdmission). Cannot be combined with --feature-gates or --runtime-config in
  // apiServerArgs (up.sh fails). Default: off, whatever the test's own environment says.
  bool mutatingAdmission = false;
  // up.sh's SAGUARD_CP_NODES: N > 0 runs the workload controllers, kube-scheduler and N
  // nodes simulated by kwok (plane().nodes), a cluster that makes and replaces pods as a real
  // one does (about 1 s more to start). Default: 0, whatever the test's own environment says.
  int nodes = 0;
};

class DedicatedControlPlane {
 public:
  // Runs up.sh in a new folder /tmp/saguard-dedicated-cp-XXXXXX. Blocks until the
  // control plane is ready or up.sh failed (then up() is false and error() says why).
  explicit DedicatedControlPlane(const DedicatedControlPlaneOptions& options);
  DedicatedControlPlane() : DedicatedControlPlane(DedicatedControlPlaneOptions{}) {}
  // The same with only extra kube-apiserver flags: DedicatedControlPlane("--watch-cache=false").
  // A template so that a braced list ({.audit = true}) always means the options: GCC 12
  // ignores designators when it weighs a std::string parameter, and calls it ambiguous.
  template <std::convertible_to<std::string> Args>
  explicit DedicatedControlPlane(const Args& apiServerArgs)
      : DedicatedControlPlane(
            DedicatedControlPlaneOptions{.apiServerArgs = std::string(apiServerArgs)}) {}
  // down.sh: stops exactly the processes up.sh started and removes the folder.
  ~DedicatedControlPlane();
  DedicatedControlPlane(const DedicatedControlPlane&) = delete;
  DedicatedControlPlane& operator=(const DedicatedControlPlane&) = delete;

  bool up() const { return up_; }
  // up.sh's standard error when it failed.
  const std::string& error() const { return error_; }
  // Valid when up().
  const ControlPlane& plane() const { return plane_; }

 private:
  std::string dir_;
  bool up_ = false;
  std::string error_;
  ControlPlane plane_;
};

}  // namespace saguard::testing
