// ClusterReader over the informer caches (cache/): what the reconciler reads in
// production. Lookups go through the stores' indexes (pods by account, accounts by
// namespace, bindings by account and by group), so a reconcile costs what it touches,
// not the size of the cluster.
#pragma once

#include "cache/informer.h"
#include "cache/kinds.h"
#include "cache/policy_informer.h"
#include "evidence/ledger.h"
#include "reconcile/cluster_reader.h"

namespace saguard::reconcile {

struct Informers {
  cache::NamespaceInformer* namespaces = nullptr;
  cache::ServiceAccountInformer* serviceAccounts = nullptr;
  cache::PodInformer* pods = nullptr;
  cache::BindingInformer* roleBindings = nullptr;
  cache::BindingInformer* clusterRoleBindings = nullptr;
  cache::PolicyInformer* policies = nullptr;
};

class CacheReader final : public ClusterReader {
 public:
  // `ledger`: what the audit sources recorded; nullptr when saguard has none (then no use
  // is known and `unusedFor` selects nothing).
  explicit CacheReader(Informers informers, const evidence::Ledger* ledger = nullptr)
      : in_(informers), ledger_(ledger) {}

  Shared<objects::ServiceAccount> serviceAccount(std::string_view ns,
                                                 std::string_view name) const override;
  std::vector<Shared<objects::ServiceAccount>> serviceAccounts() const override;
  std::vector<Shared<objects::ServiceAccount>> serviceAccountsIn(
      std::string_view ns) const override;
  Shared<objects::Namespace> namespace_(std::string_view name) const override;
  std::vector<Shared<objects::Pod>> podsOf(std::string_view ns,
                                           std::string_view name) const override;
  std::vector<Shared<objects::Binding>> bindingsFor(std::string_view ns,
                                                    std::string_view name) const override;
  std::vector<PolicyRecord> policies() const override;
  std::optional<PolicyRecord> policy(std::string_view name) const override;
  policy::UseEvidence observedUse(std::string_view ns, std::string_view name) const override;
  std::vector<Shared<objects::Binding>> bindings() const override;
  std::int64_t observingSince() const override;
  policy::UseEvidence useOf(const objects::ServiceAccount& account) const override;
  std::int64_t now() const override;

 private:
  Informers in_;
  const evidence::Ledger* ledger_;
};

}  // namespace saguard::reconcile
