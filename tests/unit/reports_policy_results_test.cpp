// controller/reports/policy_results.h: a policy's findings as report results, field by
// field for every kind of finding, the outcome of every reason, and pass results.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "policy/evaluate.h"
#include "policy/findings.h"
#include "reports/policy_results.h"
#include "reports/render.h"

namespace saguard::reports {
namespace {

using objects::TokenVolume;
using objects::Tristate;

constexpr Timestamp kAt{1765000000, 0};

policy::Shared<objects::ServiceAccount> account(const std::string& ns, const std::string& name,
                                                Tristate automount) {
  objects::ServiceAccount sa;
  sa.meta = objects::Meta(Symbol(ns), name, "uid-sa-" + name, "7");
  sa.automount = automount;
  return std::make_shared<const objects::ServiceAccount>(std::move(sa));
}

policy::Shared<objects::Pod> pod(const std::string& ns, const std::string& name,
                                 const std::string& accountName, Tristate automount) {
  objects::Pod p;
  p.meta = objects::Meta(Symbol(ns), name, "uid-pod-" + name, "8");
  p.serviceAccountName = Symbol(accountName);
  p.automount = automount;
  p.token = TokenVolume::Projected;
  return std::make_shared<const objects::Pod>(std::move(p));
}

policy::Shared<objects::Binding> binding(const std::string& ns, const std::string& name,
                                         objects::Subject subject) {
  objects::Binding b;
  b.meta = objects::Meta(Symbol(ns), name, "uid-binding-" + name, "9");
  b.clusterScoped = ns.empty();
  b.roleRef = objects::RoleRef{Symbol("ClusterRole"), Symbol("edit")};
  b.subjects.push_back(std::move(subject));
  return std::make_shared<const objects::Binding>(std::move(b));
}

policy::PendingFinding finding(policy::FindingKind kind, policy::Reason reason,
                               policy::Shared<objects::ServiceAccount> sa) {
  policy::PendingFinding f;
  f.kind = kind;
  f.reason = reason;
  f.severity = policy::severityOf(reason);
  f.account = std::move(sa);
  return f;
}

objects::ObjectRef ref(std::string apiVersion, std::string kind, std::string ns, std::string name,
                       std::string uid) {
  return objects::ObjectRef{std::move(apiVersion), std::move(kind), std::move(ns),
                            std::move(name),       std::move(uid),  {}};
}

TEST(ReportsPolicyResults, OutcomeOfEveryReason) {
  for (policy::Reason reason : policy::kAllReasons) {
    const std::optional<Outcome> outcome = outcomeOf(reason);
    switch (reason) {
      case policy::Reason::TokenMounted:
      case policy::Reason::PodOverridesPolicy:
      case policy::Reason::AutomountWouldBeDisabled:
      case policy::Reason::DeclaredByOwner:
        EXPECT_EQ(outcome, Outcome::Fail) << policy::toString(reason);
        break;
      case policy::Reason::BindingGrantsSelectedAccount:
        EXPECT_EQ(outcome, Outcome::Warn) << policy::toString(reason);
        break;
      default:  // actions and policy state are Events and conditions, not results
        EXPECT_EQ(outcome, std::nullopt) << policy::toString(reason);
        break;
    }
  }
}

TEST(ReportsPolicyResults, PodThatHoldsATokenOfItsSelectedAccount) {
  auto sa = account("shop", "default", Tristate::Unset);
  policy::PendingFinding f = finding(policy::FindingKind::Pod, policy::Reason::TokenMounted, sa);
  f.pod = pod("shop", "web", "default", Tristate::Unset);
  const std::optional<Result> r = resultOf(f, "default-accounts", kAt);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->policy, "default-accounts");
  EXPECT_EQ(r->rule, "TokenMounted");
  EXPECT_EQ(r->result, Outcome::Fail);
  EXPECT_EQ(r->severity, policy::Severity::Medium);
  EXPECT_TRUE(r->scored);
  EXPECT_EQ(r->source, "saguard");
  EXPECT_EQ(r->timestamp, kAt);
  EXPECT_EQ(r->resources, (std::vector<objects::ObjectRef>{
                              ref("v1", "Pod", "shop", "web", "uid-pod-web"),
                              ref("v1", "ServiceAccount", "shop", "default", "uid-sa-default")}));
  EXPECT_EQ(r->message, f.build().message);
  EXPECT_EQ(r->properties, (std::map<std::string, std::string>{{"serviceAccount", "shop/default"},
                                                               {"tokenSource", "Default"}}));
  EXPECT_EQ(scopeOf(*r), "shop");
}

TEST(ReportsPolicyResults, PodThatSetsTheFieldItself) {
  auto sa = account("shop", "builder", Tristate::False);
  policy::PendingFinding f =
      finding(policy::FindingKind::Pod, policy::Reason::PodOverridesPolicy, sa);
  f.pod = pod("shop", "worker", "builder", Tristate::True);
  const Result r = *resultOf(f, "p", kAt);
  EXPECT_EQ(r.rule, "PodOverridesPolicy");
  EXPECT_EQ(r.result, Outcome::Fail);
  EXPECT_EQ(r.severity, policy::Severity::High);
  EXPECT_EQ(r.properties.at("tokenSource"), "PodSetsTrue");
  EXPECT_EQ(r.message, f.build().message);
}

TEST(ReportsPolicyResults, RoleBindingGrantingTheAccountThroughAGroup) {
  auto sa = account("shop", "ci", Tristate::Unset);
  policy::PendingFinding f =
      finding(policy::FindingKind::RoleBinding, policy::Reason::BindingGrantsSelectedAccount, sa);
  f.binding = binding("shop", "ci-edit",
                      objects::Subject{Symbol("Group"), Symbol("system:serviceaccounts:shop"), {}});
  f.subject = &f.binding->subjects.front();
  const Result r = *resultOf(f, "p", kAt);
  EXPECT_EQ(r.rule, "BindingGrantsSelectedAccount");
  EXPECT_EQ(r.result, Outcome::Warn);
  EXPECT_EQ(r.severity, policy::Severity::Critical);
  EXPECT_EQ(r.resources, (std::vector<objects::ObjectRef>{
                             ref("rbac.authorization.k8s.io/v1", "RoleBinding", "shop", "ci-edit",
                                 "uid-binding-ci-edit"),
                             ref("v1", "ServiceAccount", "shop", "ci", "uid-sa-ci")}));
  EXPECT_EQ(r.properties,
            (std::map<std::string, std::string>{{"role", "ClusterRole/edit"},
                                                {"serviceAccount", "shop/ci"},
                                                {"subject", "Group/system:serviceaccounts:shop"}}));
  EXPECT_EQ(r.message, f.build().message);
  EXPECT_EQ(scopeOf(r), "shop");
}

TEST(ReportsPolicyResults, ClusterRoleBindingBelongsInTheClusterReport) {
  auto sa = account("shop", "ci", Tristate::Unset);
  policy::PendingFinding f = finding(policy::FindingKind::ClusterRoleBinding,
                                     policy::Reason::BindingGrantsSelectedAccount, sa);
  f.binding = binding("", "ci-admin",
                      objects::Subject{Symbol("ServiceAccount"), Symbol("ci"), Symbol("shop")});
  f.subject = &f.binding->subjects.front();
  const Result r = *resultOf(f, "p", kAt);
  EXPECT_EQ(r.resources.front(), ref("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "",
                                     "ci-admin", "uid-binding-ci-admin"));
  EXPECT_EQ(r.properties.at("subject"), "ServiceAccount/ci");
  EXPECT_EQ(scopeOf(r), "");
  const std::vector<Report> reports = groupByScope({r});
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].clusterScoped());
  EXPECT_EQ(render(reports[0], Flavour::OpenReports)["kind"], "ClusterReport");
}

TEST(ReportsPolicyResults, AccountThatAuditModeWouldFix) {
  auto sa = account("shop", "default", Tristate::True);
  policy::PendingFinding f =
      finding(policy::FindingKind::ServiceAccount, policy::Reason::AutomountWouldBeDisabled, sa);
  f.use = policy::UseEvidence{.lastUsed = 1764979200 + 3600, .observingSince = 1764000000};
  const Result r = *resultOf(f, "audit-only", kAt);
  EXPECT_EQ(r.rule, "AutomountWouldBeDisabled");
  EXPECT_EQ(r.result, Outcome::Fail);
  EXPECT_EQ(r.severity, policy::Severity::Low);
  EXPECT_EQ(r.resources, (std::vector<objects::ObjectRef>{
                             ref("v1", "ServiceAccount", "shop", "default", "uid-sa-default")}));
  EXPECT_EQ(r.properties,
            (std::map<std::string, std::string>{{"automountServiceAccountToken", "true"},
                                                {"observingSince", "2025-11-24"},
                                                {"serviceAccount", "shop/default"},
                                                {"tokenLastUsed", "2025-12-06"}}));
  // The message carries the evidence as the status does.
  EXPECT_EQ(r.message, f.build().message);
  EXPECT_NE(r.message.find("last used on 2025-12-06"), std::string::npos) << r.message;
}

// Enforce cannot write an account whose field Git declares: a failure naming the owner.
TEST(ReportsPolicyResults, AccountDeclaredByItsOwner) {
  objects::ServiceAccount declared = *account("shop", "api", Tristate::True);
  declared.automountOwners = {{Symbol("argocd-controller"), objects::FieldOperation::Apply}};
  auto sa = std::make_shared<const objects::ServiceAccount>(std::move(declared));
  const Result r = *resultOf(
      finding(policy::FindingKind::ServiceAccount, policy::Reason::DeclaredByOwner, sa), "p", kAt);
  EXPECT_EQ(r.rule, "DeclaredByOwner");
  EXPECT_EQ(r.result, Outcome::Fail);
  EXPECT_EQ(r.severity, policy::Severity::Medium);
  EXPECT_EQ(r.properties,
            (std::map<std::string, std::string>{{"automountServiceAccountToken", "true"},
                                                {"declaration", "Applied"},
                                                {"declaredBy", "argocd-controller"},
                                                {"serviceAccount", "shop/api"}}));
  EXPECT_NE(r.message.find("declared by argocd-controller"), std::string::npos) << r.message;
}

TEST(ReportsPolicyResults, ReasonsThatAreNotFindingsGiveNoResult) {
  auto sa = account("shop", "default", Tristate::Unset);
  for (policy::Reason reason : {policy::Reason::AutomountDisabled, policy::Reason::DriftReverted,
                                policy::Reason::PolicyInvalid}) {
    EXPECT_EQ(resultOf(finding(policy::FindingKind::ServiceAccount, reason, sa), "p", kAt),
              std::nullopt);
  }
  // A finding without its account (never built by evaluate()) gives none either.
  EXPECT_EQ(resultOf(finding(policy::FindingKind::ServiceAccount,
                             policy::Reason::AutomountWouldBeDisabled, nullptr),
                     "p", kAt),
            std::nullopt);
}

TEST(ReportsPolicyResults, ResultsOfKeepTheFindingsOrderAndSkipNonFindings) {
  auto sa = account("shop", "default", Tristate::Unset);
  std::vector<policy::PendingFinding> findings;
  findings.push_back(
      finding(policy::FindingKind::ServiceAccount, policy::Reason::AutomountWouldBeDisabled, sa));
  findings.push_back(
      finding(policy::FindingKind::ServiceAccount, policy::Reason::DriftReverted, sa));
  policy::PendingFinding p = finding(policy::FindingKind::Pod, policy::Reason::TokenMounted, sa);
  p.pod = pod("shop", "web", "default", Tristate::Unset);
  findings.push_back(p);
  const std::vector<Result> rs = resultsOf("p", findings, kAt);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].rule, "AutomountWouldBeDisabled");
  EXPECT_EQ(rs[1].rule, "TokenMounted");
  EXPECT_TRUE(resultsOf("p", {}, kAt).empty());
}

TEST(ReportsPolicyResults, PassForACompliantAccount) {
  const Result r = passOf("default-accounts", *account("shop", "quiet", Tristate::False), kAt);
  EXPECT_EQ(r.policy, "default-accounts");
  EXPECT_EQ(r.rule, "AutomountDisabled");
  EXPECT_EQ(r.rule, kAccountCompliantRule);
  EXPECT_EQ(r.result, Outcome::Pass);
  EXPECT_EQ(r.severity, std::nullopt);
  EXPECT_EQ(r.timestamp, kAt);
  EXPECT_EQ(r.resources, (std::vector<objects::ObjectRef>{
                             ref("v1", "ServiceAccount", "shop", "quiet", "uid-sa-quiet")}));
  EXPECT_EQ(r.properties,
            (std::map<std::string, std::string>{{"automountServiceAccountToken", "false"},
                                                {"serviceAccount", "shop/quiet"}}));
  EXPECT_FALSE(r.message.empty());
}

TEST(ReportsPolicyResults, APolicysFindingsBecomeOneReportPerNamespaceAndAClusterReport) {
  auto a = account("alpha", "default", Tristate::Unset);
  auto b = account("beta", "default", Tristate::Unset);
  std::vector<policy::PendingFinding> findings;
  policy::PendingFinding pa = finding(policy::FindingKind::Pod, policy::Reason::TokenMounted, a);
  pa.pod = pod("alpha", "web", "default", Tristate::Unset);
  findings.push_back(pa);
  policy::PendingFinding crb = finding(policy::FindingKind::ClusterRoleBinding,
                                       policy::Reason::BindingGrantsSelectedAccount, b);
  crb.binding = binding(
      "", "all", objects::Subject{Symbol("Group"), Symbol("system:serviceaccounts:beta"), {}});
  crb.subject = &crb.binding->subjects.front();
  findings.push_back(crb);
  std::vector<Result> rs = resultsOf("p", findings, kAt);
  rs.push_back(passOf("p", *account("beta", "quiet", Tristate::False), kAt));
  const std::vector<Report> reports = groupByScope(std::move(rs));
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[0].namespace_, "");
  EXPECT_EQ(reports[1].namespace_, "alpha");
  EXPECT_EQ(reports[2].namespace_, "beta");
  const nlohmann::json beta = render(reports[2], Flavour::PolicyReport);
  EXPECT_EQ(beta["kind"], "PolicyReport");
  EXPECT_EQ(beta["metadata"]["namespace"], "beta");
  EXPECT_EQ(beta["summary"]["pass"], 1);
  EXPECT_EQ(beta["summary"]["fail"], 0);
}

}  // namespace
}  // namespace saguard::reports
