// Rate limiters: how long a key waits before it is retried. The work queue asks
// one on every addRateLimited(key) (WorkQueue::addRateLimited) and tells it to
// forget a key once the key was processed successfully.
//
// Three strategies, combined the way client-go's default controller limiter does:
//   ItemExponentialBackoff  per key: 5 ms, 10 ms, 20 ms, ... capped at 1000 s; forget resets it.
//   TokenBucket             for all keys together: 10 per second, bursts of 100.
//   MaxOf                   the longest wait any of its parts asks for.
// defaultControllerRateLimiter(clock) builds max(backoff, bucket) with those defaults.
//
// All limiters are thread-safe. Time comes from an injected Clock, so tests drive
// the bucket with a FakeClock.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/result.h"

namespace saguard::queue {

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // How long `key` should wait before its next attempt. Called once per retry: a
  // call is itself a recorded failure (backoff) or a spent token (bucket).
  virtual Clock::duration when(const std::string& key) = 0;
  // The key succeeded (or will never be retried): drop what is remembered about it.
  virtual void forget(const std::string& key) = 0;
  // How many times when(key) was called since the last forget(key).
  virtual int numRequeues(const std::string& key) = 0;
};

// Per key: baseDelay * 2^failures, capped at maxDelay.
class ItemExponentialBackoff final : public RateLimiter {
 public:
  struct Options {
    Clock::duration baseDelay = std::chrono::milliseconds(5);  // first wait; > 0
    Clock::duration maxDelay = std::chrono::seconds(1000);     // cap; >= baseDelay
    // Ok, or Invalid naming the offending field.
    Status validate() const;
  };

  // Invalid when the options are (see Options::validate).
  static Result<std::unique_ptr<ItemExponentialBackoff>> create(Options options);

  Clock::duration when(const std::string& key) override;
  void forget(const std::string& key) override;
  int numRequeues(const std::string& key) override;

 private:
  explicit ItemExponentialBackoff(Options options) : options_(options) {}

  const Options options_;
  std::mutex mu_;
  std::unordered_map<std::string, int> failures_;
};

// One bucket for every key: it holds at most `burst` tokens and gains `qps` tokens
// per second. Each when() takes a token; when none is left the caller waits until
// its token will have accrued, so waits grow by 1/qps per call beyond the burst.
// forget() and numRequeues() are meaningless for a shared bucket (no-op and 0).
class TokenBucket final : public RateLimiter {
 public:
  struct Options {
    double qps = 10;  // tokens per second; > 0
    int burst = 100;  // bucket size, and tokens at start; >= 1
    Status validate() const;
  };

  // `clock` must outlive the bucket. Invalid when the options are.
  static Result<std::unique_ptr<TokenBucket>> create(Options options, const Clock& clock);

  Clock::duration when(const std::string& key) override;
  void forget(const std::string& key) override;
  int numRequeues(const std::string& key) override;

 private:
  TokenBucket(Options options, const Clock& clock);

  const Clock& clock_;
  // Tokens are kept as "time worth of tokens": one token is `interval_` of credit,
  // so integer clock arithmetic stays exact (100 ms per token at 10 qps).
  const Clock::duration interval_;
  const Clock::duration capacity_;  // burst * interval_
  std::mutex mu_;
  Clock::duration credit_;  // may go negative: tokens already promised
  Clock::time_point last_;
};

// The longest wait of its parts; forget() goes to every part, numRequeues() is the
// largest of theirs.
class MaxOf final : public RateLimiter {
 public:
  // Invalid when `limiters` is empty or holds a null.
  static Result<std::unique_ptr<MaxOf>> create(std::vector<std::unique_ptr<RateLimiter>> limiters);

  Clock::duration when(const std::string& key) override;
  void forget(const std::string& key) override;
  int numRequeues(const std::string& key) override;

 private:
  explicit MaxOf(std::vector<std::unique_ptr<RateLimiter>> limiters)
      : limiters_(std::move(limiters)) {}

  const std::vector<std::unique_ptr<RateLimiter>> limiters_;
};

// client-go's DefaultControllerRateLimiter: MaxOf(ItemExponentialBackoff{5 ms, 1000 s},
// TokenBucket{10 qps, burst 100}). `clock` must outlive the result.
std::unique_ptr<RateLimiter> defaultControllerRateLimiter(const Clock& clock);

}  // namespace saguard::queue
