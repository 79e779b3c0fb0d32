// The status of a ServiceAccountPolicy as rendered for the API server.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "policy/status.h"

namespace saguard::policy {
namespace {

using nlohmann::json;

TEST(PolicyStatus, KeepsTransitionTimeWhenConditionUnchanged) {
  PolicyStatus st;
  st.observedGeneration = 3;
  auto t0 = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  std::string first = renderStatus(st, "", t0);
  std::string second = renderStatus(st, first, t0 + std::chrono::hours(1));
  EXPECT_TRUE(sameStatus(first, second));
  st.reason = ReadyReason::Invalid;
  std::string third = renderStatus(st, second, t0 + std::chrono::hours(2));
  EXPECT_FALSE(sameStatus(second, third));
  EXPECT_EQ(json::parse(third)["conditions"][0]["lastTransitionTime"],
            formatTime(t0 + std::chrono::hours(2)));
}

}  // namespace
}  // namespace saguard::policy
