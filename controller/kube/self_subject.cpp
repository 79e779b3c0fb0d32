#include "kube/self_subject.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "kube/resource.h"

namespace saguard::kube {

Result<std::string> whoAmI(Client& client, std::stop_token stop, Sleeper& sleeper) {
  static const Resource kReviews{"authentication.k8s.io", "v1", "selfsubjectreviews", false};
  auto delay = std::chrono::milliseconds(1000);
  for (;;) {
    auto answer = client.create(
        kReviews, "", R"({"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"})");
    if (answer.ok()) {
      auto review = nlohmann::json::parse(*answer, nullptr, false);
      if (!review.is_object()) return std::string();
      const auto& status = review.value("status", nlohmann::json::object());
      const auto& info = status.is_object() ? status.value("userInfo", nlohmann::json::object())
                                            : nlohmann::json();
      return info.is_object() ? info.value("username", std::string()) : std::string();
    }
    if (!answer.error().retriable()) return answer.error();
    spdlog::warn("the API server did not answer who saguard is ({}); asking again in {} s",
                 answer.error().describe(), delay.count() / 1000);
    if (!sleeper.sleepFor(delay, stop)) return makeError(ErrorKind::Unavailable, "stopped");
    delay = std::min<std::chrono::milliseconds>(delay * 2, std::chrono::seconds(30));
  }
}

}  // namespace saguard::kube
