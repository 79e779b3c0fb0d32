#include <gtest/gtest.h>

#include <string>

#include "policy/findings.h"
#include "policy/pod_token.h"

namespace saguard::policy {
namespace {

using objects::Tristate;
using V = objects::TokenVolume;
using S = TokenSource;

constexpr Tristate U = Tristate::Unset;
constexpr Tristate T = Tristate::True;
constexpr Tristate F = Tristate::False;
enum Account { Present, Absent };
enum Expected { NoFinding, Mounted, Overrides };

struct Row {
  Tristate pod;
  Tristate account;  // ignored when the account is absent
  Account present;
  V volume;
  bool effective;
  S source;
  Expected finding;
};

void PrintTo(const Row& r, std::ostream* os) {
  *os << "pod=" << objects::toString(r.pod) << " account=" << objects::toString(r.account)
      << (r.present == Present ? " present" : " absent")
      << " volume=" << objects::toString(r.volume);
}

// The full precedence table: pod field × account field × account present/absent ×
// token volume (none / projected / legacy secret).
// effective = pod field if set, else account field if set (and known), else true.
// The volume alone says whether a token is held; the finding needs one held.
// clang-format off
const Row kTable[] = {
    {U, U, Present, V::None,         true,  S::None,                  NoFinding},
    {U, U, Present, V::Projected,    true,  S::Default,               Mounted},
    {U, U, Present, V::LegacySecret, true,  S::LegacySecretVolume,    Mounted},
    {U, T, Present, V::None,         true,  S::None,                  NoFinding},
    {U, T, Present, V::Projected,    true,  S::AccountSetsTrue,       Mounted},
    {U, T, Present, V::LegacySecret, true,  S::LegacySecretVolume,    Mounted},
    {U, F, Present, V::None,         false, S::None,                  NoFinding},
    {U, F, Present, V::Projected,    false, S::PredatesAccountChange, Mounted},
    {U, F, Present, V::LegacySecret, false, S::LegacySecretVolume,    Mounted},
    {U, U, Absent , V::None,         true,  S::None,                  NoFinding},
    {U, U, Absent , V::Projected,    true,  S::Default,               Mounted},
    {U, U, Absent , V::LegacySecret, true,  S::LegacySecretVolume,    Mounted},
    {U, T, Absent , V::None,         true,  S::None,                  NoFinding},
    {U, T, Absent , V::Projected,    true,  S::Default,               Mounted},
    {U, T, Absent , V::LegacySecret, true,  S::LegacySecretVolume,    Mounted},
    {U, F, Absent , V::None,         true,  S::None,                  NoFinding},
    {U, F, Absent , V::Projected,    true,  S::Default,               Mounted},
    {U, F, Absent , V::LegacySecret, true,  S::LegacySecretVolume,    Mounted},
    {T, U, Present, V::None,         true,  S::None,                  NoFinding},
    {T, U, Present, V::Projected,    true,  S::PodSetsTrue,           Overrides},
    {T, U, Present, V::LegacySecret, true,  S::LegacySecretVolume,    Overrides},
    {T, T, Present, V::None,         true,  S::None,                  NoFinding},
    {T, T, Present, V::Projected,    true,  S::PodSetsTrue,           Overrides},
    {T, T, Present, V::LegacySecret, true,  S::LegacySecretVolume,    Overrides},
    {T, F, Present, V::None,         true,  S::None,                  NoFinding},
    {T, F, Present, V::Projected,    true,  S::PodSetsTrue,           Overrides},
    {T, F, Present, V::LegacySecret, true,  S::LegacySecretVolume,    Overrides},
    {T, U, Absent , V::None,         true,  S::None,                  NoFinding},
    {T, U, Absent , V::Projected,    true,  S::PodSetsTrue,           Overrides},
    {T, U, Absent , V::LegacySecret, true,  S::LegacySecretVolume,    Overrides},
    {T, T, Absent , V::None,         true,  S::None,                  NoFinding},
    {T, T, Absent , V::Projected,    true,  S::PodSetsTrue,           Overrides},
    {T, T, Absent , V::LegacySecret, true,  S::LegacySecretVolume,    Overrides},
    {T, F, Absent , V::None,         true,  S::None,                  NoFinding},
    {T, F, Absent , V::Projected,    true,  S::PodSetsTrue,           Overrides},
    {T, F, Absent , V::LegacySecret, true,  S::LegacySecretVolume,    Overrides},
    {F, U, Present, V::None,         false, S::None,                  NoFinding},
    {F, U, Present, V::Projected,    false, S::PodDeclaresVolume,     Mounted},
    {F, U, Present, V::LegacySecret, false, S::LegacySecretVolume,    Mounted},
    {F, T, Present, V::None,         false, S::None,                  NoFinding},
    {F, T, Present, V::Projected,    false, S::PodDeclaresVolume,     Mounted},
    {F, T, Present, V::LegacySecret, false, S::LegacySecretVolume,    Mounted},
    {F, F, Present, V::None,         false, S::None,                  NoFinding},
    {F, F, Present, V::Projected,    false, S::PodDeclaresVolume,     Mounted},
    {F, F, Present, V::LegacySecret, false, S::LegacySecretVolume,    Mounted},
    {F, U, Absent , V::None,         false, S::None,                  NoFinding},
    {F, U, Absent , V::Projected,    false, S::PodDeclaresVolume,     Mounted},
    {F, U, Absent , V::LegacySecret, false, S::LegacySecretVolume,    Mounted},
    {F, T, Absent , V::None,         false, S::None,                  NoFinding},
    {F, T, Absent , V::Projected,    false, S::PodDeclaresVolume,     Mounted},
    {F, T, Absent , V::LegacySecret, false, S::LegacySecretVolume,    Mounted},
    {F, F, Absent , V::None,         false, S::None,                  NoFinding},
    {F, F, Absent , V::Projected,    false, S::PodDeclaresVolume,     Mounted},
    {F, F, Absent , V::LegacySecret, false, S::LegacySecretVolume,    Mounted},
};
// clang-format on

class PolicyPodTokenTable : public ::testing::TestWithParam<Row> {};

TEST_P(PolicyPodTokenTable, Row) {
  const Row& row = GetParam();
  objects::Pod pod;
  pod.meta.namespace_ = Symbol("team-a");
  pod.meta.setName("web-1");
  pod.serviceAccountName = Symbol("default");
  pod.automount = row.pod;
  pod.token = row.volume;
  objects::ServiceAccount account;
  account.meta.namespace_ = Symbol("team-a");
  account.meta.setName("default");
  account.automount = row.account;
  const objects::ServiceAccount* known = row.present == Present ? &account : nullptr;

  PodToken token = podToken(pod, known);
  EXPECT_EQ(token.effectiveAutomount, row.effective);
  EXPECT_EQ(token.holdsToken, row.volume != V::None);
  EXPECT_EQ(token.source, row.source) << toString(token.source);
  EXPECT_EQ(effectiveAutomount(row.pod, row.present == Present ? row.account : U), row.effective);

  std::optional<Finding> finding = podFinding(pod, known);
  std::optional<Reason> reason = podFindingReason(pod, known);
  ASSERT_EQ(reason.has_value(), finding.has_value());
  if (finding) {
    EXPECT_EQ(*reason, finding->reason);
  }
  switch (row.finding) {
    case NoFinding:
      EXPECT_FALSE(finding.has_value());
      break;
    case Mounted:
    case Overrides:
      ASSERT_TRUE(finding.has_value());
      EXPECT_EQ(finding->reason,
                row.finding == Mounted ? Reason::TokenMounted : Reason::PodOverridesPolicy);
      EXPECT_EQ(finding->kind, FindingKind::Pod);
      EXPECT_EQ(finding->namespace_, "team-a");
      EXPECT_EQ(finding->name, "web-1");
      EXPECT_EQ(finding->severity, severityOf(finding->reason));
      EXPECT_NE(finding->message.find("ServiceAccount team-a/default"), std::string::npos)
          << finding->message;
      break;
  }
}

INSTANTIATE_TEST_SUITE_P(AllCombinations, PolicyPodTokenTable, ::testing::ValuesIn(kTable));

TEST(PolicyPodToken, TableCoversEveryCombinationOnce) {
  int seen[3][3][2][3] = {};
  for (const Row& r : kTable) {
    ++seen[static_cast<int>(r.pod)][static_cast<int>(r.account)][r.present]
          [static_cast<int>(r.volume)];
  }
  for (auto& a : seen)
    for (auto& b : a)
      for (auto& c : b)
        for (int n : c) EXPECT_EQ(n, 1);
}

TEST(PolicyPodToken, MessagesSayWhatRemovesTheToken) {
  objects::Pod pod;
  pod.meta.namespace_ = Symbol("ns");
  pod.meta.setName("p");
  pod.serviceAccountName = Symbol("builder");
  objects::ServiceAccount account;
  account.automount = F;

  pod.token = V::Projected;
  EXPECT_NE(podFinding(pod, &account)->message.find("created before"), std::string::npos);
  EXPECT_NE(podFinding(pod, &account)->message.find("recreate it"), std::string::npos);
  pod.automount = T;
  EXPECT_NE(
      podFinding(pod, &account)->message.find("sets automountServiceAccountToken: true itself"),
      std::string::npos);
  pod.automount = F;
  EXPECT_NE(
      podFinding(pod, &account)->message.find("declares a projected serviceAccountToken volume"),
      std::string::npos);
  pod.automount = U;
  pod.token = V::LegacySecret;
  EXPECT_NE(podFinding(pod, &account)->message.find("kubernetes.io/service-account-token Secret"),
            std::string::npos);
  EXPECT_NE(podFinding(pod, &account)->message.find("ns/builder"), std::string::npos);
}

TEST(PolicyPodToken, SourceNames) {
  EXPECT_STREQ(toString(S::None), "None");
  EXPECT_STREQ(toString(S::PodSetsTrue), "PodSetsTrue");
  EXPECT_STREQ(toString(S::AccountSetsTrue), "AccountSetsTrue");
  EXPECT_STREQ(toString(S::Default), "Default");
  EXPECT_STREQ(toString(S::LegacySecretVolume), "LegacySecretVolume");
  EXPECT_STREQ(toString(S::PodDeclaresVolume), "PodDeclaresVolume");
  EXPECT_STREQ(toString(S::PredatesAccountChange), "PredatesAccountChange");
}

}  // namespace
}  // namespace saguard::policy
