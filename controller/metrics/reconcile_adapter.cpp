#include "metrics/reconcile_adapter.h"

#include <string_view>

#include "events/vocabulary.h"

namespace saguard::metrics {

void PrometheusReconcileHooks::onPatch(const char* result) {
  std::string_view r(result);
  metrics_.countPatch(r == "success"    ? PatchResult::Success
                      : r == "conflict" ? PatchResult::Conflict
                                        : PatchResult::Error);
}

void PrometheusReconcileHooks::onPolicySummary(const std::string& policy,
                                               const policy::Summary& summary) {
  PolicyGauges gauges;
  gauges.selected = summary.selected;
  gauges.compliant = summary.compliant;
  gauges.podsWithToken = summary.podsWithToken;
  gauges.riskyBindings = summary.bindings;
  gauges.declaredByOwner = summary.declaredByOwner;
  metrics_.setPolicyGauges(policy, gauges);
}

void PrometheusReconcileHooks::onPolicyDeleted(const std::string& policy) {
  metrics_.removePolicy(policy);
}

PrometheusEventHooks::PrometheusEventHooks(Metrics& metrics) : metrics_(metrics) {
  for (events::Reason reason : events::kAllReasons) {
    metrics_.registerEvent(events::toString(reason), events::toString(events::typeOf(reason)));
  }
}

void PrometheusEventHooks::onWritten(events::Reason reason, events::EventType type, events::Write) {
  metrics_.countEvent(events::toString(reason), events::toString(type));
}

}  // namespace saguard::metrics
