#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "policy/selection.h"

namespace saguard::policy {
namespace {

// An account that a binding names (the only fact the tests below vary).
AccountFacts bound() {
  AccountFacts facts;
  facts.bound = true;
  return facts;
}

objects::Labels labels(std::initializer_list<std::pair<const char*, const char*>> pairs) {
  objects::Labels out;
  for (const auto& [k, v] : pairs) out.emplace_back(Symbol(k), Symbol(v));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

objects::Namespace ns(const char* name, objects::Labels l = {}) {
  objects::Namespace n;
  n.meta.setName(name);
  n.labels = std::move(l);
  n.phase = Symbol("Active");
  return n;
}

objects::ServiceAccount account(const char* nsName, const char* name, objects::Labels l = {}) {
  objects::ServiceAccount a;
  a.meta.namespace_ = Symbol(nsName);
  a.meta.setName(name);
  a.labels = std::move(l);
  return a;
}

LabelSelector matchLabel(const char* k, const char* v) {
  LabelSelector s;
  s.matchLabels = {{Symbol(k), Symbol(v)}};
  return s;
}

// The DESIGN.md example: default accounts everywhere but kube-*, prometheus exempt.
Policy designPolicy() {
  Policy p;
  p.name = "default-accounts-no-token";
  p.namespaces.selector = LabelSelector{};
  p.namespaces.exclude = {"kube-*"};
  p.serviceAccounts.names = std::vector<std::string>{"default", "prometheus"};
  p.serviceAccounts.selector = LabelSelector{};
  p.exemptions = {{"monitoring", "prometheus", "reads pods and endpoints"}};
  return p;
}

TEST(PolicySelection, EmptyPolicySelectsEveryAccountOfAKnownNamespace) {
  Policy p;
  auto n = ns("team-a");
  EXPECT_EQ(selectAccount(p, account("team-a", "default"), &n, {}),
            (Selection{true, SelectionReason::Selected, ""}));
  EXPECT_TRUE(
      selectAccount(p, account("team-a", "anything", labels({{"x", "y"}})), &n, bound()).selected);
}

TEST(PolicySelection, UnknownNamespaceIsNotSelected) {
  Policy p;
  EXPECT_EQ(selectAccount(p, account("team-a", "default"), nullptr, {}).reason,
            SelectionReason::NamespaceNotSelected);
  auto other = ns("team-b");
  EXPECT_EQ(selectAccount(p, account("team-a", "default"), &other, {}).reason,
            SelectionReason::NamespaceNotSelected);
}

TEST(PolicySelection, NamespaceSelector) {
  Policy p;
  p.namespaces.selector = matchLabel("saguard.io/enforce", "true");
  auto labelled = ns("a", labels({{"saguard.io/enforce", "true"}}));
  auto plain = ns("b");
  EXPECT_TRUE(selectAccount(p, account("a", "default"), &labelled, {}).selected);
  EXPECT_EQ(selectAccount(p, account("b", "default"), &plain, {}).reason,
            SelectionReason::NamespaceNotSelected);
  // Account labels do not stand in for namespace labels.
  EXPECT_FALSE(selectAccount(p, account("b", "default", labels({{"saguard.io/enforce", "true"}})),
                             &plain, {})
                   .selected);
}

TEST(PolicySelection, ExcludeAppliesAfterTheSelector) {
  Policy p = designPolicy();
  auto kube = ns("kube-system", labels({{"x", "y"}}));
  auto app = ns("kubernetes-dashboard");  // "kube-*" does not match "kubernetes-..."
  EXPECT_EQ(selectAccount(p, account("kube-system", "default"), &kube, {}).reason,
            SelectionReason::NamespaceExcluded);
  EXPECT_TRUE(selectAccount(p, account("kubernetes-dashboard", "default"), &app, {}).selected);
  // A namespace both unselected and excluded reports the selector, the first step.
  p.namespaces.selector = matchLabel("a", "b");
  EXPECT_EQ(selectAccount(p, account("kube-system", "default"), &kube, {}).reason,
            SelectionReason::NamespaceNotSelected);
}

TEST(PolicySelection, AccountNames) {
  Policy p = designPolicy();
  auto n = ns("team-a");
  EXPECT_TRUE(selectAccount(p, account("team-a", "default"), &n, {}).selected);
  EXPECT_EQ(selectAccount(p, account("team-a", "builder"), &n, {}).reason,
            SelectionReason::NameNotMatched);
  p.serviceAccounts.names = std::vector<std::string>{"ci-*", "???"};
  EXPECT_TRUE(selectAccount(p, account("team-a", "ci-runner"), &n, {}).selected);
  EXPECT_TRUE(selectAccount(p, account("team-a", "abc"), &n, {}).selected);
  EXPECT_EQ(selectAccount(p, account("team-a", "default"), &n, {}).reason,
            SelectionReason::NameNotMatched);
}

TEST(PolicySelection, AccountLabels) {
  Policy p;
  p.serviceAccounts.selector = matchLabel("tokens", "off");
  auto n = ns("team-a", labels({{"tokens", "off"}}));
  EXPECT_TRUE(
      selectAccount(p, account("team-a", "a", labels({{"tokens", "off"}})), &n, {}).selected);
  // Namespace labels do not stand in for account labels.
  EXPECT_EQ(selectAccount(p, account("team-a", "b"), &n, {}).reason,
            SelectionReason::LabelsNotMatched);
}

TEST(PolicySelection, UnboundOnly) {
  Policy p;
  auto n = ns("team-a");
  EXPECT_TRUE(
      selectAccount(p, account("team-a", "default"), &n, bound()).selected);  // flag off: ignored
  p.serviceAccounts.unboundOnly = true;
  EXPECT_TRUE(selectAccount(p, account("team-a", "default"), &n, {}).selected);
  EXPECT_EQ(selectAccount(p, account("team-a", "default"), &n, bound()).reason,
            SelectionReason::Bound);
}

TEST(PolicySelection, ExemptionsNeedBothGlobsAndCarryTheirReason) {
  Policy p = designPolicy();
  auto monitoring = ns("monitoring");
  auto other = ns("other");
  EXPECT_EQ(selectAccount(p, account("monitoring", "prometheus"), &monitoring, {}),
            (Selection{false, SelectionReason::Exempt, "reads pods and endpoints"}));
  EXPECT_TRUE(selectAccount(p, account("other", "prometheus"), &other, {}).selected);
  EXPECT_TRUE(selectAccount(p, account("monitoring", "default"), &monitoring, {}).selected);

  p.exemptions = {{"team-*", "ci-?", ""}, {"*", "vault", "unseals"}};
  p.serviceAccounts.names.reset();
  auto team = ns("team-x");
  EXPECT_EQ(selectAccount(p, account("team-x", "ci-1"), &team, {}).reason, SelectionReason::Exempt);
  EXPECT_TRUE(selectAccount(p, account("team-x", "ci-12"), &team, {}).selected);
  EXPECT_EQ(selectAccount(p, account("other", "vault"), &other, {}),
            (Selection{false, SelectionReason::Exempt, "unseals"}));
}

TEST(PolicySelection, ReasonFollowsTheOrderOfTheSteps) {
  // An account failing every step reports the first failing one.
  Policy p;
  p.namespaces.selector = matchLabel("a", "1");
  p.namespaces.exclude = {"team-*"};
  p.serviceAccounts.names = std::vector<std::string>{"x"};
  p.serviceAccounts.selector = matchLabel("b", "1");
  p.serviceAccounts.unboundOnly = true;
  p.exemptions = {{"*", "*", "all"}};
  auto n = ns("team-a");
  auto sa = account("team-a", "default");
  EXPECT_EQ(selectAccount(p, sa, &n, bound()).reason, SelectionReason::NamespaceNotSelected);
  n.labels = labels({{"a", "1"}});
  EXPECT_EQ(selectAccount(p, sa, &n, bound()).reason, SelectionReason::NamespaceExcluded);
  p.namespaces.exclude.clear();
  EXPECT_EQ(selectAccount(p, sa, &n, bound()).reason, SelectionReason::NameNotMatched);
  p.serviceAccounts.names = std::vector<std::string>{"default"};
  EXPECT_EQ(selectAccount(p, sa, &n, bound()).reason, SelectionReason::LabelsNotMatched);
  sa.labels = labels({{"b", "1"}});
  EXPECT_EQ(selectAccount(p, sa, &n, bound()).reason, SelectionReason::Bound);
  EXPECT_EQ(selectAccount(p, sa, &n, {}).reason, SelectionReason::Exempt);
  p.exemptions.clear();
  EXPECT_EQ(selectAccount(p, sa, &n, {}).reason, SelectionReason::Selected);
}

TEST(PolicySelection, ReasonNames) {
  EXPECT_STREQ(toString(SelectionReason::Selected), "Selected");
  EXPECT_STREQ(toString(SelectionReason::NamespaceNotSelected), "NamespaceNotSelected");
  EXPECT_STREQ(toString(SelectionReason::NamespaceExcluded), "NamespaceExcluded");
  EXPECT_STREQ(toString(SelectionReason::NameNotMatched), "NameNotMatched");
  EXPECT_STREQ(toString(SelectionReason::LabelsNotMatched), "LabelsNotMatched");
  EXPECT_STREQ(toString(SelectionReason::Bound), "Bound");
  EXPECT_STREQ(toString(SelectionReason::Exempt), "Exempt");
  EXPECT_STREQ(toString(Enforcement::Enforce), "Enforce");
  EXPECT_STREQ(toString(Enforcement::Audit), "Audit");
  EXPECT_STREQ(toString(Enforcement::None), "None");
}

Policy named(const char* name, Mode mode) {
  Policy p;
  p.name = name;
  p.mode = mode;
  return p;
}

TEST(PolicyCombine, NoPolicies) {
  auto n = ns("a");
  AccountVerdict v = combine(std::span<const Policy>(), account("a", "default"), &n, {});
  EXPECT_EQ(v, AccountVerdict{});
  EXPECT_EQ(v.enforcement, Enforcement::None);
}

TEST(PolicyCombine, AnyEnforcePolicyEnforces) {
  auto n = ns("a");
  std::vector<Policy> policies{named("z-audit", Mode::Audit), named("b-enforce", Mode::Enforce),
                               named("a-enforce", Mode::Enforce), named("c-audit", Mode::Audit)};
  AccountVerdict v = combine(policies, account("a", "default"), &n, {});
  EXPECT_EQ(v.enforcement, Enforcement::Enforce);
  EXPECT_EQ(v.enforcedBy, (std::vector<std::string>{"a-enforce", "b-enforce"}));  // sorted
  EXPECT_EQ(v.auditedBy, (std::vector<std::string>{"c-audit", "z-audit"}));
}

TEST(PolicyCombine, OnlyAuditPoliciesAudit) {
  auto n = ns("a");
  std::vector<Policy> policies{named("audit", Mode::Audit), named("enforce-other", Mode::Enforce)};
  policies[1].namespaces.exclude = {"a"};
  AccountVerdict v = combine(policies, account("a", "default"), &n, {});
  EXPECT_EQ(v.enforcement, Enforcement::Audit);
  EXPECT_TRUE(v.enforcedBy.empty());
  EXPECT_EQ(v.auditedBy, std::vector<std::string>{"audit"});
}

TEST(PolicyCombine, ExemptionsArePerPolicy) {
  auto monitoring = ns("monitoring");
  Policy exempting = named("a", Mode::Enforce);
  exempting.exemptions = {{"monitoring", "prometheus", "reads pods"}};
  Policy other = named("b", Mode::Enforce);
  other.serviceAccounts.names = std::vector<std::string>{"prom*"};
  Policy audit = named("c", Mode::Audit);
  audit.exemptions = {{"*", "*", "nothing"}};

  std::vector<const Policy*> both{&exempting, &other, &audit};
  AccountVerdict v = combine(both, account("monitoring", "prometheus"), &monitoring, {});
  EXPECT_EQ(v.enforcement, Enforcement::Enforce);
  EXPECT_EQ(v.enforcedBy, std::vector<std::string>{"b"});
  EXPECT_TRUE(v.auditedBy.empty());

  std::vector<const Policy*> onlyExempting{&exempting, nullptr, &audit};
  v = combine(onlyExempting, account("monitoring", "prometheus"), &monitoring, {});
  EXPECT_EQ(v.enforcement, Enforcement::None);
}

TEST(PolicyCombine, AuditSelectingWhatEnforceExemptsStaysAudited) {
  auto monitoring = ns("monitoring");
  Policy enforce = named("enforce", Mode::Enforce);
  enforce.exemptions = {{"monitoring", "*", "observability stack"}};
  Policy audit = named("audit", Mode::Audit);
  std::vector<Policy> policies{enforce, audit};
  AccountVerdict v = combine(policies, account("monitoring", "prometheus"), &monitoring, {});
  EXPECT_EQ(v.enforcement, Enforcement::Audit);
  EXPECT_EQ(v.auditedBy, std::vector<std::string>{"audit"});
}

TEST(PolicyCombine, BoundAccountsAndUnboundOnly) {
  auto n = ns("a");
  Policy unbound = named("unbound", Mode::Enforce);
  unbound.serviceAccounts.unboundOnly = true;
  Policy audit = named("audit", Mode::Audit);
  std::vector<Policy> policies{unbound, audit};
  EXPECT_EQ(combine(policies, account("a", "x"), &n, {}).enforcement, Enforcement::Enforce);
  AccountVerdict verdict = combine(policies, account("a", "x"), &n, bound());
  EXPECT_EQ(verdict.enforcement, Enforcement::Audit);
  EXPECT_EQ(combine(policies, account("a", "x"), nullptr, {}).enforcement, Enforcement::None);
}

TEST(PolicySelection, UnusedForNeedsObservationOverTheWholeWindow) {
  auto n = ns("a");
  Policy p = named("p", Mode::Enforce);
  p.serviceAccounts.unusedFor = 3600;
  AccountFacts facts;
  facts.now = 100'000;
  EXPECT_EQ(selectAccount(p, account("a", "x"), &n, facts).reason, SelectionReason::UseUnknown);
  facts.use.observingSince = facts.now - 3599;
  EXPECT_EQ(selectAccount(p, account("a", "x"), &n, facts).reason, SelectionReason::UseUnknown);
  facts.use.observingSince = facts.now - 3600;
  EXPECT_TRUE(selectAccount(p, account("a", "x"), &n, facts).selected);
  facts.use.lastUsed = facts.now - 3599;
  EXPECT_EQ(selectAccount(p, account("a", "x"), &n, facts).reason, SelectionReason::RecentlyUsed);
  facts.use.lastUsed = facts.now - 3600;
  EXPECT_TRUE(selectAccount(p, account("a", "x"), &n, facts).selected);
  // Without unusedFor, use does not matter; exemptions still come last.
  p.serviceAccounts.unusedFor.reset();
  facts.use.lastUsed = facts.now;
  EXPECT_TRUE(selectAccount(p, account("a", "x"), &n, facts).selected);
  EXPECT_STREQ(toString(SelectionReason::RecentlyUsed), "RecentlyUsed");
  EXPECT_STREQ(toString(SelectionReason::UseUnknown), "UseUnknown");
}

}  // namespace
}  // namespace saguard::policy
