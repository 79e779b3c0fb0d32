// metav1.LabelSelector semantics over the projected objects::Labels of cached
// Namespaces and ServiceAccounts, exactly as the API server and kubectl apply them:
//   matchLabels k: v      the label k is present with value v
//   In [v...]             the label is present and its value is one of v...
//   NotIn [v...]          the label is absent, or present with a value not in v...
//   Exists / DoesNotExist the label is present / absent
// All requirements must hold; an empty selector ({}) matches everything. (A *missing*
// selector is the caller's business: policy/selection.h treats it as "all".)
//
// The syntax checks are what the API server applies to label keys and values; the CRD
// schema does not check them (like every CRD that embeds metav1.LabelSelector), so
// parsePolicy() does, and a bad key makes the policy Ready=False, reason Invalid.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "objects/objects.h"
#include "policy/types.h"

namespace saguard::policy {

bool matches(const LabelSelector& selector, const objects::Labels& labels);
bool matches(const SelectorRequirement& requirement, const objects::Labels& labels);

// Why `key` is not a valid label key (a qualified name: an optional DNS-1123 subdomain
// prefix and '/', then 1-63 characters of [A-Za-z0-9_.-] starting and ending with an
// alphanumeric), or nullopt.
std::optional<std::string> validateLabelKey(std::string_view key);

// Why `value` is not a valid label value (empty, or up to 63 characters of
// [A-Za-z0-9_.-] starting and ending with an alphanumeric), or nullopt.
std::optional<std::string> validateLabelValue(std::string_view value);

}  // namespace saguard::policy
