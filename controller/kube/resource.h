// Addressing the Kubernetes API: which resource (group, version, plural, scope), the
// URL path of a collection, an object or a subresource, and the query parameters of
// list and watch requests, percent-encoded.
//
// Callers name a Resource (the well-known ones are in `resources::`) and pass options
// structs; the client (client.h) turns them into request targets with the functions
// below, which are public so they can be tested and reused on their own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace saguard::kube {

// A kind of object the API serves: GroupVersionResource plus whether it lives in a namespace.
struct Resource {
  std::string group{};    // "" for the core group
  std::string version{};  // "v1"
  std::string plural{};   // "serviceaccounts"
  bool namespaced = true;

  std::string apiVersion() const;  // "v1" or "rbac.authorization.k8s.io/v1"
};

namespace resources {
extern const Resource kNamespaces;
extern const Resource kServiceAccounts;
extern const Resource kPods;
extern const Resource kConfigMaps;
extern const Resource kSecrets;
extern const Resource kEvents;  // events.k8s.io/v1
extern const Resource kRoleBindings;
extern const Resource kClusterRoleBindings;
extern const Resource kLeases;                  // coordination.k8s.io/v1
extern const Resource kServiceAccountPolicies;  // saguard.io/v1alpha1, cluster-scoped
// apps/v1: the workloads `saguard restart` restarts, and the ReplicaSets between a
// Deployment and its pods. Used by the CLI with the user's own credentials only.
extern const Resource kDeployments;
extern const Resource kStatefulSets;
extern const Resource kDaemonSets;
extern const Resource kReplicaSets;
}  // namespace resources

// "/api/v1" for the core group (""), "/apis/GROUP/VERSION" for the others.
std::string groupVersionPath(std::string_view group, std::string_view version);

// "/api/v1/namespaces/NS/serviceaccounts/NAME/SUB" and the like. `ns` empty on a
// namespaced resource means "all namespaces" (a collection path); `ns` is ignored for
// cluster-scoped resources. Segments are percent-encoded.
std::string resourcePath(const Resource& resource, std::string_view ns, std::string_view name = {},
                         std::string_view subresource = {});

// RFC 3986 percent-encoding: every byte but ALPHA, DIGIT, '-', '.', '_', '~' becomes %XX.
std::string percentEncode(std::string_view text);

// An ordered list of query parameters; encode() gives "?a=1&b=x%3Dy" ("" when empty).
class Query {
 public:
  Query& add(std::string key, std::string value);
  bool empty() const { return params_.empty(); }
  const std::vector<std::pair<std::string, std::string>>& params() const { return params_; }
  std::string encode() const;

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

// One page of a list (client.h's list()), or the first page when paging (listPages()).
struct ListOptions {
  std::string labelSelector{};  // "app=web,tier!=db"
  std::string fieldSelector{};  // "metadata.name=default"
  std::string
      resourceVersion{};  // "" = most recent (quorum read); "0" = any (from the watch cache)
  std::string resourceVersionMatch{};   // "", "NotOlderThan" or "Exact"
  std::int64_t limit = 0;               // 0 = no limit
  std::string continueToken{};          // from the previous page's metadata.continue
  std::optional<int> timeoutSeconds{};  // server-side limit on the call
};

struct WatchOptions {
  std::string labelSelector{};
  std::string fieldSelector{};
  std::string resourceVersion{};       // start after this version; "" = from now, "0" = any
  std::string resourceVersionMatch{};  // "NotOlderThan" with sendInitialEvents
  bool allowWatchBookmarks = true;
  std::optional<int> timeoutSeconds{};  // the server closes the stream after this long
  std::optional<bool>
      sendInitialEvents{};  // streaming list (needs resourceVersionMatch=NotOlderThan)
  // The Accept header (not a query parameter); "" = application/json. The reflector asks
  // for "application/vnd.kubernetes.protobuf;stream=watch" (codec/protobuf.h).
  std::string accept{};
};

Query listQuery(const ListOptions& options);
Query watchQuery(const WatchOptions& options);  // starts with watch=true

}  // namespace saguard::kube
