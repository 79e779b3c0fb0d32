// Where the reconciler publishes its findings as policy reports (reports/): a small role
// interface so tests count its writes; the real one (reporting/api_publisher.h) goes
// through the kube Client.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <vector>

#include "base/result.h"
#include "reports/flavour.h"

namespace saguard::reconcile {

class ReportWriter {
 public:
  virtual ~ReportWriter() = default;

  // The report API to write: the first of reports::kFlavoursByPreference whose namespaced
  // and cluster kinds the API server serves. Discovered, not assumed, and asked again
  // from time to time (a CRD installed or removed later is noticed); nullopt while
  // neither is served. `why` says what was found when nullopt ("neither ... is served").
  virtual std::optional<reports::Flavour> flavour(std::string& why) = 0;

  // Makes the cluster hold exactly `objects` (reports rendered in `flavour`, each with its
  // metadata.ownerReferences) among saguard's reports: creates or replaces each that
  // differs from what is there (rendered hash, owners), deletes saguard's reports of
  // either flavour that `objects` does not name. Writes nothing when all is as given.
  // Errors: Invalid when the API server refused a report or stored less than it was
  // sent (a CRD of another shape dropped fields: the message names the object and what
  // to check; such an object is not written again until its content changes); the
  // transport's kinds otherwise.
  virtual Status publish(reports::Flavour flavour, const std::vector<nlohmann::json>& objects) = 0;
};

}  // namespace saguard::reconcile
