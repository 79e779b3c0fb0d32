// The correlator on its own: series (create, then count 2, 3, ...), the series window,
// the per-object spam filter, the bounded caches, and names that never repeat.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>

#include "base/clock.h"
#include "events/correlator.h"

namespace saguard::events {
namespace {

using namespace std::chrono;

class CorrelatorTest : public ::testing::Test {
 protected:
  Occurrence occurrence(const std::string& name, Reason reason = Reason::AutomountDisabled,
                        const std::string& note = "set to false") {
    Occurrence o;
    o.regarding = {"v1", "ServiceAccount", "team-a", name, "uid-" + name, "1"};
    o.reason = reason;
    o.note = note;
    o.at = clock_.now();
    o.wallTime = WallTime(seconds(1'700'000'000)) + (clock_.now() - start_);
    return o;
  }

  FakeClock clock_;
  Clock::time_point start_ = clock_.now();
};

TEST_F(CorrelatorTest, FirstCreatesThenRepeatsCountUp) {
  Correlator correlator;
  Decision first = correlator.observe(occurrence("default"));
  EXPECT_EQ(first.verdict, Verdict::Create);
  EXPECT_EQ(first.eventNamespace, "team-a");
  EXPECT_EQ(first.eventName.rfind("default.", 0), 0u) << first.eventName;
  EXPECT_FALSE(first.series.has_value());

  for (int count = 2; count <= 5; ++count) {
    clock_.advance(seconds(10));
    Occurrence again = occurrence("default");
    Decision d = correlator.observe(again);
    ASSERT_EQ(d.verdict, Verdict::PatchSeries);
    EXPECT_EQ(d.eventName, first.eventName);
    EXPECT_EQ(d.eventTime, first.eventTime);
    ASSERT_TRUE(d.series.has_value());
    EXPECT_EQ(d.series->count, count);
    EXPECT_EQ(d.series->lastObservedTime, again.wallTime);
    EXPECT_EQ(d.key, first.key);
  }
  EXPECT_EQ(correlator.seriesTracked(), 1u);
}

TEST_F(CorrelatorTest, AnythingThatDiffersStartsAnotherSeries) {
  Correlator correlator;
  Decision base = correlator.observe(occurrence("default"));
  EXPECT_EQ(
      correlator.observe(occurrence("default", Reason::AutomountDisabled, "other note")).verdict,
      Verdict::Create);
  EXPECT_EQ(correlator.observe(occurrence("default", Reason::DriftReverted)).verdict,
            Verdict::Create);
  EXPECT_EQ(correlator.observe(occurrence("other")).verdict, Verdict::Create);

  Occurrence otherUid = occurrence("default");
  otherUid.regarding.uid = "uid-recreated";
  EXPECT_EQ(correlator.observe(otherUid).verdict, Verdict::Create);

  Occurrence withRelated = occurrence("default");
  withRelated.related = ObjectRef{"saguard.io/v1alpha1", "ServiceAccountPolicy", "", "p", "", ""};
  EXPECT_EQ(correlator.observe(withRelated).verdict, Verdict::Create);
  EXPECT_EQ(correlator.seriesTracked(), 6u);

  // The first series is still there.
  Decision again = correlator.observe(occurrence("default"));
  EXPECT_EQ(again.verdict, Verdict::PatchSeries);
  EXPECT_EQ(again.eventName, base.eventName);
}

TEST_F(CorrelatorTest, ResourceVersionDoesNotSplitASeries) {
  Correlator correlator;
  correlator.observe(occurrence("default"));
  Occurrence changed = occurrence("default");
  changed.regarding.resourceVersion = "2";
  EXPECT_EQ(correlator.observe(changed).verdict, Verdict::PatchSeries);
}

TEST_F(CorrelatorTest, SeriesEndsSixMinutesAfterItsLastObservation) {
  Correlator correlator;
  Decision first = correlator.observe(occurrence("default"));
  clock_.advance(minutes(6));  // exactly the window: still the series
  EXPECT_EQ(correlator.observe(occurrence("default")).verdict, Verdict::PatchSeries);
  clock_.advance(minutes(6));  // measured from the last observation, not the first
  Decision third = correlator.observe(occurrence("default"));
  EXPECT_EQ(third.verdict, Verdict::PatchSeries);
  EXPECT_EQ(third.series->count, 3);
  clock_.advance(minutes(6) + nanoseconds(1));
  Decision fresh = correlator.observe(occurrence("default"));
  EXPECT_EQ(fresh.verdict, Verdict::Create);
  EXPECT_NE(fresh.eventName, first.eventName);
  clock_.advance(seconds(1));
  Decision next = correlator.observe(occurrence("default"));
  EXPECT_EQ(next.verdict, Verdict::PatchSeries);
  EXPECT_EQ(next.eventName, fresh.eventName);
  EXPECT_EQ(next.series->count, 2);
}

TEST_F(CorrelatorTest, SpamFilterAllowsABurstOf25ThenOneEveryFiveMinutes) {
  Correlator correlator;
  int passed = 0;
  for (int i = 0; i < 100; ++i) {
    // Different notes: the bucket is per object, whatever the series.
    Decision d = correlator.observe(
        occurrence("default", Reason::AutomountDisabled, "note " + std::to_string(i % 3)));
    if (d.verdict != Verdict::Filtered) ++passed;
  }
  EXPECT_EQ(passed, 25);
  // Another object has its own bucket.
  EXPECT_NE(correlator.observe(occurrence("other")).verdict, Verdict::Filtered);

  clock_.advance(minutes(2) + seconds(30));  // half a token
  EXPECT_EQ(correlator.observe(occurrence("default")).verdict, Verdict::Filtered);
  clock_.advance(minutes(2) + seconds(30));  // now a whole one
  EXPECT_NE(correlator.observe(occurrence("default")).verdict, Verdict::Filtered);
  EXPECT_EQ(correlator.observe(occurrence("default")).verdict, Verdict::Filtered);

  clock_.advance(hours(10));  // refills up to the burst, no further
  passed = 0;
  for (int i = 0; i < 40; ++i) {
    if (correlator.observe(occurrence("default")).verdict != Verdict::Filtered) ++passed;
  }
  EXPECT_EQ(passed, 25);
}

TEST_F(CorrelatorTest, FilteredOccurrencesDoNotCount) {
  CorrelatorOptions options;
  options.spamBurst = 2;
  Correlator correlator(options);
  EXPECT_EQ(correlator.observe(occurrence("default")).verdict, Verdict::Create);
  EXPECT_EQ(correlator.observe(occurrence("default")).series->count, 2);
  EXPECT_EQ(correlator.observe(occurrence("default")).verdict, Verdict::Filtered);
  clock_.advance(minutes(5));
  Decision d = correlator.observe(occurrence("default"));
  ASSERT_EQ(d.verdict, Verdict::PatchSeries);
  EXPECT_EQ(d.series->count, 3);
}

TEST_F(CorrelatorTest, CachesAreBounded) {
  CorrelatorOptions options;
  options.cacheSize = 2;
  Correlator correlator(options);
  Decision a = correlator.observe(occurrence("a"));
  correlator.observe(occurrence("b"));
  EXPECT_EQ(correlator.observe(occurrence("a")).verdict, Verdict::PatchSeries);  // a is now recent
  correlator.observe(occurrence("c"));                                           // evicts b
  EXPECT_EQ(correlator.seriesTracked(), 2u);
  EXPECT_EQ(correlator.objectsTracked(), 2u);
  EXPECT_EQ(correlator.seriesEvicted(), 1u);
  EXPECT_EQ(correlator.observe(occurrence("b")).verdict, Verdict::Create);  // a new Event for b
  EXPECT_EQ(correlator.observe(occurrence("c")).verdict, Verdict::PatchSeries);
  EXPECT_EQ(correlator.observe(occurrence("a")).verdict,
            Verdict::Create);  // a went when b came back
}

TEST_F(CorrelatorTest, ForgetAndRename) {
  Correlator correlator;
  Decision first = correlator.observe(occurrence("default"));
  correlator.forget(first.key);
  Decision second = correlator.observe(occurrence("default"));
  EXPECT_EQ(second.verdict, Verdict::Create);
  std::string renamed = correlator.rename(second.key, "default", occurrence("default").wallTime);
  EXPECT_NE(renamed, second.eventName);
  Decision third = correlator.observe(occurrence("default"));
  EXPECT_EQ(third.eventName, renamed);
  EXPECT_EQ(third.series->count, 2);
}

TEST_F(CorrelatorTest, NamesNeverRepeatWhenTheClockStandsStill) {
  Correlator correlator;
  std::set<std::string> names;
  for (int i = 0; i < 20; ++i) {
    Decision d = correlator.observe(
        occurrence("default", Reason::AutomountDisabled, "n" + std::to_string(i)));
    ASSERT_EQ(d.verdict, Verdict::Create);
    EXPECT_TRUE(names.insert(d.eventName).second) << d.eventName;
  }
}

TEST_F(CorrelatorTest, ClusterScopedObjectsGoToDefault) {
  Correlator correlator;
  Occurrence o = occurrence("admins", Reason::BindingGrantsSelectedAccount);
  o.regarding = {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", "system:admins", "", ""};
  Decision d = correlator.observe(o);
  EXPECT_EQ(d.eventNamespace, "default");
  EXPECT_EQ(d.eventName.rfind("system-admins.", 0), 0u) << d.eventName;
}

TEST(CorrelatorOptionsTest, ValidateNamesTheField) {
  CorrelatorOptions options;
  EXPECT_TRUE(options.validate().ok());
  options.cacheSize = 0;
  Status st = options.validate();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "CorrelatorOptions.cacheSize: must be at least 1");
  options = {};
  options.spamBurst = 0;
  EXPECT_NE(options.validate("X.").error().message.find("X.spamBurst"), std::string::npos);
  options = {};
  options.seriesWindow = Clock::duration::zero();
  EXPECT_FALSE(options.validate().ok());
  options = {};
  options.spamRefillInterval = -seconds(1);
  EXPECT_FALSE(options.validate().ok());
}

}  // namespace
}  // namespace saguard::events
