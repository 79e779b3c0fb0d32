#include "cache/kinds.h"

#include <algorithm>
#include <utility>

#include "cache/decoding.h"
#include "kube/resource.h"
#include "policy/bindings.h"

namespace saguard::cache {

template class Store<objects::Pod>;
template class Store<objects::ServiceAccount>;
template class Store<objects::Binding>;
template class Store<objects::Namespace>;
template class Reflector<objects::Pod>;
template class Reflector<objects::ServiceAccount>;
template class Reflector<objects::Binding>;
template class Reflector<objects::Namespace>;
template class Informer<objects::Pod>;
template class Informer<objects::ServiceAccount>;
template class Informer<objects::Binding>;
template class Informer<objects::Namespace>;

namespace {

template <typename R>
Result<std::unique_ptr<Informer<R>>> make(kube::Client& client, Decoding<R> decoding,
                                          ReflectorOptions options, const kube::Resource& resource,
                                          const char* name,
                                          std::vector<typename Store<R>::Indexer> indexers) {
  options.resource = resource;
  if (options.name.empty()) options.name = name;
  return Informer<R>::create(
      client, std::move(decoding),
      InformerOptions<R>{.reflector = std::move(options), .indexers = std::move(indexers)});
}

}  // namespace

std::string accountKey(std::string_view ns, std::string_view name) {
  return objectKey(ns, name);
}

std::vector<std::string> podAccountKeys(const objects::Pod& pod) {
  return {accountKey(pod.meta.namespace_.view(), pod.serviceAccountName.view())};
}

std::vector<std::string> accountNamespaceKeys(const objects::ServiceAccount& account) {
  return {account.meta.namespace_.str()};
}

std::vector<std::string> bindingAccountKeys(const objects::Binding& binding) {
  std::vector<std::string> keys;
  for (const auto& subject : binding.subjects) {
    const policy::SubjectScope scope = policy::subjectScope(binding, subject);
    if (scope.kind == policy::SubjectScope::Kind::Account)
      keys.push_back(accountKey(scope.namespace_, scope.name));
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

std::vector<std::string> bindingGroupKeys(const objects::Binding& binding) {
  std::vector<std::string> keys;
  for (const auto& subject : binding.subjects) {
    if (auto group = policy::groupOf(subject)) keys.emplace_back(*group);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

Result<std::unique_ptr<PodInformer>> makePodInformer(kube::Client& client,
                                                     ReflectorOptions options) {
  return make<objects::Pod>(client, codecDecoding<codec::Kind::Pod>(), std::move(options),
                            kube::resources::kPods, "pods", {{kPodsByAccount, podAccountKeys}});
}

Result<std::unique_ptr<ServiceAccountInformer>> makeServiceAccountInformer(
    kube::Client& client, ReflectorOptions options) {
  return make<objects::ServiceAccount>(client, codecDecoding<codec::Kind::ServiceAccount>(),
                                       std::move(options), kube::resources::kServiceAccounts,
                                       "serviceaccounts",
                                       {{kAccountsByNamespace, accountNamespaceKeys}});
}

Result<std::unique_ptr<BindingInformer>> makeRoleBindingInformer(kube::Client& client,
                                                                 ReflectorOptions options) {
  return make<objects::Binding>(
      client, codecDecoding<codec::Kind::RoleBinding>(), std::move(options),
      kube::resources::kRoleBindings, "rolebindings",
      {{kBindingsByAccount, bindingAccountKeys}, {kBindingsByGroup, bindingGroupKeys}});
}

Result<std::unique_ptr<BindingInformer>> makeClusterRoleBindingInformer(kube::Client& client,
                                                                        ReflectorOptions options) {
  return make<objects::Binding>(
      client, codecDecoding<codec::Kind::ClusterRoleBinding>(), std::move(options),
      kube::resources::kClusterRoleBindings, "clusterrolebindings",
      {{kBindingsByAccount, bindingAccountKeys}, {kBindingsByGroup, bindingGroupKeys}});
}

Result<std::unique_ptr<NamespaceInformer>> makeNamespaceInformer(kube::Client& client,
                                                                 ReflectorOptions options) {
  return make<objects::Namespace>(client, codecDecoding<codec::Kind::Namespace>(),
                                  std::move(options), kube::resources::kNamespaces, "namespaces",
                                  {});
}

}  // namespace saguard::cache
