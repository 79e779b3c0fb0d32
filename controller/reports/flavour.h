// Which report API saguard writes: the API flavour and its group, version, kinds and
// resources, in one place.
//
// Two APIs carry policy findings, with the same JSON shape:
//   OpenReports   openreports.io/v1alpha1   Report / ClusterReport   (the current API)
//   PolicyReport  wgpolicyk8s.io/v1alpha2   PolicyReport / ClusterPolicyReport
//                                           (the installed base: Kyverno, Kubescape and
//                                           Trivy's adapter write it)
// The controller prefers the first flavour of kFlavoursByPreference() whose CRD is
// installed; `saguard audit -o openreports|policyreport` names one with parseFlavour().
//
//   const ReportKind& kind = kindOf(Flavour::OpenReports, /*clusterScoped=*/false);
//   kind.apiVersion;  // "openreports.io/v1alpha1"
//   kind.kind;        // "Report"
//   kind.resource;    // "reports" (the plural, for URL paths and discovery)
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace saguard::reports {

enum class Flavour : std::uint8_t { OpenReports, PolicyReport };

// The name as flags and logs spell it: "openreports", "policyreport".
const char* toString(Flavour flavour);
// The inverse of toString(); nullopt for anything else.
std::optional<Flavour> parseFlavour(std::string_view name);

// Most preferred first: OpenReports is the API the report ecosystem moves to; the
// wgpolicyk8s.io one is written only where OpenReports is not installed.
inline constexpr std::array<Flavour, 2> kFlavoursByPreference{Flavour::OpenReports,
                                                              Flavour::PolicyReport};

// One kind of report object.
struct ReportKind {
  std::string_view group;       // "openreports.io"
  std::string_view version;     // "v1alpha1"
  std::string_view apiVersion;  // "openreports.io/v1alpha1"
  std::string_view kind;        // "Report"
  std::string_view resource;    // "reports"
  bool namespaced = true;
};

// The namespaced kind (a namespace's report) or the cluster-scoped one (the cluster report).
const ReportKind& kindOf(Flavour flavour, bool clusterScoped);

}  // namespace saguard::reports
