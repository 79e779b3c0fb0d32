// A work item that failed with a throttling error carrying Retry-After (an API server's
// 429, whose Retry-After was longer than the kube client waits for by itself) comes back
// no sooner than the server said, and still counts as a failure for its backoff. Found by
// tests/e2e/faults_test.cpp: under API Priority and Fairness, a Retry-After of more than
// 30 s came back to the worker, which requeued the key after 5 ms, 10 ms, ... and sent
// six PATCHes in half a second, each answered 429.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "base/clock.h"
#include "queue/work_queue.h"
#include "queue/worker.h"

namespace saguard::queue {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Outcome throttled(std::chrono::milliseconds retryAfter) {
  Error e = makeError(ErrorKind::TooManyRequests, "Too many requests, please try again later.");
  e.httpCode = 429;
  e.retryAfter = retryAfter;
  return Outcome::error(std::move(e));
}

class RetryAfterTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  WorkQueue queue_{clock_};
  NoopWorkerHooks hooks_;

  void processOne(const WorkFn& fn) {
    ASSERT_EQ(queue_.len(), 1u);
    ASSERT_TRUE(processNextItem(queue_, fn, hooks_));
  }
};

TEST_F(RetryAfterTest, ThrottledKeyWaitsForRetryAfter) {
  queue_.add("ns/a");
  processOne([](const std::string&) { return throttled(seconds(40)); });
  EXPECT_EQ(queue_.numRequeues("ns/a"), 1) << "a throttled attempt is a failure for the backoff";
  EXPECT_EQ(queue_.waiting(), 1u);
  clock_.advance(milliseconds(39'999));
  EXPECT_EQ(queue_.releaseReady(), 0u) << "back before the server's Retry-After";
  clock_.advance(milliseconds(1));
  EXPECT_EQ(queue_.releaseReady(), 1u);
}

TEST_F(RetryAfterTest, LongerBackoffWinsOverAShortRetryAfter) {
  // Nine failures: the key's own backoff is 5 ms * 2^9 = 2.56 s, above a Retry-After of 1 s.
  for (int i = 0; i < 9; ++i) {
    queue_.add("ns/a");
    processOne([](const std::string&) {
      return Outcome::error(makeError(ErrorKind::Unavailable, "down"));
    });
    clock_.advance(seconds(10));
    queue_.releaseReady();
  }
  processOne([](const std::string&) { return throttled(seconds(1)); });
  clock_.advance(milliseconds(2559));
  EXPECT_EQ(queue_.releaseReady(), 0u);
  clock_.advance(milliseconds(1));
  EXPECT_EQ(queue_.releaseReady(), 1u);
}

TEST_F(RetryAfterTest, ErrorWithoutRetryAfterKeepsTheShortBackoff) {
  queue_.add("ns/a");
  processOne([](const std::string&) {
    return Outcome::error(makeError(ErrorKind::Conflict, "conflict"));
  });
  clock_.advance(milliseconds(5));
  EXPECT_EQ(queue_.releaseReady(), 1u);
}

TEST_F(RetryAfterTest, QueueAddRateLimitedAtLeast) {
  queue_.addRateLimited("k", seconds(3));
  EXPECT_EQ(queue_.numRequeues("k"), 1);
  clock_.advance(milliseconds(2999));
  EXPECT_EQ(queue_.releaseReady(), 0u);
  clock_.advance(milliseconds(1));
  EXPECT_EQ(queue_.releaseReady(), 1u);
  queue_.shutDown();
  queue_.addRateLimited("later", seconds(3));  // ignored after shutdown, like addRateLimited(key)
  EXPECT_EQ(queue_.numRequeues("later"), 0);
}

}  // namespace
}  // namespace saguard::queue
