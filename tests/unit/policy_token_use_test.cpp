// Evidence of token use (policy/token_use.h): which audit events count, the names of what
// was accessed, the bounded max-merge records (and the claim everything rests on: any
// split of the same uses among replicas, merged in any order, equals one record of them
// all), use days, and what `unusedFor` decides at the edges of its window.
#include <gtest/gtest.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "policy/token_use.h"
#include "support/token_use.h"

namespace saguard::policy {
namespace {

using objects::AuditEventView;

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kAt = 1796597408;  // 2026-12-06T22:50:08Z

// The event of a pod's bound token listing configmaps, as the decoder hands it over.
AuditEventView listConfigMaps() {
  AuditEventView e;
  e.auditId = "2f5c6d1e";
  e.stage = "ResponseComplete";
  e.verb = "list";
  e.username = "system:serviceaccount:team-a:web";
  e.podName = "web-7d9f";
  e.podUid = "0b1e2d3c";
  e.nodeName = "node-1";
  e.credentialId = "JTI=6b3c";
  e.resource = "configmaps";
  e.requestUri = "/api/v1/namespaces/team-a/configmaps?limit=500";
  e.code = 200;
  e.stageTimestamp = kAt;
  e.requestReceivedTimestamp = kAt - 1;
  return e;
}

// --- classify ----------------------------------------------------------------------

TEST(TokenUseClassify, UserNames) {
  struct Case {
    std::string_view username;
    AuditEventClass want;
  };
  const Case cases[] = {
      {"system:serviceaccount:team-a:web", AuditEventClass::Use},
      {"system:serviceaccount:kube-system:default", AuditEventClass::Use},
      {"system:serviceaccount:a:b", AuditEventClass::Use},
      {"alice", AuditEventClass::NotServiceAccount},
      {"alice@example.com", AuditEventClass::NotServiceAccount},
      {"system:node:x", AuditEventClass::NotServiceAccount},
      {"system:kube-controller-manager", AuditEventClass::NotServiceAccount},
      {"system:anonymous", AuditEventClass::NotServiceAccount},
      {"system:apiserver", AuditEventClass::NotServiceAccount},
      {"", AuditEventClass::NotServiceAccount},
      // Malformed: a namespace without a name, empty parts, the group's spelling.
      {"system:serviceaccount:ns", AuditEventClass::NotServiceAccount},
      {"system:serviceaccount:ns:", AuditEventClass::NotServiceAccount},
      {"system:serviceaccount::web", AuditEventClass::NotServiceAccount},
      {"system:serviceaccount:", AuditEventClass::NotServiceAccount},
      {"system:serviceaccount", AuditEventClass::NotServiceAccount},
      {"system:serviceaccounts:team-a", AuditEventClass::NotServiceAccount},
      {"system:serviceaccounts:team-a:web", AuditEventClass::NotServiceAccount},
      {"System:ServiceAccount:team-a:web", AuditEventClass::NotServiceAccount},
      {" system:serviceaccount:team-a:web", AuditEventClass::NotServiceAccount},
      {"oidc:system:serviceaccount:team-a:web", AuditEventClass::NotServiceAccount},
  };
  for (const auto& c : cases) {
    AuditEventView e = listConfigMaps();
    e.username = c.username;
    EXPECT_EQ(classify(e), c.want) << c.username;
    EXPECT_EQ(tokenUseOf(e).has_value(), c.want == AuditEventClass::Use) << c.username;
  }
}

TEST(TokenUseClassify, ExtraColonsGoToTheName) {
  // policy::serviceAccountOfUser (bindings.cpp) splits at the first ':' after the prefix
  // and keeps the rest as the name, so "ns:name:extra" is account "name:extra" of "ns".
  // No service-account token authenticates as such a user (':' is not a name character;
  // Kubernetes' own serviceaccount.SplitUsername rejects it), so only another
  // authenticator's user can look like this, and the record it makes names an account
  // that cannot exist. What matters: it is never mistaken for ns/name.
  AuditEventView e = listConfigMaps();
  e.username = "system:serviceaccount:team-a:web:extra";
  ASSERT_EQ(classify(e), AuditEventClass::Use);
  auto use = tokenUseOf(e);
  ASSERT_TRUE(use.has_value());
  EXPECT_EQ(use->namespace_, "team-a");
  EXPECT_EQ(use->account, "web:extra");
  EXPECT_NE(use->account, "web");
}

TEST(TokenUseClassify, StagesTimesVerbs) {
  // A request counts at ResponseComplete; a watch also at ResponseStarted (its
  // ResponseComplete is the same use, told apart by endsAWatch() for the metrics).
  const std::string_view stages[] = {
      "RequestReceived", "ResponseStarted", "ResponseComplete", "Panic", "", "responsecomplete"};
  const std::string_view verbs[] = {
      "get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "WATCH"};
  for (std::string_view verb : verbs) {
    for (std::string_view stage : stages) {
      AuditEventView e = listConfigMaps();
      e.verb = verb;
      e.stage = stage;
      const bool watch = verb == "watch";
      const bool complete = stage == "ResponseComplete";
      const bool counted = complete || (watch && stage == "ResponseStarted");
      const AuditEventClass use = AuditEventClass::Use;
      SCOPED_TRACE(std::string(verb) + " at " + std::string(stage));
      EXPECT_EQ(classify(e), counted ? use : AuditEventClass::OtherStage);
      EXPECT_EQ(tokenUseOf(e).has_value(), counted);
      EXPECT_EQ(endsAWatch(e), watch && complete);

      // Without any time, a counted event is NoTime; with either time, it is a use.
      e.stageTimestamp = 0;
      e.requestReceivedTimestamp = 0;
      EXPECT_EQ(classify(e), counted ? AuditEventClass::NoTime : AuditEventClass::OtherStage);
      EXPECT_FALSE(tokenUseOf(e).has_value());
      e.requestReceivedTimestamp = kAt;
      EXPECT_EQ(classify(e), counted ? use : AuditEventClass::OtherStage);
      if (counted) {
        EXPECT_EQ(tokenUseOf(e)->at, kAt);
      }
      e.requestReceivedTimestamp = 0;
      e.stageTimestamp = kAt;
      EXPECT_EQ(classify(e), counted ? use : AuditEventClass::OtherStage);
      if (counted) {
        EXPECT_EQ(tokenUseOf(e)->at, kAt);
      }

      // Not a service account decides first, whatever the stage or time.
      e.username = "alice";
      e.stageTimestamp = 0;
      EXPECT_EQ(classify(e), AuditEventClass::NotServiceAccount);
    }
  }
}

TEST(TokenUseClassify, BothStagesOfAWatchAreTheSameUse) {
  // Started at kAt - 1 (received), its response started a second later, ended 5 min later.
  AuditEventView started = listConfigMaps();
  started.verb = "watch";
  started.stage = "ResponseStarted";
  started.requestReceivedTimestamp = kAt - 1;
  started.stageTimestamp = kAt;
  AuditEventView complete = started;
  complete.stage = "ResponseComplete";
  complete.stageTimestamp = kAt + 300;
  auto first = tokenUseOf(started);
  auto second = tokenUseOf(complete);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(first->at, kAt - 1);  // when the token was presented
  EXPECT_EQ(second->at, kAt - 1);
  EXPECT_EQ(first->verb, second->verb);
  EXPECT_EQ(first->resource, second->resource);
  EXPECT_EQ(first->podUid, second->podUid);
  // Folded in either order, the second changes nothing.
  AccountUse a;
  EXPECT_TRUE(recordUse(a, *first));
  EXPECT_FALSE(recordUse(a, *second));
  AccountUse b;
  EXPECT_TRUE(recordUse(b, *second));
  EXPECT_FALSE(recordUse(b, *first));
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.lastUsed, kAt - 1);
  // Only ResponseComplete arrives (the policy omits ResponseStarted): the watch still counts.
  AccountUse only;
  EXPECT_TRUE(recordUse(only, *second));
  EXPECT_EQ(only, a);
  // A watch without requestReceivedTimestamp falls back to its stage's time.
  complete.requestReceivedTimestamp = 0;
  EXPECT_EQ(tokenUseOf(complete)->at, kAt + 300);
  // Other verbs keep the stage's time first.
  AuditEventView list = listConfigMaps();
  list.requestReceivedTimestamp = kAt - 1;
  list.stageTimestamp = kAt;
  EXPECT_EQ(tokenUseOf(list)->at, kAt);
}

TEST(TokenUseClassify, RefusedRequestsCount) {
  for (int code : {200, 201, 401, 403, 404, 409, 422, 429, 500, 0}) {
    AuditEventView e = listConfigMaps();
    e.code = code;
    EXPECT_EQ(classify(e), AuditEventClass::Use) << code;
  }
  EXPECT_TRUE(refused(401));
  EXPECT_TRUE(refused(403));
  for (int code : {0, 200, 400, 404, 409, 429, 500}) EXPECT_FALSE(refused(code)) << code;
}

TEST(TokenUseClassify, Names) {
  EXPECT_STREQ(toString(AuditEventClass::Use), "Use");
  EXPECT_STREQ(toString(AuditEventClass::NotServiceAccount), "NotServiceAccount");
  EXPECT_STREQ(toString(AuditEventClass::OtherStage), "OtherStage");
  EXPECT_STREQ(toString(AuditEventClass::NoTime), "NoTime");
  EXPECT_STREQ(toString(UseWithin::Used), "Used");
  EXPECT_STREQ(toString(UseWithin::NotUsed), "NotUsed");
  EXPECT_STREQ(toString(UseWithin::Unknown), "Unknown");
}

// --- tokenUseOf ----------------------------------------------------------------------

TEST(TokenUseOf, CopiesWhatTheRecordNeeds) {
  auto use = tokenUseOf(listConfigMaps());
  ASSERT_TRUE(use.has_value());
  EXPECT_EQ(use->namespace_, "team-a");
  EXPECT_EQ(use->account, "web");
  EXPECT_EQ(use->podName, "web-7d9f");
  EXPECT_EQ(use->podUid, "0b1e2d3c");
  EXPECT_EQ(use->nodeName, "node-1");
  EXPECT_EQ(use->verb, "list");
  EXPECT_EQ(use->resource, "configmaps");
  EXPECT_EQ(use->code, 200);
  EXPECT_EQ(use->at, kAt);  // stageTimestamp first

  AuditEventView noStageTime = listConfigMaps();
  noStageTime.stageTimestamp = 0;
  EXPECT_EQ(tokenUseOf(noStageTime)->at, kAt - 1);

  AuditEventView legacy = listConfigMaps();  // a legacy Secret token: no pod binding
  legacy.podName = legacy.podUid = legacy.nodeName = legacy.credentialId = {};
  auto unbound = tokenUseOf(legacy);
  ASSERT_TRUE(unbound.has_value());
  EXPECT_EQ(unbound->podName, "");
  EXPECT_EQ(unbound->podUid, "");

  for (auto stage : {"RequestReceived", "Panic"}) {
    AuditEventView e = listConfigMaps();
    e.stage = stage;
    EXPECT_FALSE(tokenUseOf(e).has_value()) << stage;
  }
  AuditEventView noTime = listConfigMaps();
  noTime.stageTimestamp = noTime.requestReceivedTimestamp = 0;
  EXPECT_FALSE(tokenUseOf(noTime).has_value());
}

TEST(TokenUseOf, ResourceNames) {
  struct Case {
    std::string_view apiGroup, resource, subresource, requestUri;
    std::string want;
  };
  const Case cases[] = {
      {"", "configmaps", "", "/api/v1/namespaces/a/configmaps?limit=500", "configmaps"},
      {"apps", "deployments", "", "/apis/apps/v1/namespaces/a/deployments", "deployments.apps"},
      {"", "pods", "log", "/api/v1/namespaces/a/pods/web/log?follow=true", "pods/log"},
      {"apps", "deployments", "scale", "/apis/apps/v1/namespaces/a/deployments/web/scale",
       "deployments.apps/scale"},
      {"rbac.authorization.k8s.io", "rolebindings", "", "/apis/rbac...",
       "rolebindings.rbac.authorization.k8s.io"},
      {"", "namespaces", "status", "/api/v1/namespaces/a/status", "namespaces/status"},
      // Non-resource requests keep their path, without the query.
      {"", "", "", "/version", "/version"},
      {"", "", "", "/version?timeout=32s", "/version"},
      {"", "", "", "/healthz?verbose", "/healthz"},
      {"", "", "", "/apis", "/apis"},
      {"", "", "", "/openapi/v3?a=b?c", "/openapi/v3"},
      {"", "", "", "", ""},
      {"", "", "", "?x", ""},
  };
  for (const auto& c : cases) {
    AuditEventView e = listConfigMaps();
    e.apiGroup = c.apiGroup;
    e.resource = c.resource;
    e.subresource = c.subresource;
    e.requestUri = c.requestUri;
    auto use = tokenUseOf(e);
    ASSERT_TRUE(use.has_value());
    EXPECT_EQ(use->resource, c.want) << c.requestUri;
  }
}

// --- recordUse -----------------------------------------------------------------------

// A use of team-a/web's token.
TokenUse use(std::string verb, std::string resource, std::int64_t at, int code = 200,
             std::string podUid = "", std::string podName = "") {
  return test_support::tokenUse({.verb = std::move(verb),
                                 .resource = std::move(resource),
                                 .at = at,
                                 .code = code,
                                 .podUid = std::move(podUid),
                                 .podName = std::move(podName)});
}

TEST(RecordUse, FirstUseAndRepeats) {
  AccountUse record;
  EXPECT_TRUE(recordUse(record, use("get", "configmaps", 100, 200, "u1", "p1")));
  EXPECT_EQ(record.lastUsed, 100);
  EXPECT_EQ(record.lastRefused, 0);
  ASSERT_EQ(record.pods.size(), 1u);
  EXPECT_EQ(record.pods[0], (AccountUse::Pod{"u1", "p1", 100}));
  ASSERT_EQ(record.accesses.size(), 1u);
  EXPECT_EQ(record.accesses[0], (AccountUse::Access{"get", "configmaps", false, 100}));

  // The same use again, or an older one of the same kind: nothing changes.
  const AccountUse before = record;
  EXPECT_FALSE(recordUse(record, use("get", "configmaps", 100, 200, "u1", "p1")));
  EXPECT_FALSE(recordUse(record, use("get", "configmaps", 50, 200, "u1", "p1")));
  EXPECT_EQ(record, before);

  // Newer: every time moves, nothing is added.
  EXPECT_TRUE(recordUse(record, use("get", "configmaps", 200, 200, "u1", "p1")));
  EXPECT_EQ(record.lastUsed, 200);
  EXPECT_EQ(record.pods, (std::vector<AccountUse::Pod>{{"u1", "p1", 200}}));
  EXPECT_EQ(record.accesses, (std::vector<AccountUse::Access>{{"get", "configmaps", false, 200}}));

  // An older use of something new is added in its place (the lists are newest first),
  // without moving lastUsed.
  EXPECT_TRUE(recordUse(record, use("list", "secrets", 150, 200, "u2", "p2")));
  EXPECT_EQ(record.lastUsed, 200);
  EXPECT_EQ(record.pods, (std::vector<AccountUse::Pod>{{"u1", "p1", 200}, {"u2", "p2", 150}}));
  EXPECT_EQ(record.accesses[1], (AccountUse::Access{"list", "secrets", false, 150}));

  // No pod uid (a token not bound to a pod): no pod entry.
  EXPECT_TRUE(recordUse(record, use("watch", "pods", 300)));
  EXPECT_EQ(record.pods.size(), 2u);
  EXPECT_EQ(record.accesses[0], (AccountUse::Access{"watch", "pods", false, 300}));
}

TEST(RecordUse, PodsAreBoundedNewestFirst) {
  AccountUse record;
  for (int i = 0; i < 8; ++i) {
    EXPECT_TRUE(recordUse(record, use("get", "configmaps", 100 + i, 200, "u" + std::to_string(i),
                                      "p" + std::to_string(i))));
  }
  ASSERT_EQ(record.pods.size(), AccountUse::kMaxPods);
  for (std::size_t i = 0; i < AccountUse::kMaxPods; ++i) {
    EXPECT_EQ(record.pods[i].uid, "u" + std::to_string(7 - i));
    EXPECT_EQ(record.pods[i].at, 107 - static_cast<std::int64_t>(i));
  }
  // A pod older than all five kept ones is not kept (the account's lastUsed and access
  // still move if they are newer).
  EXPECT_FALSE(recordUse(record, use("get", "configmaps", 100, 200, "u-old")));
  EXPECT_EQ(record.pods.back().uid, "u3");
  // A dropped pod seen again, now the newest, comes back in front.
  EXPECT_TRUE(recordUse(record, use("get", "configmaps", 500, 200, "u0", "p0")));
  EXPECT_EQ(record.pods.front(), (AccountUse::Pod{"u0", "p0", 500}));
  EXPECT_EQ(record.pods.size(), AccountUse::kMaxPods);
  EXPECT_EQ(record.pods.back().uid, "u4");
  // Same time: the smaller uid is "newer", so truncation does not depend on order.
  AccountUse a;
  AccountUse b;
  for (int i = 0; i < 7; ++i) recordUse(a, use("get", "x", 100, 200, "u" + std::to_string(i)));
  for (int i = 6; i >= 0; --i) recordUse(b, use("get", "x", 100, 200, "u" + std::to_string(i)));
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.pods.front().uid, "u0");
  EXPECT_EQ(a.pods.back().uid, "u4");
}

TEST(RecordUse, AccessesAreBoundedNewestFirst) {
  AccountUse record;
  for (int i = 0; i < 14; ++i) recordUse(record, use("get", "r" + std::to_string(i), 1000 + i));
  ASSERT_EQ(record.accesses.size(), AccountUse::kMaxAccesses);
  for (std::size_t i = 0; i < AccountUse::kMaxAccesses; ++i) {
    EXPECT_EQ(record.accesses[i].resource, "r" + std::to_string(13 - i));
  }
  EXPECT_TRUE(std::is_sorted(record.accesses.begin(), record.accesses.end(),
                             [](const auto& x, const auto& y) { return x.at > y.at; }));
  // The verb is part of what is distinct.
  EXPECT_TRUE(recordUse(record, use("list", "r13", 2000)));
  EXPECT_EQ(record.accesses[0], (AccountUse::Access{"list", "r13", false, 2000}));
  EXPECT_EQ(record.accesses[1], (AccountUse::Access{"get", "r13", false, 1013}));
  EXPECT_EQ(record.accesses.size(), AccountUse::kMaxAccesses);
  EXPECT_EQ(record.lastUsed, 2000);
}

TEST(RecordUse, RefusedIsKeptApartFromAllowed) {
  AccountUse record;
  EXPECT_TRUE(recordUse(record, use("get", "secrets", 100, 403)));
  EXPECT_EQ(record.lastUsed, 100);
  EXPECT_EQ(record.lastRefused, 100);
  EXPECT_TRUE(recordUse(record, use("get", "secrets", 90, 200)));
  ASSERT_EQ(record.accesses.size(), 2u);
  EXPECT_EQ(record.accesses[0], (AccountUse::Access{"get", "secrets", true, 100}));
  EXPECT_EQ(record.accesses[1], (AccountUse::Access{"get", "secrets", false, 90}));
  EXPECT_EQ(record.lastRefused, 100);

  // 401 is refused too; other errors are not.
  EXPECT_TRUE(recordUse(record, use("get", "secrets", 120, 401)));
  EXPECT_EQ(record.lastRefused, 120);
  EXPECT_EQ(record.accesses[0], (AccountUse::Access{"get", "secrets", true, 120}));
  EXPECT_TRUE(recordUse(record, use("get", "secrets", 130, 404)));
  EXPECT_EQ(record.lastRefused, 120);
  EXPECT_EQ(record.lastUsed, 130);
  EXPECT_EQ(record.accesses[0], (AccountUse::Access{"get", "secrets", false, 130}));
  EXPECT_EQ(record.accesses.size(), 2u);
  // An older refusal does not move lastRefused back.
  EXPECT_FALSE(recordUse(record, use("get", "secrets", 110, 403)));
  EXPECT_EQ(record.lastRefused, 120);
}

// --- mergeUse ------------------------------------------------------------------------

TEST(MergeUse, SmallCases) {
  AccountUse a;
  recordUse(a, use("get", "configmaps", 100, 200, "u1", "p1"));
  AccountUse b;
  recordUse(b, use("list", "secrets", 200, 403, "u2", "p2"));

  AccountUse empty;
  EXPECT_FALSE(mergeUse(a, empty));  // nothing to add
  AccountUse fromEmpty;
  EXPECT_TRUE(mergeUse(fromEmpty, a));
  EXPECT_EQ(fromEmpty, a);

  AccountUse ab = a;
  EXPECT_TRUE(mergeUse(ab, b));
  EXPECT_EQ(ab.lastUsed, 200);
  EXPECT_EQ(ab.lastRefused, 200);
  EXPECT_EQ(ab.pods, (std::vector<AccountUse::Pod>{{"u2", "p2", 200}, {"u1", "p1", 100}}));
  EXPECT_FALSE(mergeUse(ab, b));   // idempotent
  EXPECT_FALSE(mergeUse(ab, a));   // already in
  EXPECT_FALSE(mergeUse(ab, ab));  // itself
  AccountUse ba = b;
  EXPECT_TRUE(mergeUse(ba, a));
  EXPECT_EQ(ab, ba);
}

// The claim the records rest on: a replica that saw some of the uses, merged in any order
// with others that saw the rest (or the same ones again), ends with exactly the record
// one replica would have made from all of them.
TEST(MergeUse, ReplicasAgreeWithOneRecordOfEverything) {
  std::mt19937 rng(20261206);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const char* const verbs[] = {"get", "list", "watch", "create"};
  const char* const resources[] = {"configmaps", "secrets", "pods/log", "deployments.apps",
                                   "/version"};
  const int codes[] = {200, 200, 200, 201, 403, 401, 404};

  for (int trial = 0; trial < 2000; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    // Small domains, so that keys repeat, times tie and the bounds are reached.
    const int count = 1 + pick(60);
    const int timeSpan = 1 + pick(trial % 3 == 0 ? 5 : 200);
    std::vector<TokenUse> uses;
    for (int i = 0; i < count; ++i) {
      const int pod = pick(9);
      uses.push_back(use(verbs[pick(4)], resources[pick(5)], 1000 + pick(timeSpan), codes[pick(7)],
                         pod == 8 ? "" : "uid-" + std::to_string(pod),
                         pod == 8 ? "" : "pod-" + std::to_string(pod)));
    }
    AccountUse all;
    for (const auto& u : uses) recordUse(all, u);

    // 2 or 3 replicas; each use goes to one or more of them (a replayed batch, a log
    // read again), in an order of its own.
    const int replicas = 2 + pick(2);
    std::vector<std::vector<TokenUse>> seen(static_cast<std::size_t>(replicas));
    for (const auto& u : uses) {
      seen[static_cast<std::size_t>(pick(replicas))].push_back(u);
      if (pick(4) == 0) seen[static_cast<std::size_t>(pick(replicas))].push_back(u);
    }
    std::vector<AccountUse> records(static_cast<std::size_t>(replicas));
    for (int r = 0; r < replicas; ++r) {
      auto& mine = seen[static_cast<std::size_t>(r)];
      std::shuffle(mine.begin(), mine.end(), rng);
      for (const auto& u : mine) recordUse(records[static_cast<std::size_t>(r)], u);
    }

    // Every order of merging into an empty record, and into each replica's own.
    std::vector<int> order(static_cast<std::size_t>(replicas));
    for (int r = 0; r < replicas; ++r) order[static_cast<std::size_t>(r)] = r;
    do {
      AccountUse merged;
      for (int r : order) mergeUse(merged, records[static_cast<std::size_t>(r)]);
      ASSERT_EQ(merged, all);
      AccountUse into = records[static_cast<std::size_t>(order[0])];
      for (int r : order) mergeUse(into, records[static_cast<std::size_t>(r)]);
      ASSERT_EQ(into, all);
      EXPECT_FALSE(mergeUse(into, all));  // and again changes nothing
    } while (std::next_permutation(order.begin(), order.end()));

    // Associativity: (r0 + r1) + r2 == r0 + (r1 + r2), in any tree.
    if (replicas == 3) {
      AccountUse left = records[0];
      mergeUse(left, records[1]);
      mergeUse(left, records[2]);
      AccountUse right12 = records[1];
      mergeUse(right12, records[2]);
      AccountUse right = records[0];
      mergeUse(right, right12);
      ASSERT_EQ(left, right);
    }

    // A restart: a replica's persisted record merged with what it records afterwards
    // (some uses seen twice) is the same again.
    AccountUse restarted = records[0];
    for (int r = 1; r < replicas; ++r) {
      for (const auto& u : seen[static_cast<std::size_t>(r)]) recordUse(restarted, u);
    }
    ASSERT_EQ(restarted, all);

    // The lists stay bounded, sorted newest first, one entry per key.
    ASSERT_LE(all.pods.size(), AccountUse::kMaxPods);
    ASSERT_LE(all.accesses.size(), AccountUse::kMaxAccesses);
    ASSERT_TRUE(std::is_sorted(all.pods.begin(), all.pods.end(),
                               [](const auto& x, const auto& y) { return x.at > y.at; }));
    ASSERT_TRUE(std::is_sorted(all.accesses.begin(), all.accesses.end(),
                               [](const auto& x, const auto& y) { return x.at > y.at; }));
  }
}

TEST(MergeUse, KeepsTheLatestTimeOfEachKept) {
  // What the records mean, independently of how they were folded: lastUsed is the max
  // over all uses, lastRefused the max over refused ones, and every kept pod or access
  // carries the latest time that pod or access was seen.
  std::mt19937 rng(7);
  for (int trial = 0; trial < 500; ++trial) {
    std::vector<TokenUse> uses;
    const int count = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < count; ++i) {
      const auto pod = rng() % 12;
      uses.push_back(use(rng() % 2 ? "get" : "list", "r" + std::to_string(rng() % 8),
                         static_cast<std::int64_t>(rng() % 100), rng() % 3 ? 200 : 403,
                         "u" + std::to_string(pod), "p" + std::to_string(pod)));
    }
    AccountUse record;
    for (const auto& u : uses) recordUse(record, u);
    std::int64_t lastUsed = 0;
    std::int64_t lastRefused = 0;
    for (const auto& u : uses) {
      lastUsed = std::max(lastUsed, u.at);
      if (refused(u.code)) lastRefused = std::max(lastRefused, u.at);
    }
    ASSERT_EQ(record.lastUsed, lastUsed);
    ASSERT_EQ(record.lastRefused, lastRefused);
    for (const auto& pod : record.pods) {
      std::int64_t latest = -1;
      for (const auto& u : uses)
        if (u.podUid == pod.uid) latest = std::max(latest, u.at);
      ASSERT_EQ(pod.at, latest) << pod.uid;
    }
    for (const auto& a : record.accesses) {
      std::int64_t latest = -1;
      for (const auto& u : uses) {
        if (u.verb == a.verb && u.resource == a.resource && refused(u.code) == a.refused)
          latest = std::max(latest, u.at);
      }
      ASSERT_EQ(a.at, latest) << a.verb << " " << a.resource;
    }
    // And nothing newer was left out: every dropped pod is older than every kept one.
    if (record.pods.size() == AccountUse::kMaxPods) {
      for (const auto& u : uses) {
        const bool kept = std::any_of(record.pods.begin(), record.pods.end(),
                                      [&](const auto& p) { return p.uid == u.podUid; });
        if (!kept) {
          ASSERT_LE(u.at, record.pods.back().at);
        }
      }
    }
  }
}

// The fold as it was before entries were moved in place (until 2026-12-07): push or update
// the entry, sort the whole list, cut it at the cap. The oracle for the faster fold, which
// must give the same lists and the same "changed" answers, on the lists it builds and on
// lists built by hand (unsorted, over the cap).
namespace sorted_fold {

bool newerPod(const AccountUse::Pod& a, const AccountUse::Pod& b) {
  return std::tie(b.at, a.uid) < std::tie(a.at, b.uid);
}
bool newerAccess(const AccountUse::Access& a, const AccountUse::Access& b) {
  if (a.at != b.at) return a.at > b.at;
  return std::tie(a.verb, a.resource, a.refused) < std::tie(b.verb, b.resource, b.refused);
}

template <typename T, typename Same, typename Newer>
bool fold(std::vector<T>& list, const T& entry, std::size_t cap, Same same, Newer newer) {
  auto it = std::find_if(list.begin(), list.end(), [&](const T& e) { return same(e, entry); });
  if (it != list.end()) {
    if (it->at >= entry.at) return false;
    it->at = entry.at;
  } else {
    if (list.size() >= cap && !newer(entry, list.back())) return false;
    list.push_back(entry);
  }
  std::sort(list.begin(), list.end(), newer);
  if (list.size() > cap) list.resize(cap);
  return true;
}

bool foldPod(AccountUse& into, const AccountUse::Pod& pod) {
  return fold(
      into.pods, pod, AccountUse::kMaxPods,
      [](const auto& a, const auto& b) { return a.uid == b.uid; }, newerPod);
}
bool foldAccess(AccountUse& into, const AccountUse::Access& access) {
  return fold(
      into.accesses, access, AccountUse::kMaxAccesses,
      [](const auto& a, const auto& b) {
        return a.verb == b.verb && a.resource == b.resource && a.refused == b.refused;
      },
      newerAccess);
}

bool recordUse(AccountUse& into, const TokenUse& use) {
  bool changed = false;
  if (use.at > into.lastUsed) into.lastUsed = use.at, changed = true;
  if (refused(use.code) && use.at > into.lastRefused) into.lastRefused = use.at, changed = true;
  if (!use.podUid.empty()) changed |= foldPod(into, {use.podUid, use.podName, use.at});
  changed |= foldAccess(into, {use.verb, use.resource, refused(use.code), use.at});
  return changed;
}

bool mergeUse(AccountUse& into, const AccountUse& from) {
  bool changed = false;
  if (from.lastUsed > into.lastUsed) into.lastUsed = from.lastUsed, changed = true;
  if (from.lastRefused > into.lastRefused) into.lastRefused = from.lastRefused, changed = true;
  for (const auto& pod : from.pods) changed |= foldPod(into, pod);
  for (const auto& access : from.accesses) changed |= foldAccess(into, access);
  return changed;
}

}  // namespace sorted_fold

TEST(RecordUse, SameListsAsSortingAfterEveryChange) {
  std::mt19937 rng(20261207);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const char* const verbs[] = {"get", "list", "watch"};
  const char* const resources[] = {"configmaps", "secrets",
                                   "pods/log",   "deployments.apps/scale",
                                   "/version",   "leases.coordination.k8s.io"};
  auto randomUse = [&](int timeSpan) {
    const int pod = pick(9);
    return use(verbs[pick(3)], resources[pick(6)], 1000 + pick(timeSpan), pick(4) == 0 ? 403 : 200,
               pod == 8 ? "" : "uid-0b1e2d3c-5f6a-4b7c-8d9e-" + std::to_string(pod),
               pod == 8 ? "" : "web-7d9f-" + std::to_string(pod));
  };
  for (int trial = 0; trial < 3000; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    const int timeSpan = 1 + pick(trial % 3 == 0 ? 4 : 300);
    AccountUse fast;
    AccountUse oracle;
    for (int i = 1 + pick(80); i > 0; --i) {
      const TokenUse u = randomUse(timeSpan);
      ASSERT_EQ(recordUse(fast, u), sorted_fold::recordUse(oracle, u));
      ASSERT_EQ(fast, oracle);
    }
    // Merging another record in, into the record or into a copy of it made untidy by hand:
    // reversed (not sorted) and, now and then, with an extra entry past the cap.
    AccountUse other;
    for (int i = 1 + pick(40); i > 0; --i) recordUse(other, randomUse(timeSpan));
    AccountUse untidy = oracle;
    std::reverse(untidy.pods.begin(), untidy.pods.end());
    std::reverse(untidy.accesses.begin(), untidy.accesses.end());
    if (pick(2) == 0) untidy.pods.push_back({"uid-extra", "extra", 1000 + pick(timeSpan)});
    for (AccountUse into : {oracle, untidy}) {
      AccountUse expected = into;
      ASSERT_EQ(mergeUse(into, other), sorted_fold::mergeUse(expected, other));
      ASSERT_EQ(into, expected);
      const TokenUse u = randomUse(timeSpan);  // and a use recorded into what that gave
      ASSERT_EQ(recordUse(into, u), sorted_fold::recordUse(expected, u));
      ASSERT_EQ(into, expected);
    }
  }
}

// --- days ----------------------------------------------------------------------------

TEST(UseDay, EndOfUseDay) {
  EXPECT_EQ(endOfUseDay("2026-12-06"), std::optional<std::int64_t>(1796515200 + kDay - 1));
  EXPECT_EQ(endOfUseDay("1970-01-01"), std::optional<std::int64_t>(kDay - 1));
  EXPECT_EQ(endOfUseDay("1969-12-31"), std::optional<std::int64_t>(-1));
  EXPECT_EQ(endOfUseDay("2024-02-29"), std::optional<std::int64_t>(1709251199));
  EXPECT_EQ(endOfUseDay("2000-02-29"), std::optional<std::int64_t>(951868799));
  EXPECT_EQ(endOfUseDay("2099-12-31"), std::optional<std::int64_t>(4102444799));
  for (const char* day : {"2024-01-31", "2024-03-31", "2024-04-30", "2024-12-31", "2023-02-28"}) {
    EXPECT_TRUE(endOfUseDay(day).has_value()) << day;
  }
  for (const char* bad : {"2023-02-29",
                          "1900-02-29",
                          "2100-02-29",
                          "2024-02-30",
                          "2024-04-31",
                          "2024-06-31",
                          "2024-13-01",
                          "2024-00-10",
                          "2024-01-00",
                          "2024-01-32",
                          "2024-1-01",
                          "2024-01-1",
                          "2024/01/01",
                          "20240101",
                          " 2024-01-01",
                          "2024-01-01 ",
                          "2024-01-01T00:00:00Z",
                          "2024-01-0a",
                          "+024-01-01",
                          "-024-01-01",
                          "2024--1-01",
                          "",
                          "abcd-ef-gh",
                          "2024-01",
                          "2024-1-1"}) {
    EXPECT_FALSE(endOfUseDay(bad).has_value()) << bad;
  }
  EXPECT_FALSE(endOfUseDay(std::string_view("2024-01-01\0", 11)).has_value());
}

// The day as the C library writes it, as an independent reference.
std::string gmDay(std::int64_t seconds) {
  const time_t t = static_cast<time_t>(seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday);
  return buffer;
}

TEST(UseDay, RoundTripsEveryDayFrom1970To2099) {
  const std::int64_t last = *endOfUseDay("2099-12-31") / kDay;
  ASSERT_EQ(last, 47481);
  for (std::int64_t day = 0; day <= last; ++day) {
    const std::int64_t start = day * kDay;
    const std::string text = useDayOf(start);
    ASSERT_EQ(text, gmDay(start)) << day;
    ASSERT_EQ(useDayOf(start + kDay - 1), text) << day;
    ASSERT_EQ(useDayOf(start + 43210), text) << day;
    ASSERT_EQ(endOfUseDay(text), std::optional<std::int64_t>(start + kDay - 1)) << text;
    if (day > 0) {
      ASSERT_NE(useDayOf(start - 1), text) << day;
    }
  }
  EXPECT_EQ(useDayOf(0), "1970-01-01");
  EXPECT_EQ(useDayOf(4102444799), "2099-12-31");
  EXPECT_EQ(useDayOf(4102444800), "2100-01-01");
  EXPECT_EQ(useDayOf(-1), "1969-12-31");
  EXPECT_EQ(useDayOf(-kDay), "1969-12-31");
  EXPECT_EQ(useDayOf(-kDay - 1), "1969-12-30");
  EXPECT_EQ(useDayOf(kAt), "2026-12-06");
}

// --- useWithin, nextUseChange ---------------------------------------------------------

TEST(UseWithin, Table) {
  const std::int64_t w = 30 * kDay;
  const std::int64_t now = kAt;
  const std::int64_t start = now - w;  // the window is (start, now]
  struct Case {
    const char* what;
    UseEvidence evidence;
    UseWithin want;
  };
  const Case cases[] = {
      {"no source, no use", {0, 0}, UseWithin::Unknown},
      {"no source, an old use", {start - 5, 0}, UseWithin::Unknown},
      {"no source, a use in the window", {now - 10, 0}, UseWithin::Used},
      {"no source, a use at its first second", {start + 1, 0}, UseWithin::Used},
      {"no source, a use just before it", {start, 0}, UseWithin::Unknown},
      {"a use now", {now, start - 100}, UseWithin::Used},
      {"a use from the future (clock skew)", {now + 100, start - 100}, UseWithin::Used},
      {"observation shorter than the window", {0, start + 1}, UseWithin::Unknown},
      {"observation started an hour ago", {0, now - 3600}, UseWithin::Unknown},
      {"observation exactly the window", {0, start}, UseWithin::NotUsed},
      {"observation longer than the window", {0, start - kDay}, UseWithin::NotUsed},
      {"covered, last use just outside", {start, start - kDay}, UseWithin::NotUsed},
      {"covered, last use long ago", {start - 100 * kDay, start - 200 * kDay}, UseWithin::NotUsed},
      {"covered, last use just inside", {start + 1, start - kDay}, UseWithin::Used},
      {"short observation, old use", {start - 1, start + 1}, UseWithin::Unknown},
      {"short observation, recent use", {now - 1, now - 2}, UseWithin::Used},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(useWithin(w, c.evidence, now), c.want) << c.what;
  }
  // A zero window: nothing can be within it but observation always covers it.
  EXPECT_EQ(useWithin(0, {now, now}, now), UseWithin::NotUsed);
  EXPECT_EQ(useWithin(0, {now + 1, now}, now), UseWithin::Used);
}

TEST(NextUseChange, WhenTheAnswerChanges) {
  const std::int64_t w = 30 * kDay;
  const std::int64_t now = kAt;
  // Used: until the use leaves the window.
  UseEvidence used{now - kDay, now - 100 * kDay};
  ASSERT_EQ(nextUseChange(w, used, now), std::optional<std::int64_t>(now - kDay + w));
  // Unknown: until observation covers the window.
  UseEvidence young{0, now - kDay};
  ASSERT_EQ(nextUseChange(w, young, now), std::optional<std::int64_t>(now - kDay + w));
  // No source: time alone changes nothing; nor does it for NotUsed.
  EXPECT_EQ(nextUseChange(w, UseEvidence{0, 0}, now), std::nullopt);
  EXPECT_EQ(nextUseChange(w, UseEvidence{now - 100 * kDay, 0}, now), std::nullopt);
  EXPECT_EQ(nextUseChange(w, UseEvidence{0, now - w}, now), std::nullopt);
  // Used with a short observation: first Unknown, then NotUsed; each step announced.
  UseEvidence both{now - 10, now - 20};
  auto first = nextUseChange(w, both, now);
  ASSERT_EQ(first, std::optional<std::int64_t>(now - 10 + w));
  EXPECT_EQ(useWithin(w, both, *first), UseWithin::NotUsed);  // observation covers by then

  UseEvidence lateSource{now - 100, now - 50};
  auto step1 = nextUseChange(w, lateSource, now);
  ASSERT_EQ(step1, std::optional<std::int64_t>(now - 100 + w));
  EXPECT_EQ(useWithin(w, lateSource, *step1), UseWithin::Unknown);
  auto step2 = nextUseChange(w, lateSource, *step1);
  ASSERT_EQ(step2, std::optional<std::int64_t>(now - 50 + w));
  EXPECT_EQ(useWithin(w, lateSource, *step2), UseWithin::NotUsed);
  EXPECT_EQ(nextUseChange(w, lateSource, *step2), std::nullopt);
}

TEST(NextUseChange, TheAnswerChangesExactlyThen) {
  std::mt19937 rng(42);
  auto below = [&](std::int64_t n) { return static_cast<std::int64_t>(rng() % n); };
  for (int trial = 0; trial < 20000; ++trial) {
    const std::int64_t w = 1 + below(60 * kDay);
    const std::int64_t now = kAt;
    UseEvidence e;
    e.lastUsed = below(4) == 0 ? 0 : now - below(90 * kDay) + below(kDay) / 100;
    e.observingSince = below(3) == 0 ? 0 : now - below(90 * kDay);
    // Make the boundaries likely.
    if (below(5) == 0 && e.lastUsed != 0) e.lastUsed = now - w + below(3) - 1;
    if (below(5) == 0 && e.observingSince != 0) e.observingSince = now - w + below(3) - 1;
    SCOPED_TRACE("w=" + std::to_string(w) + " lastUsed=" + std::to_string(e.lastUsed) +
                 " observingSince=" + std::to_string(e.observingSince));

    const UseWithin answer = useWithin(w, e, now);
    auto next = nextUseChange(w, e, now);
    if (!next) {
      // Time alone never changes it.
      for (std::int64_t later : {now + 1, now + w, now + 10 * w + 365 * kDay}) {
        ASSERT_EQ(useWithin(w, e, later), answer);
      }
      continue;
    }
    ASSERT_GT(*next, now);
    ASSERT_NE(useWithin(w, e, *next), answer);
    ASSERT_EQ(useWithin(w, e, *next - 1), answer);
    ASSERT_EQ(useWithin(w, e, now + (*next - now) / 2), answer);
  }
}

}  // namespace
}  // namespace saguard::policy
