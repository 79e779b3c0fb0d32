#include "metrics/leader_adapter.h"

namespace saguard::metrics {

PrometheusLeadershipHooks::PrometheusLeadershipHooks(Metrics& metrics, std::string_view leaseName)
    : metrics_(metrics) {
  metrics_.registerLeaderElection(leaseName);
}

void PrometheusLeadershipHooks::onLeadingChanged(std::string_view leaseName, bool leading) {
  metrics_.setLeader(leaseName, leading);
}

}  // namespace saguard::metrics
