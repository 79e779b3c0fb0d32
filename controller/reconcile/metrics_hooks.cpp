#include "reconcile/metrics_hooks.h"

#include <string_view>

#include "events/vocabulary.h"

namespace saguard::reconcile {

void MetricsReconcileHooks::onPatch(const char* result) {
  std::string_view r(result);
  metrics_.countPatch(r == "success"    ? metrics::PatchResult::Success
                      : r == "conflict" ? metrics::PatchResult::Conflict
                                        : metrics::PatchResult::Error);
}

void MetricsReconcileHooks::onPolicySummary(const std::string& policy, const Summary& summary) {
  metrics::PolicyGauges gauges;
  gauges.selected = summary.selected;
  gauges.compliant = summary.compliant;
  gauges.podsWithToken = summary.podsWithToken;
  gauges.riskyBindings = summary.bindings;
  metrics_.setPolicyGauges(policy, gauges);
}

void MetricsReconcileHooks::onPolicyDeleted(const std::string& policy) { metrics_.removePolicy(policy); }

MetricsEventHooks::MetricsEventHooks(metrics::Metrics& metrics) : metrics_(metrics) {
  for (events::Reason reason : events::kAllReasons) {
    metrics_.registerEvent(events::toString(reason), events::toString(events::typeOf(reason)));
  }
}

void MetricsEventHooks::onWritten(events::Reason reason, events::EventType type, events::Write) {
  metrics_.countEvent(events::toString(reason), events::toString(type));
}

}  // namespace saguard::reconcile
