#include "evidence/observation.h"

#include <algorithm>

namespace saguard::evidence {
namespace {

ObservationPeriod normalized(ObservationPeriod p) {
  if (p.empty()) return {};
  p.until = std::max(p.until, p.since);
  return p;
}

}  // namespace

ObservationPeriod mergeObservation(ObservationPeriod a, ObservationPeriod b,
                                   std::int64_t tolerance) {
  a = normalized(a);
  b = normalized(b);
  if (a.empty()) return b;
  if (b.empty()) return a;
  const bool touch = a.since <= b.until + tolerance && b.since <= a.until + tolerance;
  if (touch) return {std::min(a.since, b.since), std::max(a.until, b.until)};
  return a.until > b.until ? a : b;
}

ObservationPeriod storedPeriodAt(ObservationPeriod stored, std::int64_t now) {
  if (!stored.empty() && stored.until == 0) stored.until = now;
  return stored;
}

ObservationPeriod auditPeriod(ObservationPeriod stored, std::int64_t logsEarliest, std::int64_t now,
                              std::int64_t tolerance) {
  const ObservationPeriod logs =
      logsEarliest > 0 ? ObservationPeriod{logsEarliest, now} : ObservationPeriod{};
  return mergeObservation(storedPeriodAt(stored, now), logs, tolerance);
}

std::int64_t observingSinceAt(const ObservationPeriod& period, std::int64_t now,
                              std::int64_t tolerance) {
  const ObservationPeriod p = normalized(period);
  if (p.empty() || p.until < now - tolerance) return 0;
  return p.since;
}

}  // namespace saguard::evidence
