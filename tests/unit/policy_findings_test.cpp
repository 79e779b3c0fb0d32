#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "policy/findings.h"
#include "policy/patch.h"

namespace saguard::policy {
namespace {

TEST(PolicyFindings, SeverityOrderOfTheReasons) {
  EXPECT_EQ(severityOf(Reason::BindingGrantsSelectedAccount), Severity::Critical);
  EXPECT_EQ(severityOf(Reason::PodOverridesPolicy), Severity::High);
  EXPECT_EQ(severityOf(Reason::TokenMounted), Severity::Medium);
  EXPECT_EQ(severityOf(Reason::AutomountWouldBeDisabled), Severity::Low);
  EXPECT_EQ(severityOf(Reason::DriftReverted), Severity::Info);
  EXPECT_EQ(severityOf(Reason::AutomountDisabled), Severity::Info);
  EXPECT_EQ(severityOf(Reason::PolicyInvalid), Severity::Info);
  EXPECT_GT(Severity::Critical, Severity::High);
  EXPECT_GT(Severity::High, Severity::Medium);
  EXPECT_GT(Severity::Medium, Severity::Low);
  EXPECT_GT(Severity::Low, Severity::Info);
}

TEST(PolicyFindings, NamesAndEventTypes) {
  const std::pair<Reason, const char*> reasons[] = {
      {Reason::AutomountDisabled, "AutomountDisabled"},
      {Reason::DriftReverted, "DriftReverted"},
      {Reason::AutomountWouldBeDisabled, "AutomountWouldBeDisabled"},
      {Reason::TokenMounted, "TokenMounted"},
      {Reason::PodOverridesPolicy, "PodOverridesPolicy"},
      {Reason::BindingGrantsSelectedAccount, "BindingGrantsSelectedAccount"},
      {Reason::PolicyInvalid, "PolicyInvalid"}};
  for (const auto& [reason, name] : reasons) {
    EXPECT_STREQ(toString(reason), name);
  }
  EXPECT_STREQ(toString(FindingKind::ServiceAccount), "ServiceAccount");
  EXPECT_STREQ(toString(FindingKind::Pod), "Pod");
  EXPECT_STREQ(toString(FindingKind::RoleBinding), "RoleBinding");
  EXPECT_STREQ(toString(FindingKind::ClusterRoleBinding), "ClusterRoleBinding");
  EXPECT_STREQ(toString(Severity::Critical), "Critical");
  EXPECT_STREQ(toString(Severity::Info), "Info");
}

TEST(PolicyFindings, RankPutsMostSevereFirstThenKindNamespaceName) {
  std::vector<Finding> f = {
      makeFinding(FindingKind::Pod, "b", "p1", Reason::TokenMounted, "m"),
      makeFinding(FindingKind::ServiceAccount, "a", "default", Reason::AutomountWouldBeDisabled,
                  "m"),
      makeFinding(FindingKind::Pod, "a", "p2", Reason::PodOverridesPolicy, "m"),
      makeFinding(FindingKind::ClusterRoleBinding, "", "crb", Reason::BindingGrantsSelectedAccount,
                  "m"),
      makeFinding(FindingKind::Pod, "a", "p9", Reason::TokenMounted, "m"),
      makeFinding(FindingKind::RoleBinding, "a", "rb", Reason::BindingGrantsSelectedAccount, "m"),
      makeFinding(FindingKind::Pod, "a", "p1", Reason::TokenMounted, "m"),
  };
  rankFindings(f);
  std::vector<std::string> order;
  for (const auto& x : f) order.push_back(x.namespace_ + "/" + x.name);
  EXPECT_EQ(order, (std::vector<std::string>{"a/rb", "/crb", "a/p2", "a/p1", "a/p9", "b/p1",
                                             "a/default"}));
}

TEST(PolicyFindings, RankIsDeterministicWhateverTheInputOrder) {
  std::vector<Finding> base;
  for (int i = 0; i < 300; ++i) {
    Reason r = static_cast<Reason>(i % 6);
    FindingKind k = static_cast<FindingKind>(i % 4);
    base.push_back(makeFinding(k, "ns" + std::to_string(i % 7), "n" + std::to_string(i % 11), r,
                               "message " + std::to_string(i % 3)));
  }
  std::vector<Finding> first = base;
  rankFindings(first);
  ASSERT_EQ(first.size(), kMaxFindings);
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    std::vector<Finding> shuffled = base;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    rankFindings(shuffled);
    ASSERT_EQ(shuffled, first) << "round " << round;
  }
  for (std::size_t i = 1; i < first.size(); ++i) {
    EXPECT_GE(first[i - 1].severity, first[i].severity);
  }
}

TEST(PolicyFindings, RankCapsAndKeepsTheMostSevere) {
  std::vector<Finding> f;
  for (int i = 0; i < 150; ++i) {
    f.push_back(makeFinding(FindingKind::Pod, "ns", "pod-" + std::to_string(1000 + i),
                            Reason::TokenMounted, "m"));
  }
  f.push_back(makeFinding(FindingKind::Pod, "zz", "last", Reason::PodOverridesPolicy, "m"));
  rankFindings(f);
  ASSERT_EQ(f.size(), 100u);
  EXPECT_EQ(f.front().name, "last");
  EXPECT_EQ(f[1].name, "pod-1000");
  EXPECT_EQ(f.back().name, "pod-1098");

  std::vector<Finding> small = {makeFinding(FindingKind::Pod, "a", "b", Reason::TokenMounted, "m")};
  rankFindings(small, 0);
  EXPECT_TRUE(small.empty());
  std::vector<Finding> none;
  rankFindings(none);
  EXPECT_TRUE(none.empty());
}

objects::Binding binding(bool cluster, const char* ns, const char* name, const char* roleKind,
                         const char* role) {
  objects::Binding b;
  b.clusterScoped = cluster;
  b.meta.namespace_ = Symbol(cluster ? "" : ns);
  b.meta.setName(name);
  b.roleRef = {Symbol(roleKind), Symbol(role)};
  return b;
}

TEST(PolicyFindings, BindingFindingNamesTheRoleAndTheAccount) {
  auto crb = binding(true, "", "debug-admin", "ClusterRole", "cluster-admin");
  objects::Subject sa{Symbol("ServiceAccount"), Symbol("default"), Symbol("team-a")};
  crb.subjects = {sa};
  Finding f = bindingFinding(crb, crb.subjects[0], "team-a", "default");
  EXPECT_EQ(f.kind, FindingKind::ClusterRoleBinding);
  EXPECT_EQ(f.namespace_, "");
  EXPECT_EQ(f.name, "debug-admin");
  EXPECT_EQ(f.reason, Reason::BindingGrantsSelectedAccount);
  EXPECT_EQ(f.severity, Severity::Critical);
  EXPECT_EQ(f.message,
            "ClusterRoleBinding grants ClusterRole cluster-admin to selected ServiceAccount "
            "team-a/default; any token of that account can use these permissions");

  auto rb = binding(false, "team-a", "ci", "Role", "deployer");
  objects::Subject group{Symbol("Group"), Symbol("system:serviceaccounts:team-a"), Symbol()};
  rb.subjects = {group};
  f = bindingFinding(rb, rb.subjects[0], "team-a", "builder");
  EXPECT_EQ(f.kind, FindingKind::RoleBinding);
  EXPECT_EQ(f.namespace_, "team-a");
  EXPECT_EQ(f.name, "ci");
  EXPECT_EQ(f.message,
            "RoleBinding grants Role deployer to selected ServiceAccount team-a/builder (through "
            "Group system:serviceaccounts:team-a) in namespace team-a; any token of that account "
            "can use these permissions");
}

TEST(PolicyFindings, AccountFindingOnlyForAuditedNonCompliantAccounts) {
  objects::ServiceAccount sa;
  sa.meta.namespace_ = Symbol("team-a");
  sa.meta.setName("default");
  for (auto field : {objects::Tristate::Unset, objects::Tristate::True}) {
    sa.automount = field;
    auto f = accountFinding(sa, Enforcement::Audit);
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->kind, FindingKind::ServiceAccount);
    EXPECT_EQ(f->namespace_, "team-a");
    EXPECT_EQ(f->name, "default");
    EXPECT_EQ(f->reason, Reason::AutomountWouldBeDisabled);
    EXPECT_NE(f->message.find("Enforce would set it to false"), std::string::npos);
    EXPECT_FALSE(accountFinding(sa, Enforcement::Enforce).has_value());
    EXPECT_FALSE(accountFinding(sa, Enforcement::None).has_value());
  }
  EXPECT_NE(accountFinding(sa, Enforcement::Audit)->message.find("is true"), std::string::npos);
  sa.automount = objects::Tristate::False;
  EXPECT_FALSE(accountFinding(sa, Enforcement::Audit).has_value());
}

TEST(PolicyFindings, StatusJson) {
  std::vector<Finding> f = {
      makeFinding(FindingKind::ClusterRoleBinding, "", "crb", Reason::BindingGrantsSelectedAccount,
                  "grants"),
      makeFinding(FindingKind::Pod, "ns", "p", Reason::TokenMounted, "holds")};
  EXPECT_EQ(findingsToJson(f), nlohmann::json::parse(R"([
      {"kind": "ClusterRoleBinding", "name": "crb", "reason": "BindingGrantsSelectedAccount",
       "message": "grants"},
      {"kind": "Pod", "namespace": "ns", "name": "p", "reason": "TokenMounted", "message": "holds"}])"));
  EXPECT_EQ(findingsToJson({}), nlohmann::json::array());
}

TEST(PolicyFindings, StatusJsonCutsLongMessagesOnACharacterBoundary) {
  // 1023 ASCII bytes then a 2-byte character straddling the 1024-byte limit.
  std::string message = std::string(1023, 'x') + "\xc3\xa9" + "tail";
  auto j = findingsToJson({makeFinding(FindingKind::Pod, "n", "p", Reason::TokenMounted, message)});
  const std::string& cut = j[0]["message"].get_ref<const std::string&>();
  EXPECT_EQ(cut, std::string(1023, 'x'));
  EXPECT_NO_THROW((void)j.dump());  // still valid UTF-8

  message = std::string(1022, 'x') + "\xc3\xa9" + "tail";
  j = findingsToJson({makeFinding(FindingKind::Pod, "n", "p", Reason::TokenMounted, message)});
  EXPECT_EQ(j[0]["message"].get_ref<const std::string&>(), std::string(1022, 'x') + "\xc3\xa9");

  message = std::string(1024, 'y');
  j = findingsToJson({makeFinding(FindingKind::Pod, "n", "p", Reason::TokenMounted, message)});
  EXPECT_EQ(j[0]["message"].get_ref<const std::string&>(), message);
}

TEST(PolicyPatch, NeedsPatchUnlessFalse) {
  objects::ServiceAccount sa;
  sa.automount = objects::Tristate::Unset;
  EXPECT_TRUE(needsPatch(sa));
  sa.automount = objects::Tristate::True;
  EXPECT_TRUE(needsPatch(sa));
  sa.automount = objects::Tristate::False;
  EXPECT_FALSE(needsPatch(sa));
}

TEST(PolicyPatch, AppliedConfigurationHoldsTheFieldAndTheIdentityOnly) {
  EXPECT_EQ(disableAutomountApply("a", "default", "0f1e"),
            R"({"apiVersion":"v1","automountServiceAccountToken":false,"kind":"ServiceAccount",)"
            R"("metadata":{"name":"default","namespace":"a","uid":"0f1e"}})");
  // Without a uid there is no precondition, and no empty uid is sent.
  EXPECT_EQ(disableAutomountApply("a", "b", ""),
            R"({"apiVersion":"v1","automountServiceAccountToken":false,"kind":"ServiceAccount",)"
            R"("metadata":{"name":"b","namespace":"a"}})");
  // Names that need JSON escaping stay data.
  auto odd = nlohmann::json::parse(disableAutomountApply("n\"s", "a\\b", "u"));
  EXPECT_EQ(odd["metadata"]["namespace"], "n\"s");
  EXPECT_EQ(odd["metadata"]["name"], "a\\b");
}

}  // namespace
}  // namespace saguard::policy
