// What leader election tells whoever counts: the interface lives here, where the event
// happens; metrics/leader_adapter.h turns it into leader_election_master_status.
#pragma once

#include <string_view>

namespace saguard::leader {

class LeadershipHooks {
 public:
  virtual ~LeadershipHooks() = default;
  // This replica started (true) or stopped (false) leading on the Lease `leaseName`.
  virtual void onLeadingChanged(std::string_view leaseName, bool leading) = 0;
};

}  // namespace saguard::leader
