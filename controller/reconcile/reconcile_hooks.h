// What the reconciler tells whoever counts (metrics/reconcile_adapter.h turns it into
// Prometheus metrics): the interface lives here, where the events happen; the
// implementation lives in metrics/, as for the queue's and the REST client's hooks.
#pragma once

#include <string>

#include "policy/status.h"

namespace saguard::reconcile {

// Told what the reconciler did, for metrics. Every method may be called concurrently.
class ReconcileHooks {
 public:
  virtual ~ReconcileHooks() = default;
  // result: "success", "conflict", "error"
  virtual void onPatch(const char* result) { (void)result; }
  virtual void onPolicySummary(const std::string& policy, const policy::Summary& summary) {
    (void)policy;
    (void)summary;
  }
  virtual void onPolicyDeleted(const std::string& policy) { (void)policy; }
};

}  // namespace saguard::reconcile
