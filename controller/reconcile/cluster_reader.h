// What the reconciler reads: the cluster as the informer caches see it. It is the
// policy::Snapshot that evaluate() reads, plus the lookups of single objects and the
// policies themselves. A small interface so the reconciler is unit-tested over an
// in-memory fake and runs over the real caches in production (reconcile/cache_reader.h
// wires it to cache/).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "objects/objects.h"
#include "policy/record.h"
#include "policy/snapshot.h"

namespace saguard::reconcile {

using policy::PolicyRecord;
using policy::Shared;

class ClusterReader : public policy::Snapshot {
 public:
  // null when not cached.
  virtual Shared<objects::ServiceAccount> serviceAccount(std::string_view ns,
                                                         std::string_view name) const = 0;
  virtual std::vector<Shared<objects::ServiceAccount>> serviceAccountsIn(
      std::string_view ns) const = 0;
  virtual std::vector<PolicyRecord> policies() const = 0;
  virtual std::optional<PolicyRecord> policy(std::string_view name) const = 0;
  // What the audit sources recorded of the account's token use, without its annotation
  // (useOf() folds that in): what the last-used annotation is written from.
  virtual policy::UseEvidence observedUse(std::string_view ns, std::string_view name) const = 0;
  // Every RoleBinding and ClusterRoleBinding: the accounts an unboundOnly policy's
  // admission objects leave out (policy/admission.h). Default: none known.
  virtual std::vector<Shared<objects::Binding>> bindings() const { return {}; }
  // Since when audit events are observed (seconds; 0 = no audit source): what an
  // unusedFor policy's admission objects read. Default: no audit source.
  virtual std::int64_t observingSince() const { return 0; }
};

}  // namespace saguard::reconcile
