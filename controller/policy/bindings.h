// Which RBAC bindings name a ServiceAccount, i.e. grant it the permissions of their
// role. Used for `serviceAccounts.unboundOnly` and for BindingGrantsSelectedAccount
// findings.
//
// A binding names the account `ns/name` through any of its subjects:
//   - kind ServiceAccount, name `name`, namespace `ns` (in a RoleBinding an empty
//     subject namespace means the binding's own namespace);
//   - kind Group `system:serviceaccounts` (every account) or
//     `system:serviceaccounts:<ns>` (every account of `ns`);
//   - kind User `system:serviceaccount:<ns>:<name>`: the user name the account's
//     tokens authenticate as, which RBAC matches exactly like a ServiceAccount subject.
//     DESIGN.md lists only the first two forms; this third one grants the same
//     permissions, so leaving it out would hide a real grant.
// `system:authenticated` is not counted although it also covers accounts: it grants
// every authenticated user the same discovery rights, says nothing about a particular
// account, and would make every account "bound".
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "objects/objects.h"

namespace saguard::policy {

// The group of every ServiceAccount; `system:serviceaccounts:<ns>` is the group of the
// accounts of `ns`.
inline constexpr std::string_view kAllAccountsGroup = "system:serviceaccounts";

// What one subject of a binding grants its role to, by the rules above. The views
// point into the binding's strings.
struct SubjectScope {
  enum class Kind : std::uint8_t {
    Nothing,      // no ServiceAccount (a person, another group, a malformed subject)
    Account,      // the account namespace_/name
    AccountsIn,   // every account of namespace_
    AllAccounts,  // every account of the cluster
  };
  Kind kind = Kind::Nothing;
  std::string_view namespace_;
  std::string_view name;
};

// The one reading of a subject: the index of bindings by account (cache/kinds.h), the
// requeue of the accounts a changed binding names (reconcile/) and subjectNamingAccount()
// all go through it.
SubjectScope subjectScope(const objects::Binding& binding, const objects::Subject& subject);

// The group names that cover every account of `ns` (`system:serviceaccounts` and
// `system:serviceaccounts:<ns>`): the keys to look up in an index of bindings by group.
std::array<std::string, 2> groupsCoveringAccountsIn(std::string_view ns);

// The group a Group subject names (any group, not only the ones subjectScope() reads),
// or nullopt for another kind of subject: the key of the index of bindings by group.
std::optional<std::string_view> groupOf(const objects::Subject& subject);

// Whether `scope` covers the account ns/name.
bool scopeCovers(const SubjectScope& scope, std::string_view ns, std::string_view name);

// The account ("namespace", "name") whose tokens authenticate as `user`
// (`system:serviceaccount:<ns>:<name>`), or nullopt for any other user name.
std::optional<std::pair<std::string_view, std::string_view>> serviceAccountOfUser(
    std::string_view user);

// The first subject of `binding` that names the account `ns/name`, or nullptr.
const objects::Subject* subjectNamingAccount(const objects::Binding& binding, std::string_view ns,
                                             std::string_view name);

inline bool bindingNamesAccount(const objects::Binding& binding, std::string_view ns,
                                std::string_view name) {
  return subjectNamingAccount(binding, ns, name) != nullptr;
}

// Whether `binding` is one of the ClusterRoleBindings the API server creates for
// itself (its bootstrap RBAC policy) that name *every* account only through the group
// `system:serviceaccounts`, such as `system:service-account-issuer-discovery`. Such a
// binding grants nothing account-specific (it exists in every cluster), so counting it
// would leave `unboundOnly` selecting nothing and flag every account. Recognised by
// shape: cluster-scoped, named `system:*`, bound to the ClusterRole of the same name,
// and every subject is that group. (objects::Binding carries no labels; the
// `kubernetes.io/bootstrapping: rbac-defaults` label would be the exact test.)
bool isBuiltinAllAccountsBinding(const objects::Binding& binding);

namespace detail {
// Lets accountIsBound take ranges of values or of (smart) pointers.
inline const objects::Binding& deref(const objects::Binding& b) {
  return b;
}
template <typename P>
const objects::Binding& deref(const P& p) {
  return *p;
}
}  // namespace detail

// Whether any binding in [first, last) that is not a built-in all-accounts binding
// names the account: the `unboundOnly` test. Works on any range of objects::Binding
// (or of pointers to one).
template <typename It>
bool accountIsBound(It first, It last, std::string_view ns, std::string_view name) {
  for (; first != last; ++first) {
    const objects::Binding& b = detail::deref(*first);
    if (!isBuiltinAllAccountsBinding(b) && bindingNamesAccount(b, ns, name)) return true;
  }
  return false;
}

}  // namespace saguard::policy
