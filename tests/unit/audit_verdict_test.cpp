// The verdicts of `saguard audit`: which pods hold a token, how it got there, which
// bindings name the account, and unneeded / review / needed / exempt.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "audit/verdict.h"

namespace saguard::audit {
namespace {

using objects::TokenVolume;
using objects::Tristate;

objects::Pod pod(const char* ns, const char* name, const char* account, TokenVolume token,
                 Tristate automount = Tristate::Unset) {
  objects::Pod p;
  p.meta.namespace_ = Symbol(ns);
  p.meta.setName(name);
  p.serviceAccountName = Symbol(account);
  p.token = token;
  p.automount = automount;
  return p;
}

objects::ServiceAccount account(const char* ns, const char* name, Tristate automount) {
  objects::ServiceAccount a;
  a.meta.namespace_ = Symbol(ns);
  a.meta.setName(name);
  a.automount = automount;
  return a;
}

objects::Binding roleBinding(const char* ns, const char* name, const char* role,
                             std::vector<objects::Subject> subjects) {
  objects::Binding b;
  b.meta.namespace_ = Symbol(ns);
  b.meta.setName(name);
  b.roleRef = {Symbol("ClusterRole"), Symbol(role)};
  b.subjects = std::move(subjects);
  return b;
}

objects::Subject saSubject(const char* name, const char* ns = "") {
  return {Symbol("ServiceAccount"), Symbol(name), Symbol(ns)};
}

TEST(AuditVerdict, OnlyPodsHoldingATokenAreListed) {
  std::vector<objects::Pod> pods{
      pod("a", "none", "default", TokenVolume::None),  // kubectl+jq would list it
      pod("a", "off", "default", TokenVolume::None, Tristate::False),
      pod("a", "web", "default", TokenVolume::Projected),
      pod("a", "legacy", "old", TokenVolume::LegacySecret),
  };
  auto rows = findTokenHolders(pods, {}, {}, {});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].pod, "legacy");  // sorted by namespace, then pod
  EXPECT_EQ(rows[0].source, policy::TokenSource::LegacySecretVolume);
  EXPECT_EQ(rows[1].pod, "web");
  EXPECT_EQ(rows[1].source, policy::TokenSource::Default);
  EXPECT_EQ(rows[1].verdict, Verdict::Unneeded);
}

TEST(AuditVerdict, SourceUsesTheAccount) {
  std::vector<objects::Pod> pods{pod("a", "p1", "bot", TokenVolume::Projected),
                                 pod("a", "p2", "bot", TokenVolume::Projected, Tristate::True),
                                 pod("b", "p3", "bot", TokenVolume::Projected)};
  std::vector<objects::ServiceAccount> accounts{account("a", "bot", Tristate::True),
                                                account("b", "bot", Tristate::False)};
  auto rows = findTokenHolders(pods, accounts, {}, {});
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].source, policy::TokenSource::AccountSetsTrue);
  EXPECT_EQ(rows[1].source, policy::TokenSource::PodSetsTrue);
  EXPECT_EQ(rows[2].source, policy::TokenSource::PredatesAccountChange);
}

TEST(AuditVerdict, BindingsDecideUnneededReviewNeeded) {
  std::vector<objects::Pod> pods{pod("a", "web", "default", TokenVolume::Projected),
                                 pod("a", "ci", "deployer", TokenVolume::Projected),
                                 pod("b", "job", "default", TokenVolume::Projected),
                                 pod("c", "x", "lonely", TokenVolume::Projected)};
  objects::Binding builtin;
  builtin.clusterScoped = true;
  builtin.meta.setName("system:service-account-issuer-discovery");
  builtin.roleRef = {Symbol("ClusterRole"), Symbol("system:service-account-issuer-discovery")};
  builtin.subjects = {{Symbol("Group"), Symbol("system:serviceaccounts"), Symbol()}};
  objects::Binding groupB = roleBinding(
      "b", "all-b", "view", {{Symbol("Group"), Symbol("system:serviceaccounts:b"), Symbol()}});
  std::vector<objects::Binding> bindings{
      builtin,
      roleBinding("a", "view", "view", {saSubject("default")}),
      roleBinding("a", "deploy", "edit", {saSubject("deployer", "a")}),
      groupB,
  };
  auto rows = findTokenHolders(pods, {}, bindings, {});
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].pod, "ci");
  EXPECT_EQ(rows[0].verdict, Verdict::Needed);
  ASSERT_EQ(rows[0].bindings.size(), 1u);
  EXPECT_EQ(rows[0].bindings[0],
            (GrantingBinding{"RoleBinding", "a", "deploy", "ClusterRole", "edit"}));
  EXPECT_EQ(rows[1].pod, "web");
  EXPECT_EQ(rows[1].verdict, Verdict::Review);
  EXPECT_EQ(rows[2].pod, "job");  // through the group of namespace b
  EXPECT_EQ(rows[2].verdict, Verdict::Review);
  EXPECT_EQ(rows[3].verdict, Verdict::Unneeded);  // the built-in binding does not count
  EXPECT_TRUE(rows[3].bindings.empty());
  EXPECT_EQ(summarize(rows), (AuditSummary{4, 1, 2, 1, 0}));
}

TEST(AuditVerdict, ExemptionWinsAndNamesThePolicy) {
  std::vector<objects::Pod> pods{pod("ops", "agent", "agent", TokenVolume::Projected),
                                 pod("ops", "web", "default", TokenVolume::Projected)};
  policy::Policy p;
  p.name = "tokens";
  p.exemptions = {policy::Exemption{"op*", "agent", "calls the API"}};
  std::vector<policy::Policy> policies{p};
  auto rows = findTokenHolders(pods, {}, {}, policies);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].verdict, Verdict::Exempt);
  EXPECT_EQ(rows[0].exemptBy, "tokens: calls the API");
  EXPECT_EQ(rows[1].verdict, Verdict::Unneeded);
  EXPECT_EQ(summarize(rows).exempt, 1u);
}

}  // namespace
}  // namespace saguard::audit

// Golden files for the three output formats of `saguard audit` (the rendering is a
// pure function of the result; SAGUARD_UPDATE_GOLDEN=1 rewrites them).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "audit/audit_command.h"

namespace saguard::audit {
namespace {

AuditResult sampleResult() {
  std::vector<objects::Pod> pods{pod("shop", "web-7d9f", "default", TokenVolume::Projected),
                                 pod("shop", "ci-runner", "deployer", TokenVolume::Projected),
                                 pod("ops", "agent", "agent", TokenVolume::Projected),
                                 pod("batch", "old", "legacy", TokenVolume::LegacySecret),
                                 pod("batch", "quiet", "default", TokenVolume::None)};
  std::vector<objects::Binding> bindings{
      roleBinding("shop", "view", "view", {saSubject("default")}),
      roleBinding("shop", "deploy", "edit", {saSubject("deployer", "shop")})};
  policy::Policy p;
  p.name = "tokens";
  p.exemptions = {policy::Exemption{"ops", "agent", "node agent"}};
  std::vector<policy::Policy> policies{p};
  // Who declares the accounts' field: Git through Argo CD for the deployer, someone's
  // `kubectl edit` for shop/default, nobody for the others.
  std::vector<objects::ServiceAccount> accounts(2);
  accounts[0].meta.namespace_ = Symbol("shop");
  accounts[0].meta.setName("deployer");
  accounts[0].automount = objects::Tristate::True;
  accounts[0].automountOwners = {{Symbol("argocd-controller"), objects::FieldOperation::Apply}};
  accounts[1].meta.namespace_ = Symbol("shop");
  accounts[1].meta.setName("default");
  accounts[1].automount = objects::Tristate::True;
  accounts[1].automountOwners = {{Symbol("kubectl-edit"), objects::FieldOperation::Update}};
  AuditResult r;
  r.rows = findTokenHolders(pods, accounts, bindings, policies);
  r.summary = summarize(r.rows);
  r.podsSeen = pods.size();
  r.policies = 1;
  return r;
}

void expectAuditGolden(const std::string& name, const std::string& got) {
  const auto path = std::filesystem::path(SAGUARD_SOURCE_DIR) / "tests" / "unit" / "testdata" /
                    "audit" / "golden" / name;
  const char* update = std::getenv("SAGUARD_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << got;
    return;
  }
  std::ifstream f(path, std::ios::binary);
  ASSERT_TRUE(f.good()) << path << " is missing; run with SAGUARD_UPDATE_GOLDEN=1";
  std::ostringstream s;
  s << f.rdbuf();
  EXPECT_EQ(got, s.str()) << "golden file " << name << " differs";
}

TEST(AuditRender, GoldenTableJsonYaml) {
  const AuditResult r = sampleResult();
  expectAuditGolden("audit.txt", renderAudit(r, AuditFormat::Table, false));
  expectAuditGolden("audit-wide.txt", renderAudit(r, AuditFormat::Wide, false));
  expectAuditGolden("audit.json", renderAudit(r, AuditFormat::Json, false));
  expectAuditGolden("audit.yaml", renderAudit(r, AuditFormat::Yaml, false));
  const std::string coloured = renderAudit(r, AuditFormat::Table, true);
  EXPECT_NE(coloured.find("\033[31munneeded"), std::string::npos);
  EXPECT_NE(coloured.find("\033[33mreview"), std::string::npos);
}

TEST(AuditRender, TheOwnerColumnOnlyWhenSomeAccountHasOne) {
  AuditResult r = sampleResult();
  EXPECT_NE(renderAudit(r, AuditFormat::Wide, false).find("OWNER"), std::string::npos);
  EXPECT_EQ(renderAudit(r, AuditFormat::Table, false).find("OWNER"), std::string::npos);
  for (TokenHolder& h : r.rows) h.fieldOwner = {};
  const std::string table = renderAudit(r, AuditFormat::Wide, false);
  EXPECT_EQ(table.find("OWNER"), std::string::npos);
  EXPECT_EQ(renderAudit(r, AuditFormat::Json, false).find("fieldOwner"), std::string::npos);
}

// Issue 17: the table of an install of Online Boutique, guestbook and bookinfo beside Argo
// CD and kube-prometheus, with these pods' real names, was hundreds of columns wide (every
// binding of the Argo CD and Prometheus accounts on one line). The default fits 120; -o
// wide still shows every binding.
TEST(AuditRender, TheDefaultTableFits120ColumnsAndWideShowsEveryBinding) {
  struct P {
    const char* ns;
    const char* pod;
    const char* account;
  };
  const P install[] = {
      {"online-boutique", "recommendationservice-6b8f8d7c9-x2x4k", "recommendationservice"},
      {"online-boutique", "checkoutservice-5f7b9c8d6-k8s9q", "checkoutservice"},
      {"guestbook", "frontend-6b8d9f7c5-x2x4k", "default"},
      {"bookinfo", "productpage-v1-6b8d9f7c5-x2x4k", "bookinfo-productpage"},
      {"argocd", "argocd-application-controller-0", "argocd-application-controller"},
      {"argocd", "argocd-server-7c8f9d6b5-x2x4k", "argocd-server"},
      {"monitoring", "prometheus-k8s-0", "prometheus-k8s"},
      {"monitoring", "kube-state-metrics-6d7f8b9c5-x2x4k", "kube-state-metrics"},
  };
  std::vector<objects::Pod> pods;
  std::vector<objects::ServiceAccount> accounts;
  std::vector<objects::Binding> bindings;
  for (const P& p : install) {
    pods.push_back(pod(p.ns, p.pod, p.account, TokenVolume::Projected));
    // Half the accounts were fixed after their pods started.
    accounts.push_back(
        account(p.ns, p.account, pods.size() % 2 ? Tristate::False : Tristate::Unset));
  }
  for (const char* name : {"argocd-application-controller", "argocd-server"}) {
    for (const char* role : {"a", "b", "c"}) {
      bindings.push_back(
          roleBinding("argocd", (std::string(name) + "-" + role).c_str(), name, {saSubject(name)}));
    }
  }
  bindings.push_back(roleBinding("monitoring", "prometheus-k8s-config", "prometheus-k8s",
                                 {saSubject("prometheus-k8s")}));
  AuditResult r;
  r.rows = findTokenHolders(pods, accounts, bindings, {});
  r.summary = summarize(r.rows);
  r.podsSeen = pods.size();
  const std::string table = renderAudit(r, AuditFormat::Table, false);
  std::istringstream lines(table);
  for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 120u) << line;
  EXPECT_NE(table.find("predates fix"), std::string::npos) << table;
  const std::string wide = renderAudit(r, AuditFormat::Wide, false);
  for (const objects::Binding& b : bindings) {
    EXPECT_NE(wide.find(std::string(b.meta.name())), std::string::npos) << b.meta.name();
  }
  EXPECT_NE(wide.find("created before the account set false"), std::string::npos);
  EXPECT_EQ(parseAuditFormat("wide"), AuditFormat::Wide);
  // The pods whose account now sets false are counted for `saguard restart`.
  EXPECT_NE(table.find("4 pods would lose their token if recreated: `saguard restart`"),
            std::string::npos)
      << table;
}

TEST(AuditRender, FormatsAndYamlParsesBack) {
  EXPECT_EQ(parseAuditFormat("json"), AuditFormat::Json);
  EXPECT_EQ(parseAuditFormat("xml"), std::nullopt);
  YAML::Node y = YAML::Load(renderAudit(sampleResult(), AuditFormat::Yaml, false));
  EXPECT_EQ(y["summary"]["withToken"].as<int>(), 4);
  EXPECT_EQ(y["pods"][0]["pod"].as<std::string>(), "old");
}

}  // namespace
}  // namespace saguard::audit
