// The ledger (evidence/ledger.h): records folded from uses and merged from other
// replicas, what is handed to the store (takeChanged), the new-day notification, the
// observation start, and many threads recording at once.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "evidence/ledger.h"
#include "support/token_use.h"

namespace saguard::evidence {
namespace {

using policy::AccountUse;
using policy::TokenUse;
using test_support::useBy;

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kMidnight = 1796515200;  // 2026-12-06T00:00:00Z

// Counts onNewUseDay calls per account key.
struct DayCalls {
  std::mutex mu;
  std::map<std::string, int> calls;
  void attach(Ledger& ledger) {
    ledger.onNewUseDay = [this](const std::string& key) {
      std::lock_guard lock(mu);
      ++calls[key];
    };
  }
  int of(const std::string& key) {
    std::lock_guard lock(mu);
    auto it = calls.find(key);
    return it == calls.end() ? 0 : it->second;
  }
};

TEST(Ledger, RecordLookupEvidence) {
  Ledger ledger;
  EXPECT_EQ(ledger.accounts(), 0u);
  EXPECT_FALSE(ledger.lookup("team-a", "web").has_value());
  EXPECT_EQ(ledger.evidenceOf("team-a", "web").lastUsed, 0);
  EXPECT_EQ(ledger.evidenceOf("team-a", "web").observingSince, 0);

  EXPECT_TRUE(
      ledger.record(useBy("team-a", "web", kMidnight + 100, "list", "configmaps", 200, "u1")));
  EXPECT_FALSE(
      ledger.record(useBy("team-a", "web", kMidnight + 100, "list", "configmaps", 200, "u1")));
  EXPECT_TRUE(ledger.record(useBy("team-a", "web", kMidnight + 50, "get", "secrets", 403)));
  EXPECT_TRUE(ledger.record(useBy("team-b", "web", kMidnight + 10)));

  auto web = ledger.lookup("team-a", "web");
  ASSERT_TRUE(web.has_value());
  AccountUse want;
  policy::recordUse(want, useBy("team-a", "web", kMidnight + 100, "list", "configmaps", 200, "u1"));
  policy::recordUse(want, useBy("team-a", "web", kMidnight + 50, "get", "secrets", 403));
  EXPECT_EQ(*web, want);
  EXPECT_EQ(web->lastRefused, kMidnight + 50);

  EXPECT_FALSE(ledger.lookup("team-a", "other").has_value());
  EXPECT_FALSE(ledger.lookup("team", "a/web").has_value());
  EXPECT_EQ(ledger.evidenceOf("team-a", "web").lastUsed, kMidnight + 100);
  EXPECT_EQ(ledger.evidenceOf("team-b", "web").lastUsed, kMidnight + 10);
  EXPECT_EQ(ledger.evidenceOf("team-c", "web").lastUsed, 0);
  EXPECT_EQ(ledger.accounts(), 2u);
  EXPECT_EQ(ledger.accountsWithUse(), 2u);

  const auto all = ledger.all();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all.begin()->first, "team-a/web");
  EXPECT_EQ(all.begin()->second, want);
  EXPECT_EQ(std::next(all.begin())->first, "team-b/web");
}

TEST(Ledger, TakeChangedHandsOverWhatRecordChanged) {
  Ledger ledger;
  EXPECT_TRUE(ledger.takeChanged().empty());
  ledger.record(useBy("team-a", "web", kMidnight + 1));
  ledger.record(useBy("team-a", "web", kMidnight + 2));
  ledger.record(useBy("team-b", "db", kMidnight + 3));
  auto changed = ledger.takeChanged();
  ASSERT_EQ(changed.size(), 2u);
  EXPECT_EQ(changed.at("team-a/web").lastUsed, kMidnight + 2);  // the latest state
  EXPECT_EQ(changed.at("team-b/db").lastUsed, kMidnight + 3);
  EXPECT_TRUE(ledger.takeChanged().empty());  // emptied

  // A use that changes nothing is not handed over again.
  EXPECT_FALSE(ledger.record(useBy("team-a", "web", kMidnight + 1)));
  EXPECT_TRUE(ledger.takeChanged().empty());

  // A merge changes the record but does not mark it: what the store merged is persisted.
  AccountUse persisted;
  policy::recordUse(persisted, useBy("team-a", "web", kMidnight + 500, "watch", "pods"));
  EXPECT_TRUE(ledger.merge("team-a/web", persisted));
  EXPECT_EQ(ledger.lookup("team-a", "web")->lastUsed, kMidnight + 500);
  EXPECT_TRUE(ledger.takeChanged().empty());
  EXPECT_FALSE(ledger.merge("team-a/web", persisted));  // idempotent

  // A merge of a new account is looked up like a recorded one.
  EXPECT_TRUE(ledger.merge("team-c/api", persisted));
  EXPECT_EQ(ledger.evidenceOf("team-c", "api").lastUsed, kMidnight + 500);
  EXPECT_TRUE(ledger.takeChanged().empty());

  // A record after a merge hands over the merged state with the new use in it.
  EXPECT_TRUE(ledger.record(useBy("team-a", "web", kMidnight + 600)));
  changed = ledger.takeChanged();
  ASSERT_EQ(changed.size(), 1u);
  AccountUse want = persisted;
  policy::recordUse(want, useBy("team-a", "web", kMidnight + 1));
  policy::recordUse(want, useBy("team-a", "web", kMidnight + 2));
  policy::recordUse(want, useBy("team-a", "web", kMidnight + 600));
  EXPECT_EQ(changed.at("team-a/web"), want);
}

TEST(Ledger, OnNewUseDayOncePerNewDay) {
  Ledger ledger;
  DayCalls days;
  days.attach(ledger);
  const std::string key = "team-a/web";

  ledger.record(useBy("team-a", "web", kMidnight + 10));  // first use
  EXPECT_EQ(days.of(key), 1);
  ledger.record(useBy("team-a", "web", kMidnight + 20));  // same day, later
  ledger.record(useBy("team-a", "web", kMidnight + kDay - 1, "list", "pods"));
  ledger.record(useBy("team-a", "web", kMidnight + 5, "create", "secrets"));  // same day, older
  EXPECT_EQ(days.of(key), 1);
  ledger.record(useBy("team-a", "web", kMidnight - 5, "delete", "pods"));  // the day before
  EXPECT_EQ(days.of(key), 1) << "an older day leaves the annotation as it is";
  ledger.record(useBy("team-a", "web", kMidnight + kDay));  // the next day, first second
  EXPECT_EQ(days.of(key), 2);
  ledger.record(useBy("team-a", "web", kMidnight + kDay + 3600));
  EXPECT_EQ(days.of(key), 2);
  ledger.record(useBy("team-a", "web", kMidnight + 5 * kDay));  // days later
  EXPECT_EQ(days.of(key), 3);
  EXPECT_EQ(days.of("team-b/web"), 0);
  ledger.record(useBy("team-b", "web", kMidnight));  // another account: its own first day
  EXPECT_EQ(days.of("team-b/web"), 1);
  EXPECT_EQ(days.of(key), 3);

  // Through merge too: a persisted record from a later day, the same day, an older one.
  AccountUse later;
  policy::recordUse(later, useBy("team-a", "web", kMidnight + 6 * kDay + 1));
  EXPECT_TRUE(ledger.merge(key, later));
  EXPECT_EQ(days.of(key), 4);
  AccountUse sameDay;
  policy::recordUse(sameDay, useBy("team-a", "web", kMidnight + 6 * kDay + 7200, "list", "x"));
  EXPECT_TRUE(ledger.merge(key, sameDay));
  EXPECT_EQ(days.of(key), 4);
  AccountUse older;
  policy::recordUse(older, useBy("team-a", "web", kMidnight + 2 * kDay, "watch", "y"));
  EXPECT_TRUE(ledger.merge(key, older));
  EXPECT_EQ(days.of(key), 4);
  EXPECT_FALSE(ledger.merge(key, older));
  EXPECT_EQ(days.of(key), 4);
  // A merge that brings the first use of an account.
  EXPECT_TRUE(ledger.merge("team-c/new", later));
  EXPECT_EQ(days.of("team-c/new"), 1);
}

TEST(Ledger, ObservedSinceIsTheEarliest) {
  Ledger ledger;
  int earlier = 0;  // the first value is no news; only a later move back is
  ledger.onObservingSinceEarlier = [&] { ++earlier; };
  EXPECT_EQ(ledger.observingSince(), 0);
  ledger.observedSince(0);
  ledger.observedSince(-5);
  EXPECT_EQ(ledger.observingSince(), 0);
  ledger.observedSince(kMidnight);
  EXPECT_EQ(ledger.observingSince(), kMidnight);
  ledger.observedSince(kMidnight + 100);  // a replica that started later
  EXPECT_EQ(ledger.observingSince(), kMidnight);
  EXPECT_EQ(earlier, 0);
  ledger.observedSince(kMidnight - 100);  // one that started earlier
  EXPECT_EQ(ledger.observingSince(), kMidnight - 100);
  EXPECT_EQ(earlier, 1);
  ledger.observedSince(0);
  ledger.observedSince(kMidnight - 100);  // the same again: no news
  EXPECT_EQ(ledger.observingSince(), kMidnight - 100);
  EXPECT_EQ(earlier, 1);
  // evidenceOf carries it for every account, used or not.
  EXPECT_EQ(ledger.evidenceOf("team-a", "never").observingSince, kMidnight - 100);
  ledger.record(useBy("team-a", "web", kMidnight + 5));
  const policy::UseEvidence e = ledger.evidenceOf("team-a", "web");
  EXPECT_EQ(e.lastUsed, kMidnight + 5);
  EXPECT_EQ(e.observingSince, kMidnight - 100);
}

TEST(Ledger, ResetObservingSinceMovesEitherWay) {
  // What the store sets after merging the periods: later after a gap, 0 when observation
  // stopped, earlier when another replica's period joined ours.
  Ledger ledger;
  int earlier = 0;
  ledger.onObservingSinceEarlier = [&] { ++earlier; };
  ledger.resetObservingSince(kMidnight);
  EXPECT_EQ(ledger.observingSince(), kMidnight);
  EXPECT_EQ(earlier, 0);                             // the first value is no news
  ledger.resetObservingSince(kMidnight + 7 * kDay);  // a gap: observation resumed
  EXPECT_EQ(ledger.observingSince(), kMidnight + 7 * kDay);
  EXPECT_EQ(ledger.evidenceOf("team-a", "web").observingSince, kMidnight + 7 * kDay);
  EXPECT_EQ(earlier, 0);
  ledger.resetObservingSince(kMidnight + 7 * kDay);  // the same again
  EXPECT_EQ(earlier, 0);
  ledger.resetObservingSince(kMidnight + 6 * kDay);  // a period that reaches further back
  EXPECT_EQ(ledger.observingSince(), kMidnight + 6 * kDay);
  EXPECT_EQ(earlier, 1);
  ledger.resetObservingSince(0);  // stopped
  EXPECT_EQ(ledger.observingSince(), 0);
  ledger.resetObservingSince(-3);
  EXPECT_EQ(ledger.observingSince(), 0);
  ledger.resetObservingSince(kMidnight);  // known again: no news, as the first value
  EXPECT_EQ(earlier, 1);
  // observedSince() still only moves it earlier.
  ledger.observedSince(kMidnight + kDay);
  EXPECT_EQ(ledger.observingSince(), kMidnight);
}

TEST(Ledger, AccountsWithUse) {
  Ledger ledger;
  EXPECT_EQ(ledger.accountsWithUse(), 0u);
  for (int i = 0; i < 10; ++i) ledger.record(useBy("ns", "a" + std::to_string(i), kMidnight + i));
  for (int i = 0; i < 10; ++i) ledger.record(useBy("ns", "a" + std::to_string(i), kMidnight + 50));
  EXPECT_EQ(ledger.accounts(), 10u);
  EXPECT_EQ(ledger.accountsWithUse(), 10u);
  // An empty record (nothing known) is no use.
  EXPECT_FALSE(ledger.merge("ns/empty", AccountUse{}));
  EXPECT_EQ(ledger.accountsWithUse(), 10u);
  EXPECT_EQ(ledger.evidenceOf("ns", "empty").lastUsed, 0);
}

// Uses of 100 accounts over 40 days, with pods, verbs and refusals, in a fixed order.
std::vector<TokenUse> generatedUses(std::size_t count, std::uint32_t seed) {
  std::mt19937 rng(seed);
  const char* const verbs[] = {"get", "list", "watch", "create", "patch"};
  const char* const resources[] = {
      "configmaps", "secrets", "pods", "deployments.apps", "leases.coordination.k8s.io",
      "/version",   "pods/log"};
  std::vector<TokenUse> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto account = rng() % 100;
    out.push_back(useBy("ns-" + std::to_string(account % 7), "sa-" + std::to_string(account),
                        kMidnight + static_cast<std::int64_t>(rng() % (40 * kDay)),
                        verbs[rng() % 5], resources[rng() % 7], rng() % 10 == 0 ? 403 : 200,
                        "pod-" + std::to_string(account) + "-" + std::to_string(rng() % 12)));
  }
  return out;
}

TEST(Ledger, ConcurrentRecordsEqualTheSingleThreadedFold) {
  constexpr int kThreads = 4;
  constexpr std::size_t kPerThread = 50000;
  std::vector<std::vector<TokenUse>> perThread;
  for (int t = 0; t < kThreads; ++t) perThread.push_back(generatedUses(kPerThread, 1000 + t));

  // Single-threaded: every use into one map of records, in order.
  std::map<std::string, AccountUse> want;
  std::map<std::string, std::set<std::string>> days;
  for (const auto& uses : perThread) {
    for (const auto& u : uses) {
      policy::recordUse(want[u.namespace_ + "/" + u.account], u);
      days[u.namespace_ + "/" + u.account].insert(policy::useDayOf(u.at));
    }
  }

  Ledger ledger;
  DayCalls calls;
  calls.attach(ledger);
  ledger.observedSince(kMidnight + 1000);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      for (const auto& u : perThread[static_cast<std::size_t>(t)]) {
        ledger.record(u);
        if (&u == &perThread[static_cast<std::size_t>(t)][kPerThread / 2]) {
          ledger.observedSince(kMidnight + 10 + t);  // meanwhile, other replicas' starts
        }
      }
    });
  }
  // A reader meanwhile, as the reconciler's workers are.
  std::thread reader([&] {
    while (ready.load() < kThreads) std::this_thread::yield();
    for (int i = 0; i < 2000; ++i) {
      const auto e = ledger.evidenceOf("ns-1", "sa-1");
      ASSERT_TRUE(e.observingSince == kMidnight + 1000 || e.observingSince <= kMidnight + 13);
      (void)ledger.lookup("ns-2", "sa-2");
      if (i % 100 == 0) (void)ledger.takeChanged();
    }
  });
  for (auto& thread : threads) thread.join();
  reader.join();

  EXPECT_EQ(ledger.all(), want);
  EXPECT_EQ(ledger.accounts(), 100u);
  EXPECT_EQ(ledger.accountsWithUse(), 100u);
  EXPECT_EQ(ledger.observingSince(), kMidnight + 10);
  // The last change of each record is what takeChanged holds, unless the reader took it.
  for (const auto& [key, record] : ledger.takeChanged()) EXPECT_EQ(record, want.at(key)) << key;
  // Each account was notified at least once and never more often than it had use days
  // (exactly once per day in order is checked single-threaded above).
  for (const auto& [key, set] : days) {
    EXPECT_GE(calls.of(key), 1) << key;
    EXPECT_LE(calls.of(key), static_cast<int>(set.size())) << key;
  }
}

TEST(Ledger, UsesInTimeOrderNotifyOncePerDay) {
  auto uses = generatedUses(20000, 99);
  std::stable_sort(uses.begin(), uses.end(),
                   [](const TokenUse& a, const TokenUse& b) { return a.at < b.at; });
  std::map<std::string, std::set<std::string>> days;
  for (const auto& u : uses) days[u.namespace_ + "/" + u.account].insert(policy::useDayOf(u.at));
  Ledger ledger;
  DayCalls calls;
  calls.attach(ledger);
  for (const auto& u : uses) ledger.record(u);
  for (const auto& [key, set] : days) EXPECT_EQ(calls.of(key), static_cast<int>(set.size())) << key;
}

}  // namespace
}  // namespace saguard::evidence
