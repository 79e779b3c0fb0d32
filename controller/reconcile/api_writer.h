// ClusterWriter over the Kubernetes API (kube::Client): the forced server-side apply of a
// ServiceAccount's automountServiceAccountToken (policy/patch.h), the merge patches of
// its last-used annotation and of a ServiceAccountPolicy's status, all with field
// manager "saguard" (policy::kFieldManager), so that `managedFields` show who set what.
#pragma once

#include "kube/client.h"
#include "reconcile/cluster_writer.h"

namespace saguard::reconcile {

class ApiWriter final : public ClusterWriter {
 public:
  explicit ApiWriter(kube::Client& client) : client_(client) {}

  Result<std::string> disableAutomount(std::string_view ns, std::string_view name,
                                       std::string_view uid) override;
  Status recordUseDay(std::string_view ns, std::string_view name, std::string_view day,
                      std::string_view resourceVersion) override;
  Status patchPolicyStatus(std::string_view name, const std::string& statusJson) override;

 private:
  kube::Client& client_;
};

}  // namespace saguard::reconcile
