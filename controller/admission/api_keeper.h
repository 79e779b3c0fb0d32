// The AdmissionWriter that goes through the kube Client (reconcile/admission_writer.h):
// keeps each policy's admission objects (policy/admission.h) in the cluster.
//
//   ApiKeeper keeper(client, {});
//   reconcilerOptions.admission = &keeper;
//
// It remembers, per object, whether it exists, its rendered hash and resourceVersion as
// it last wrote or read them, so a reconcile whose plan did not change costs no request
// at all. What it remembers is checked again with a GET after `reverifyAfter` (someone
// may have deleted or replaced an object), and forgotten after any failed write.
// An object of the same name that saguard did not make (no saguard.io/policy annotation
// naming this policy) is never touched: keep() fails with Conflict naming it.
// MutatingAdmissionPolicy is discovered from the discovery document of
// admissionregistration.k8s.io/v1beta1 (kube/discovery.h: a GET, no LIST), again every
// `reverifyAfter` while it is not served. An API
// server with --runtime-config for v1beta1 but without the MutatingAdmissionPolicy
// feature gate serves the resource but never runs the policies: discovery cannot tell
// (README "Prevent at admission", known limit).
//
// Thread-safe: the work queue hands different policies to different workers.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/clock.h"
#include "kube/client.h"
#include "reconcile/admission_writer.h"

namespace saguard::admission {

struct ApiKeeperOptions {
  // How long a remembered object is trusted before a GET checks it again. Default 10 min.
  std::chrono::milliseconds reverifyAfter{std::chrono::minutes(10)};
  const Clock* clock = nullptr;  // default SteadyClock
};

class ApiKeeper final : public reconcile::AdmissionWriter {
 public:
  ApiKeeper(kube::Client& client, ApiKeeperOptions options);

  bool mutatingServed() override;
  Status keep(std::string_view policyName, const policy::AdmissionPlan& plan) override;

  // Requests made so far that changed something (create, replace, delete): for tests.
  std::size_t writes() const;

 private:
  struct Known {
    bool exists = false;
    bool foreign = false;  // exists, and is not saguard's for this policy
    std::string hash;
    std::string resourceVersion;
    Clock::time_point checkedAt{};
  };
  using Key = std::pair<std::string, std::string>;  // resource, name

  Status keepOne(const policy::AdmissionKind& kind, const std::string& name,
                 std::string_view policyName, const policy::AdmissionObject* desired);
  Result<Known> read(const kube::Resource& resource, const std::string& name,
                     std::string_view policyName);
  Known absent() const;  // an object known not to exist, as of now
  std::optional<Known> remembered(const Key& key) const;
  void remember(const Key& key, Known known);
  void forget(const Key& key);

  kube::Client& client_;
  ApiKeeperOptions options_;
  const Clock& clock_;

  mutable std::mutex mu_;
  std::map<Key, Known> known_;
  std::optional<bool> mutatingServed_;
  Clock::time_point mutatingCheckedAt_{};
  std::size_t writes_ = 0;
};

}  // namespace saguard::admission
