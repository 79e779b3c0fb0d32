// How long a reflector waits before it tries again after a failure: exponential
// backoff with jitter, reset after a stable period (client-go's reflector uses the
// same shape: 800 ms doubling up to 30 s, reset after 2 minutes without failure).
//
//   ExponentialBackoff backoff(options, clock, random);
//   on failure:  sleeper.sleepFor(backoff.next(), stop);
//
// The clock and the random source are injected so tests see exact sequences.
#pragma once

#include <chrono>
#include <optional>

#include "base/clock.h"
#include "base/result.h"
#include "kube/retry.h"

namespace saguard::cache {

struct BackoffOptions {
  std::chrono::milliseconds initial{800};  // the wait after a first failure
  std::chrono::milliseconds max{30000};    // the base wait never grows past this
  double factor = 2.0;                     // growth per consecutive failure, >= 1
  double jitter = 0.2;  // up to this fraction of the base wait is added at random, >= 0
  // A failure this long after the previous one starts again from `initial`: the
  // connection was healthy in between.
  std::chrono::milliseconds resetAfter{std::chrono::minutes(2)};
};

// Invalid with the offending field named ("backoff.max: must not be below backoff.initial").
Status validate(const BackoffOptions& options);

class ExponentialBackoff {
 public:
  // `clock` must outlive this; `random` returns numbers in [0, 1).
  ExponentialBackoff(BackoffOptions options, const Clock& clock, kube::RandomSource random);

  // Called after a failure: the wait before the next attempt. The base wait is
  // initial * factor^(n-1) for the n-th failure in a row, capped at max; the jitter
  // adds base * jitter * random(), so a wait lies in [base, base * (1 + jitter)).
  std::chrono::milliseconds next();

  // Forgets past failures (the next one waits `initial` again).
  void reset();

 private:
  BackoffOptions options_;
  const Clock& clock_;
  kube::RandomSource random_;
  std::optional<Clock::time_point> lastFailure_;
  double baseMs_ = 0;
};

}  // namespace saguard::cache
