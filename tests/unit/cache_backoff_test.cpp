#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "cache/backoff.h"

namespace saguard::cache {
namespace {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

TEST(CacheBackoff, DoublesFromInitialUpToMax) {
  FakeClock clock;
  ExponentialBackoff backoff({}, clock, [] { return 0.0; });
  std::vector<ms> waits;
  for (int i = 0; i < 9; ++i) {
    waits.push_back(backoff.next());
    clock.advance(waits.back());
  }
  EXPECT_EQ(waits, (std::vector<ms>{800ms, 1600ms, 3200ms, 6400ms, 12800ms, 25600ms, 30000ms,
                                    30000ms, 30000ms}));
}

TEST(CacheBackoff, JitterStaysWithinTheFraction) {
  FakeClock clock;
  double r = 0.0;
  ExponentialBackoff backoff({.jitter = 0.5}, clock, [&] { return r; });
  r = 0.999;
  EXPECT_EQ(backoff.next(), ms(1200));  // 800 * (1 + 0.5 * 0.999) = 1199.6
  r = 0.25;
  EXPECT_EQ(backoff.next(), ms(1800));  // 1600 * 1.125
  r = 0.0;
  EXPECT_EQ(backoff.next(), ms(3200));
}

TEST(CacheBackoff, ResetsAfterAStablePeriodAndOnRequest) {
  FakeClock clock;
  ExponentialBackoff backoff({}, clock, [] { return 0.0; });
  EXPECT_EQ(backoff.next(), 800ms);
  clock.advance(119s);
  EXPECT_EQ(backoff.next(), 1600ms) << "not yet stable for resetAfter";
  clock.advance(120s);
  EXPECT_EQ(backoff.next(), 800ms);
  EXPECT_EQ(backoff.next(), 1600ms);
  backoff.reset();
  EXPECT_EQ(backoff.next(), 800ms);
}

TEST(CacheBackoff, ValidateNamesTheField) {
  EXPECT_TRUE(validate(BackoffOptions{}).ok());
  auto message = [](BackoffOptions o) { return validate(o).error().message; };
  EXPECT_NE(message({.initial = 0ms}).find("backoff.initial"), std::string::npos);
  EXPECT_NE(message({.initial = 5s, .max = 1s}).find("backoff.max"), std::string::npos);
  EXPECT_NE(message({.factor = 0.5}).find("backoff.factor"), std::string::npos);
  EXPECT_NE(message({.jitter = -1}).find("backoff.jitter"), std::string::npos);
  EXPECT_NE(message({.resetAfter = 0ms}).find("backoff.resetAfter"), std::string::npos);
}

}  // namespace
}  // namespace saguard::cache
