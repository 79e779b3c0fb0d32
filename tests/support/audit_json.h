// Audit events as the API server sends them, for the decoder and ingest tests: the EventList
// its webhook backend POSTs. Header-only.
//
//   decodeList(test_support::eventList({kEvent, otherEvent}));
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace saguard::test_support {

// An audit.k8s.io/v1 EventList of `events` (each one Event's JSON), in that order.
inline std::string eventList(const std::vector<std::string>& events) {
  std::string out = R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[)";
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i > 0) out += ',';
    out += events[i];
  }
  return out + "]}";
}

}  // namespace saguard::test_support
