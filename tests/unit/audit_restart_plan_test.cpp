// The plan of `saguard restart` (audit/restart_plan.h): which pods, grouped by which
// workload, and the refusals: never a workload whose new pods would get the token again.
#include <gtest/gtest.h>

#include "audit/restart_plan.h"

namespace saguard::audit {
namespace {

using policy::TokenSource;

objects::ObjectRef owner(const char* kind, const char* ns, const char* name, const char* uid = "") {
  objects::ObjectRef ref;
  ref.kind = kind;
  ref.namespace_ = ns;
  ref.name = name;
  ref.uid = uid;
  return ref;
}

TokenHolder row(const char* ns, const char* pod, TokenSource source, objects::ObjectRef controller,
                Verdict verdict = Verdict::Unneeded, const char* account = "default") {
  TokenHolder h;
  h.namespace_ = ns;
  h.pod = pod;
  h.account = account;
  h.source = source;
  h.verdict = verdict;
  h.controller = std::move(controller);
  return h;
}

const RestartStep* stepFor(const RestartPlan& plan, const std::string& kind,
                           const std::string& name) {
  for (const RestartStep& s : plan.steps) {
    if (s.workload.kind == kind && s.workload.name == name) return &s;
  }
  return nullptr;
}

TEST(RestartPlan, PodsOfADeploymentAreGroupedThroughTheirReplicaSets) {
  const ReplicaSetOwners replicaSets{
      {"shop/web-1", {owner("Deployment", "shop", "web", "u-web"), ""}},
      {"shop/web-2", {owner("Deployment", "shop", "web", "u-web"), ""}}};
  const std::vector<TokenHolder> rows{
      row("shop", "web-1-a", TokenSource::PredatesAccountChange,
          owner("ReplicaSet", "shop", "web-1")),
      row("shop", "web-1-b", TokenSource::PredatesAccountChange,
          owner("ReplicaSet", "shop", "web-1")),
      row("shop", "web-2-a", TokenSource::PredatesAccountChange,
          owner("ReplicaSet", "shop", "web-2")),
      row("shop", "db-0", TokenSource::PredatesAccountChange, owner("StatefulSet", "shop", "db")),
      row("shop", "agent-x", TokenSource::PredatesAccountChange,
          owner("DaemonSet", "shop", "agent")),
  };
  const RestartPlan plan = planRestart(rows, replicaSets, {});
  EXPECT_EQ(plan.pods, 5u);
  ASSERT_EQ(plan.steps.size(), 3u);
  EXPECT_EQ(plan.count(RestartAction::Restart), 3u);
  const RestartStep* web = stepFor(plan, "Deployment", "web");
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->workload.uid, "u-web");
  EXPECT_EQ(web->pods, (std::vector<std::string>{"web-1-a", "web-1-b", "web-2-a"}));
  EXPECT_EQ(web->reason, "");
  ASSERT_NE(stepFor(plan, "StatefulSet", "db"), nullptr);
  ASSERT_NE(stepFor(plan, "DaemonSet", "agent"), nullptr);
  // Sorted by namespace, kind, name: the order they are restarted in.
  EXPECT_EQ(plan.steps[0].workload.kind, "DaemonSet");
  EXPECT_EQ(plan.steps[1].workload.kind, "Deployment");
  EXPECT_EQ(plan.steps[2].workload.kind, "StatefulSet");
}

// The rule the issue asks to test: a workload whose account is not compliant (or whose
// pods ask for the token themselves) is refused, whatever else is true of it.
TEST(RestartPlan, NeverRestartsAWorkloadWhoseNewPodsWouldGetTheTokenAgain) {
  const ReplicaSetOwners replicaSets{{"shop/api-1", {owner("Deployment", "shop", "api"), ""}},
                                     {"shop/mixed-1", {owner("Deployment", "shop", "mixed"), ""}}};
  const std::vector<TokenHolder> rows{
      // unneeded, but the account still says nothing (Default) or true.
      row("shop", "api-1-a", TokenSource::Default, owner("ReplicaSet", "shop", "api-1")),
      row("shop", "db-0", TokenSource::AccountSetsTrue, owner("StatefulSet", "shop", "db")),
      row("shop", "forced-x", TokenSource::PodSetsTrue, owner("DaemonSet", "shop", "forced")),
      row("shop", "vol-0", TokenSource::PodDeclaresVolume, owner("StatefulSet", "shop", "vol")),
      row("shop", "old-0", TokenSource::LegacySecretVolume, owner("StatefulSet", "shop", "old")),
      // one compliant pod and one not in the same workload: the whole workload is refused.
      row("shop", "mixed-1-a", TokenSource::PredatesAccountChange,
          owner("ReplicaSet", "shop", "mixed-1")),
      row("shop", "mixed-1-b", TokenSource::Default, owner("ReplicaSet", "shop", "mixed-1")),
      // a bare pod or a Job that would get the token again is refused too.
      row("shop", "bare", TokenSource::Default, {}),
  };
  const RestartPlan plan = planRestart(rows, replicaSets, {.includeBarePods = true});
  EXPECT_EQ(plan.count(RestartAction::Restart), 0u);
  EXPECT_EQ(plan.count(RestartAction::DeletePod), 0u);
  ASSERT_EQ(plan.count(RestartAction::Refuse), plan.steps.size());
  EXPECT_NE(stepFor(plan, "Deployment", "api")->reason.find("account shop/default does not set"),
            std::string::npos);
  EXPECT_NE(stepFor(plan, "Deployment", "api")->reason.find("not compliant"), std::string::npos);
  EXPECT_NE(stepFor(plan, "DaemonSet", "forced")->reason.find("the pod sets"), std::string::npos);
  EXPECT_NE(stepFor(plan, "StatefulSet", "vol")->reason.find("declares the token volume"),
            std::string::npos);
  EXPECT_NE(stepFor(plan, "StatefulSet", "old")->reason.find("legacy token Secret"),
            std::string::npos);
  EXPECT_EQ(stepFor(plan, "Deployment", "mixed")->pods.size(), 2u);
}

TEST(RestartPlan, OnlyPodsHoldingATokenTheyShouldNot) {
  const std::vector<TokenHolder> rows{
      // needed / review / exempt tokens whose account still gives them: left alone.
      row("a", "needed", TokenSource::Default, owner("StatefulSet", "a", "n"), Verdict::Needed),
      row("a", "review", TokenSource::Default, owner("StatefulSet", "a", "r"), Verdict::Review),
      row("a", "exempt", TokenSource::AccountSetsTrue, owner("StatefulSet", "a", "e"),
          Verdict::Exempt),
      // the account now sets false, whatever the verdict: a restart drops the token.
      row("a", "was-needed", TokenSource::PredatesAccountChange, owner("StatefulSet", "a", "w"),
          Verdict::Needed),
  };
  EXPECT_FALSE(isRestartCandidate(rows[0]));
  EXPECT_FALSE(isRestartCandidate(rows[2]));
  const RestartPlan plan = planRestart(rows, {}, {});
  ASSERT_EQ(plan.steps.size(), 1u);
  EXPECT_EQ(plan.steps[0].workload.name, "w");
  EXPECT_EQ(plan.steps[0].action, RestartAction::Restart);
}

TEST(RestartPlan, WhatIsNotRestartedAndWhy) {
  const ReplicaSetOwners replicaSets{{"a/orphan-rs", {{}, ""}},
                                     {"a/rollout-rs", {owner("Rollout", "a", "canary"), ""}},
                                     {"a/gone-rs", {{}, "replicasets.apps \"gone-rs\" not found"}}};
  const auto predates = TokenSource::PredatesAccountChange;
  const std::vector<TokenHolder> rows{
      row("a", "bare", predates, {}),
      row("a", "job-x", predates, owner("Job", "a", "nightly-123")),
      row("a", "static-n1", predates, owner("Node", "a", "n1")),
      row("a", "orphan-x", predates, owner("ReplicaSet", "a", "orphan-rs")),
      row("a", "canary-x", predates, owner("ReplicaSet", "a", "rollout-rs")),
      row("a", "gone-x", predates, owner("ReplicaSet", "a", "gone-rs")),
      row("a", "unknown-x", predates, owner("ReplicaSet", "a", "never-read")),
      row("a", "rc-x", predates, owner("ReplicationController", "a", "rc")),
      row("a", "custom-x", predates, owner("CloneSet", "a", "clones")),
      // the record knew the kind only, and the pod could not be read
      row("a", "unnamed-x", predates, owner("StatefulSet", "a", "")),
  };
  const RestartPlan plan = planRestart(rows, replicaSets, {});
  EXPECT_EQ(plan.count(RestartAction::Restart), 0u);
  EXPECT_EQ(plan.count(RestartAction::Skip), plan.steps.size());
  EXPECT_EQ(plan.steps.size(), rows.size());
  EXPECT_NE(stepFor(plan, "Pod", "bare")->reason.find("--include-bare-pods"), std::string::npos);
  EXPECT_NE(stepFor(plan, "Pod", "job-x")->reason.find("Job/nightly-123"), std::string::npos);
  EXPECT_NE(stepFor(plan, "Pod", "static-n1")->reason.find("static pod"), std::string::npos);
  EXPECT_NE(stepFor(plan, "ReplicaSet", "orphan-rs")->reason.find("without a Deployment"),
            std::string::npos);
  EXPECT_NE(stepFor(plan, "Rollout", "canary")->reason.find("own tooling"), std::string::npos);
  EXPECT_NE(stepFor(plan, "ReplicaSet", "gone-rs")->reason.find("not found"), std::string::npos);
  EXPECT_NE(stepFor(plan, "ReplicaSet", "never-read")->reason.find("could not be read"),
            std::string::npos);
  EXPECT_NE(stepFor(plan, "ReplicationController", "rc")->reason.find("delete the pods"),
            std::string::npos);
  EXPECT_NE(stepFor(plan, "CloneSet", "clones")->reason.find("CloneSet/clones"), std::string::npos);
}

TEST(RestartPlan, BarePodsAreDeletedOnlyWhenAsked) {
  const std::vector<TokenHolder> rows{row("a", "bare", TokenSource::PredatesAccountChange, {})};
  EXPECT_EQ(planRestart(rows, {}, {}).steps[0].action, RestartAction::Skip);
  const RestartPlan plan = planRestart(rows, {}, {.includeBarePods = true});
  ASSERT_EQ(plan.steps.size(), 1u);
  EXPECT_EQ(plan.steps[0].action, RestartAction::DeletePod);
  EXPECT_EQ(plan.steps[0].workload.kind, "Pod");
  EXPECT_EQ(plan.steps[0].workload.name, "bare");
}

TEST(RestartPlan, RendersOneLinePerWorkload) {
  const std::vector<TokenHolder> rows{
      row("shop", "db-0", TokenSource::PredatesAccountChange, owner("StatefulSet", "shop", "db")),
      row("shop", "db-1", TokenSource::PredatesAccountChange, owner("StatefulSet", "shop", "db")),
      row("shop", "bare", TokenSource::PredatesAccountChange, {})};
  const std::string text = renderRestartPlan(planRestart(rows, {}, {}));
  EXPECT_EQ(text.substr(0, text.find('\n')), "ACTION   WORKLOAD             PODS  ACCOUNT  REASON");
  EXPECT_NE(text.find("restart  StatefulSet/shop/db  2     default  -\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("skip     Pod/shop/bare"), std::string::npos) << text;
}

}  // namespace
}  // namespace saguard::audit
