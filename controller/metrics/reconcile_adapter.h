// Prometheus metrics from the reconciler's and the event recorder's hooks (interfaces
// where the events happen: reconcile/reconcile_hooks.h, events/recorder.h):
// saguard_patches_total, the per-policy gauges, saguard_events_total. The same pattern
// as queue_adapters.h and rest_client_adapter.h.
#pragma once

#include "events/recorder.h"
#include "metrics/metrics.h"
#include "reconcile/reconcile_hooks.h"

namespace saguard::metrics {

class PrometheusReconcileHooks final : public reconcile::ReconcileHooks {
 public:
  explicit PrometheusReconcileHooks(Metrics& metrics) : metrics_(metrics) {}
  void onPatch(const char* result) override;
  void onPolicySummary(const std::string& policy, const policy::Summary& summary) override;
  void onPolicyDeleted(const std::string& policy) override;

 private:
  Metrics& metrics_;
};

class PrometheusEventHooks final : public events::EventMetrics {
 public:
  // Zeroes saguard_events_total for every reason of the vocabulary.
  explicit PrometheusEventHooks(Metrics& metrics);
  void onWritten(events::Reason reason, events::EventType type, events::Write write) override;
  void onDropped(events::Reason, events::EventType, events::DropCause) override {}
  void onFailed(events::Reason, events::EventType, ErrorKind) override {}

 private:
  Metrics& metrics_;
};

}  // namespace saguard::metrics
