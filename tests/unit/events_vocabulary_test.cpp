// The fixed vocabulary of DESIGN.md: each reason's type, action and kinds, and the
// checks emit() makes on the object an Event is about.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "events/event.h"
#include "events/vocabulary.h"
#include "objects/objects.h"

namespace saguard::events {
namespace {

TEST(EventsVocabulary, TypesAreThoseOfTheDesign) {
  EXPECT_EQ(typeOf(Reason::AutomountDisabled), EventType::Normal);
  for (Reason reason :
       {Reason::DriftReverted, Reason::AutomountWouldBeDisabled, Reason::TokenMounted,
        Reason::PodOverridesPolicy, Reason::BindingGrantsSelectedAccount, Reason::PolicyInvalid,
        Reason::DeclaredByOwner}) {
    EXPECT_EQ(typeOf(reason), EventType::Warning) << toString(reason);
  }
  EXPECT_STREQ(toString(EventType::Normal), "Normal");
  EXPECT_STREQ(toString(EventType::Warning), "Warning");
}

TEST(EventsVocabulary, NamesRoundTripAndAreDistinct) {
  std::set<std::string> names;
  for (Reason reason : kAllReasons) {
    std::string name = toString(reason);
    EXPECT_TRUE(names.insert(name).second) << name;
    ASSERT_TRUE(parseReason(name).has_value()) << name;
    EXPECT_EQ(*parseReason(name), reason);
    EXPECT_FALSE(actionOf(reason).empty()) << name;
    EXPECT_LE(name.size(), 128u);  // the API's limit on reason
  }
  EXPECT_EQ(names.size(), 8u);
  EXPECT_FALSE(parseReason("automountdisabled").has_value());
  EXPECT_FALSE(parseReason("").has_value());
  EXPECT_STREQ(toString(Reason::BindingGrantsSelectedAccount), "BindingGrantsSelectedAccount");
}

TEST(EventsVocabulary, ActionsSayWhatSaguardDid) {
  EXPECT_EQ(actionOf(Reason::AutomountDisabled), "Patch");
  EXPECT_EQ(actionOf(Reason::DriftReverted), "Patch");
  EXPECT_EQ(actionOf(Reason::AutomountWouldBeDisabled), "Audit");
  EXPECT_EQ(actionOf(Reason::TokenMounted), "Report");
  EXPECT_EQ(actionOf(Reason::PolicyInvalid), "Reconcile");
  EXPECT_EQ(actionOf(Reason::DeclaredByOwner), "Patch");  // the patch held back
}

TEST(EventsVocabulary, EachReasonIsAboutItsKinds) {
  EXPECT_TRUE(isAbout(Reason::AutomountDisabled, "ServiceAccount"));
  EXPECT_FALSE(isAbout(Reason::AutomountDisabled, "Pod"));
  EXPECT_TRUE(isAbout(Reason::TokenMounted, "Pod"));
  EXPECT_TRUE(isAbout(Reason::PodOverridesPolicy, "Pod"));
  EXPECT_TRUE(isAbout(Reason::BindingGrantsSelectedAccount, "RoleBinding"));
  EXPECT_TRUE(isAbout(Reason::BindingGrantsSelectedAccount, "ClusterRoleBinding"));
  EXPECT_FALSE(isAbout(Reason::BindingGrantsSelectedAccount, "ServiceAccount"));
  EXPECT_TRUE(isAbout(Reason::PolicyInvalid, "ServiceAccountPolicy"));
  EXPECT_TRUE(isAbout(Reason::DeclaredByOwner, "ServiceAccount"));
  EXPECT_FALSE(isAbout(Reason::DeclaredByOwner, "Pod"));
  // The unused second slot must not make "" a kind.
  EXPECT_FALSE(isAbout(Reason::PolicyInvalid, ""));
}

TEST(EventsVocabulary, KindsKnowTheirScope) {
  ASSERT_NE(findKind("ClusterRoleBinding"), nullptr);
  EXPECT_FALSE(findKind("ClusterRoleBinding")->namespaced);
  EXPECT_FALSE(findKind("ServiceAccountPolicy")->namespaced);
  EXPECT_TRUE(findKind("RoleBinding")->namespaced);
  EXPECT_EQ(findKind("ServiceAccountPolicy")->apiVersion, "saguard.io/v1alpha1");
  EXPECT_EQ(findKind("Deployment"), nullptr);
}

objects::Meta meta(const char* ns, const char* name) {
  return objects::Meta{Symbol(ns), name, std::string("uid-") + name, "42"};
}

TEST(EventsRefs, FromProjectedRecords) {
  objects::ServiceAccount account;
  account.meta = meta("team-a", "default");
  ObjectRef sa = refTo(account);
  EXPECT_EQ(sa, (ObjectRef{"v1", "ServiceAccount", "team-a", "default", "uid-default", "42"}));

  objects::Pod pod;
  pod.meta = meta("team-a", "web-0");
  EXPECT_EQ(refTo(pod), (ObjectRef{"v1", "Pod", "team-a", "web-0", "uid-web-0", "42"}));

  objects::Binding rb;
  rb.meta = meta("team-a", "edit");
  EXPECT_EQ(refTo(rb), (ObjectRef{"rbac.authorization.k8s.io/v1", "RoleBinding", "team-a", "edit",
                                  "uid-edit", "42"}));

  objects::Binding crb;
  crb.meta = meta("", "admins");
  crb.clusterScoped = true;
  ObjectRef c = refTo(crb);
  EXPECT_EQ(c.kind, "ClusterRoleBinding");
  EXPECT_EQ(c.apiVersion, "rbac.authorization.k8s.io/v1");
  EXPECT_TRUE(c.namespace_.empty());

  ObjectRef p = policyRef("no-token", "u1");
  EXPECT_EQ(p,
            (ObjectRef{"saguard.io/v1alpha1", "ServiceAccountPolicy", "", "no-token", "u1", ""}));
}

TEST(EventsRefs, ValidateRegardingRefusesWrongCalls) {
  ObjectRef sa{"v1", "ServiceAccount", "ns", "default", "", ""};
  EXPECT_TRUE(validateRegarding(Reason::AutomountDisabled, sa).ok());

  Status wrongKind = validateRegarding(Reason::TokenMounted, sa);
  ASSERT_FALSE(wrongKind.ok());
  EXPECT_EQ(wrongKind.kind(), ErrorKind::Invalid);
  EXPECT_NE(wrongKind.error().message.find("is about a Pod"), std::string::npos)
      << wrongKind.error().message;

  ObjectRef noNamespace = sa;
  noNamespace.namespace_.clear();
  Status st = validateRegarding(Reason::AutomountDisabled, noNamespace);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("namespace"), std::string::npos);

  ObjectRef crb{"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "ns", "admins", "", ""};
  EXPECT_FALSE(validateRegarding(Reason::BindingGrantsSelectedAccount, crb).ok());
  crb.namespace_.clear();
  EXPECT_TRUE(validateRegarding(Reason::BindingGrantsSelectedAccount, crb).ok());

  ObjectRef noName = sa;
  noName.name.clear();
  EXPECT_FALSE(validateRegarding(Reason::AutomountDisabled, noName).ok());
  ObjectRef noVersion = sa;
  noVersion.apiVersion.clear();
  EXPECT_FALSE(validateRegarding(Reason::AutomountDisabled, noVersion).ok());
}

}  // namespace
}  // namespace saguard::events
