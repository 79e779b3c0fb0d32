// What the reconciler reads: the cluster as the informer caches see it. A small
// interface so the reconciler is unit-tested over an in-memory fake and runs over the
// real caches in production (reconcile/cache_reader.h wires it to cache/).
//
// Records are shared, immutable snapshots (the caches replace a record on change, never
// modify it): the caller may hold them while the caches keep changing underneath.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "objects/objects.h"
#include "policy/types.h"

namespace saguard::reconcile {

// A ServiceAccountPolicy as cached: its identity and generation, the parsed spec or
// why it cannot be parsed, and the status the API server last returned (to write the
// status only when its content changes).
struct PolicyRecord {
  std::string name;
  std::string uid;
  std::string resourceVersion;
  std::int64_t generation = 0;
  std::shared_ptr<const policy::Policy> policy;  // null when the spec is invalid
  std::optional<Error> invalid;                  // set when policy is null
  std::string statusJson;                        // `status` as the server has it ("" = none)
};

template <typename T>
using Shared = std::shared_ptr<const T>;

class ClusterReader {
 public:
  virtual ~ClusterReader() = default;

  // null when not cached.
  virtual Shared<objects::ServiceAccount> serviceAccount(std::string_view ns,
                                                         std::string_view name) const = 0;
  virtual std::vector<Shared<objects::ServiceAccount>> serviceAccounts() const = 0;
  virtual std::vector<Shared<objects::ServiceAccount>> serviceAccountsIn(std::string_view ns) const = 0;
  virtual Shared<objects::Namespace> namespace_(std::string_view name) const = 0;
  // Pods whose spec.serviceAccountName is ns/name.
  virtual std::vector<Shared<objects::Pod>> podsOf(std::string_view ns, std::string_view name) const = 0;
  // Bindings that may name the account ns/name: those with a ServiceAccount subject
  // for it and those with a group subject covering it. The caller still checks each
  // with policy::subjectNamingAccount (an index may over-approximate).
  virtual std::vector<Shared<objects::Binding>> bindingsFor(std::string_view ns,
                                                            std::string_view name) const = 0;
  virtual std::vector<PolicyRecord> policies() const = 0;
  virtual std::optional<PolicyRecord> policy(std::string_view name) const = 0;
};

}  // namespace saguard::reconcile
