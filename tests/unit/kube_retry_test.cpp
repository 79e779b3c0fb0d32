// The retry policy: only throttled answers that carry Retry-After are retried, a
// bounded number of times, waiting at least what the server asked, with jitter.
#include <gtest/gtest.h>

#include "kube/retry.h"

namespace saguard::kube {
namespace {

using std::chrono::milliseconds;

TEST(RetryDelay, OnlyThrottledAnswersWithRetryAfter) {
  RetryPolicy p;
  EXPECT_TRUE(retryDelay(p, 0, 429, milliseconds(1000), 0).has_value());
  EXPECT_TRUE(retryDelay(p, 0, 503, milliseconds(1000), 0).has_value());
  EXPECT_TRUE(retryDelay(p, 0, 500, milliseconds(0), 0).has_value());
  EXPECT_FALSE(retryDelay(p, 0, 429, std::nullopt, 0).has_value());
  EXPECT_FALSE(retryDelay(p, 0, 503, std::nullopt, 0).has_value());
  for (int code : {200, 400, 401, 403, 404, 409, 410, 422}) {
    EXPECT_FALSE(retryDelay(p, 0, code, milliseconds(1000), 0).has_value()) << code;
  }
}

TEST(RetryDelay, BoundedNumberOfRetries) {
  RetryPolicy p;
  p.maxRetries = 3;
  for (int n = 0; n < 3; ++n)
    EXPECT_TRUE(retryDelay(p, n, 429, milliseconds(1), 0).has_value()) << n;
  EXPECT_FALSE(retryDelay(p, 3, 429, milliseconds(1), 0).has_value());
  p.maxRetries = 0;
  EXPECT_FALSE(retryDelay(p, 0, 429, milliseconds(1), 0).has_value());
}

TEST(RetryDelay, ExponentialBackoffAtLeastRetryAfter) {
  RetryPolicy p;
  p.initialBackoff = milliseconds(250);
  p.maxBackoff = milliseconds(30000);
  p.jitter = 0;
  EXPECT_EQ(retryDelay(p, 0, 429, milliseconds(0), 0), milliseconds(250));
  EXPECT_EQ(retryDelay(p, 1, 429, milliseconds(0), 0), milliseconds(500));
  EXPECT_EQ(retryDelay(p, 2, 429, milliseconds(0), 0), milliseconds(1000));
  EXPECT_EQ(retryDelay(p, 0, 429, milliseconds(3000), 0), milliseconds(3000));
  EXPECT_EQ(retryDelay(p, 2, 429, milliseconds(700), 0), milliseconds(1000));
}

TEST(RetryDelay, JitterAddsUpToFraction) {
  RetryPolicy p;
  p.initialBackoff = milliseconds(1000);
  p.jitter = 0.5;
  EXPECT_EQ(retryDelay(p, 0, 429, milliseconds(1000), 0.0), milliseconds(1000));
  EXPECT_EQ(retryDelay(p, 0, 429, milliseconds(1000), 0.5), milliseconds(1250));
  EXPECT_EQ(retryDelay(p, 0, 429, milliseconds(2000), 0.999), milliseconds(2999));
}

TEST(RetryDelay, CappedButNeverBelowRetryAfter) {
  RetryPolicy p;
  p.initialBackoff = milliseconds(1000);
  p.maxBackoff = milliseconds(5000);
  p.jitter = 1.0;
  p.maxRetries = 50;
  EXPECT_EQ(retryDelay(p, 40, 429, milliseconds(0), 0.9), milliseconds(5000));
  EXPECT_EQ(retryDelay(p, 0, 429, milliseconds(5000), 0.9), milliseconds(5000));
  // Longer than the cap: not waited for here; the caller gets the error and its retryAfter.
  EXPECT_FALSE(retryDelay(p, 0, 429, milliseconds(5001), 0).has_value());
}

TEST(RealSleeper, StopWakesEarly) {
  std::stop_source stop;
  stop.request_stop();
  EXPECT_FALSE(RealSleeper::instance().sleepFor(std::chrono::hours(1), stop.get_token()));
  EXPECT_TRUE(RealSleeper::instance().sleepFor(milliseconds(1), std::stop_token()));
}

TEST(DefaultRandomSource, InUnitInterval) {
  auto random = defaultRandomSource();
  for (int i = 0; i < 1000; ++i) {
    double r = random();
    ASSERT_GE(r, 0.0);
    ASSERT_LT(r, 1.0);
  }
}

}  // namespace
}  // namespace saguard::kube
