#include "reconcile/cache_reader.h"

#include <algorithm>
#include <chrono>

#include "policy/bindings.h"

namespace saguard::reconcile {
namespace {

template <typename R>
std::vector<Shared<R>> lookup(const cache::Store<R>& store, const char* index,
                              std::string_view key) {
  auto found = store.byIndex(index, key);
  if (!found.ok()) return {};
  return std::move(*found);
}

}  // namespace

Shared<objects::ServiceAccount> CacheReader::serviceAccount(std::string_view ns,
                                                            std::string_view name) const {
  return in_.serviceAccounts->store().get(ns, name);
}

std::vector<Shared<objects::ServiceAccount>> CacheReader::serviceAccounts() const {
  return in_.serviceAccounts->store().list();
}

std::vector<Shared<objects::ServiceAccount>> CacheReader::serviceAccountsIn(
    std::string_view ns) const {
  return lookup(in_.serviceAccounts->store(), cache::kAccountsByNamespace, ns);
}

Shared<objects::Namespace> CacheReader::namespace_(std::string_view name) const {
  return in_.namespaces->store().get("", name);
}

std::vector<Shared<objects::Pod>> CacheReader::podsOf(std::string_view ns,
                                                      std::string_view name) const {
  return lookup(in_.pods->store(), cache::kPodsByAccount, cache::accountKey(ns, name));
}

std::vector<Shared<objects::Binding>> CacheReader::bindingsFor(std::string_view ns,
                                                               std::string_view name) const {
  std::vector<Shared<objects::Binding>> out;
  const std::string account = cache::accountKey(ns, name);
  const auto groups = policy::groupsCoveringAccountsIn(ns);
  for (const auto* informer : {in_.roleBindings, in_.clusterRoleBindings}) {
    const auto& store = informer->store();
    for (auto& b : lookup(store, cache::kBindingsByAccount, account)) out.push_back(std::move(b));
    for (const auto& group : groups) {
      for (auto& b : lookup(store, cache::kBindingsByGroup, group)) out.push_back(std::move(b));
    }
  }
  // A binding with several matching subjects is found more than once.
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<PolicyRecord> CacheReader::policies() const {
  std::vector<PolicyRecord> out;
  for (const auto& p : in_.policies->store().list()) out.push_back(*p);
  return out;
}

std::optional<PolicyRecord> CacheReader::policy(std::string_view name) const {
  auto p = in_.policies->store().get("", name);
  if (!p) return std::nullopt;
  return *p;
}

policy::UseEvidence CacheReader::observedUse(std::string_view ns, std::string_view name) const {
  if (ledger_ == nullptr) return {};
  return ledger_->evidenceOf(ns, name);
}

std::vector<Shared<objects::Binding>> CacheReader::bindings() const {
  auto out = in_.roleBindings->store().list();
  auto cluster = in_.clusterRoleBindings->store().list();
  out.insert(out.end(), cluster.begin(), cluster.end());
  return out;
}

std::int64_t CacheReader::observingSince() const {
  return ledger_ == nullptr ? 0 : ledger_->observingSince();
}

policy::UseEvidence CacheReader::useOf(const objects::ServiceAccount& account) const {
  return policy::evidenceFor(observedUse(account.meta.namespace_.view(), account.meta.name()),
                             account);
}

std::int64_t CacheReader::now() const {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace saguard::reconcile
