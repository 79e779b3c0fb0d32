#include "policy/bindings.h"

#include <algorithm>

namespace saguard::policy {
namespace {

constexpr std::string_view kAccountUserPrefix = "system:serviceaccount:";

}  // namespace

std::optional<std::pair<std::string_view, std::string_view>> serviceAccountOfUser(
    std::string_view user) {
  if (!user.starts_with(kAccountUserPrefix)) return std::nullopt;
  std::string_view rest = user.substr(kAccountUserPrefix.size());
  const auto colon = rest.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size())
    return std::nullopt;
  return std::pair{rest.substr(0, colon), rest.substr(colon + 1)};
}

std::array<std::string, 2> groupsCoveringAccountsIn(std::string_view ns) {
  std::string own(kAllAccountsGroup);
  own += ':';
  own += ns;
  return {std::string(kAllAccountsGroup), std::move(own)};
}

SubjectScope subjectScope(const objects::Binding& binding, const objects::Subject& subject) {
  using Kind = SubjectScope::Kind;
  const std::string_view kind = subject.kind.view();
  const std::string_view name = subject.name.view();
  if (kind == "ServiceAccount") {
    std::string_view ns = subject.namespace_.view();
    // In a RoleBinding an empty subject namespace means the binding's own.
    if (ns.empty() && !binding.clusterScoped) ns = binding.meta.namespace_.view();
    if (ns.empty() || name.empty()) return {};  // the API rejects these
    return {Kind::Account, ns, name};
  }
  if (kind == "Group") {
    if (name == kAllAccountsGroup) return {Kind::AllAccounts, {}, {}};
    if (name.size() > kAllAccountsGroup.size() + 1 && name.starts_with(kAllAccountsGroup) &&
        name[kAllAccountsGroup.size()] == ':') {
      return {Kind::AccountsIn, name.substr(kAllAccountsGroup.size() + 1), {}};
    }
    return {};
  }
  if (kind == "User") {
    if (auto account = serviceAccountOfUser(name))
      return {Kind::Account, account->first, account->second};
  }
  return {};
}

std::optional<std::string_view> groupOf(const objects::Subject& subject) {
  if (subject.kind.view() != "Group" || subject.name.empty()) return std::nullopt;
  return subject.name.view();
}

bool scopeCovers(const SubjectScope& scope, std::string_view ns, std::string_view name) {
  switch (scope.kind) {
    case SubjectScope::Kind::Account:
      return scope.namespace_ == ns && scope.name == name;
    case SubjectScope::Kind::AccountsIn:
      return scope.namespace_ == ns;
    case SubjectScope::Kind::AllAccounts:
      return true;
    case SubjectScope::Kind::Nothing:
      break;
  }
  return false;
}

const objects::Subject* subjectNamingAccount(const objects::Binding& binding, std::string_view ns,
                                             std::string_view name) {
  if (ns.empty() || name.empty()) return nullptr;
  for (const auto& subject : binding.subjects) {
    if (scopeCovers(subjectScope(binding, subject), ns, name)) return &subject;
  }
  return nullptr;
}

bool isBuiltinAllAccountsBinding(const objects::Binding& binding) {
  return binding.clusterScoped && binding.meta.name().starts_with("system:") &&
         binding.roleRef.kind.view() == "ClusterRole" &&
         binding.roleRef.name.view() == binding.meta.name() && !binding.subjects.empty() &&
         std::all_of(binding.subjects.begin(), binding.subjects.end(), [](const auto& s) {
           return s.kind.view() == "Group" && s.name.view() == kAllAccountsGroup;
         });
}

}  // namespace saguard::policy
