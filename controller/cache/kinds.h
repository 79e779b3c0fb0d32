// The informers saguard runs, ready-made: one per kind its decisions read, decoded by
// codec/, with the indexes the reconciler looks things up by.
//
//   auto pods = makePodInformer(client);                 // Result<std::unique_ptr<PodInformer>>
//   auto inAccount = (*pods)->store().byIndex(kPodsByAccount, accountKey("ns", "default"));
//
// Index keys:
//   kPodsByAccount       pods by the account they run as: accountKey(namespace, serviceAccountName)
//   kAccountsByNamespace ServiceAccounts by namespace: the namespace name
//   kBindingsByAccount   bindings by each account a subject names directly: accountKey(ns, name)
//                        for a ServiceAccount subject (in a RoleBinding an empty subject
//                        namespace means the binding's own, as RBAC reads it) and for a User
//                        subject "system:serviceaccount:<ns>:<name>" (the user name the
//                        account's tokens authenticate as; policy/bindings.h counts it too)
//   kBindingsByGroup     bindings by each Group subject's name, e.g. "system:serviceaccounts"
//                        or "system:serviceaccounts:<ns>"
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "cache/informer.h"
#include "cache/reflector.h"
#include "cache/store.h"
#include "kube/client.h"
#include "objects/objects.h"

namespace saguard::cache {

using PodInformer = Informer<objects::Pod>;
using ServiceAccountInformer = Informer<objects::ServiceAccount>;
using BindingInformer = Informer<objects::Binding>;  // RoleBindings or ClusterRoleBindings
using NamespaceInformer = Informer<objects::Namespace>;

inline constexpr const char* kPodsByAccount = "account";
inline constexpr const char* kAccountsByNamespace = "namespace";
inline constexpr const char* kBindingsByAccount = "account";
inline constexpr const char* kBindingsByGroup = "group";

// "namespace/name" of a ServiceAccount (objectKey()).
std::string accountKey(std::string_view ns, std::string_view name);

std::vector<std::string> podAccountKeys(const objects::Pod& pod);
std::vector<std::string> accountNamespaceKeys(const objects::ServiceAccount& account);
std::vector<std::string> bindingAccountKeys(const objects::Binding& binding);
std::vector<std::string> bindingGroupKeys(const objects::Binding& binding);

// Each factory fills in `options.resource` (and the name, when empty) and the indexes;
// the rest of `options` (namespace, selectors, timeouts, backoff, clock, sleeper,
// randomness) is taken as given. Invalid when the options are.
Result<std::unique_ptr<PodInformer>> makePodInformer(kube::Client& client,
                                                     ReflectorOptions options = {});
Result<std::unique_ptr<ServiceAccountInformer>> makeServiceAccountInformer(
    kube::Client& client, ReflectorOptions options = {});
Result<std::unique_ptr<BindingInformer>> makeRoleBindingInformer(kube::Client& client,
                                                                 ReflectorOptions options = {});
Result<std::unique_ptr<BindingInformer>> makeClusterRoleBindingInformer(
    kube::Client& client, ReflectorOptions options = {});
Result<std::unique_ptr<NamespaceInformer>> makeNamespaceInformer(kube::Client& client,
                                                                 ReflectorOptions options = {});

// Instantiated once, in kinds.cpp.
extern template class Store<objects::Pod>;
extern template class Store<objects::ServiceAccount>;
extern template class Store<objects::Binding>;
extern template class Store<objects::Namespace>;
extern template class Reflector<objects::Pod>;
extern template class Reflector<objects::ServiceAccount>;
extern template class Reflector<objects::Binding>;
extern template class Reflector<objects::Namespace>;
extern template class Informer<objects::Pod>;
extern template class Informer<objects::ServiceAccount>;
extern template class Informer<objects::Binding>;
extern template class Informer<objects::Namespace>;

}  // namespace saguard::cache
