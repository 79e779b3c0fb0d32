// Request targets: resource paths for every scope and group, and list/watch query
// parameters with RFC 3986 percent-encoding.
#include <gtest/gtest.h>

#include "kube/resource.h"

namespace saguard::kube {
namespace {

TEST(ResourcePath, CoreNamespacedResource) {
  const Resource& sa = resources::kServiceAccounts;
  EXPECT_EQ(resourcePath(sa, "team-a"), "/api/v1/namespaces/team-a/serviceaccounts");
  EXPECT_EQ(resourcePath(sa, "team-a", "default"),
            "/api/v1/namespaces/team-a/serviceaccounts/default");
  EXPECT_EQ(resourcePath(sa, "team-a", "default", "token"),
            "/api/v1/namespaces/team-a/serviceaccounts/default/token");
  EXPECT_EQ(resourcePath(sa, ""), "/api/v1/serviceaccounts");  // all namespaces
}

TEST(ResourcePath, GroupVersionOfTheCoreAndOtherGroups) {
  EXPECT_EQ(groupVersionPath("", "v1"), "/api/v1");
  EXPECT_EQ(groupVersionPath("openreports.io", "v1alpha1"), "/apis/openreports.io/v1alpha1");
}

TEST(ResourcePath, GroupedAndClusterScoped) {
  EXPECT_EQ(resourcePath(resources::kRoleBindings, "ns", "rb"),
            "/apis/rbac.authorization.k8s.io/v1/namespaces/ns/rolebindings/rb");
  EXPECT_EQ(resourcePath(resources::kClusterRoleBindings, "ignored", "crb"),
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/crb");
  EXPECT_EQ(resourcePath(resources::kNamespaces, "", "kube-system"),
            "/api/v1/namespaces/kube-system");
  EXPECT_EQ(resourcePath(resources::kServiceAccountPolicies, "", "p", "status"),
            "/apis/saguard.io/v1alpha1/serviceaccountpolicies/p/status");
  EXPECT_EQ(resourcePath(resources::kLeases, "saguard-system", "saguard-leader"),
            "/apis/coordination.k8s.io/v1/namespaces/saguard-system/leases/saguard-leader");
}

TEST(ResourcePath, SubresourceNeedsName) {
  EXPECT_EQ(resourcePath(resources::kPods, "ns", "", "status"), "/api/v1/namespaces/ns/pods");
}

TEST(ResourcePath, SegmentsAreEncoded) {
  EXPECT_EQ(resourcePath(resources::kConfigMaps, "a/b", "x y?"),
            "/api/v1/namespaces/a%2Fb/configmaps/x%20y%3F");
}

TEST(ApiVersion, CoreAndGroup) {
  EXPECT_EQ(resources::kPods.apiVersion(), "v1");
  EXPECT_EQ(resources::kEvents.apiVersion(), "events.k8s.io/v1");
}

TEST(PercentEncode, KeepsOnlyUnreserved) {
  EXPECT_EQ(percentEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(percentEncode("app=web,tier!=db"), "app%3Dweb%2Ctier%21%3Ddb");
  EXPECT_EQ(percentEncode("a b+c&d/e%f"), "a%20b%2Bc%26d%2Fe%25f");
  EXPECT_EQ(percentEncode("é"), "%C3%A9");
  EXPECT_EQ(percentEncode(std::string("\0\x7f", 2)), "%00%7F");
  EXPECT_EQ(percentEncode("env in (prod, dev)"), "env%20in%20%28prod%2C%20dev%29");
}

TEST(Query, EncodesInOrder) {
  Query q;
  EXPECT_EQ(q.encode(), "");
  q.add("labelSelector", "a=b").add("limit", "2");
  EXPECT_EQ(q.encode(), "?labelSelector=a%3Db&limit=2");
}

TEST(ListQuery, AllParameters) {
  ListOptions o;
  EXPECT_EQ(listQuery(o).encode(), "");
  o.labelSelector = "app in (a,b)";
  o.fieldSelector = "metadata.name=default";
  o.resourceVersion = "0";
  o.resourceVersionMatch = "NotOlderThan";
  o.limit = 500;
  o.continueToken = "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIzfQ==";
  o.timeoutSeconds = 30;
  EXPECT_EQ(listQuery(o).encode(),
            "?labelSelector=app%20in%20%28a%2Cb%29&fieldSelector=metadata.name%3Ddefault&"
            "resourceVersion=0"
            "&resourceVersionMatch=NotOlderThan&limit=500"
            "&continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIzfQ%3D%3D&timeoutSeconds=30");
}

TEST(WatchQuery, AllParameters) {
  WatchOptions o;
  EXPECT_EQ(watchQuery(o).encode(), "?watch=true&allowWatchBookmarks=true");
  o.allowWatchBookmarks = false;
  EXPECT_EQ(watchQuery(o).encode(), "?watch=true");
  o.labelSelector = "x=y";
  o.fieldSelector = "spec.nodeName=n1";
  o.resourceVersion = "1234";
  o.resourceVersionMatch = "NotOlderThan";
  o.allowWatchBookmarks = true;
  o.timeoutSeconds = 300;
  o.sendInitialEvents = true;
  EXPECT_EQ(watchQuery(o).encode(),
            "?watch=true&labelSelector=x%3Dy&fieldSelector=spec.nodeName%3Dn1&resourceVersion=1234"
            "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=300"
            "&sendInitialEvents=true");
  o.sendInitialEvents = false;
  EXPECT_NE(watchQuery(o).encode().find("sendInitialEvents=false"), std::string::npos);
}

}  // namespace
}  // namespace saguard::kube
