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

#include <string_view>

#include "objects/objects.h"

namespace saguard::policy {

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
