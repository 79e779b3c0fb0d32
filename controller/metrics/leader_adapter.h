// leader_election_master_status{name} from leader election's hooks
// (leader/leadership_hooks.h), the same pattern as the other *_adapter.h files.
#pragma once

#include <string_view>

#include "leader/leadership_hooks.h"
#include "metrics/metrics.h"

namespace saguard::metrics {

class PrometheusLeadershipHooks final : public leader::LeadershipHooks {
 public:
  // Zeroes the status of the Lease `leaseName` (not the leader until told otherwise).
  PrometheusLeadershipHooks(Metrics& metrics, std::string_view leaseName);
  void onLeadingChanged(std::string_view leaseName, bool leading) override;

 private:
  Metrics& metrics_;
};

}  // namespace saguard::metrics
