#include "kube/retry.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <random>

namespace saguard::kube {

std::optional<std::chrono::milliseconds> retryDelay(
    const RetryPolicy& policy, int retriesSoFar, int httpCode,
    std::optional<std::chrono::milliseconds> retryAfter, double random01) {
  bool throttled = httpCode == 429 || (httpCode >= 500 && httpCode <= 599);
  if (!throttled || !retryAfter || retriesSoFar >= policy.maxRetries) return std::nullopt;
  if (*retryAfter > policy.maxBackoff) return std::nullopt;

  // Exponential backoff in double to stay clear of overflow for large retry counts.
  double backoff = static_cast<double>(policy.initialBackoff.count());
  for (int i = 0; i < retriesSoFar && backoff < static_cast<double>(policy.maxBackoff.count()); ++i)
    backoff *= 2;
  double base = std::max(backoff, static_cast<double>(retryAfter->count()));
  double jitter = std::clamp(random01, 0.0, 1.0) * std::max(policy.jitter, 0.0);
  double wait = std::min(base * (1.0 + jitter), static_cast<double>(policy.maxBackoff.count()));
  // Never below what the server asked for.
  wait = std::max(wait, static_cast<double>(retryAfter->count()));
  return std::chrono::milliseconds(static_cast<std::int64_t>(wait));
}

bool RealSleeper::sleepFor(std::chrono::milliseconds duration, std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  // wait_for with a stop_token returns early, and true only if the predicate holds.
  cv.wait_for(lock, stop, duration, [] { return false; });
  return !stop.stop_requested();
}

RealSleeper& RealSleeper::instance() {
  static RealSleeper sleeper;
  return sleeper;
}

RandomSource defaultRandomSource() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  auto mu = std::make_shared<std::mutex>();
  return [engine, mu] {
    std::lock_guard lock(*mu);
    return std::uniform_real_distribution<double>(0.0, 1.0)(*engine);
  };
}

}  // namespace saguard::kube
