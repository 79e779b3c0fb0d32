// Work-queue keys: what to do, then the object's key (objects::objectKey, the one key
// format). The reconciler has three kinds of work, all level-based:
//   "account/<namespace>/<name>"  make one ServiceAccount what the policies say
//   "policy/<name>"               recompute one policy's status, findings and gauges
//   "reports"                     publish every policy's findings as policy reports
// Names cannot contain '/', so the split is unambiguous.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace saguard::reconcile {

std::string accountWorkKey(std::string_view ns, std::string_view name);
std::string policyWorkKey(std::string_view name);
inline constexpr std::string_view kReportsWorkKey = "reports";

struct ParsedKey {
  enum class Type { Account, Policy, Reports } type;
  std::string namespace_;  // Account only
  std::string name;        // Account and Policy
};

// nullopt for a key of neither form.
std::optional<ParsedKey> parseKey(std::string_view key);

}  // namespace saguard::reconcile
