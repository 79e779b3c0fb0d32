#include "cache/backoff.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

namespace saguard::cache {

Status validate(const BackoffOptions& options) {
  if (options.initial <= std::chrono::milliseconds::zero()) {
    return makeError(ErrorKind::Invalid, "backoff.initial: must be positive");
  }
  if (options.max < options.initial) {
    return makeError(ErrorKind::Invalid, "backoff.max: must not be below backoff.initial");
  }
  if (!(options.factor >= 1.0) || !std::isfinite(options.factor)) {
    return makeError(ErrorKind::Invalid, "backoff.factor: must be a finite number >= 1");
  }
  if (!(options.jitter >= 0.0) || !std::isfinite(options.jitter)) {
    return makeError(ErrorKind::Invalid, "backoff.jitter: must be a finite number >= 0");
  }
  if (options.resetAfter <= std::chrono::milliseconds::zero()) {
    return makeError(ErrorKind::Invalid, "backoff.resetAfter: must be positive");
  }
  return {};
}

ExponentialBackoff::ExponentialBackoff(BackoffOptions options, const Clock& clock,
                                       kube::RandomSource random)
    : options_(options), clock_(clock), random_(std::move(random)) {
  if (!random_) random_ = kube::defaultRandomSource();
}

std::chrono::milliseconds ExponentialBackoff::next() {
  const Clock::time_point now = clock_.now();
  const double initial = static_cast<double>(options_.initial.count());
  const double max = static_cast<double>(options_.max.count());
  if (!lastFailure_ || now - *lastFailure_ >= options_.resetAfter) {
    baseMs_ = initial;
  } else {
    baseMs_ = std::min(baseMs_ * options_.factor, max);
  }
  lastFailure_ = now;
  const double r = std::clamp(random_(), 0.0, 1.0);
  const double wait = baseMs_ * (1.0 + options_.jitter * r);
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(wait)));
}

void ExponentialBackoff::reset() {
  lastFailure_.reset();
  baseMs_ = 0;
}

}  // namespace saguard::cache
