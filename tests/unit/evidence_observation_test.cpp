// Observation periods (evidence/observation.h): the merge of two replicas' periods and what
// a reader may use of one, checked exhaustively over small times against an independent
// oracle (the textbook sweep that merges intervals closer than the tolerance and keeps the
// latest run), and the cases the header names, in real numbers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "evidence/observation.h"

namespace saguard::evidence {
namespace {

std::string show(const ObservationPeriod& p) {
  return "[" + std::to_string(p.since) + "," + std::to_string(p.until) + "]";
}

// Every period over times 1..kMax (since <= until), and the empty one.
std::vector<ObservationPeriod> allPeriods(std::int64_t max) {
  std::vector<ObservationPeriod> out{{}};
  for (std::int64_t s = 1; s <= max; ++s) {
    for (std::int64_t u = s; u <= max; ++u) out.push_back({s, u});
  }
  return out;
}

// The latest run of the union of the periods, where runs at most `tolerance` apart join.
ObservationPeriod oracle(std::vector<ObservationPeriod> periods, std::int64_t tolerance) {
  std::erase_if(periods, [](const ObservationPeriod& p) { return p.empty(); });
  if (periods.empty()) return {};
  std::sort(periods.begin(), periods.end(),
            [](const auto& a, const auto& b) { return a.since < b.since; });
  ObservationPeriod run = periods.front();
  for (const auto& p : periods) {
    if (p.since <= run.until + tolerance) {
      run.until = std::max(run.until, p.until);
    } else {
      run = p;
    }
  }
  return run;
}

TEST(ObservationPeriod, MergeIsTheLatestRunExhaustively) {
  constexpr std::int64_t kMax = 9;
  const auto periods = allPeriods(kMax);
  int cases = 0;
  for (std::int64_t tolerance : {0, 1, 2, 4}) {
    for (const auto& a : periods) {
      for (const auto& b : periods) {
        SCOPED_TRACE(show(a) + " + " + show(b) + " tolerance " + std::to_string(tolerance));
        const ObservationPeriod merged = mergeObservation(a, b, tolerance);
        ASSERT_EQ(merged, oracle({a, b}, tolerance));
        ASSERT_EQ(merged, mergeObservation(b, a, tolerance));  // commutative
        // One of the two, or their union: nothing that neither saw.
        const ObservationPeriod joined{
            std::min(a.empty() ? b.since : a.since, b.empty() ? a.since : b.since),
            std::max(a.until, b.until)};
        ASSERT_TRUE(merged == a || merged == b || merged == joined);
        // Merging either again changes nothing (a replica's next sync writes nothing).
        ASSERT_EQ(mergeObservation(merged, a, tolerance), merged);
        ASSERT_EQ(mergeObservation(merged, b, tolerance), merged);
        ASSERT_EQ(mergeObservation(merged, merged, tolerance), merged);
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, 4 * 46 * 46);
}

TEST(ObservationPeriod, EmptyIsNoNewsAndInvertedPeriodsEndAtTheirStart) {
  const ObservationPeriod p{100, 200};
  EXPECT_EQ(mergeObservation(p, {}, 10), p);
  EXPECT_EQ(mergeObservation({}, p, 10), p);
  EXPECT_EQ(mergeObservation({}, {}, 10), ObservationPeriod{});
  // A negative or zero since is no observation, whatever its until.
  EXPECT_EQ(mergeObservation({0, 500}, p, 10), p);
  EXPECT_EQ(mergeObservation({-5, 500}, p, 10), p);
  // until before since: read as [since, since].
  EXPECT_EQ(mergeObservation({300, 0}, {}, 10), (ObservationPeriod{300, 300}));
  EXPECT_EQ(mergeObservation({205, 0}, p, 10), (ObservationPeriod{100, 205}));
}

TEST(ObservationPeriod, TheCasesTheHeaderNames) {
  constexpr std::int64_t kDay = 86400;
  constexpr std::int64_t kNow = 1796650000;  // 2026-12-07T13:26:40Z
  // Every replica was down for a week: the replica starting now keeps only its own period.
  const ObservationPeriod stored{kNow - 40 * kDay, kNow - 7 * kDay};
  EXPECT_EQ(mergeObservation(stored, {kNow, kNow}, kGapToleranceSeconds),
            (ObservationPeriod{kNow, kNow}));
  // A restart within the tolerance (the last heartbeat 14 minutes before the start) is no gap.
  const ObservationPeriod recent{kNow - 40 * kDay, kNow - 14 * 60};
  EXPECT_EQ(mergeObservation(recent, {kNow, kNow}, kGapToleranceSeconds),
            (ObservationPeriod{kNow - 40 * kDay, kNow}));
  // 16 minutes is one.
  const ObservationPeriod late{kNow - 40 * kDay, kNow - 16 * 60};
  EXPECT_EQ(mergeObservation(late, {kNow, kNow}, kGapToleranceSeconds),
            (ObservationPeriod{kNow, kNow}));
  // Two replicas running side by side: the union.
  EXPECT_EQ(
      mergeObservation({kNow - 10 * kDay, kNow - 60}, {kNow - kDay, kNow}, kGapToleranceSeconds),
      (ObservationPeriod{kNow - 10 * kDay, kNow}));
  // A replica that kept observing through another's reset (it started before and never
  // stopped) bridges the gap the other saw: the union again.
  EXPECT_EQ(mergeObservation({kNow - 3600, kNow}, {kNow - 10 * kDay, kNow}, kGapToleranceSeconds),
            (ObservationPeriod{kNow - 10 * kDay, kNow}));
  EXPECT_EQ(kHeartbeatSeconds, 300);
  EXPECT_EQ(kGapToleranceSeconds, 900);
}

TEST(ObservationPeriod, ObservingSinceAtExhaustively) {
  constexpr std::int64_t kMax = 9;
  for (std::int64_t tolerance : {0, 1, 3}) {
    for (const auto& p : allPeriods(kMax)) {
      for (std::int64_t now = 0; now <= kMax + 5; ++now) {
        SCOPED_TRACE(show(p) + " now " + std::to_string(now) + " tolerance " +
                     std::to_string(tolerance));
        const std::int64_t got = observingSinceAt(p, now, tolerance);
        if (p.empty()) {
          ASSERT_EQ(got, 0);
        } else if (now - p.until <= tolerance) {
          ASSERT_EQ(got, p.since);  // running (a future until counts as running too)
        } else {
          ASSERT_EQ(got, 0);  // stopped: no window ending now is covered
        }
      }
    }
  }
}

TEST(ObservationPeriod, AStoredPeriodWithoutUntilIsRunningUntilNow) {
  // Written before observed-until existed: as its writer took it.
  EXPECT_EQ(storedPeriodAt({100, 0}, 5000), (ObservationPeriod{100, 5000}));
  EXPECT_EQ(storedPeriodAt({100, 200}, 5000), (ObservationPeriod{100, 200}));
  EXPECT_EQ(storedPeriodAt({}, 5000), ObservationPeriod{});
  EXPECT_EQ(storedPeriodAt({0, 300}, 5000), (ObservationPeriod{0, 300}));  // still empty
  EXPECT_TRUE(storedPeriodAt({0, 300}, 5000).empty());
}

TEST(ObservationPeriod, WhatSaguardAuditJudgesWith) {
  constexpr std::int64_t kDay = 86400;
  constexpr std::int64_t kNow = 1796650000;
  constexpr std::int64_t kTolerance = kGapToleranceSeconds;
  auto since = [&](ObservationPeriod stored, std::int64_t logsEarliest) {
    return observingSinceAt(auditPeriod(stored, logsEarliest, kNow, kTolerance), kNow, kTolerance);
  };
  // The store alone: running, stopped a week ago, written before observed-until existed.
  EXPECT_EQ(since({kNow - 40 * kDay, kNow - 60}, 0), kNow - 40 * kDay);
  EXPECT_EQ(since({kNow - 40 * kDay, kNow - 7 * kDay}, 0), 0);
  EXPECT_EQ(auditPeriod({kNow - 40 * kDay, kNow - 7 * kDay}, 0, kNow, kTolerance).until,
            kNow - 7 * kDay);  // the note says since when
  EXPECT_EQ(since({kNow - 40 * kDay, 0}, 0), kNow - 40 * kDay);
  // Exported logs alone: from their earliest event, taken as reaching now.
  EXPECT_EQ(since({}, kNow - 3 * kDay), kNow - 3 * kDay);
  EXPECT_EQ(since({}, 0), 0);
  EXPECT_TRUE(auditPeriod({}, 0, kNow, kTolerance).empty());
  // Both: logs that reach back into the store's period extend it; logs after a gap since
  // the store stopped count alone; a store still running and older logs, the union.
  EXPECT_EQ(since({kNow - 40 * kDay, kNow - 7 * kDay}, kNow - 8 * kDay), kNow - 40 * kDay);
  EXPECT_EQ(since({kNow - 40 * kDay, kNow - 7 * kDay}, kNow - 3 * kDay), kNow - 3 * kDay);
  EXPECT_EQ(since({kNow - 10 * kDay, kNow - 60}, kNow - 30 * kDay), kNow - 30 * kDay);
  EXPECT_EQ(since({kNow - 10 * kDay, kNow - 60}, kNow - kDay), kNow - 10 * kDay);
}

}  // namespace
}  // namespace saguard::evidence
