// controller/audit/audit_reports.h: `saguard audit -o openreports|policyreport` — each
// verdict's result, the properties, and the List that kubectl applies.
#include "audit/audit_reports.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "audit/audit_command.h"
#include "reports/render.h"

namespace saguard::audit {
namespace {

constexpr std::int64_t kNow = 1765000000;

TokenHolder holder(std::string ns, std::string pod, std::string account, Verdict verdict) {
  TokenHolder h;
  h.namespace_ = std::move(ns);
  h.pod = std::move(pod);
  h.account = std::move(account);
  h.source = policy::TokenSource::Default;
  h.verdict = verdict;
  return h;
}

AuditResult audited(std::string scope, std::vector<TokenHolder> rows) {
  AuditResult r;
  r.scope = std::move(scope);
  r.rows = std::move(rows);
  r.summary = summarize(r.rows);
  r.evidence.now = kNow;
  return r;
}

TEST(AuditReports, EachVerdictsResultAndSeverity) {
  struct Row {
    Verdict verdict;
    reports::Outcome outcome;
    std::optional<policy::Severity> severity;
  };
  const Row rows[] = {
      {Verdict::Unneeded, reports::Outcome::Fail, policy::Severity::Medium},
      {Verdict::Review, reports::Outcome::Warn, policy::Severity::High},
      {Verdict::Unused, reports::Outcome::Warn, policy::Severity::High},
      {Verdict::Needed, reports::Outcome::Pass, std::nullopt},
      {Verdict::Exempt, reports::Outcome::Skip, std::nullopt},
  };
  for (const Row& row : rows) {
    TokenHolder h = holder("shop", "web", "default", row.verdict);
    if (row.verdict == Verdict::Exempt) h.exemptBy = "p: monitoring reads pods";
    const std::vector<reports::Result> rs = auditResults(audited("shop", {h}));
    ASSERT_EQ(rs.size(), 1u);
    const reports::Result& r = rs[0];
    EXPECT_EQ(r.result, row.outcome) << toString(row.verdict);
    EXPECT_EQ(r.severity, row.severity) << toString(row.verdict);
    EXPECT_EQ(r.policy, "saguard-audit");
    EXPECT_EQ(r.rule, "TokenNeeded");
    EXPECT_EQ(r.source, "saguard");
    EXPECT_EQ(r.timestamp, (reports::Timestamp{kNow, 0}));
    EXPECT_EQ(r.properties.at("verdict"), toString(row.verdict));
    EXPECT_FALSE(r.message.empty());
  }
}

TEST(AuditReports, ResourcesAndPropertiesOfARow) {
  TokenHolder h = holder("shop", "web", "ci", Verdict::Needed);
  h.source = policy::TokenSource::AccountSetsTrue;
  h.bindings = {{"RoleBinding", "shop", "ci-edit", "ClusterRole", "edit"},
                {"ClusterRoleBinding", "", "ci-view", "ClusterRole", "view"}};
  const reports::Result r = auditResults(audited("shop", {h}))[0];
  ASSERT_EQ(r.resources.size(), 2u);
  EXPECT_EQ(r.resources[0], (objects::ObjectRef{"v1", "Pod", "shop", "web", "", ""}));
  EXPECT_EQ(r.resources[1], (objects::ObjectRef{"v1", "ServiceAccount", "shop", "ci", "", ""}));
  EXPECT_EQ(r.properties,
            (std::map<std::string, std::string>{{"bindings",
                                                 "RoleBinding/shop/ci-edit (ClusterRole/edit), "
                                                 "ClusterRoleBinding/ci-view (ClusterRole/view)"},
                                                {"serviceAccount", "shop/ci"},
                                                {"tokenSource", "AccountSetsTrue"},
                                                {"verdict", "needed"}}));
  EXPECT_EQ(r.message, "pod holds a token of ServiceAccount shop/ci, which RBAC bindings name");
}

TEST(AuditReports, EvidenceOfUseIsInTheProperties) {
  TokenHolder h = holder("shop", "web", "ci", Verdict::Needed);
  h.lastUsed = kNow - 7200;
  h.accesses = {"list configmaps", "get secrets (403)"};
  h.bindings = {{"RoleBinding", "shop", "ci-edit", "ClusterRole", "edit"}};
  AuditResult result = audited("shop", {h});
  result.evidence.available = true;
  result.evidence.observingSince = kNow - 40 * 86400;
  const reports::Result r = auditResults(result)[0];
  EXPECT_EQ(r.properties.at("lastUsed"), "2025-12-06");
  EXPECT_EQ(r.properties.at("accesses"), "list configmaps, get secrets (403)");
  EXPECT_EQ(r.properties.at("evidence"), "used 2h ago: list configmaps, get secrets (403)");

  // Without evidence none of the three is there.
  const reports::Result plain = auditResults(audited("shop", {h}))[0];
  EXPECT_EQ(plain.properties.count("lastUsed"), 0u);
  EXPECT_EQ(plain.properties.count("accesses"), 0u);
  EXPECT_EQ(plain.properties.count("evidence"), 0u);
}

TEST(AuditReports, ExemptRowsSayWhichPolicyExemptsThem) {
  TokenHolder h = holder("monitoring", "prometheus-0", "prometheus", Verdict::Exempt);
  h.exemptBy = "p: reads pods and endpoints";
  const reports::Result r = auditResults(audited("", {h}))[0];
  EXPECT_EQ(r.properties.at("exemptBy"), "p: reads pods and endpoints");
  EXPECT_EQ(r.message,
            "ServiceAccount monitoring/prometheus is exempt: p: reads pods and endpoints");
}

TEST(AuditReports, AListOfOneReportPerNamespaceNamedSaguardAudit) {
  const AuditResult result = audited("", {holder("beta", "b1", "default", Verdict::Unneeded),
                                          holder("alpha", "a1", "default", Verdict::Review),
                                          holder("beta", "b2", "ci", Verdict::Needed)});
  for (reports::Flavour flavour : reports::kFlavoursByPreference) {
    const std::string text = renderAuditReports(result, flavour);
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');
    const nlohmann::json list = nlohmann::json::parse(text);
    EXPECT_EQ(list["apiVersion"], "v1");
    EXPECT_EQ(list["kind"], "List");
    ASSERT_EQ(list["items"].size(), 2u);
    const reports::ReportKind& kind = reports::kindOf(flavour, false);
    EXPECT_EQ(list["items"][0]["apiVersion"], kind.apiVersion);
    EXPECT_EQ(list["items"][0]["kind"], kind.kind);
    EXPECT_EQ(list["items"][0]["metadata"]["name"], "saguard-audit");
    EXPECT_EQ(list["items"][0]["metadata"]["namespace"], "alpha");
    EXPECT_EQ(list["items"][0]["summary"]["warn"], 1);
    EXPECT_EQ(list["items"][1]["metadata"]["namespace"], "beta");
    EXPECT_EQ(list["items"][1]["summary"]["fail"], 1);
    EXPECT_EQ(list["items"][1]["summary"]["pass"], 1);
    // The failing pod first.
    EXPECT_EQ(list["items"][1]["results"][0]["resources"][0]["name"], "b1");
    // The same audit renders the same bytes.
    EXPECT_EQ(renderAuditReports(result, flavour), text);
  }
}

TEST(AuditReports, TheAuditedNamespaceGetsAReportEvenWhenClean) {
  const nlohmann::json list = nlohmann::json::parse(
      renderAuditReports(audited("quiet", {}), reports::Flavour::OpenReports));
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["metadata"]["namespace"], "quiet");
  EXPECT_EQ(list["items"][0]["results"], nlohmann::json::array());
  // All namespaces and nothing found: an empty List.
  EXPECT_EQ(nlohmann::json::parse(
                renderAuditReports(audited("", {}), reports::Flavour::OpenReports))["items"],
            nlohmann::json::array());
}

TEST(AuditReports, OutputFormatsParse) {
  EXPECT_EQ(parseAuditFormat("openreports"), AuditFormat::OpenReports);
  EXPECT_EQ(parseAuditFormat("policyreport"), AuditFormat::PolicyReport);
  EXPECT_EQ(parseAuditFormat("openreport"), std::nullopt);
  const AuditResult result = audited("shop", {holder("shop", "web", "default", Verdict::Unneeded)});
  EXPECT_EQ(renderAudit(result, AuditFormat::OpenReports, false),
            renderAuditReports(result, reports::Flavour::OpenReports));
  EXPECT_EQ(renderAudit(result, AuditFormat::PolicyReport, false),
            renderAuditReports(result, reports::Flavour::PolicyReport));
}

}  // namespace
}  // namespace saguard::audit
