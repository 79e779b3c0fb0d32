#include "policy/bindings.h"

#include <algorithm>

namespace saguard::policy {
namespace {

constexpr std::string_view kAllAccountsGroup = "system:serviceaccounts";
constexpr std::string_view kAccountUserPrefix = "system:serviceaccount:";

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool names(const objects::Binding& binding, const objects::Subject& subject, std::string_view ns,
           std::string_view name) {
  std::string_view kind = subject.kind.view();
  std::string_view subjectName = subject.name.view();
  if (kind == "ServiceAccount") {
    std::string_view subjectNs = subject.namespace_.view();
    if (subjectNs.empty() && !binding.clusterScoped) subjectNs = binding.meta.namespace_.view();
    return subjectName == name && !subjectNs.empty() && subjectNs == ns;
  }
  if (kind == "Group") {
    if (subjectName == kAllAccountsGroup) return true;
    // system:serviceaccounts:<ns>
    return subjectName.size() == kAllAccountsGroup.size() + 1 + ns.size() &&
           startsWith(subjectName, kAllAccountsGroup) &&
           subjectName[kAllAccountsGroup.size()] == ':' &&
           subjectName.substr(kAllAccountsGroup.size() + 1) == ns;
  }
  if (kind == "User") {
    // system:serviceaccount:<ns>:<name>
    if (!startsWith(subjectName, kAccountUserPrefix)) return false;
    std::string_view rest = subjectName.substr(kAccountUserPrefix.size());
    return rest.size() == ns.size() + 1 + name.size() && rest.substr(0, ns.size()) == ns &&
           rest[ns.size()] == ':' && rest.substr(ns.size() + 1) == name;
  }
  return false;
}

}  // namespace

const objects::Subject* subjectNamingAccount(const objects::Binding& binding, std::string_view ns,
                                             std::string_view name) {
  if (ns.empty() || name.empty()) return nullptr;
  for (const auto& subject : binding.subjects) {
    if (names(binding, subject, ns, name)) return &subject;
  }
  return nullptr;
}

bool isBuiltinAllAccountsBinding(const objects::Binding& binding) {
  return binding.clusterScoped && startsWith(binding.meta.name(), "system:") &&
         binding.roleRef.kind.view() == "ClusterRole" &&
         binding.roleRef.name.view() == binding.meta.name() && !binding.subjects.empty() &&
         std::all_of(binding.subjects.begin(), binding.subjects.end(), [](const auto& s) {
           return s.kind.view() == "Group" && s.name.view() == kAllAccountsGroup;
         });
}

}  // namespace saguard::policy
