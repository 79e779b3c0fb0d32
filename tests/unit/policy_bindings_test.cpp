#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "policy/bindings.h"

namespace saguard::policy {
namespace {

objects::Subject subject(const char* kind, const char* name, const char* ns = "") {
  return objects::Subject{Symbol(kind), Symbol(name), Symbol(ns)};
}

objects::Binding roleBinding(const char* ns, std::vector<objects::Subject> subjects) {
  objects::Binding b;
  b.meta.namespace_ = Symbol(ns);
  b.meta.setName("rb");
  b.clusterScoped = false;
  b.roleRef = {Symbol("Role"), Symbol("reader")};
  b.subjects = std::move(subjects);
  return b;
}

objects::Binding clusterBinding(const char* name, const char* role,
                                std::vector<objects::Subject> subjects) {
  objects::Binding b;
  b.meta.setName(name);
  b.clusterScoped = true;
  b.roleRef = {Symbol("ClusterRole"), Symbol(role)};
  b.subjects = std::move(subjects);
  return b;
}

TEST(PolicyBindings, ServiceAccountSubjectWithNamespace) {
  auto b = clusterBinding("crb", "cluster-admin", {subject("ServiceAccount", "default", "team-a")});
  EXPECT_TRUE(bindingNamesAccount(b, "team-a", "default"));
  EXPECT_FALSE(bindingNamesAccount(b, "team-b", "default"));
  EXPECT_FALSE(bindingNamesAccount(b, "team-a", "builder"));
  auto rb = roleBinding("other", {subject("ServiceAccount", "default", "team-a")});
  EXPECT_TRUE(bindingNamesAccount(rb, "team-a", "default"));  // cross-namespace subject
  EXPECT_FALSE(bindingNamesAccount(rb, "other", "default"));
}

TEST(PolicyBindings, EmptySubjectNamespaceMeansTheRoleBindingsNamespace) {
  auto rb = roleBinding("team-a", {subject("ServiceAccount", "builder")});
  EXPECT_TRUE(bindingNamesAccount(rb, "team-a", "builder"));
  EXPECT_FALSE(bindingNamesAccount(rb, "team-b", "builder"));
  // A ClusterRoleBinding has no namespace to fall back on: such a subject names nobody.
  auto crb = clusterBinding("crb", "view", {subject("ServiceAccount", "builder")});
  EXPECT_FALSE(bindingNamesAccount(crb, "team-a", "builder"));
  EXPECT_FALSE(bindingNamesAccount(crb, "", "builder"));
}

TEST(PolicyBindings, ServiceAccountGroups) {
  auto all = roleBinding("x", {subject("Group", "system:serviceaccounts")});
  EXPECT_TRUE(bindingNamesAccount(all, "team-a", "default"));
  EXPECT_TRUE(bindingNamesAccount(all, "kube-system", "anything"));

  auto one = clusterBinding("crb", "view", {subject("Group", "system:serviceaccounts:team-a")});
  EXPECT_TRUE(bindingNamesAccount(one, "team-a", "default"));
  EXPECT_TRUE(bindingNamesAccount(one, "team-a", "builder"));
  EXPECT_FALSE(bindingNamesAccount(one, "team-ab", "default"));
  EXPECT_FALSE(bindingNamesAccount(one, "team", "default"));

  for (const char* near :
       {"system:serviceaccounts:", "system:serviceaccountsXteam-a", "system:serviceaccount:team-a",
        "system:authenticated", "system:serviceaccounts:team-a:default"}) {
    auto b = roleBinding("x", {subject("Group", near)});
    EXPECT_FALSE(bindingNamesAccount(b, "team-a", "default")) << near;
  }
}

TEST(PolicyBindings, UserSubjectWithTheAccountsUserName) {
  auto b = roleBinding("x", {subject("User", "system:serviceaccount:team-a:default")});
  EXPECT_TRUE(bindingNamesAccount(b, "team-a", "default"));
  EXPECT_FALSE(bindingNamesAccount(b, "team-a", "default2"));
  EXPECT_FALSE(bindingNamesAccount(b, "team", "a:default"));  // ':' is not a name character
  for (const char* near : {"system:serviceaccount:team-a", "system:serviceaccounts:team-a:default",
                           "team-a:default", "system:serviceaccount:team-a:default:x"}) {
    EXPECT_FALSE(
        bindingNamesAccount(roleBinding("x", {subject("User", near)}), "team-a", "default"))
        << near;
  }
}

TEST(PolicyBindings, OtherSubjectsNameNobody) {
  auto b = roleBinding("team-a", {subject("User", "default"), subject("Group", "default"),
                                  subject("Robot", "default", "team-a")});
  EXPECT_FALSE(bindingNamesAccount(b, "team-a", "default"));
  EXPECT_FALSE(bindingNamesAccount(roleBinding("team-a", {}), "team-a", "default"));
}

TEST(PolicyBindings, ReturnsTheFirstMatchingSubject) {
  auto b = roleBinding("team-a",
                       {subject("User", "alice"), subject("Group", "system:serviceaccounts:team-a"),
                        subject("ServiceAccount", "default")});
  const objects::Subject* s = subjectNamingAccount(b, "team-a", "default");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s, &b.subjects[1]);
  EXPECT_EQ(subjectNamingAccount(b, "team-b", "default"), nullptr);
}

TEST(PolicyBindings, BuiltinAllAccountsBinding) {
  auto discovery = clusterBinding("system:service-account-issuer-discovery",
                                  "system:service-account-issuer-discovery",
                                  {subject("Group", "system:serviceaccounts")});
  EXPECT_TRUE(isBuiltinAllAccountsBinding(discovery));
  EXPECT_TRUE(bindingNamesAccount(discovery, "team-a", "default"));  // it does name them

  auto userMade = clusterBinding("all-accounts-admin", "cluster-admin",
                                 {subject("Group", "system:serviceaccounts")});
  EXPECT_FALSE(isBuiltinAllAccountsBinding(userMade));
  auto otherRole =
      clusterBinding("system:foo", "cluster-admin", {subject("Group", "system:serviceaccounts")});
  EXPECT_FALSE(isBuiltinAllAccountsBinding(otherRole));
  auto extraSubject = discovery;
  extraSubject.subjects.push_back(subject("ServiceAccount", "default", "team-a"));
  EXPECT_FALSE(isBuiltinAllAccountsBinding(extraSubject));
  auto oneNamespace =
      clusterBinding("system:x", "system:x", {subject("Group", "system:serviceaccounts:team-a")});
  EXPECT_FALSE(isBuiltinAllAccountsBinding(oneNamespace));
  auto namespaced = roleBinding("team-a", {subject("Group", "system:serviceaccounts")});
  namespaced.meta.setName("system:x");
  namespaced.roleRef = {Symbol("ClusterRole"), Symbol("system:x")};
  EXPECT_FALSE(isBuiltinAllAccountsBinding(namespaced));
  EXPECT_FALSE(isBuiltinAllAccountsBinding(clusterBinding("system:x", "system:x", {})));
}

TEST(PolicyBindings, AccountIsBoundSkipsBuiltinBindingsAndTakesAnyRange) {
  auto discovery = clusterBinding("system:service-account-issuer-discovery",
                                  "system:service-account-issuer-discovery",
                                  {subject("Group", "system:serviceaccounts")});
  auto grant = roleBinding("team-a", {subject("ServiceAccount", "builder")});

  std::vector<objects::Binding> values{discovery, grant};
  EXPECT_TRUE(accountIsBound(values.begin(), values.end(), "team-a", "builder"));
  EXPECT_FALSE(accountIsBound(values.begin(), values.end(), "team-a", "default"));
  EXPECT_FALSE(accountIsBound(values.begin(), values.begin(), "team-a", "builder"));

  std::vector<std::shared_ptr<const objects::Binding>> pointers{
      std::make_shared<const objects::Binding>(discovery),
      std::make_shared<const objects::Binding>(grant)};
  EXPECT_TRUE(accountIsBound(pointers.begin(), pointers.end(), "team-a", "builder"));
  EXPECT_FALSE(accountIsBound(pointers.begin(), pointers.end(), "team-b", "builder"));

  const objects::Binding* raw[] = {&grant};
  EXPECT_TRUE(accountIsBound(std::begin(raw), std::end(raw), "team-a", "builder"));
}

}  // namespace
}  // namespace saguard::policy
