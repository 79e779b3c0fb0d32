#include "queue/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace saguard::queue {

// ---- ItemExponentialBackoff ----

Status ItemExponentialBackoff::Options::validate() const {
  if (baseDelay <= Clock::duration::zero()) {
    return makeError(ErrorKind::Invalid, "ItemExponentialBackoff: baseDelay must be > 0");
  }
  if (maxDelay < baseDelay) {
    return makeError(ErrorKind::Invalid, "ItemExponentialBackoff: maxDelay must be >= baseDelay");
  }
  return Status::Ok();
}

Result<std::unique_ptr<ItemExponentialBackoff>> ItemExponentialBackoff::create(Options options) {
  if (Status s = options.validate(); !s.ok()) return s.error();
  return std::unique_ptr<ItemExponentialBackoff>(new ItemExponentialBackoff(options));
}

Clock::duration ItemExponentialBackoff::when(const std::string& key) {
  int exponent = 0;
  {
    std::lock_guard lock(mu_);
    int& failures = failures_[key];
    exponent = failures;
    // Saturate rather than wrap: a key failing forever keeps waiting maxDelay.
    if (failures < std::numeric_limits<int>::max()) ++failures;
  }
  // base * 2^exponent > max  <=>  base > max / 2^exponent; checked without overflow.
  const auto base = options_.baseDelay.count();
  const auto max = options_.maxDelay.count();
  if (exponent >= 62 || base > (max >> exponent)) return options_.maxDelay;
  return Clock::duration(base << exponent);
}

void ItemExponentialBackoff::forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int ItemExponentialBackoff::numRequeues(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

// ---- TokenBucket ----

Status TokenBucket::Options::validate() const {
  if (!(qps > 0) || !std::isfinite(qps)) {
    return makeError(ErrorKind::Invalid, "TokenBucket: qps must be a finite number > 0");
  }
  if (burst < 1) return makeError(ErrorKind::Invalid, "TokenBucket: burst must be >= 1");
  return Status::Ok();
}

Result<std::unique_ptr<TokenBucket>> TokenBucket::create(Options options, const Clock& clock) {
  if (Status s = options.validate(); !s.ok()) return s.error();
  return std::unique_ptr<TokenBucket>(new TokenBucket(options, clock));
}

TokenBucket::TokenBucket(Options options, const Clock& clock)
    : clock_(clock),
      interval_(std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(1.0 / options.qps))),
      capacity_(interval_ * options.burst),
      credit_(capacity_),
      last_(clock.now()) {}

Clock::duration TokenBucket::when(const std::string& /*key*/) {
  const Clock::time_point now = clock_.now();
  std::lock_guard lock(mu_);
  if (now > last_) {
    // Refill for the time elapsed, but never beyond a full bucket. Compared before
    // adding so a long idle period cannot overflow.
    const Clock::duration elapsed = now - last_;
    credit_ = elapsed >= capacity_ - credit_ ? capacity_ : credit_ + elapsed;
    last_ = now;
  }
  credit_ -= interval_;
  return credit_ >= Clock::duration::zero() ? Clock::duration::zero() : -credit_;
}

void TokenBucket::forget(const std::string& /*key*/) {}

int TokenBucket::numRequeues(const std::string& /*key*/) {
  return 0;
}

// ---- MaxOf ----

Result<std::unique_ptr<MaxOf>> MaxOf::create(std::vector<std::unique_ptr<RateLimiter>> limiters) {
  if (limiters.empty()) return makeError(ErrorKind::Invalid, "MaxOf: limiters must not be empty");
  for (const auto& limiter : limiters) {
    if (!limiter) return makeError(ErrorKind::Invalid, "MaxOf: limiters must not hold a null");
  }
  return std::unique_ptr<MaxOf>(new MaxOf(std::move(limiters)));
}

Clock::duration MaxOf::when(const std::string& key) {
  // Every part is asked, not just until one wins: each records the attempt.
  Clock::duration longest = Clock::duration::zero();
  for (const auto& limiter : limiters_) longest = std::max(longest, limiter->when(key));
  return longest;
}

void MaxOf::forget(const std::string& key) {
  for (const auto& limiter : limiters_) limiter->forget(key);
}

int MaxOf::numRequeues(const std::string& key) {
  int most = 0;
  for (const auto& limiter : limiters_) most = std::max(most, limiter->numRequeues(key));
  return most;
}

std::unique_ptr<RateLimiter> defaultControllerRateLimiter(const Clock& clock) {
  std::vector<std::unique_ptr<RateLimiter>> parts;
  // The defaults are valid by construction, so these cannot fail.
  parts.push_back(std::move(ItemExponentialBackoff::create({})).value());
  parts.push_back(std::move(TokenBucket::create({}, clock)).value());
  return std::move(MaxOf::create(std::move(parts))).value();
}

}  // namespace saguard::queue
