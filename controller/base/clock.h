// Time as an injected dependency. Production code takes a Clock& and calls now();
// tests hand in a FakeClock and move time by hand, so backoff, rate limits and
// delays are tested without sleeping.
#pragma once

#include <chrono>
#include <mutex>

namespace saguard {

class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;
  virtual ~Clock() = default;
  virtual time_point now() const = 0;
};

// The real monotonic clock.
class SteadyClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::steady_clock::now(); }
  // A process-wide instance for callers that do not inject one.
  static SteadyClock& instance();
};

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(time_point start = time_point{} + std::chrono::hours(1)) : now_(start) {}
  time_point now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void advance(duration d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }

 private:
  mutable std::mutex mu_;
  time_point now_;
};

}  // namespace saguard
