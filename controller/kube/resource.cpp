#include "kube/resource.h"

namespace saguard::kube {

std::string Resource::apiVersion() const {
  return group.empty() ? version : group + "/" + version;
}

namespace resources {
const Resource kNamespaces{"", "v1", "namespaces", false};
const Resource kServiceAccounts{"", "v1", "serviceaccounts", true};
const Resource kPods{"", "v1", "pods", true};
const Resource kConfigMaps{"", "v1", "configmaps", true};
const Resource kSecrets{"", "v1", "secrets", true};
const Resource kEvents{"events.k8s.io", "v1", "events", true};
const Resource kRoleBindings{"rbac.authorization.k8s.io", "v1", "rolebindings", true};
const Resource kClusterRoleBindings{"rbac.authorization.k8s.io", "v1", "clusterrolebindings",
                                    false};
const Resource kLeases{"coordination.k8s.io", "v1", "leases", true};
const Resource kServiceAccountPolicies{"saguard.io", "v1alpha1", "serviceaccountpolicies", false};
const Resource kDeployments{"apps", "v1", "deployments", true};
const Resource kStatefulSets{"apps", "v1", "statefulsets", true};
const Resource kDaemonSets{"apps", "v1", "daemonsets", true};
const Resource kReplicaSets{"apps", "v1", "replicasets", true};
}  // namespace resources

std::string percentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') ||
                      u == '-' || u == '.' || u == '_' || u == '~';
    if (unreserved) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    }
  }
  return out;
}

std::string groupVersionPath(std::string_view group, std::string_view version) {
  return group.empty() ? "/api/" + percentEncode(version)
                       : "/apis/" + percentEncode(group) + "/" + percentEncode(version);
}

std::string resourcePath(const Resource& resource, std::string_view ns, std::string_view name,
                         std::string_view subresource) {
  std::string path = groupVersionPath(resource.group, resource.version);
  if (resource.namespaced && !ns.empty()) path += "/namespaces/" + percentEncode(ns);
  path += "/" + percentEncode(resource.plural);
  if (!name.empty()) {
    path += "/" + percentEncode(name);
    if (!subresource.empty()) path += "/" + percentEncode(subresource);
  }
  return path;
}

Query& Query::add(std::string key, std::string value) {
  params_.emplace_back(std::move(key), std::move(value));
  return *this;
}

std::string Query::encode() const {
  std::string out;
  for (const auto& [key, value] : params_) {
    out += out.empty() ? '?' : '&';
    out += percentEncode(key);
    out += '=';
    out += percentEncode(value);
  }
  return out;
}

Query listQuery(const ListOptions& options) {
  Query q;
  if (!options.labelSelector.empty()) q.add("labelSelector", options.labelSelector);
  if (!options.fieldSelector.empty()) q.add("fieldSelector", options.fieldSelector);
  if (!options.resourceVersion.empty()) q.add("resourceVersion", options.resourceVersion);
  if (!options.resourceVersionMatch.empty())
    q.add("resourceVersionMatch", options.resourceVersionMatch);
  if (options.limit > 0) q.add("limit", std::to_string(options.limit));
  if (!options.continueToken.empty()) q.add("continue", options.continueToken);
  if (options.timeoutSeconds) q.add("timeoutSeconds", std::to_string(*options.timeoutSeconds));
  return q;
}

Query watchQuery(const WatchOptions& options) {
  Query q;
  q.add("watch", "true");
  if (!options.labelSelector.empty()) q.add("labelSelector", options.labelSelector);
  if (!options.fieldSelector.empty()) q.add("fieldSelector", options.fieldSelector);
  if (!options.resourceVersion.empty()) q.add("resourceVersion", options.resourceVersion);
  if (!options.resourceVersionMatch.empty())
    q.add("resourceVersionMatch", options.resourceVersionMatch);
  if (options.allowWatchBookmarks) q.add("allowWatchBookmarks", "true");
  if (options.timeoutSeconds) q.add("timeoutSeconds", std::to_string(*options.timeoutSeconds));
  if (options.sendInitialEvents)
    q.add("sendInitialEvents", *options.sendInitialEvents ? "true" : "false");
  return q;
}

}  // namespace saguard::kube
