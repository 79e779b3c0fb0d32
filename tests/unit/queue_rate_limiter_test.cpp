#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "queue/rate_limiter.h"

namespace saguard::queue {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::unique_ptr<ItemExponentialBackoff> backoff(ItemExponentialBackoff::Options options = {}) {
  auto made = ItemExponentialBackoff::create(options);
  EXPECT_TRUE(made.ok());
  return std::move(made).value();
}

std::unique_ptr<TokenBucket> bucket(const Clock& clock, TokenBucket::Options options = {}) {
  auto made = TokenBucket::create(options, clock);
  EXPECT_TRUE(made.ok());
  return std::move(made).value();
}

TEST(ItemExponentialBackoff, DoublesFrom5msAndCapsAt1000s) {
  auto limiter = backoff();
  Clock::duration expected = milliseconds(5);
  // 5 ms * 2^17 = 655.36 s is the last value under the cap; 2^18 would be 1310.72 s.
  for (int i = 0; i <= 17; ++i) {
    EXPECT_EQ(limiter->when("a"), expected) << "attempt " << i;
    expected *= 2;
  }
  EXPECT_EQ(limiter->numRequeues("a"), 18);
  for (int i = 0; i < 200; ++i) {
    // Far past the point where base * 2^n would overflow a 64-bit count.
    EXPECT_EQ(limiter->when("a"), seconds(1000)) << "attempt " << 18 + i;
  }
  EXPECT_EQ(limiter->numRequeues("a"), 218);
}

TEST(ItemExponentialBackoff, KeysAreIndependentAndForgetResets) {
  auto limiter = backoff();
  EXPECT_EQ(limiter->when("a"), milliseconds(5));
  EXPECT_EQ(limiter->when("a"), milliseconds(10));
  EXPECT_EQ(limiter->when("a"), milliseconds(20));
  EXPECT_EQ(limiter->when("b"), milliseconds(5));
  EXPECT_EQ(limiter->numRequeues("a"), 3);
  EXPECT_EQ(limiter->numRequeues("b"), 1);
  EXPECT_EQ(limiter->numRequeues("never"), 0);

  limiter->forget("a");
  EXPECT_EQ(limiter->numRequeues("a"), 0);
  EXPECT_EQ(limiter->when("a"), milliseconds(5));
  EXPECT_EQ(limiter->when("b"), milliseconds(10));  // b was not forgotten
}

TEST(ItemExponentialBackoff, CustomDelays) {
  auto limiter = backoff({.baseDelay = milliseconds(100), .maxDelay = milliseconds(300)});
  EXPECT_EQ(limiter->when("k"), milliseconds(100));
  EXPECT_EQ(limiter->when("k"), milliseconds(200));
  EXPECT_EQ(limiter->when("k"), milliseconds(300));
  EXPECT_EQ(limiter->when("k"), milliseconds(300));
}

TEST(ItemExponentialBackoff, RejectsInvalidOptionsNamingTheField) {
  auto zero = ItemExponentialBackoff::create({.baseDelay = Clock::duration::zero()});
  ASSERT_FALSE(zero.ok());
  EXPECT_TRUE(zero.is(ErrorKind::Invalid));
  EXPECT_NE(zero.error().message.find("baseDelay"), std::string::npos);

  auto inverted = ItemExponentialBackoff::create({.baseDelay = seconds(2), .maxDelay = seconds(1)});
  ASSERT_FALSE(inverted.ok());
  EXPECT_NE(inverted.error().message.find("maxDelay"), std::string::npos);
}

TEST(TokenBucket, Burst100ThenTenPerSecond) {
  FakeClock clock;
  auto limiter = bucket(clock);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(limiter->when("k" + std::to_string(i)), Clock::duration::zero()) << "call " << i;
  }
  // The bucket is empty: each further call waits one more 1/10 s.
  EXPECT_EQ(limiter->when("x"), milliseconds(100));
  EXPECT_EQ(limiter->when("y"), milliseconds(200));
  EXPECT_EQ(limiter->when("z"), milliseconds(300));
}

TEST(TokenBucket, RefillsAtTenPerSecond) {
  FakeClock clock;
  auto limiter = bucket(clock);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(limiter->when("k"), Clock::duration::zero());
  // Sustained 10 qps: one call per 100 ms never waits.
  for (int i = 0; i < 50; ++i) {
    clock.advance(milliseconds(100));
    EXPECT_EQ(limiter->when("k"), Clock::duration::zero()) << "tick " << i;
  }
  // Twice as fast: every other call is in debt by half a token more.
  clock.advance(milliseconds(50));
  EXPECT_EQ(limiter->when("k"), milliseconds(50));
  clock.advance(milliseconds(50));
  EXPECT_EQ(limiter->when("k"), milliseconds(100));
  // Debt is paid back by time: 200 ms repays the 100 ms owed and earns one token.
  clock.advance(milliseconds(200));
  EXPECT_EQ(limiter->when("k"), Clock::duration::zero());
  EXPECT_EQ(limiter->when("k"), milliseconds(100));
}

TEST(TokenBucket, RefillStopsAtBurst) {
  FakeClock clock;
  auto limiter = bucket(clock);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(limiter->when("k"), Clock::duration::zero());
  clock.advance(hours(24 * 365));  // a long idle period earns no more than a full bucket
  for (int i = 0; i < 100; ++i) ASSERT_EQ(limiter->when("k"), Clock::duration::zero());
  EXPECT_EQ(limiter->when("k"), milliseconds(100));
}

TEST(TokenBucket, SharedByAllKeysSoForgetAndRequeuesAreInert) {
  FakeClock clock;
  auto limiter = bucket(clock, {.qps = 2, .burst = 1});
  EXPECT_EQ(limiter->when("a"), Clock::duration::zero());
  EXPECT_EQ(limiter->when("b"), milliseconds(500));
  limiter->forget("b");
  EXPECT_EQ(limiter->when("b"), milliseconds(1000));
  EXPECT_EQ(limiter->numRequeues("b"), 0);
}

TEST(TokenBucket, RejectsInvalidOptionsNamingTheField) {
  FakeClock clock;
  auto qps = TokenBucket::create({.qps = 0}, clock);
  ASSERT_FALSE(qps.ok());
  EXPECT_TRUE(qps.is(ErrorKind::Invalid));
  EXPECT_NE(qps.error().message.find("qps"), std::string::npos);
  auto burst = TokenBucket::create({.qps = 1, .burst = 0}, clock);
  ASSERT_FALSE(burst.ok());
  EXPECT_NE(burst.error().message.find("burst"), std::string::npos);
}

TEST(MaxOf, DefaultControllerLimiterTakesTheLongerWait) {
  FakeClock clock;
  auto limiter = defaultControllerRateLimiter(clock);
  // One key failing: its backoff (5, 10, 20 ms) beats the bucket, which still has tokens.
  EXPECT_EQ(limiter->when("hot"), milliseconds(5));
  EXPECT_EQ(limiter->when("hot"), milliseconds(10));
  EXPECT_EQ(limiter->when("hot"), milliseconds(20));
  EXPECT_EQ(limiter->numRequeues("hot"), 3);
  // 97 more first failures of distinct keys use up the burst of 100 ...
  for (int i = 0; i < 97; ++i) {
    EXPECT_EQ(limiter->when("key-" + std::to_string(i)), milliseconds(5)) << "key " << i;
  }
  // ... then the bucket's 100 ms beats a first failure's 5 ms.
  EXPECT_EQ(limiter->when("late"), milliseconds(100));
  EXPECT_EQ(limiter->when("later"), milliseconds(200));
  // forget reaches the backoff part.
  limiter->forget("hot");
  EXPECT_EQ(limiter->numRequeues("hot"), 0);
}

TEST(MaxOf, AsksEveryPartAndForgetsInAll) {
  FakeClock clock;
  std::vector<std::unique_ptr<RateLimiter>> parts;
  parts.push_back(backoff({.baseDelay = milliseconds(1), .maxDelay = seconds(1)}));
  parts.push_back(backoff({.baseDelay = milliseconds(3), .maxDelay = milliseconds(4)}));
  auto made = MaxOf::create(std::move(parts));
  ASSERT_TRUE(made.ok());
  auto& limiter = *made.value();
  EXPECT_EQ(limiter.when("k"), milliseconds(3));  // max(1, 3)
  EXPECT_EQ(limiter.when("k"), milliseconds(4));  // max(2, min(6, 4))
  EXPECT_EQ(limiter.when("k"), milliseconds(4));  // max(4, 4)
  EXPECT_EQ(limiter.when("k"), milliseconds(8));  // max(8, 4): both parts kept counting
  EXPECT_EQ(limiter.numRequeues("k"), 4);
  limiter.forget("k");
  EXPECT_EQ(limiter.when("k"), milliseconds(3));
}

TEST(MaxOf, RejectsEmptyOrNullParts) {
  auto empty = MaxOf::create({});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("limiters"), std::string::npos);
  std::vector<std::unique_ptr<RateLimiter>> withNull;
  withNull.push_back(nullptr);
  EXPECT_FALSE(MaxOf::create(std::move(withNull)).ok());
}

}  // namespace
}  // namespace saguard::queue
