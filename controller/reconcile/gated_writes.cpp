#include "reconcile/gated_writes.h"

#include <string>

namespace saguard::reconcile {

// The refusal's text is built only when the gate is closed: writes are the hot path.
using leader::WriteGate;

Result<std::string> GatedWriter::disableAutomount(std::string_view ns, std::string_view name,
                                                  std::string_view uid) {
  if (!gate_.isOpen()) {
    return WriteGate::refusal("patch of ServiceAccount " + std::string(ns) + "/" +
                              std::string(name));
  }
  return inner_.disableAutomount(ns, name, uid);
}

Status GatedWriter::recordUseDay(std::string_view ns, std::string_view name, std::string_view day,
                                 std::string_view resourceVersion) {
  if (!gate_.isOpen()) {
    return WriteGate::refusal("token-last-used annotation of ServiceAccount " + std::string(ns) +
                              "/" + std::string(name));
  }
  return inner_.recordUseDay(ns, name, day, resourceVersion);
}

Status GatedWriter::patchPolicyStatus(std::string_view name, const std::string& statusJson) {
  if (!gate_.isOpen())
    return WriteGate::refusal("status of ServiceAccountPolicy " + std::string(name));
  return inner_.patchPolicyStatus(name, statusJson);
}

Status GatedAdmissionWriter::keep(std::string_view policyName, const policy::AdmissionPlan& plan) {
  if (!gate_.isOpen()) {
    return WriteGate::refusal("admission objects of ServiceAccountPolicy " +
                              std::string(policyName));
  }
  return inner_.keep(policyName, plan);
}

Status GatedReportWriter::publish(reports::Flavour flavour,
                                  const std::vector<nlohmann::json>& objects) {
  if (!gate_.isOpen()) return WriteGate::refusal("policy reports");
  return inner_.publish(flavour, objects);
}

Status GatedEventSink::create(const events::Event& event) {
  if (!gate_.isOpen()) return WriteGate::refusal("Event " + event.namespace_ + "/" + event.name);
  return inner_.create(event);
}

Status GatedEventSink::patchSeries(std::string_view ns, std::string_view name,
                                   const events::Series& series) {
  if (!gate_.isOpen())
    return WriteGate::refusal("Event " + std::string(ns) + "/" + std::string(name));
  return inner_.patchSeries(ns, name, series);
}

}  // namespace saguard::reconcile
