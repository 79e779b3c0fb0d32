// The reconciler over an in-memory cluster: which writes and Events each situation
// gives, and that nothing is written when nothing needs changing.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "leader/write_gate.h"
#include "policy/parse.h"
#include "reconcile/gated_writes.h"
#include "reconcile/keys.h"
#include "reconcile/reconciler.h"
#include "support/fake_cluster.h"

namespace saguard::reconcile {
namespace {

using fakes::FakeCluster;
using fakes::policyJson;
using nlohmann::json;
using objects::FieldOperation;
using objects::Tristate;

class ReconcilerTest : public ::testing::Test {
 protected:
  ReconcilerTest() : reconciler_(cluster_, cluster_, cluster_, ReconcilerOptions{}) {}
  queue::Outcome account(const std::string& ns, const std::string& name) {
    return reconciler_.reconcile(accountWorkKey(ns, name));
  }
  queue::Outcome policy(const std::string& name) {
    return reconciler_.reconcile(policyWorkKey(name));
  }
  json status(const std::string& name) {
    return json::parse(cluster_.policyRecords.at(name).statusJson);
  }

  FakeCluster cluster_;
  Reconciler reconciler_;
};

TEST_F(ReconcilerTest, EnforcePatchesSelectedDefaultAccountOnce) {
  cluster_.addNamespace("team-a");
  cluster_.addAccount("team-a", "default");
  cluster_.addAccount("team-a", "builder");
  cluster_.addPolicy(policyJson("p", R"({"serviceAccounts":{"names":["default"]}})"));

  EXPECT_EQ(account("team-a", "default").result(), queue::WorkResult::Success);
  EXPECT_EQ(account("team-a", "builder").result(), queue::WorkResult::Success);
  ASSERT_EQ(cluster_.patches, std::vector<std::string>{"team-a/default"});
  ASSERT_EQ(cluster_.events.size(), 1u);
  EXPECT_EQ(cluster_.events[0].reason, policy::Reason::AutomountDisabled);

  // Level-based: reconciling again writes nothing.
  account("team-a", "default");
  EXPECT_EQ(cluster_.patches.size(), 1u);
  EXPECT_EQ(cluster_.events.size(), 1u);
}

TEST_F(ReconcilerTest, AlreadyFalseMeansNoWrite) {
  cluster_.addNamespace("ns");
  cluster_.addAccount("ns", "default", Tristate::False);
  cluster_.addPolicy(policyJson("p", "{}"));
  account("ns", "default");
  EXPECT_TRUE(cluster_.patches.empty());
  EXPECT_TRUE(cluster_.events.empty());
}

TEST_F(ReconcilerTest, ExplicitTrueIsPatchedAndDriftIsReported) {
  cluster_.addNamespace("ns");
  cluster_.addAccount("ns", "default", Tristate::False);
  cluster_.addPolicy(policyJson("p", "{}"));
  account("ns", "default");  // seen compliant
  auto& sa = cluster_.accounts["ns/default"];
  sa.automount = Tristate::True;
  sa.meta.setResourceVersion(std::to_string(++cluster_.revision));
  account("ns", "default");
  ASSERT_EQ(cluster_.patches.size(), 1u);
  ASSERT_EQ(cluster_.events.size(), 1u);
  EXPECT_EQ(cluster_.events[0].reason, policy::Reason::DriftReverted);
}

TEST_F(ReconcilerTest, AFieldDeclaredBySourceOfTruthIsLeftAloneAndToldOncePerDeclaration) {
  cluster_.addNamespace("ns");
  cluster_.addAccount("ns", "default", Tristate::True);
  cluster_.addPolicy(policyJson("p", "{}"));
  auto& sa = cluster_.accounts["ns/default"];
  sa.automountOwners = objects::FieldOwners{{Symbol("argocd-controller"), FieldOperation::Apply}};
  account("ns", "default");
  account("ns", "default");  // a re-sync says nothing new
  EXPECT_TRUE(cluster_.patches.empty());
  ASSERT_EQ(cluster_.events.size(), 1u);
  EXPECT_EQ(cluster_.events[0].object, "ServiceAccount/ns/default");
  EXPECT_EQ(cluster_.events[0].reason, policy::Reason::DeclaredByOwner);
  EXPECT_NE(cluster_.events[0].message.find("argocd-controller"), std::string::npos);
  EXPECT_NE(cluster_.events[0].message.find("RespectIgnoreDifferences=true"), std::string::npos);

  // Another declaring manager is news.
  sa.automountOwners =
      objects::FieldOwners{{Symbol("kustomize-controller"), FieldOperation::Apply}};
  account("ns", "default");
  EXPECT_TRUE(cluster_.patches.empty());
  ASSERT_EQ(cluster_.events.size(), 2u);
  EXPECT_NE(cluster_.events[1].message.find("kustomize-controller"), std::string::npos);

  // Client-side apply declaring true blocks too.
  sa.automountOwners =
      objects::FieldOwners{{Symbol("kubectl-client-side-apply"), FieldOperation::Update}};
  sa.lastAppliedAutomount = Tristate::True;
  account("ns", "default");
  EXPECT_TRUE(cluster_.patches.empty());
  ASSERT_EQ(cluster_.events.size(), 3u);
  EXPECT_EQ(cluster_.events[2].reason, policy::Reason::DeclaredByOwner);

  // Git changes: the tool leaves the field out of its configuration (last-applied
  // without it, the field taken over by a patch): drift, reverted.
  sa.lastAppliedAutomount = Tristate::Unset;
  sa.automountOwners = objects::FieldOwners{{Symbol("kubectl-patch"), FieldOperation::Update}};
  account("ns", "default");
  EXPECT_EQ(cluster_.patches, std::vector<std::string>{"ns/default"});
  EXPECT_EQ(cluster_.events.back().reason, policy::Reason::AutomountDisabled);
}

TEST_F(ReconcilerTest, AnUpdateByAnotherClientIsDriftAndADeclaredFalseIsNoObstacle) {
  cluster_.addNamespace("ns");
  cluster_.addAccount("ns", "edited", Tristate::True);
  cluster_.addAccount("ns", "helm", Tristate::True);
  cluster_.addAccount("ns", "declared-false", Tristate::True);
  cluster_.accounts["ns/edited"].automountOwners =
      objects::FieldOwners{{Symbol("kubectl-edit"), FieldOperation::Update}};
  cluster_.accounts["ns/helm"].automountOwners =
      objects::FieldOwners{{Symbol("helm"), FieldOperation::Update}};
  // The last-applied configuration says false, someone's patch made it true: drift.
  cluster_.accounts["ns/declared-false"].lastAppliedAutomount = Tristate::False;
  cluster_.addPolicy(policyJson("p", "{}"));
  account("ns", "edited");
  account("ns", "helm");
  account("ns", "declared-false");
  EXPECT_EQ(cluster_.patches,
            (std::vector<std::string>{"ns/edited", "ns/helm", "ns/declared-false"}));
}

TEST_F(ReconcilerTest, AuditOfADeclaredFieldSaysWhatEnforceWouldDo) {
  // Audit never writes, so the owner changes nothing: the Audit Event, not DeclaredByOwner.
  cluster_.addNamespace("ns");
  cluster_.addAccount("ns", "default", Tristate::True);
  cluster_.accounts["ns/default"].automountOwners =
      objects::FieldOwners{{Symbol("argocd-controller"), FieldOperation::Apply}};
  cluster_.addPolicy(policyJson("audit", R"({"mode":"Audit"})"));
  account("ns", "default");
  ASSERT_EQ(cluster_.events.size(), 1u);
  EXPECT_EQ(cluster_.events[0].reason, policy::Reason::AutomountWouldBeDisabled);
}

TEST_F(ReconcilerTest, PolicyStatusCountsAndShowsDeclaredAccounts) {
  cluster_.addNamespace("ns");
  cluster_.addAccount("ns", "default", Tristate::True);
  cluster_.addAccount("ns", "plain");
  cluster_.accounts["ns/default"].automountOwners =
      objects::FieldOwners{{Symbol("argocd-controller"), FieldOperation::Apply}};
  cluster_.addPolicy(policyJson("p", "{}"));
  policy("p");
  const json st = status("p");
  EXPECT_EQ(st["summary"]["selected"], 2);
  EXPECT_EQ(st["summary"]["declaredByOwner"], 1);
  ASSERT_EQ(st["findings"].size(), 1u);
  EXPECT_EQ(st["findings"][0]["kind"], "ServiceAccount");
  EXPECT_EQ(st["findings"][0]["name"], "default");
  EXPECT_EQ(st["findings"][0]["reason"], "DeclaredByOwner");
  EXPECT_NE(st["findings"][0]["message"].get<std::string>().find("argocd-controller"),
            std::string::npos);
  // The account's Event comes from the account's reconcile, not the policy's.
  EXPECT_TRUE(cluster_.events.empty());
}

TEST_F(ReconcilerTest, StaleCacheAfterOwnPatchDoesNotWriteTwice) {
  cluster_.addNamespace("ns");
  cluster_.addAccount("ns", "default");
  cluster_.addPolicy(policyJson("p", "{}"));
  cluster_.applyPatches = false;  // the cache has not seen the patch yet
  account("ns", "default");
  auto again = account("ns", "default");
  EXPECT_EQ(again.result(), queue::WorkResult::RequeueAfter);
  EXPECT_EQ(cluster_.patches.size(), 1u);
}

TEST_F(ReconcilerTest, AuditNeverWritesAndTellsOnce) {
  cluster_.addNamespace("ns");
  cluster_.addAccount("ns", "default");
  cluster_.addPolicy(policyJson("audit", R"({"mode":"Audit"})"));
  account("ns", "default");
  account("ns", "default");
  EXPECT_TRUE(cluster_.patches.empty());
  ASSERT_EQ(cluster_.events.size(), 1u);
  EXPECT_EQ(cluster_.events[0].reason, policy::Reason::AutomountWouldBeDisabled);
}

TEST_F(ReconcilerTest, EnforceWinsOverAudit) {
  cluster_.addNamespace("ns");
  cluster_.addAccount("ns", "default");
  cluster_.addPolicy(policyJson("audit", R"({"mode":"Audit"})"));
  cluster_.addPolicy(policyJson("enforce", R"({"mode":"Enforce"})"));
  account("ns", "default");
  EXPECT_EQ(cluster_.patches.size(), 1u);
}

TEST_F(ReconcilerTest, ExemptAndUnselectedAccountsAreUntouched) {
  cluster_.addNamespace("monitoring");
  cluster_.addNamespace("kube-system");
  cluster_.addAccount("monitoring", "prometheus");
  cluster_.addAccount("kube-system", "default");
  cluster_.addPolicy(policyJson(
      "p",
      R"({"namespaces":{"exclude":["kube-*"]},"exemptions":[{"namespace":"monitoring","name":"prom*","reason":"reads pods"}]})"));
  account("monitoring", "prometheus");
  account("kube-system", "default");
  EXPECT_TRUE(cluster_.patches.empty());
}

TEST_F(ReconcilerTest, NeverPatchesItsOwnAccount) {
  ReconcilerOptions options;
  options.selfNamespace = "saguard-system";
  options.selfName = "saguard";
  Reconciler self(cluster_, cluster_, cluster_, options);
  cluster_.addNamespace("saguard-system");
  cluster_.addAccount("saguard-system", "saguard");
  cluster_.addPolicy(policyJson("p", "{}"));
  self.reconcile(accountWorkKey("saguard-system", "saguard"));
  EXPECT_TRUE(cluster_.patches.empty());
}

// The reconciler does not ask whether it leads: its writes pass through the one write
// path (reconcile/gated_writes.h), which refuses them while the gate is closed.
TEST_F(ReconcilerTest, NoWriteWhenNotLeader) {
  leader::WriteGate gate;
  gate.close();
  GatedWriter writer(cluster_, gate);
  Reconciler standby(cluster_, writer, cluster_, ReconcilerOptions{});
  cluster_.addNamespace("ns");
  cluster_.addAccount("ns", "default");
  cluster_.addPolicy(policyJson("p", "{}"));
  standby.reconcile(accountWorkKey("ns", "default"));
  standby.reconcile(policyWorkKey("p"));
  EXPECT_TRUE(cluster_.patches.empty());
  EXPECT_TRUE(cluster_.statusWrites.empty());
  EXPECT_TRUE(cluster_.events.empty());
}

TEST_F(ReconcilerTest, ConflictIsRetriedNotFoundIsDone) {
  cluster_.addNamespace("ns");
  cluster_.addAccount("ns", "default");
  cluster_.addPolicy(policyJson("p", "{}"));
  cluster_.patchError = makeError(ErrorKind::Conflict, "modified");
  EXPECT_EQ(account("ns", "default").result(), queue::WorkResult::Error);
  cluster_.patchError = makeError(ErrorKind::NotFound, "gone");
  EXPECT_EQ(account("ns", "default").result(), queue::WorkResult::Success);
  EXPECT_TRUE(cluster_.events.empty());
}

TEST_F(ReconcilerTest, DeletedAccountIsDone) {
  cluster_.addPolicy(policyJson("p", "{}"));
  EXPECT_EQ(account("ns", "gone").result(), queue::WorkResult::Success);
  EXPECT_TRUE(cluster_.patches.empty());
}

TEST_F(ReconcilerTest, MalformedKeyIsTerminal) {
  EXPECT_EQ(reconciler_.reconcile("bogus").result(), queue::WorkResult::TerminalError);
}

TEST_F(ReconcilerTest, PolicyStatusCountsAndWritesOnlyOnChange) {
  cluster_.addNamespace("ns");
  cluster_.addAccount("ns", "default");
  cluster_.addAccount("ns", "other", Tristate::False);
  cluster_.addPod("ns", "old-pod", "default", Tristate::Unset, objects::TokenVolume::Projected);
  cluster_.addPod("ns", "override", "other", Tristate::True, objects::TokenVolume::Projected);
  cluster_.addPolicy(policyJson("p", "{}"));

  policy("p");
  ASSERT_EQ(cluster_.statusWrites.size(), 1u);
  json s = status("p");
  EXPECT_EQ(s["observedGeneration"], 1);
  EXPECT_EQ(s["summary"]["selected"], 2);
  EXPECT_EQ(s["summary"]["compliant"], 1);
  EXPECT_EQ(s["summary"]["podsWithToken"], 2);
  EXPECT_EQ(s["conditions"][0]["type"], "Ready");
  EXPECT_EQ(s["conditions"][0]["status"], "True");
  EXPECT_EQ(s["conditions"][0]["reason"], "Reconciled");
  ASSERT_EQ(s["findings"].size(), 2u);
  // Most severe first: the pod that overrides the policy.
  EXPECT_EQ(s["findings"][0]["reason"], "PodOverridesPolicy");
  EXPECT_EQ(s["findings"][1]["reason"], "TokenMounted");
  EXPECT_EQ(cluster_.events.size(), 2u);

  // Nothing changed: no status write, no new Event.
  policy("p");
  EXPECT_EQ(cluster_.statusWrites.size(), 1u);
  EXPECT_EQ(cluster_.events.size(), 2u);

  // Something changed: one write.
  cluster_.pods.pop_back();
  policy("p");
  EXPECT_EQ(cluster_.statusWrites.size(), 2u);
  EXPECT_EQ(status("p")["summary"]["podsWithToken"], 1);
}

TEST_F(ReconcilerTest, StatusShowsTheMostSevereHundredOfManyPodsAndEventsEachOnce) {
  // 3 namespaces x 60 pods: 180 pod findings, a few PodOverridesPolicy (High) among
  // TokenMounted (Medium). The status must show exactly what ranking all 180 findings
  // gives, and every pod gets its Event once, however often the policy is recomputed.
  std::vector<policy::Finding> expected;
  for (const std::string ns : {"b-team", "a-team", "c-team"}) {
    cluster_.addNamespace(ns);
    cluster_.addAccount(ns, "default");
    for (int i = 0; i < 60; ++i) {
      const bool overrides = i % 17 == 3;
      cluster_.addPod(ns, "pod-" + std::to_string(i), "default",
                      overrides ? Tristate::True : Tristate::Unset,
                      objects::TokenVolume::Projected);
      auto account = cluster_.serviceAccount(ns, "default");
      expected.push_back(*policy::podFinding(cluster_.pods.back(), account.get()));
    }
  }
  policy::rankFindings(expected);
  ASSERT_EQ(expected.size(), policy::kMaxFindings);
  cluster_.addPolicy(policyJson("p", "{}"));

  policy("p");
  json findings = status("p")["findings"];
  ASSERT_EQ(findings.size(), policy::kMaxFindings);
  EXPECT_EQ(findings, policy::findingsToJson(expected));
  EXPECT_EQ(findings[0]["reason"], "PodOverridesPolicy");
  EXPECT_EQ(status("p")["summary"]["podsWithToken"], 180);
  EXPECT_EQ(cluster_.events.size(), 180u);

  policy("p");
  EXPECT_EQ(cluster_.events.size(), 180u) << "no second Event for the same pod and reason";

  cluster_.addPod("a-team", "late", "default", Tristate::Unset, objects::TokenVolume::Projected);
  policy("p");
  ASSERT_EQ(cluster_.events.size(), 181u);
  EXPECT_EQ(cluster_.events.back().object, "Pod/a-team/late");
  EXPECT_EQ(cluster_.events.back().reason, policy::Reason::TokenMounted);
}

TEST_F(ReconcilerTest, BindingFindingAppearsAndGoes) {
  cluster_.addNamespace("ns");
  cluster_.addAccount("ns", "default", Tristate::False);
  cluster_.addPolicy(policyJson("p", "{}"));
  objects::Binding crb;
  crb.meta.setName("debug-admin");
  crb.meta.setUid("uid-crb");
  crb.clusterScoped = true;
  crb.roleRef = {Symbol("ClusterRole"), Symbol("cluster-admin")};
  crb.subjects.push_back({Symbol("ServiceAccount"), Symbol("default"), Symbol("ns")});
  cluster_.bindingObjects.push_back(crb);

  policy("p");
  json s = status("p");
  EXPECT_EQ(s["summary"]["bindings"], 1);
  ASSERT_EQ(s["findings"].size(), 1u);
  EXPECT_EQ(s["findings"][0]["reason"], "BindingGrantsSelectedAccount");
  ASSERT_EQ(cluster_.events.size(), 1u);
  EXPECT_EQ(cluster_.events[0].object, "ClusterRoleBinding//debug-admin");

  cluster_.bindingObjects.clear();
  policy("p");
  EXPECT_EQ(status("p")["summary"]["bindings"], 0);
  EXPECT_TRUE(status("p")["findings"].empty());
}

TEST_F(ReconcilerTest, InvalidPolicyGetsReadyFalseAndOneEventPerGeneration) {
  cluster_.addPolicy(policyJson("bad", R"({"mode":"Sometimes"})"));
  policy("bad");
  json s = status("bad");
  EXPECT_EQ(s["conditions"][0]["status"], "False");
  EXPECT_EQ(s["conditions"][0]["reason"], "Invalid");
  ASSERT_EQ(cluster_.events.size(), 1u);
  EXPECT_EQ(cluster_.events[0].reason, policy::Reason::PolicyInvalid);
  policy("bad");
  EXPECT_EQ(cluster_.events.size(), 1u);
  EXPECT_EQ(cluster_.statusWrites.size(), 1u);
}

TEST_F(ReconcilerTest, DeletedPolicyStopsReporting) {
  cluster_.addPolicy(policyJson("p", "{}"));
  policy("p");
  cluster_.policyRecords.clear();
  EXPECT_EQ(policy("p").result(), queue::WorkResult::Success);
}

// The last-used annotation: written when the audit sources recorded a use on a later
// day than it says, once per day, never backwards, not again while the cache lags.
TEST_F(ReconcilerTest, RecordsTheDayOfTheLastUseOncePerDay) {
  constexpr std::int64_t kDay = 86400;
  cluster_.addNamespace("ns");
  cluster_.addAccount("ns", "web");
  cluster_.clock = 20000 * kDay;
  EXPECT_EQ(account("ns", "web").result(), queue::WorkResult::Success);
  EXPECT_TRUE(cluster_.useDayWrites.empty());  // no use recorded: nothing to write

  cluster_.observed["ns/web"] = {.lastUsed = 20000 * kDay + 10, .observingSince = 1};
  account("ns", "web");
  account("ns", "web");  // same day again: nothing
  EXPECT_EQ(cluster_.useDayWrites, (std::vector<std::string>{"ns/web=2024-10-04"}));
  EXPECT_EQ(cluster_.accounts.at("ns/web").tokenLastUsed.view(), "2024-10-04");

  cluster_.observed["ns/web"].lastUsed = 20001 * kDay + 5;  // the next day
  cluster_.clock = 20001 * kDay + 6;
  cluster_.applyPatches = false;  // the cache lags behind
  account("ns", "web");
  account("ns", "web");
  EXPECT_EQ(cluster_.useDayWrites,
            (std::vector<std::string>{"ns/web=2024-10-04", "ns/web=2024-10-05"}));

  // An older use (a late batch) never moves it back.
  cluster_.applyPatches = true;
  cluster_.accounts.at("ns/web").tokenLastUsed = Symbol("2024-10-05");
  cluster_.observed["ns/web"].lastUsed = 19990 * kDay;
  account("ns", "web");
  EXPECT_EQ(cluster_.useDayWrites.size(), 2u);
}

// unusedFor: a used account is left alone and looked at again when its last use leaves
// the window; then it is patched.
// At most one write per account per UTC day of the clock: a use in yesterday's last
// second that reaches saguard after midnight is written then, and a use later today waits
// for the next midnight (bench/audit_writes found the second write without this).
TEST_F(ReconcilerTest, ALateUseOfYesterdayMakesTodaysUseWaitForMidnight) {
  constexpr std::int64_t kDay = 86400;
  cluster_.addNamespace("ns");
  cluster_.addAccount("ns", "web");
  cluster_.clock = 20001 * kDay + 5;                                                  // 00:00:05
  cluster_.observed["ns/web"] = {.lastUsed = 20001 * kDay - 1, .observingSince = 1};  // 23:59:59
  account("ns", "web");
  EXPECT_EQ(cluster_.useDayWrites, (std::vector<std::string>{"ns/web=2024-10-04"}));

  cluster_.clock = 20001 * kDay + 10 * 3600;  // 10:00, used again
  cluster_.observed["ns/web"].lastUsed = cluster_.clock;
  queue::Outcome outcome = account("ns", "web");
  EXPECT_EQ(cluster_.useDayWrites.size(), 1u);
  ASSERT_EQ(outcome.result(), queue::WorkResult::RequeueAfter);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(outcome.after()).count(), 14 * 3600);

  cluster_.clock = 20002 * kDay;  // midnight: today's use is written (as yesterday's day)
  account("ns", "web");
  EXPECT_EQ(cluster_.useDayWrites,
            (std::vector<std::string>{"ns/web=2024-10-04", "ns/web=2024-10-05"}));
}

TEST_F(ReconcilerTest, UnusedForPatchesOnlyOnceTheWindowHasPassedWithoutUse) {
  constexpr std::int64_t kHour = 3600;
  cluster_.addNamespace("ns");
  cluster_.addAccount("ns", "used");
  cluster_.addAccount("ns", "idle");
  cluster_.addPolicy(
      policyJson("p", R"({"namespaces":{"selector":{}},"serviceAccounts":{"unusedFor":"24h"}})"));
  const std::int64_t start = 1'700'000'000;
  cluster_.since = start;
  cluster_.clock = start + kHour;  // observed for an hour only: nothing known yet
  auto idle = account("ns", "idle");
  EXPECT_EQ(idle.result(), queue::WorkResult::RequeueAfter);
  EXPECT_EQ(idle.after(), std::chrono::seconds(23 * kHour));
  EXPECT_TRUE(cluster_.patches.empty());

  cluster_.clock = start + 25 * kHour;
  cluster_.observed["ns/used"] = {.lastUsed = start + 20 * kHour, .observingSince = start};
  EXPECT_EQ(account("ns", "idle").result(), queue::WorkResult::Success);
  auto used = account("ns", "used");
  EXPECT_EQ(used.result(), queue::WorkResult::RequeueAfter);
  EXPECT_EQ(used.after(), std::chrono::seconds(19 * kHour));  // its use leaves the window then
  EXPECT_EQ(cluster_.patches, (std::vector<std::string>{"ns/idle"}));

  cluster_.clock = start + 44 * kHour;
  account("ns", "used");
  EXPECT_EQ(cluster_.patches, (std::vector<std::string>{"ns/idle", "ns/used"}));
}

// spec.admission: the reconciler hands planAdmission()'s plan to the AdmissionWriter on
// each reconcile of a valid policy, says in the Admission condition what it keeps, and
// hands an empty plan when the policy is gone.
class FakeAdmission : public AdmissionWriter {
 public:
  bool mutatingServed() override { return served; }
  Status keep(std::string_view policyName, const policy::AdmissionPlan& plan) override {
    std::vector<std::string> kinds;
    for (const auto& o : plan.objects) kinds.push_back(o.kind);
    kept.emplace_back(std::string(policyName), kinds);
    lastPlan = plan;
    if (error) return *error;
    return {};
  }
  bool served = true;
  std::optional<Error> error;
  std::vector<std::pair<std::string, std::vector<std::string>>> kept;
  policy::AdmissionPlan lastPlan;
};

ReconcilerOptions optionsWith(AdmissionWriter* admission, ReportWriter* reports) {
  ReconcilerOptions options;
  options.selfNamespace = "saguard-system";
  options.selfName = "saguard";
  options.admission = admission;
  options.reports = reports;
  return options;
}

class ReconcilerAdmissionTest : public ::testing::Test {
 protected:
  ReconcilerAdmissionTest()
      : reconciler_(cluster_, cluster_, cluster_, optionsWith(&admission_, nullptr)) {}
  queue::Outcome policy(const std::string& name) {
    return reconciler_.reconcile(policyWorkKey(name));
  }
  json condition(const std::string& name, const std::string& type) {
    const json status = json::parse(cluster_.policyRecords.at(name).statusJson);
    for (const json& c : status["conditions"]) {
      if (c["type"] == type) return c;
    }
    return nullptr;
  }

  FakeCluster cluster_;
  FakeAdmission admission_;
  Reconciler reconciler_;
};

TEST_F(ReconcilerAdmissionTest, KeepsThePlanAndSaysWhat) {
  cluster_.addPolicy(policyJson("p", R"({"admission":"Deny"})"));
  EXPECT_EQ(policy("p").result(), queue::WorkResult::Success);
  ASSERT_EQ(admission_.kept.size(), 1u);
  EXPECT_EQ(admission_.kept[0].first, "p");
  EXPECT_EQ(admission_.kept[0].second.size(), 4u);
  json c = condition("p", "Admission");
  EXPECT_EQ(c["status"], "True");
  EXPECT_EQ(c["reason"], "Kept");
  EXPECT_EQ(c["message"],
            "ValidatingAdmissionPolicy saguard-p (Deny); MutatingAdmissionPolicy saguard-p");
  // saguard's namespace is protected.
  EXPECT_NE(admission_.lastPlan.objects[1].object.dump().find("saguard-system"), std::string::npos);
}

TEST_F(ReconcilerAdmissionTest, NotServedAuditAndNoneAreSaidInTheCondition) {
  admission_.served = false;
  cluster_.addPolicy(policyJson("p", "{}"));
  policy("p");
  EXPECT_NE(condition("p", "Admission")["message"].get<std::string>().find(
                "no MutatingAdmissionPolicy: the API server does not serve"),
            std::string::npos);
  cluster_.addPolicy(policyJson("audit", R"({"mode":"Audit","admission":"Deny"})"));
  policy("audit");
  EXPECT_EQ(condition("audit", "Admission")["message"],
            "ValidatingAdmissionPolicy saguard-audit (Warn): an Audit policy only warns; no "
            "MutatingAdmissionPolicy: an Audit policy changes no ServiceAccount");
  cluster_.addPolicy(policyJson("off", R"({"admission":"None"})"));
  policy("off");
  json c = condition("off", "Admission");
  EXPECT_EQ(c["status"], "False");
  EXPECT_EQ(c["reason"], "Disabled");
  EXPECT_TRUE(admission_.kept.back().second.empty());  // None: whatever was kept goes
}

TEST_F(ReconcilerAdmissionTest, AFailedWriteIsRetriedAndShown) {
  admission_.error = makeError(ErrorKind::Forbidden, "no verb");
  cluster_.addPolicy(policyJson("p", "{}"));
  EXPECT_EQ(policy("p").result(), queue::WorkResult::Error);
  json c = condition("p", "Admission");
  EXPECT_EQ(c["status"], "False");
  EXPECT_EQ(c["reason"], "Error");
  // Ready still says how the policy itself stands.
  EXPECT_EQ(condition("p", "Ready")["status"], "True");
}

TEST_F(ReconcilerAdmissionTest, DeletedPolicyGetsAnEmptyPlanInvalidOneIsLeftAlone) {
  cluster_.addPolicy(policyJson("bad", R"({"mode":"Sometimes"})"));
  policy("bad");
  EXPECT_TRUE(admission_.kept.empty());
  EXPECT_TRUE(condition("bad", "Admission").is_null());
  cluster_.policyRecords.clear();
  EXPECT_EQ(policy("gone").result(), queue::WorkResult::Success);
  ASSERT_EQ(admission_.kept.size(), 1u);
  EXPECT_EQ(admission_.kept[0].first, "gone");
  EXPECT_TRUE(admission_.kept[0].second.empty());
}

TEST_F(ReconcilerAdmissionTest, UnusedForLooksAgainWhenTheCutoffDayMoves) {
  cluster_.clock = 1796611200;                   // 2026-12-07T02:40:00Z
  cluster_.since = cluster_.clock - 40 * 86400;  // observing for 40 days
  cluster_.addPolicy(policyJson("p", R"({"serviceAccounts":{"unusedFor":"720h"}})"));
  queue::Outcome outcome = policy("p");
  ASSERT_EQ(outcome.result(), queue::WorkResult::RequeueAfter);
  // Midnight UTC of the next day: 21 h 20 min away.
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(outcome.after()).count(),
            21 * 3600 + 20 * 60);
}

TEST_F(ReconcilerAdmissionTest, UnboundOnlyReadsEveryBinding) {
  objects::Binding b;
  b.meta.namespace_ = Symbol("apps");
  b.meta.setName("rb");
  b.subjects.push_back({Symbol("ServiceAccount"), Symbol("builder"), Symbol("")});
  cluster_.bindingObjects.push_back(b);
  cluster_.addPolicy(policyJson("p", R"({"serviceAccounts":{"unboundOnly":true}})"));
  policy("p");
  EXPECT_NE(admission_.lastPlan.objects[0].object.dump().find("apps/builder"), std::string::npos);
}

TEST(Keys, RoundTrip) {
  auto a = parseKey(accountWorkKey("ns", "default"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->type, ParsedKey::Type::Account);
  EXPECT_EQ(a->namespace_, "ns");
  EXPECT_EQ(a->name, "default");
  auto p = parseKey(policyWorkKey("x"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->type, ParsedKey::Type::Policy);
  EXPECT_FALSE(parseKey("account/ns"));
  EXPECT_FALSE(parseKey("account//x"));
  EXPECT_FALSE(parseKey("account/a/b/c"));
  EXPECT_FALSE(parseKey("policy/"));
  EXPECT_FALSE(parseKey("other/x"));
  auto r = parseKey(kReportsWorkKey);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, ParsedKey::Type::Reports);
  EXPECT_FALSE(parseKey("reports/x"));
}

}  // namespace
}  // namespace saguard::reconcile
