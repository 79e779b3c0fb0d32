#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "queue/queue_metrics.h"
#include "queue/rate_limiter.h"
#include "queue/work_queue.h"

namespace saguard::queue {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Bounds the wait for something that must happen; passing it fails the test instead of hanging.
constexpr auto kMustHappenWithin = seconds(10);

// Records everything the queue reports. The queue calls it under its own lock, but
// tests read it from their own thread, so it locks too.
class RecordingMetrics final : public QueueMetrics {
 public:
  void setDepth(std::int64_t depth) override {
    std::lock_guard lock(mu_);
    depth_ = depth;
  }
  void incAdds() override {
    std::lock_guard lock(mu_);
    ++adds_;
  }
  void incRetries() override {
    std::lock_guard lock(mu_);
    ++retries_;
  }
  void observeQueueDuration(Clock::duration d) override {
    std::lock_guard lock(mu_);
    queueDurations_.push_back(d);
  }
  void observeWorkDuration(Clock::duration d) override {
    std::lock_guard lock(mu_);
    workDurations_.push_back(d);
  }
  void setUnfinishedWork(Clock::duration d) override {
    std::lock_guard lock(mu_);
    unfinished_ = d;
  }
  void setLongestRunning(Clock::duration d) override {
    std::lock_guard lock(mu_);
    longest_ = d;
  }

  std::int64_t depth() const { return read(depth_); }
  int adds() const { return read(adds_); }
  int retries() const { return read(retries_); }
  std::vector<Clock::duration> queueDurations() const { return read(queueDurations_); }
  std::vector<Clock::duration> workDurations() const { return read(workDurations_); }
  Clock::duration unfinished() const { return read(unfinished_); }
  Clock::duration longest() const { return read(longest_); }

 private:
  template <typename T>
  T read(const T& field) const {
    std::lock_guard lock(mu_);
    return field;
  }

  mutable std::mutex mu_;
  std::int64_t depth_ = 0;
  int adds_ = 0;
  int retries_ = 0;
  std::vector<Clock::duration> queueDurations_;
  std::vector<Clock::duration> workDurations_;
  Clock::duration unfinished_{};
  Clock::duration longest_{};
};

// get() on another thread, so that a queue that wrongly blocks fails the test instead
// of hanging it: after the bound the queue is shut down, which releases the call.
std::future<std::optional<std::string>> startGet(WorkQueue& queue) {
  return std::async(std::launch::async, [&queue] { return queue.get(); });
}

std::optional<std::string> await(WorkQueue& queue, std::future<std::optional<std::string>>& get) {
  if (get.wait_for(kMustHappenWithin) != std::future_status::ready) {
    ADD_FAILURE() << "get() did not return";
    queue.shutDown();
  }
  return get.get();
}

std::optional<std::string> getWithin(WorkQueue& queue) {
  auto get = startGet(queue);
  return await(queue, get);
}

class WorkQueueTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  RecordingMetrics metrics_;
  WorkQueue queue_{clock_, WorkQueueOptions{.rateLimiter = nullptr, .metrics = &metrics_}};

  // Takes a key that must be ready now.
  std::string take() {
    if (queue_.len() == 0) {
      ADD_FAILURE() << "no key is ready";
      return "<none>";
    }
    std::optional<std::string> key = getWithin(queue_);
    EXPECT_TRUE(key.has_value());
    return key.value_or("<shutdown>");
  }
};

TEST_F(WorkQueueTest, KeyAddedSeveralTimesIsTakenOnce) {
  queue_.add("a");
  queue_.add("b");
  queue_.add("a");
  queue_.add("a");
  EXPECT_EQ(queue_.len(), 2u);
  EXPECT_EQ(metrics_.adds(), 2);
  EXPECT_EQ(metrics_.depth(), 2);
  EXPECT_EQ(take(), "a");  // first-added order
  EXPECT_EQ(take(), "b");
  EXPECT_EQ(queue_.len(), 0u);
  EXPECT_EQ(metrics_.depth(), 0);
  queue_.done("a");
  queue_.done("b");
  EXPECT_EQ(queue_.len(), 0u);  // nothing was re-added, so nothing comes back
}

TEST_F(WorkQueueTest, KeyInFlightIsNotHandedToAnotherWorker) {
  queue_.add("a");
  ASSERT_EQ(take(), "a");
  queue_.add("a");  // re-added while a worker holds it
  EXPECT_EQ(queue_.len(), 0u);
  EXPECT_EQ(metrics_.depth(), 1);  // counted as waiting, not yet takeable
  queue_.add("b");
  EXPECT_EQ(take(), "b");  // the next get() skips the held key
  EXPECT_EQ(queue_.len(), 0u);
  EXPECT_EQ(queue_.inFlight(), 2u);
}

TEST_F(WorkQueueTest, DirtyKeyIsQueuedOnceAfterDone) {
  queue_.add("a");
  ASSERT_EQ(take(), "a");
  queue_.add("a");
  queue_.add("a");
  queue_.add("a");
  EXPECT_EQ(queue_.len(), 0u);
  queue_.done("a");
  EXPECT_EQ(queue_.len(), 1u);
  EXPECT_EQ(take(), "a");
  queue_.done("a");
  EXPECT_EQ(queue_.len(), 0u);
  EXPECT_EQ(metrics_.adds(), 2);  // the first add, and one for the three re-adds
}

TEST_F(WorkQueueTest, DoneOfAKeyNotTakenChangesNothing) {
  queue_.add("a");
  queue_.done("a");
  queue_.done("never-added");
  EXPECT_EQ(queue_.len(), 1u);
  EXPECT_EQ(queue_.inFlight(), 0u);
  EXPECT_TRUE(metrics_.workDurations().empty());
}

TEST_F(WorkQueueTest, GetBlocksUntilAKeyIsAdded) {
  auto get = startGet(queue_);
  queue_.add("late");
  EXPECT_EQ(await(queue_, get), std::optional<std::string>("late"));
}

TEST_F(WorkQueueTest, AddAfterReleasesKeysWhenTheClockPassesTheirTime) {
  queue_.addAfter("slow", milliseconds(20));
  queue_.addAfter("fast", milliseconds(10));
  EXPECT_EQ(queue_.len(), 0u);
  EXPECT_EQ(queue_.waiting(), 2u);
  EXPECT_EQ(metrics_.retries(), 2);
  EXPECT_EQ(metrics_.adds(), 0);  // an add is counted when the key is released

  clock_.advance(milliseconds(9));
  EXPECT_EQ(queue_.releaseReady(), 0u);
  EXPECT_EQ(queue_.len(), 0u);
  clock_.advance(milliseconds(1));
  EXPECT_EQ(queue_.releaseReady(), 1u);
  EXPECT_EQ(queue_.len(), 1u);
  EXPECT_EQ(take(), "fast");
  clock_.advance(milliseconds(10));
  EXPECT_EQ(queue_.releaseReady(), 1u);
  EXPECT_EQ(take(), "slow");
  EXPECT_EQ(queue_.waiting(), 0u);
  EXPECT_EQ(metrics_.adds(), 2);
}

TEST_F(WorkQueueTest, DelayedKeysComeOutInTimeOrder) {
  queue_.addAfter("c", milliseconds(30));
  queue_.addAfter("a", milliseconds(10));
  queue_.addAfter("b", milliseconds(20));
  queue_.addAfter("b2", milliseconds(20));  // same time as b: insertion order
  clock_.advance(seconds(1));
  EXPECT_EQ(queue_.releaseReady(), 4u);
  EXPECT_EQ(take(), "a");
  EXPECT_EQ(take(), "b");
  EXPECT_EQ(take(), "b2");
  EXPECT_EQ(take(), "c");
}

TEST_F(WorkQueueTest, GetReleasesReadyDelayedKeysItself) {
  queue_.addAfter("a", milliseconds(10));
  clock_.advance(milliseconds(10));
  // Nobody called releaseReady(): get() releases the key itself.
  EXPECT_EQ(queue_.len(), 0u);
  EXPECT_EQ(getWithin(queue_), std::optional<std::string>("a"));
}

TEST_F(WorkQueueTest, EarlierDelayWinsForTheSameKey) {
  queue_.addAfter("a", milliseconds(50));
  queue_.addAfter("a", milliseconds(10));  // earlier: replaces
  queue_.addAfter("b", milliseconds(10));
  queue_.addAfter("b", milliseconds(50));  // later: ignored
  EXPECT_EQ(queue_.waiting(), 2u);
  clock_.advance(milliseconds(10));
  EXPECT_EQ(queue_.releaseReady(), 2u);
  EXPECT_EQ(queue_.len(), 2u);
  clock_.advance(milliseconds(40));
  EXPECT_EQ(queue_.releaseReady(), 0u);  // neither 50 ms entry was kept
  EXPECT_EQ(queue_.len(), 2u);
}

TEST_F(WorkQueueTest, DelayedKeyAlreadyQueuedIsDeduplicated) {
  queue_.add("a");
  queue_.addAfter("a", milliseconds(10));
  clock_.advance(milliseconds(10));
  EXPECT_EQ(queue_.releaseReady(), 1u);
  EXPECT_EQ(queue_.len(), 1u);
  EXPECT_EQ(metrics_.adds(), 1);
}

TEST_F(WorkQueueTest, NonPositiveDelayAddsAtOnce) {
  queue_.addAfter("zero", Clock::duration::zero());
  queue_.addAfter("negative", -seconds(1));
  EXPECT_EQ(queue_.len(), 2u);
  EXPECT_EQ(queue_.waiting(), 0u);
}

TEST_F(WorkQueueTest, BlockedGetWakesWhenDelayedKeyIsReleased) {
  queue_.addAfter("a", hours(1));
  auto get = startGet(queue_);
  clock_.advance(hours(1));
  queue_.releaseReady();
  EXPECT_EQ(await(queue_, get), std::optional<std::string>("a"));
}

TEST(WorkQueueRealClock, BlockedGetTakesDelayedKeyWhenItsTimeComes) {
  // With the real clock no one pokes the queue: get() sleeps until the key is due.
  const Clock& clock = SteadyClock::instance();
  WorkQueue queue(clock);
  const auto start = clock.now();
  queue.addAfter("a", milliseconds(20));
  EXPECT_EQ(getWithin(queue), std::optional<std::string>("a"));
  EXPECT_GE(clock.now() - start, milliseconds(20));
}

TEST_F(WorkQueueTest, AddRateLimitedWaitsAsTheLimiterSays) {
  queue_.addRateLimited("a");
  EXPECT_EQ(queue_.numRequeues("a"), 1);
  clock_.advance(milliseconds(4));
  EXPECT_EQ(queue_.releaseReady(), 0u);
  clock_.advance(milliseconds(1));
  EXPECT_EQ(queue_.releaseReady(), 1u);  // 5 ms
  ASSERT_EQ(take(), "a");
  queue_.done("a");

  queue_.addRateLimited("a");
  EXPECT_EQ(queue_.numRequeues("a"), 2);
  clock_.advance(milliseconds(9));
  EXPECT_EQ(queue_.releaseReady(), 0u);
  clock_.advance(milliseconds(1));
  EXPECT_EQ(queue_.releaseReady(), 1u);  // 10 ms
  ASSERT_EQ(take(), "a");
  queue_.done("a");

  queue_.forget("a");
  EXPECT_EQ(queue_.numRequeues("a"), 0);
  queue_.addRateLimited("a");
  clock_.advance(milliseconds(5));
  EXPECT_EQ(queue_.releaseReady(), 1u);  // back to 5 ms
  EXPECT_EQ(metrics_.retries(), 3);
}

TEST(WorkQueueOptions, UsesTheGivenRateLimiter) {
  FakeClock clock;
  auto limiter = ItemExponentialBackoff::create({.baseDelay = seconds(7), .maxDelay = seconds(7)});
  ASSERT_TRUE(limiter.ok());
  WorkQueue queue(clock, {.rateLimiter = std::move(limiter).value()});
  queue.addRateLimited("a");
  clock.advance(seconds(6));
  EXPECT_EQ(queue.releaseReady(), 0u);
  clock.advance(seconds(1));
  EXPECT_EQ(queue.releaseReady(), 1u);
}

TEST_F(WorkQueueTest, ReportsQueueAndWorkDurations) {
  queue_.add("a");
  clock_.advance(milliseconds(7));
  queue_.add("b");
  clock_.advance(milliseconds(2));
  ASSERT_EQ(take(), "a");
  ASSERT_EQ(take(), "b");
  EXPECT_EQ(metrics_.queueDurations(),
            (std::vector<Clock::duration>{milliseconds(9), milliseconds(2)}));

  clock_.advance(milliseconds(3));
  queue_.updateUnfinishedWork();
  EXPECT_EQ(metrics_.unfinished(), milliseconds(6));  // 3 + 3
  EXPECT_EQ(metrics_.longest(), milliseconds(3));

  queue_.done("a");
  queue_.add("c");
  ASSERT_EQ(take(), "c");
  clock_.advance(milliseconds(4));
  queue_.updateUnfinishedWork();
  EXPECT_EQ(metrics_.unfinished(), milliseconds(11));  // b: 7, c: 4
  EXPECT_EQ(metrics_.longest(), milliseconds(7));

  queue_.done("b");
  queue_.done("c");
  EXPECT_EQ(metrics_.workDurations(),
            (std::vector<Clock::duration>{milliseconds(3), milliseconds(7), milliseconds(4)}));
  EXPECT_EQ(metrics_.unfinished(), Clock::duration::zero());  // done() refreshes it
  EXPECT_EQ(metrics_.longest(), Clock::duration::zero());
}

TEST_F(WorkQueueTest, QueueDurationOfADirtyKeyCountsFromItsReAdd) {
  queue_.add("a");
  ASSERT_EQ(take(), "a");
  clock_.advance(milliseconds(5));
  queue_.add("a");
  clock_.advance(milliseconds(5));
  queue_.done("a");
  clock_.advance(milliseconds(1));
  ASSERT_EQ(take(), "a");
  EXPECT_EQ(metrics_.queueDurations(),
            (std::vector<Clock::duration>{Clock::duration::zero(), milliseconds(6)}));
}

// ---- shutdown ----

TEST_F(WorkQueueTest, GetReportsShutdownOnceQueueIsEmpty) {
  queue_.add("a");
  queue_.add("b");
  queue_.shutDown();
  EXPECT_TRUE(queue_.shuttingDown());
  EXPECT_EQ(getWithin(queue_), std::optional<std::string>("a"));  // what was queued still comes out
  EXPECT_EQ(getWithin(queue_), std::optional<std::string>("b"));
  EXPECT_EQ(getWithin(queue_), std::nullopt);
  EXPECT_EQ(getWithin(queue_), std::nullopt);
}

TEST_F(WorkQueueTest, ShutdownWakesBlockedGetters) {
  std::vector<std::future<std::optional<std::string>>> gets;
  gets.reserve(3);
  for (int i = 0; i < 3; ++i) gets.push_back(startGet(queue_));
  queue_.shutDown();
  for (auto& get : gets) EXPECT_EQ(await(queue_, get), std::nullopt);
}

TEST_F(WorkQueueTest, AddsAfterShutdownAreIgnored) {
  queue_.shutDown();
  queue_.add("a");
  queue_.addAfter("b", Clock::duration::zero());
  queue_.addAfter("c", milliseconds(1));
  queue_.addRateLimited("d");
  clock_.advance(hours(1));
  EXPECT_EQ(queue_.releaseReady(), 0u);
  EXPECT_EQ(queue_.len(), 0u);
  EXPECT_EQ(queue_.waiting(), 0u);
  EXPECT_EQ(metrics_.adds(), 0);
  EXPECT_EQ(getWithin(queue_), std::nullopt);
}

TEST_F(WorkQueueTest, ShutdownDropsDelayedKeys) {
  queue_.addAfter("a", milliseconds(10));
  queue_.shutDown();
  clock_.advance(milliseconds(10));
  EXPECT_EQ(queue_.releaseReady(), 0u);
  EXPECT_EQ(getWithin(queue_), std::nullopt);
}

TEST_F(WorkQueueTest, KeyReAddedBeforeShutdownIsStillHandedOutAfterDone) {
  queue_.add("a");
  ASSERT_EQ(take(), "a");
  queue_.add("a");  // accepted before the shutdown
  queue_.shutDown();
  queue_.done("a");
  EXPECT_EQ(getWithin(queue_), std::optional<std::string>("a"));
  queue_.done("a");
  EXPECT_EQ(getWithin(queue_), std::nullopt);
}

TEST_F(WorkQueueTest, DrainWithNothingInFlightReturnsAtOnce) {
  queue_.add("queued-but-not-taken");
  queue_.shutDownWithDrain();  // waits for keys in flight only, as client-go does
  EXPECT_TRUE(queue_.shuttingDown());
}

TEST_F(WorkQueueTest, DrainWaitsForKeysInFlight) {
  queue_.add("a");
  queue_.add("b");
  ASSERT_EQ(take(), "a");
  ASSERT_EQ(take(), "b");

  std::mutex mu;
  std::condition_variable cv;
  bool drained = false;
  std::jthread drainer([&] {
    queue_.shutDownWithDrain();
    std::lock_guard lock(mu);
    drained = true;
    cv.notify_all();
  });
  // Wait until the drainer is inside shutDownWithDrain.
  while (!queue_.shuttingDown()) std::this_thread::yield();
  queue_.add("ignored");

  std::unique_lock lock(mu);
  // With keys in flight the drainer must not return; a correct queue never passes this
  // wait, a broken one is caught unless it is slower than 100 ms.
  EXPECT_FALSE(cv.wait_for(lock, milliseconds(100), [&] { return drained; }));
  lock.unlock();
  queue_.done("a");
  lock.lock();
  EXPECT_FALSE(cv.wait_for(lock, milliseconds(50), [&] { return drained; })) << "b is in flight";
  lock.unlock();
  queue_.done("b");
  lock.lock();
  EXPECT_TRUE(cv.wait_for(lock, kMustHappenWithin, [&] { return drained; }));
  EXPECT_EQ(getWithin(queue_), std::nullopt);
}

TEST_F(WorkQueueTest, PlainShutdownReleasesAWaitingDrain) {
  queue_.add("a");
  ASSERT_EQ(take(), "a");
  auto drain = std::async(std::launch::async, [this] { queue_.shutDownWithDrain(); });
  while (!queue_.shuttingDown()) std::this_thread::yield();
  queue_.shutDown();
  EXPECT_EQ(drain.wait_for(kMustHappenWithin), std::future_status::ready);
  queue_.done("a");
}

}  // namespace
}  // namespace saguard::queue
