// Observation periods: since when saguard has observed audit events without a break, as
// the store (evidence/store.h) keeps it and every reader (the ledger, `saguard audit`)
// uses it. Pure.
//
// Why a period and not a start alone: `unusedFor` may call an account unused for a window
// only when observation covered that whole window. A start that only ever moves earlier
// says so wrongly after every replica was down for a week: nothing was observed that week,
// yet an account with no recorded use in it would count as observed-unused. So the store
// keeps, next to observing-since, observed-until: when observation was last known to be
// running, refreshed by the store's sync every kHeartbeatSeconds at most (one ConfigMap
// write per heartbeat across the store, however many replicas and shards).
//
// [since, until] is one period of unbroken observation. Because until is refreshed only
// every heartbeat (and a sync runs every store interval, and a write that lost a race is
// retried a sync later), observation may really have run up to a heartbeat and a few
// syncs past the recorded until: two periods less than kGapToleranceSeconds apart
// (3 heartbeats: 15 minutes) are one. Further apart, observation had a gap, and what
// was observed before it no longer counts: observing-since becomes the moment
// observation resumed. The cost of a gap is a delay (every `unusedFor` decision waits
// for observation to cover its window again), never a wrong "unused"; a rolling update
// or a rescheduled pod (seconds to minutes) stays well inside the tolerance.
//
//   ObservationPeriod p = mergeObservation(stored, {ledgerSince, now}, kGapToleranceSeconds);
//   std::int64_t since = observingSinceAt(p, now, kGapToleranceSeconds);  // 0: not running
#pragma once

#include <cstdint>

namespace saguard::evidence {

// How often the store refreshes observed-until (seconds).
inline constexpr std::int64_t kHeartbeatSeconds = 300;
// How far apart two periods (or a period and now) may be and still be one (seconds).
inline constexpr std::int64_t kGapToleranceSeconds = 3 * kHeartbeatSeconds;

struct ObservationPeriod {
  std::int64_t since = 0;  // seconds; 0 = no observation known (the period is empty)
  std::int64_t until = 0;  // seconds; >= since in a non-empty period

  bool empty() const { return since <= 0; }
  friend bool operator==(const ObservationPeriod&, const ObservationPeriod&) = default;
};

// Two replicas' (or the store's and a replica's) periods as one: their union when they
// overlap or are at most `tolerance` apart, else the later one (what was observed before a
// gap does not count after it). An empty period is no news. Commutative and idempotent, and
// merging either input in again changes nothing; the result never covers a gap longer than
// `tolerance` that neither input covered. (A period whose until is before its since is read
// as ending at its since.)
ObservationPeriod mergeObservation(ObservationPeriod a, ObservationPeriod b,
                                   std::int64_t tolerance);

// A period as read from the store at `now`: one written before observed-until existed (a
// since, no until) is taken as running until now, as the version that wrote it took it (an
// upgrade must not restart observation). Any other period is returned as is.
ObservationPeriod storedPeriodAt(ObservationPeriod stored, std::int64_t now);

// What `saguard audit` judges with: the store's period (storedPeriodAt) merged with the span
// of exported audit logs, [their earliest event, now] (logs are passed to judge the
// present; 0 = none), by mergeObservation(). Its observingSinceAt(now) is what the verdicts
// use; a non-empty result whose until is stale says when observation stopped.
ObservationPeriod auditPeriod(ObservationPeriod stored, std::int64_t logsEarliest, std::int64_t now,
                              std::int64_t tolerance);

// The observing-since a reader may use at `now`: the period's since while observation is
// running (until at most `tolerance` before now), else 0: nothing is known of the time
// since observation stopped, so no window ending now is covered.
std::int64_t observingSinceAt(const ObservationPeriod& period, std::int64_t now,
                              std::int64_t tolerance);

}  // namespace saguard::evidence
