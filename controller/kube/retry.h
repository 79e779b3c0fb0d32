// When the client repeats a request the server asked it to repeat later: a 429, or a
// 5xx that carries Retry-After (the API server's way of saying "overloaded, come back").
// Answers without Retry-After, and every other error, go back to the caller at once:
// retrying a Conflict or a 5xx that is not a throttle is the caller's business.
//
// The wait before retry n (0-based) is max(Retry-After, initialBackoff * 2^n) plus a
// random jitter of up to `jitter` times that, capped at maxBackoff; a Retry-After
// longer than maxBackoff is not waited for (the error, with its retryAfter, goes to the
// caller, whose queue can wait without holding a thread). Randomness and sleeping are
// injected so tests are deterministic.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <stop_token>

namespace saguard::kube {

struct RetryPolicy {
  int maxRetries = 3;  // retries after the first attempt
  std::chrono::milliseconds initialBackoff{250};
  std::chrono::milliseconds maxBackoff{std::chrono::seconds(30)};
  double jitter = 0.2;  // fraction of the wait added at random
};

// The wait before the next attempt, or nullopt when the answer must go back to the
// caller. `retriesSoFar` counts retries already made. `random01` is in [0, 1).
std::optional<std::chrono::milliseconds> retryDelay(
    const RetryPolicy& policy, int retriesSoFar, int httpCode,
    std::optional<std::chrono::milliseconds> retryAfter, double random01);

// Waits between attempts. Returns false when `stop` was requested before the time was up.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  virtual bool sleepFor(std::chrono::milliseconds duration, std::stop_token stop) = 0;
};

// Really sleeps (wakes early on stop).
class RealSleeper final : public Sleeper {
 public:
  bool sleepFor(std::chrono::milliseconds duration, std::stop_token stop) override;
  static RealSleeper& instance();
};

// A source of numbers in [0, 1) for jitter.
using RandomSource = std::function<double()>;
RandomSource defaultRandomSource();  // thread-safe, seeded from std::random_device

}  // namespace saguard::kube
