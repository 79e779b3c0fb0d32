// The ReportWriter that goes through the kube Client (reconcile/report_writer.h): finds
// which report API the API server serves and keeps saguard's reports in it.
//
//   ApiPublisher publisher(client, {});
//   reconcilerOptions.reports = &publisher;
//
// Discovery: the discovery document of each flavour's group version (one GET, no LIST),
// in reports::kFlavoursByPreference order; the first flavour that serves both kinds
// (namespaced and cluster) is used. A role without them shows on the first listing or
// write, whose Forbidden error names the kind and goes to the policy's Reports condition.
// A flavour found is trusted for `reverifyAfter` (10 min), "none" for `recheckAbsent`
// (30 s), so a CRD installed while saguard runs is found within that time (and the
// reports key asks at least that often while none is served).
//
// Publishing: saguard's own reports are those labelled app.kubernetes.io/managed-by:
// saguard; they are listed once per kind (all four kinds, so that switching flavour
// deletes the reports of the other one) and remembered with their rendered hash
// (saguard.io/rendered-hash), their owners and resourceVersion, and listed again after
// `reverifyAfter`. A report is created when missing, replaced (PUT at the remembered
// resourceVersion) when its hash or owners differ, left alone otherwise; saguard's reports
// not in the set are deleted. A report of the same name without the label is someone
// else's: never touched (Invalid, naming it). What the API server stored is checked
// against what was sent (reports::contentHash): a CRD whose schema drops fields gives
// Invalid naming the object, every time publish() is called, and the object is
// remembered as written, so it is sent again only when its content changes or, after
// the next listing (`reverifyAfter`), once (a report someone edited is put back then).
//
// Thread-safe (one reports key, but flavour() is also asked from policy reconciles).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>

#include "base/clock.h"
#include "kube/client.h"
#include "reconcile/report_writer.h"
#include "reports/flavour.h"

namespace saguard::reporting {

struct ApiPublisherOptions {
  // How long a served flavour and the remembered reports are trusted. Default 10 min.
  std::chrono::milliseconds reverifyAfter{std::chrono::minutes(10)};
  // How long "no report API is served" is trusted. Default 30 s.
  std::chrono::milliseconds recheckAbsent{std::chrono::seconds(30)};
  const Clock* clock = nullptr;  // default SteadyClock
};

class ApiPublisher final : public reconcile::ReportWriter {
 public:
  ApiPublisher(kube::Client& client, ApiPublisherOptions options);

  std::optional<reports::Flavour> flavour(std::string& why) override;
  Status publish(reports::Flavour flavour, const std::vector<nlohmann::json>& objects) override;

  // Requests made so far that changed something (create, replace, delete): for tests.
  std::size_t writes() const;

 private:
  struct Known {
    std::string want;  // rendered hash and owners, as publish() compares them
    std::string resourceVersion;
    std::string problem;  // why what is stored is not what was rendered; "" when it is
  };
  using Key = std::tuple<std::string, std::string, std::string>;  // resource, namespace, name

  Status listOwn(const reports::ReportKind& kind);
  static Known ownKnown(const reports::ReportKind& kind, const nlohmann::json& item);
  Status write(const reports::ReportKind& kind, const nlohmann::json& object, std::string& refused);
  void countWrite();

  kube::Client& client_;
  ApiPublisherOptions options_;
  const Clock& clock_;

  mutable std::mutex mu_;
  std::optional<reports::Flavour> flavour_;
  std::string why_;
  bool discovered_ = false;
  Clock::time_point discoveredAt_{};
  std::map<Key, Known> known_;  // saguard's reports, of every kind listed
  bool listed_ = false;
  Clock::time_point listedAt_{};
  std::size_t writes_ = 0;
};

}  // namespace saguard::reporting
