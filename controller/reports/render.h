// render(): a Report as the JSON object the API server takes, in either flavour, and
// the content comparison the controller writes by.
//
//   nlohmann::json object = render(report, Flavour::OpenReports);
//   // {apiVersion: openreports.io/v1alpha1, kind: Report,
//   //  metadata: {name: saguard, namespace: shop,
//   //             labels: {app.kubernetes.io/managed-by: saguard},
//   //             annotations: {saguard.io/rendered-hash: 3f0c...}},
//   //  summary: {pass, fail, warn, error, skip}, results: [...]}
//   if (renderedHashOf(live) != renderedHashOf(object)) write(object);
//
// Decisions (README.md says more):
//   - Name: one report per namespace and one cluster report, all named "saguard"
//     (kReportName): stable, so the controller updates in place and `kubectl get report
//     saguard -n shop` finds it; no other tool writes that name.
//   - No `scope`: a report holds findings about many objects of its namespace, and the
//     report APIs use `scope` for the one object a report is about (tools such as Policy
//     Reporter show it as the resource of every result). Each result names its own
//     `resources`.
//   - Results are sorted (rendersBefore(), report.h) and keys are sorted, so the same
//     findings always render byte-identical JSON. At most kMaxResults are kept, the first
//     in that order (problems before passes, most severe first), so a report stays far
//     below the API server's object size limit (~1.5 MiB); annotation
//     saguard.io/results-omitted counts the others. `summary` counts the results the
//     report holds, as the APIs define it.
//   - Messages are cut to kMaxMessageLength bytes on a UTF-8 character boundary.
//   - Content: everything rendered except the results' timestamps (which change at each
//     evaluation). Its hash is annotation saguard.io/rendered-hash (as on the admission
//     objects), so an unchanged set of findings is no reason to write.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "policy/admission.h"
#include "reports/flavour.h"
#include "reports/report.h"

namespace saguard::reports {

inline constexpr std::string_view kReportName = "saguard";
inline constexpr std::string_view kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr std::string_view kManagedByValue = "saguard";
// The rendered hash, under the same annotation as the admission objects'.
inline constexpr std::string_view kRenderedHashAnnotation = policy::kRenderedHashAnnotation;
inline constexpr std::string_view kResultsOmittedAnnotation = "saguard.io/results-omitted";
inline constexpr std::size_t kMaxResults = 500;
inline constexpr std::size_t kMaxMessageLength = 1024;  // bytes

// The report object of `flavour` (its namespaced kind, or the cluster kind for a
// report whose namespace_ is empty), named `name`.
nlohmann::json render(const Report& report, Flavour flavour, std::string_view name = kReportName);

// The hash of a report object's content: apiVersion, kind, metadata.name,
// metadata.namespace, the managed-by label, scope, summary and results without their
// timestamps. Reads a rendered object or one read back from the API server (whose
// server-set metadata and other labels and annotations do not count). 16 hex digits.
std::string contentHash(const nlohmann::json& object);

// Whether two report objects have the same content (contentHash()).
bool sameContent(const nlohmann::json& a, const nlohmann::json& b);

// The saguard.io/rendered-hash annotation of an object; "" when it has none.
std::string renderedHashOf(const nlohmann::json& object);

}  // namespace saguard::reports
