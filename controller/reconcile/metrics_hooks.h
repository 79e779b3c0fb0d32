// The reconciler's and the event recorder's hooks, reported as Prometheus metrics
// (metrics/): saguard_patches_total, the per-policy gauges, saguard_events_total.
#pragma once

#include "events/recorder.h"
#include "metrics/metrics.h"
#include "reconcile/reconciler.h"

namespace saguard::reconcile {

class MetricsReconcileHooks final : public ReconcileHooks {
 public:
  explicit MetricsReconcileHooks(metrics::Metrics& metrics) : metrics_(metrics) {}
  void onPatch(const char* result) override;
  void onPolicySummary(const std::string& policy, const Summary& summary) override;
  void onPolicyDeleted(const std::string& policy) override;

 private:
  metrics::Metrics& metrics_;
};

class MetricsEventHooks final : public events::EventMetrics {
 public:
  // Zeroes saguard_events_total for every reason of the vocabulary.
  explicit MetricsEventHooks(metrics::Metrics& metrics);
  void onWritten(events::Reason reason, events::EventType type, events::Write write) override;
  void onDropped(events::Reason, events::EventType, events::DropCause) override {}
  void onFailed(events::Reason, events::EventType, ErrorKind) override {}

 private:
  metrics::Metrics& metrics_;
};

}  // namespace saguard::reconcile
