// Turning a ServiceAccountPolicy object, as the API server returns it (or as it sits
// in a manifest file), into a policy::Policy with every default applied.
//
// Called by the reconciler whenever a policy's generation changes, and by the offline
// linter. On failure the Error has kind Invalid, a message naming the policy, and one
// ErrorCause per problem whose `field` is the path of the offending field, e.g.
// "spec.namespaces.selector.matchExpressions[0].operator" (at most kMaxCauses of them).
// The reconciler turns such an error into Ready=False, reason Invalid.
//
// It checks everything the CRD schema checks (so files and older CRDs get the same
// answer) plus what the schema cannot: label-key and label-value syntax, and globs
// that could never match a name. Unknown fields are ignored, JSON null counts as
// absent. It never throws, whatever the input.
#pragma once

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string_view>

#include "base/result.h"
#include "policy/types.h"

namespace saguard::policy {

inline constexpr std::size_t kMaxCauses = 32;

// `object` is the whole object: apiVersion/kind (optional; checked when present),
// metadata (name required; uid and generation read when present) and spec (required).
// status is ignored.
Result<Policy> parsePolicy(const nlohmann::json& object);

// The same from JSON text. Text that is not JSON is Invalid with a cause whose field
// is empty.
Result<Policy> parsePolicy(std::string_view json);

}  // namespace saguard::policy
