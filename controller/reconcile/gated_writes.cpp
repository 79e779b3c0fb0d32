#include "reconcile/gated_writes.h"

#include <string>

namespace saguard::reconcile {

Result<std::string> GatedWriter::disableAutomount(std::string_view ns, std::string_view name) {
  if (Status st = gate_.check("patch of ServiceAccount " + std::string(ns) + "/" + std::string(name)); !st.ok()) {
    return st.error();
  }
  return inner_.disableAutomount(ns, name);
}

Status GatedWriter::patchPolicyStatus(std::string_view name, const std::string& statusJson) {
  if (Status st = gate_.check("status of ServiceAccountPolicy " + std::string(name)); !st.ok()) return st;
  return inner_.patchPolicyStatus(name, statusJson);
}

Status GatedEventSink::create(const events::Event& event) {
  if (Status st = gate_.check("Event " + event.namespace_ + "/" + event.name); !st.ok()) return st;
  return inner_.create(event);
}

Status GatedEventSink::patchSeries(std::string_view ns, std::string_view name, const events::Series& series) {
  if (Status st = gate_.check("Event " + std::string(ns) + "/" + std::string(name)); !st.ok()) return st;
  return inner_.patchSeries(ns, name, series);
}

}  // namespace saguard::reconcile
