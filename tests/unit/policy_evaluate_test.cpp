// evaluate(): one policy against one snapshot, as a table. The same small cluster is
// judged by a policy per row, one row per selection field, mode and report switch;
// each row lists every count, the accounts Enforce would patch and every finding.
//
// The cluster:
//   namespaces   team-a {env: prod}, team-b {env: dev}, kube-system {}; ghost-ns is not known
//   accounts     team-a/default (unset), team-a/builder (true, role=ci), team-a/quiet (false),
//                team-b/default (unset), team-b/deployer (unset, role=ci),
//                kube-system/default (unset), ghost-ns/default (unset)
//   pods         team-a/web (default, projected token), team-a/worker (builder, sets true,
//                projected), team-a/none (default, no token), team-a/quiet-pod (quiet,
//                projected: made before the account said false), team-b/api (default,
//                legacy Secret volume)
//   bindings     RoleBinding team-b/deploy-edit -> ServiceAccount deployer
//                RoleBinding team-a/user-form   -> User system:serviceaccount:team-a:builder
//                ClusterRoleBinding view-all    -> Group system:serviceaccounts:team-a
//                ClusterRoleBinding system:service-account-issuer-discovery -> Group
//                system:serviceaccounts (built in: never counted)
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "policy/evaluate.h"
#include "policy/parse.h"
#include "policy/selection.h"

namespace saguard::policy {
namespace {

using objects::TokenVolume;
using objects::Tristate;

class MemorySnapshot final : public Snapshot {
 public:
  std::vector<Shared<objects::ServiceAccount>> serviceAccounts() const override { return accounts; }
  Shared<objects::Namespace> namespace_(std::string_view name) const override {
    auto it = namespaces.find(std::string(name));
    return it == namespaces.end() ? nullptr : it->second;
  }
  std::vector<Shared<objects::Pod>> podsOf(std::string_view ns,
                                           std::string_view name) const override {
    std::vector<Shared<objects::Pod>> out;
    for (const auto& p : pods) {
      if (p->meta.namespace_.view() == ns && p->serviceAccountName.view() == name) out.push_back(p);
    }
    return out;
  }
  // Every binding: an index may over-approximate, evaluate() checks each.
  std::vector<Shared<objects::Binding>> bindingsFor(std::string_view,
                                                    std::string_view) const override {
    return bindings;
  }
  UseEvidence useOf(const objects::ServiceAccount& account) const override {
    auto it = use.find(std::string(account.meta.namespace_.view()) + "/" +
                       std::string(account.meta.name()));
    return evidenceFor(
        it == use.end() ? UseEvidence{.lastUsed = 0, .observingSince = observingSince} : it->second,
        account);
  }
  std::int64_t now() const override { return clock; }

  void addNamespace(const std::string& name, objects::Labels labels = {}) {
    objects::Namespace ns;
    ns.meta.setName(name);
    ns.labels = std::move(labels);
    namespaces[name] = std::make_shared<const objects::Namespace>(std::move(ns));
  }
  void addAccount(const std::string& ns, const std::string& name, Tristate automount,
                  objects::Labels labels = {}) {
    objects::ServiceAccount sa;
    sa.meta.namespace_ = Symbol(ns);
    sa.meta.setName(name);
    sa.automount = automount;
    sa.labels = std::move(labels);
    accounts.push_back(std::make_shared<const objects::ServiceAccount>(std::move(sa)));
  }
  void addPod(const std::string& ns, const std::string& name, const std::string& account,
              Tristate automount, TokenVolume token) {
    objects::Pod pod;
    pod.meta.namespace_ = Symbol(ns);
    pod.meta.setName(name);
    pod.serviceAccountName = Symbol(account);
    pod.automount = automount;
    pod.token = token;
    pods.push_back(std::make_shared<const objects::Pod>(std::move(pod)));
  }
  void addBinding(const std::string& ns, const std::string& name, const std::string& role,
                  std::vector<objects::Subject> subjects) {
    objects::Binding b;
    b.clusterScoped = ns.empty();
    b.meta.namespace_ = Symbol(ns);
    b.meta.setName(name);
    b.roleRef = {Symbol(ns.empty() ? "ClusterRole" : "Role"), Symbol(role)};
    b.subjects = std::move(subjects);
    bindings.push_back(std::make_shared<const objects::Binding>(std::move(b)));
  }

  std::map<std::string, Shared<objects::Namespace>> namespaces;
  std::vector<Shared<objects::ServiceAccount>> accounts;
  std::vector<Shared<objects::Pod>> pods;
  std::vector<Shared<objects::Binding>> bindings;
  std::map<std::string, UseEvidence> use;  // "ns/name" -> what the audit sources recorded
  std::int64_t observingSince = 0;
  std::int64_t clock = 0;
};

objects::Subject subject(const char* kind, const char* name, const char* ns = "") {
  return {Symbol(kind), Symbol(name), Symbol(ns)};
}

MemorySnapshot cluster() {
  MemorySnapshot c;
  c.addNamespace("team-a", {{Symbol("env"), Symbol("prod")}});
  c.addNamespace("team-b", {{Symbol("env"), Symbol("dev")}});
  c.addNamespace("kube-system");
  const objects::Labels ci{{Symbol("role"), Symbol("ci")}};
  c.addAccount("team-a", "default", Tristate::Unset);
  c.addAccount("team-a", "builder", Tristate::True, ci);
  c.addAccount("team-a", "quiet", Tristate::False);
  c.addAccount("team-b", "default", Tristate::Unset);
  c.addAccount("team-b", "deployer", Tristate::Unset, ci);
  c.addAccount("kube-system", "default", Tristate::Unset);
  c.addAccount("ghost-ns", "default", Tristate::Unset);
  c.addPod("team-a", "web", "default", Tristate::Unset, TokenVolume::Projected);
  c.addPod("team-a", "worker", "builder", Tristate::True, TokenVolume::Projected);
  c.addPod("team-a", "none", "default", Tristate::Unset, TokenVolume::None);
  c.addPod("team-a", "quiet-pod", "quiet", Tristate::Unset, TokenVolume::Projected);
  c.addPod("team-b", "api", "default", Tristate::Unset, TokenVolume::LegacySecret);
  c.addBinding("team-b", "deploy-edit", "edit", {subject("ServiceAccount", "deployer")});
  c.addBinding("team-a", "user-form", "edit",
               {subject("User", "system:serviceaccount:team-a:builder")});
  c.addBinding("", "view-all", "view", {subject("Group", "system:serviceaccounts:team-a")});
  c.addBinding("", "system:service-account-issuer-discovery",
               "system:service-account-issuer-discovery",
               {subject("Group", "system:serviceaccounts")});
  return c;
}

Policy parse(const std::string& spec) {
  auto p = parsePolicy(std::string_view(R"({"metadata":{"name":"p"},"spec":)" + spec + "}"));
  EXPECT_TRUE(p.ok()) << spec;
  return p.ok() ? *p : Policy{};
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<std::string> patchList(const Evaluation& e) {
  std::vector<std::string> out;
  for (const auto& a : e.toPatch)
    out.push_back(a->meta.namespace_.str() + "/" + std::string(a->meta.name()));
  return sorted(out);
}

// "Kind ns/name Reason", ns empty for cluster-scoped objects.
std::vector<std::string> findingList(const Evaluation& e) {
  std::vector<std::string> out;
  for (const auto& f : e.findings) {
    out.push_back(std::string(toString(f.kind)) + " " + std::string(f.namespace_()) + "/" +
                  std::string(f.name()) + " " + toString(f.reason));
  }
  return sorted(out);
}

struct Row {
  const char* name;
  const char* spec;
  Counts counts;
  std::vector<std::string> toPatch;
  std::vector<std::string> findings;
};

const std::vector<std::string> kAllBindingFindings = {
    "ClusterRoleBinding /view-all BindingGrantsSelectedAccount",  // team-a/default
    "ClusterRoleBinding /view-all BindingGrantsSelectedAccount",  // team-a/builder
    "ClusterRoleBinding /view-all BindingGrantsSelectedAccount",  // team-a/quiet
    "RoleBinding team-a/user-form BindingGrantsSelectedAccount",
    "RoleBinding team-b/deploy-edit BindingGrantsSelectedAccount",
};
const std::vector<std::string> kAllPodFindings = {
    "Pod team-a/web TokenMounted",
    "Pod team-a/worker PodOverridesPolicy",
    "Pod team-a/quiet-pod TokenMounted",
    "Pod team-b/api TokenMounted",
};

std::vector<std::string> join(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const std::vector<Row>& rows() {
  static const std::vector<Row> kRows = {
      {"every account, Enforce",
       "{}",
       {6, 1, 4, 3},
       {"kube-system/default", "team-a/builder", "team-a/default", "team-b/default",
        "team-b/deployer"},
       join(kAllBindingFindings, kAllPodFindings)},
      {"Audit: what Enforce would do, as findings",
       R"({"mode":"Audit"})",
       {6, 1, 4, 3},
       {},
       join(join(kAllBindingFindings, kAllPodFindings),
            {"ServiceAccount kube-system/default AutomountWouldBeDisabled",
             "ServiceAccount team-a/builder AutomountWouldBeDisabled",
             "ServiceAccount team-a/default AutomountWouldBeDisabled",
             "ServiceAccount team-b/default AutomountWouldBeDisabled",
             "ServiceAccount team-b/deployer AutomountWouldBeDisabled"})},
      {"namespaces.selector",
       R"({"namespaces":{"selector":{"matchLabels":{"env":"prod"}}}})",
       {3, 1, 3, 2},
       {"team-a/builder", "team-a/default"},
       {"ClusterRoleBinding /view-all BindingGrantsSelectedAccount",
        "ClusterRoleBinding /view-all BindingGrantsSelectedAccount",
        "ClusterRoleBinding /view-all BindingGrantsSelectedAccount",
        "RoleBinding team-a/user-form BindingGrantsSelectedAccount", "Pod team-a/web TokenMounted",
        "Pod team-a/worker PodOverridesPolicy", "Pod team-a/quiet-pod TokenMounted"}},
      {"namespaces.selector matchExpressions NotIn",
       R"({"namespaces":{"selector":{"matchExpressions":[{"key":"env","operator":"NotIn","values":["prod"]}]}}})",
       {3, 0, 1, 1},
       {"kube-system/default", "team-b/default", "team-b/deployer"},
       {"RoleBinding team-b/deploy-edit BindingGrantsSelectedAccount",
        "Pod team-b/api TokenMounted"}},
      {"namespaces.exclude",
       R"({"namespaces":{"exclude":["kube-*"]}})",
       {5, 1, 4, 3},
       {"team-a/builder", "team-a/default", "team-b/default", "team-b/deployer"},
       join(kAllBindingFindings, kAllPodFindings)},
      {"serviceAccounts.names",
       R"({"serviceAccounts":{"names":["default"]}})",
       {3, 0, 2, 1},
       {"kube-system/default", "team-a/default", "team-b/default"},
       {"ClusterRoleBinding /view-all BindingGrantsSelectedAccount", "Pod team-a/web TokenMounted",
        "Pod team-b/api TokenMounted"}},
      {"serviceAccounts.names globs",
       R"({"serviceAccounts":{"names":["de*","q?iet"]}})",
       {5, 1, 3, 2},
       {"kube-system/default", "team-a/default", "team-b/default", "team-b/deployer"},
       {"ClusterRoleBinding /view-all BindingGrantsSelectedAccount",
        "ClusterRoleBinding /view-all BindingGrantsSelectedAccount",
        "RoleBinding team-b/deploy-edit BindingGrantsSelectedAccount",
        "Pod team-a/web TokenMounted", "Pod team-a/quiet-pod TokenMounted",
        "Pod team-b/api TokenMounted"}},
      {"serviceAccounts.selector",
       R"({"serviceAccounts":{"selector":{"matchLabels":{"role":"ci"}}}})",
       {2, 0, 1, 3},
       {"team-a/builder", "team-b/deployer"},
       {"ClusterRoleBinding /view-all BindingGrantsSelectedAccount",
        "RoleBinding team-a/user-form BindingGrantsSelectedAccount",
        "RoleBinding team-b/deploy-edit BindingGrantsSelectedAccount",
        "Pod team-a/worker PodOverridesPolicy"}},
      {"serviceAccounts.unboundOnly (a group, a User subject and a ServiceAccount subject bind)",
       R"({"serviceAccounts":{"unboundOnly":true}})",
       {2, 0, 1, 0},
       {"kube-system/default", "team-b/default"},
       {"Pod team-b/api TokenMounted"}},
      {"exemptions",
       R"({"exemptions":[{"namespace":"team-*","name":"default","reason":"calls the API"}]})",
       {4, 1, 2, 3},
       {"kube-system/default", "team-a/builder", "team-b/deployer"},
       {"ClusterRoleBinding /view-all BindingGrantsSelectedAccount",
        "ClusterRoleBinding /view-all BindingGrantsSelectedAccount",
        "RoleBinding team-a/user-form BindingGrantsSelectedAccount",
        "RoleBinding team-b/deploy-edit BindingGrantsSelectedAccount",
        "Pod team-a/worker PodOverridesPolicy", "Pod team-a/quiet-pod TokenMounted"}},
      {"reportPods and reportBindings off: counted, not reported",
       R"({"serviceAccounts":{"names":["default"]},"reportPods":false,"reportBindings":false})",
       {3, 0, 2, 0},
       {"kube-system/default", "team-a/default", "team-b/default"},
       {}},
  };
  return kRows;
}

class EvaluateTable : public ::testing::TestWithParam<std::size_t> {};

TEST_P(EvaluateTable, CountsPatchesAndFindings) {
  const Row& row = rows()[GetParam()];
  SCOPED_TRACE(row.name);
  const MemorySnapshot snapshot = cluster();
  const Evaluation e = evaluate(parse(row.spec), snapshot);
  EXPECT_EQ(e.counts, row.counts) << "selected " << e.counts.selected << ", compliant "
                                  << e.counts.compliant << ", podsWithToken "
                                  << e.counts.podsWithToken << ", bindings " << e.counts.bindings;
  EXPECT_EQ(patchList(e), sorted(row.toPatch));
  EXPECT_EQ(findingList(e), sorted(row.findings));
}

INSTANTIATE_TEST_SUITE_P(Rows, EvaluateTable, ::testing::Range<std::size_t>(0, 11));

TEST(Evaluate, TableHasEveryRow) {
  EXPECT_EQ(rows().size(), 11u);
}

// Every pending finding builds the Finding the status shows, with the same identity.
TEST(Evaluate, PendingFindingsBuildWhatTheyName) {
  const MemorySnapshot snapshot = cluster();
  const Evaluation e = evaluate(parse(R"({"mode":"Audit"})"), snapshot);
  ASSERT_FALSE(e.findings.empty());
  for (const PendingFinding& f : e.findings) {
    const Finding built = f.build();
    EXPECT_EQ(built.kind, f.kind);
    EXPECT_EQ(built.reason, f.reason);
    EXPECT_EQ(built.severity, f.severity);
    EXPECT_EQ(built.namespace_, f.namespace_());
    EXPECT_EQ(built.name, f.name());
    EXPECT_FALSE(built.message.empty());
  }
}

// With evidence of use, every finding's message ends with it (days, so that a status does
// not change with every use); without, messages are as before.
TEST(Evaluate, FindingsCarryTheEvidenceOfUse) {
  constexpr std::int64_t kDay = 86400;
  MemorySnapshot snapshot = cluster();
  const Evaluation plain = evaluate(parse(R"({"mode":"Audit"})"), snapshot);
  for (const PendingFinding& f : plain.findings) {
    EXPECT_EQ(f.build().message.find("its token"), std::string::npos) << f.build().message;
  }
  snapshot.clock = 20000 * kDay;
  snapshot.observingSince = 19990 * kDay;  // 2024-09-24
  snapshot.use["team-a/default"] = {.lastUsed = 19999 * kDay + 5, .observingSince = 19990 * kDay};
  const Evaluation e = evaluate(parse(R"({"mode":"Audit"})"), snapshot);
  std::size_t used = 0;
  std::size_t unused = 0;
  for (const PendingFinding& f : e.findings) {
    const std::string message = f.build().message;
    if (f.account->meta.namespace_.view() == "team-a" && f.account->meta.name() == "default") {
      EXPECT_TRUE(message.ends_with("(its token was last used on 2024-10-03)")) << message;
      ++used;
    } else {
      EXPECT_TRUE(message.ends_with("(no use of its token recorded since 2024-09-24)")) << message;
      ++unused;
    }
  }
  EXPECT_GT(used, 0u);
  EXPECT_GT(unused, 0u);
}

// Event identity: object and reason. The three findings of view-all (one per account it
// names) are one Event; a pod's finding is its own.
TEST(Evaluate, FindingKeysIdentifyObjectAndReason) {
  const MemorySnapshot snapshot = cluster();
  const Evaluation e = evaluate(parse("{}"), snapshot);
  std::map<std::uint64_t, int> byKey;
  for (const PendingFinding& f : e.findings) ++byKey[f.key()];
  EXPECT_EQ(byKey.size(), 3u + 4u);  // view-all, user-form, deploy-edit; four pods
}

TEST(ShowFindings, MostSevereFirstCappedAndBuiltOnlyForTheShown) {
  const MemorySnapshot snapshot = cluster();
  const Evaluation all = evaluate(parse("{}"), snapshot);
  const std::vector<Finding> top = showFindings(all.findings, 2);
  ASSERT_EQ(top.size(), 2u);
  // Critical (bindings) first; ties by kind (RoleBinding before ClusterRoleBinding), namespace.
  EXPECT_EQ(top[0].name, "user-form");
  EXPECT_EQ(top[1].name, "deploy-edit");

  const Evaluation pods = evaluate(
      parse(R"({"serviceAccounts":{"names":["default","builder"]},"reportBindings":false})"),
      snapshot);
  const std::vector<Finding> shown = showFindings(pods.findings, 2);
  ASSERT_EQ(shown.size(), 2u);
  EXPECT_EQ(shown[0].name, "worker");  // PodOverridesPolicy (High) before TokenMounted (Medium)
  EXPECT_EQ(shown[1].name, "web");     // then by namespace: team-a before team-b
  EXPECT_EQ(showFindings(pods.findings).size(), 3u);
}

// Several policies on one account: combine() (selection.h) decides, evaluate() judges one.
TEST(Evaluate, ModeOverlapEnforceBeatsAuditAndExemptionsArePerPolicy) {
  Policy enforceDefaults = parse(R"({"serviceAccounts":{"names":["default"]}})");
  enforceDefaults.name = "enforce-defaults";
  Policy auditAll = parse(R"({"mode":"Audit"})");
  auditAll.name = "audit-all";
  Policy enforceExempting = parse(R"({"exemptions":[{"namespace":"team-a","name":"default"}]})");
  enforceExempting.name = "enforce-exempting";
  const MemorySnapshot snapshot = cluster();
  const objects::ServiceAccount& teamADefault = *snapshot.accounts[0];
  const objects::ServiceAccount& builder = *snapshot.accounts[1];
  const objects::Namespace* teamA = snapshot.namespace_("team-a").get();

  const std::vector<Policy> both{enforceDefaults, auditAll};
  AccountVerdict v = combine(std::span<const Policy>(both), teamADefault, teamA, {});
  EXPECT_EQ(v.enforcement, Enforcement::Enforce);
  EXPECT_EQ(v.enforcedBy, std::vector<std::string>{"enforce-defaults"});
  EXPECT_EQ(v.auditedBy, std::vector<std::string>{"audit-all"});
  EXPECT_EQ(combine(std::span<const Policy>(both), builder, teamA, {}).enforcement,
            Enforcement::Audit);

  const std::vector<Policy> exempting{enforceExempting, auditAll};
  EXPECT_EQ(combine(std::span<const Policy>(exempting), teamADefault, teamA, {}).enforcement,
            Enforcement::Audit);
  // Each policy's own evaluation still counts the account by its own rules.
  EXPECT_EQ(evaluate(auditAll, snapshot).counts.selected, 6);
  EXPECT_EQ(evaluate(enforceExempting, snapshot).counts.selected, 5);
}

// An Enforce policy leaves an account whose field a source of truth declares
// (ownership.h): not in toPatch, a DeclaredByOwner finding naming the manager, counted.
// Drift by a plain update is patched; Audit reports as for any account.
TEST(Evaluate, DeclaredFieldsAreFindingsNotPatches) {
  MemorySnapshot s;
  s.addNamespace("apps");
  s.addAccount("apps", "argo", Tristate::True);
  s.addAccount("apps", "flux", Tristate::True);
  s.addAccount("apps", "csa", Tristate::True);
  s.addAccount("apps", "edited", Tristate::True);
  s.addAccount("apps", "done", Tristate::False);
  auto owned = [&](std::size_t i, objects::FieldOwners owners, Tristate lastApplied) {
    objects::ServiceAccount sa = *s.accounts[i];
    sa.automountOwners = std::move(owners);
    sa.lastAppliedAutomount = lastApplied;
    s.accounts[i] = std::make_shared<const objects::ServiceAccount>(std::move(sa));
  };
  using objects::FieldOperation;
  owned(0, {{Symbol("argocd-controller"), FieldOperation::Apply}}, Tristate::Unset);
  owned(1, {{Symbol("kustomize-controller"), FieldOperation::Apply}}, Tristate::Unset);
  owned(2, {{Symbol("kubectl-client-side-apply"), FieldOperation::Update}}, Tristate::True);
  owned(3, {{Symbol("kubectl-edit"), FieldOperation::Update}}, Tristate::Unset);
  // saguard owning false alongside is no declaration of anything else.
  owned(4, {{Symbol("saguard"), FieldOperation::Apply}}, Tristate::Unset);

  Policy enforce;
  enforce.name = "p";
  enforce.namespaces.selector = LabelSelector{};
  const Evaluation e = evaluate(enforce, s);
  EXPECT_EQ(e.counts.selected, 5);
  EXPECT_EQ(e.counts.compliant, 1);
  EXPECT_EQ(e.counts.declaredByOwner, 3);
  EXPECT_EQ(patchList(e), std::vector<std::string>{"apps/edited"});
  EXPECT_EQ(findingList(e), (std::vector<std::string>{"ServiceAccount apps/argo DeclaredByOwner",
                                                      "ServiceAccount apps/csa DeclaredByOwner",
                                                      "ServiceAccount apps/flux DeclaredByOwner"}));
  const std::vector<Finding> shown = showFindings(e.findings);
  ASSERT_EQ(shown.size(), 3u);
  for (const Finding& f : shown) {
    EXPECT_EQ(f.severity, Severity::Medium);
    EXPECT_NE(f.message.find("Fix:"), std::string::npos) << f.message;
  }
  EXPECT_NE(shown[0].message.find("argocd-controller"), std::string::npos) << shown[0].message;

  Policy audit = enforce;
  audit.mode = Mode::Audit;
  const Evaluation a = evaluate(audit, s);
  EXPECT_EQ(a.counts.declaredByOwner, 0);
  EXPECT_EQ(findingList(a).size(), 4u);
  for (const auto& f : a.findings) EXPECT_EQ(f.reason, Reason::AutomountWouldBeDisabled);
}

// unusedFor: only accounts with no recorded use in the window are selected, and only once
// observation covers the window; the last-used annotation counts as a use on that day.
TEST(Evaluate, UnusedForSelectsOnlyAccountsWithoutRecentUse) {
  constexpr std::int64_t kDay = 86400;
  constexpr std::int64_t kNow = 20000 * kDay + 12 * 3600;  // 2024-10-04T12:00:00Z
  Policy p;
  p.name = "unused";
  p.namespaces.selector = LabelSelector{};
  p.serviceAccounts.unusedFor = 7 * kDay;
  auto selectedNames = [&](const MemorySnapshot& s) {
    std::set<std::string> names;
    for (const auto& account : evaluate(p, s).toPatch) {
      names.insert(std::string(account->meta.namespace_.view()) + "/" +
                   std::string(account->meta.name()));
    }
    return names;
  };

  MemorySnapshot c = cluster();
  c.clock = kNow;
  // No audit source: nothing is known, nothing is selected.
  EXPECT_TRUE(selectedNames(c).empty());
  // Observation shorter than the window: still nothing.
  c.observingSince = kNow - 3 * kDay;
  EXPECT_TRUE(selectedNames(c).empty());

  // Observed for longer than the window: accounts without use are selected; one used a
  // day ago is not; one used 8 days ago is.
  c.observingSince = kNow - 30 * kDay;
  c.use["team-a/default"] = {.lastUsed = kNow - kDay, .observingSince = c.observingSince};
  c.use["team-b/default"] = {.lastUsed = kNow - 8 * kDay, .observingSince = c.observingSince};
  EXPECT_EQ(selectedNames(c), (std::set<std::string>{"team-a/builder", "team-b/default",
                                                     "team-b/deployer", "kube-system/default"}));
  // The annotation of a day inside the window counts like a recorded use.
  MemorySnapshot annotated = c;
  objects::ServiceAccount deployer = *annotated.accounts[4];
  ASSERT_EQ(deployer.meta.name(), "deployer");
  deployer.tokenLastUsed = Symbol(useDayOf(kNow - 2 * kDay));
  annotated.accounts[4] = std::make_shared<const objects::ServiceAccount>(deployer);
  EXPECT_EQ(selectedNames(annotated),
            (std::set<std::string>{"team-a/builder", "team-b/default", "kube-system/default"}));
}

}  // namespace
}  // namespace saguard::policy
