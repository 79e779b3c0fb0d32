// What evaluate() (policy/evaluate.h) reads: the cluster as a set of cached records.
// The reconciler's ClusterReader over the informer caches is one (reconcile/); a test,
// `saguard audit` or `saguard lint` can give any other. Pure interface, no I/O.
//
// Records are shared, immutable snapshots (the caches replace a record on change, never
// modify it): a caller may hold them while the caches keep changing underneath.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "objects/objects.h"
#include "policy/token_use.h"

namespace saguard::policy {

template <typename T>
using Shared = std::shared_ptr<const T>;

class Snapshot {
 public:
  virtual ~Snapshot() = default;

  virtual std::vector<Shared<objects::ServiceAccount>> serviceAccounts() const = 0;
  // null when not known.
  virtual Shared<objects::Namespace> namespace_(std::string_view name) const = 0;
  // Pods whose spec.serviceAccountName is ns/name.
  virtual std::vector<Shared<objects::Pod>> podsOf(std::string_view ns,
                                                   std::string_view name) const = 0;
  // Bindings that may name the account ns/name (an index may over-approximate:
  // evaluate() checks each with subjectNamingAccount()).
  virtual std::vector<Shared<objects::Binding>> bindingsFor(std::string_view ns,
                                                            std::string_view name) const = 0;
  // What is known of the account's token use (its last-used annotation folded in), for
  // `unusedFor`. A snapshot with no audit source answers {}: nothing known.
  virtual UseEvidence useOf(const objects::ServiceAccount& account) const = 0;
  // Seconds since the epoch: the moment `unusedFor` windows end.
  virtual std::int64_t now() const = 0;
};

}  // namespace saguard::policy
