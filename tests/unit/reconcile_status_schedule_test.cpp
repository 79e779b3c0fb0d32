// StatusSchedule: when a policy's status is recomputed after changes. Times are
// steady_clock points built from a fixed origin; nothing sleeps.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include "reconcile/status_schedule.h"

namespace saguard::reconcile {
namespace {

using namespace std::chrono_literals;
using Ms = std::chrono::milliseconds;

const Clock::time_point t0{std::chrono::seconds(1000)};

std::optional<Ms> ms(std::optional<Clock::duration> d) {
  if (!d) return std::nullopt;
  return std::chrono::duration_cast<Ms>(*d);
}

TEST(StatusSchedule, TheFirstChangeWaitsTheDelay) {
  StatusSchedule schedule(1s, 5s);
  EXPECT_EQ(ms(schedule.changed("policy/a", t0)), Ms(1000));
}

TEST(StatusSchedule, ChangesWhileOneIsWaitingAddNothing) {
  StatusSchedule schedule(1s, 5s);
  ASSERT_TRUE(schedule.changed("policy/a", t0));
  EXPECT_EQ(ms(schedule.changed("policy/a", t0 + 10ms)), std::nullopt);
  EXPECT_EQ(ms(schedule.changed("policy/a", t0 + 999ms)), std::nullopt);
}

// The work queue may run the key before its due time (it keeps the earlier of two times,
// say a retry's): a change after that run must get a computation of its own.
TEST(StatusSchedule, AChangeAfterAnEarlyRunIsScheduledAgain) {
  StatusSchedule schedule(1s, 5s);
  ASSERT_EQ(ms(schedule.changed("policy/a", t0)), Ms(1000));  // due at t0 + 1 s
  schedule.ran("policy/a", t0 + 100ms);                       // but ran at t0 + 100 ms
  // Before the fix this was "still waiting" and nothing ran for it: the change was lost.
  EXPECT_EQ(ms(schedule.changed("policy/a", t0 + 200ms)), Ms(4900));  // the interval, from the run
  // A run after its due time (t0 + 5.1 s) leaves the due time alone: the next change is
  // an interval after t0 + 5.1 s, not after the late run.
  schedule.ran("policy/a", t0 + 6s);
  EXPECT_EQ(ms(schedule.changed("policy/a", t0 + 6100ms)), Ms(4000));
  // Keys the schedule does not track are ignored.
  schedule.ran("account/ns/x", t0);
  EXPECT_EQ(ms(schedule.changed("policy/b", t0)), Ms(1000));
}

TEST(StatusSchedule, UnderChurnComputationsAreAnIntervalApart) {
  StatusSchedule schedule(1s, 5s);
  ASSERT_EQ(ms(schedule.changed("policy/a", t0)), Ms(1000));  // runs at t0 + 1 s
  // A change just after that run: the next one is 5 s after the last, not 1 s after it.
  EXPECT_EQ(ms(schedule.changed("policy/a", t0 + 1100ms)), Ms(4900));  // at t0 + 6 s
  EXPECT_EQ(ms(schedule.changed("policy/a", t0 + 3s)), std::nullopt);
  EXPECT_EQ(ms(schedule.changed("policy/a", t0 + 6s + 1ms)), Ms(5000 - 1));  // at t0 + 11 s
}

TEST(StatusSchedule, AfterQuietTheDelayAloneCounts) {
  StatusSchedule schedule(1s, 5s);
  ASSERT_TRUE(schedule.changed("policy/a", t0));  // ran at t0 + 1 s
  EXPECT_EQ(ms(schedule.changed("policy/a", t0 + 60s)), Ms(1000));
  // A change exactly when the last computation was due finds it no longer waiting.
  EXPECT_EQ(ms(schedule.changed("policy/a", t0 + 61s)), Ms(5000));
}

TEST(StatusSchedule, PoliciesAreScheduledApart) {
  StatusSchedule schedule(1s, 5s);
  ASSERT_TRUE(schedule.changed("policy/a", t0));
  EXPECT_EQ(ms(schedule.changed("policy/b", t0 + 500ms)), Ms(1000));
  EXPECT_EQ(ms(schedule.changed("policy/a", t0 + 500ms)), std::nullopt);
}

TEST(StatusSchedule, NoIntervalMeansEveryChangeAfterARunWaitsTheDelay) {
  StatusSchedule schedule(250ms, 0ms);
  ASSERT_EQ(ms(schedule.changed("policy/a", t0)), Ms(250));
  EXPECT_EQ(ms(schedule.changed("policy/a", t0 + 300ms)), Ms(250));
  StatusSchedule immediate(0ms, 0ms);
  EXPECT_EQ(ms(immediate.changed("policy/a", t0)), Ms(0));
  EXPECT_EQ(ms(immediate.changed("policy/a", t0)), Ms(0)) << "due now is no longer waiting";
}

TEST(StatusSchedule, AForgottenPolicyStartsAfresh) {
  StatusSchedule schedule(1s, 5s);
  ASSERT_TRUE(schedule.changed("policy/a", t0));
  schedule.forget("policy/a");
  schedule.forget("policy/never-seen");
  EXPECT_EQ(ms(schedule.changed("policy/a", t0 + 10ms)), Ms(1000));
}

}  // namespace
}  // namespace saguard::reconcile
