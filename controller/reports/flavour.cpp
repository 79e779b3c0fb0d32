#include "reports/flavour.h"

namespace saguard::reports {
namespace {

constexpr ReportKind kOpenReport{"openreports.io", "v1alpha1", "openreports.io/v1alpha1",
                                 "Report",         "reports",  true};
constexpr ReportKind kOpenClusterReport{"openreports.io",          "v1alpha1",
                                        "openreports.io/v1alpha1", "ClusterReport",
                                        "clusterreports",          false};
constexpr ReportKind kPolicyReport{"wgpolicyk8s.io", "v1alpha2",      "wgpolicyk8s.io/v1alpha2",
                                   "PolicyReport",   "policyreports", true};
constexpr ReportKind kClusterPolicyReport{"wgpolicyk8s.io",          "v1alpha2",
                                          "wgpolicyk8s.io/v1alpha2", "ClusterPolicyReport",
                                          "clusterpolicyreports",    false};

}  // namespace

const char* toString(Flavour flavour) {
  switch (flavour) {
    case Flavour::OpenReports:
      return "openreports";
    case Flavour::PolicyReport:
      return "policyreport";
  }
  return "openreports";
}

std::optional<Flavour> parseFlavour(std::string_view name) {
  for (Flavour f : kFlavoursByPreference) {
    if (name == toString(f)) return f;
  }
  return std::nullopt;
}

const ReportKind& kindOf(Flavour flavour, bool clusterScoped) {
  switch (flavour) {
    case Flavour::OpenReports:
      return clusterScoped ? kOpenClusterReport : kOpenReport;
    case Flavour::PolicyReport:
      return clusterScoped ? kClusterPolicyReport : kPolicyReport;
  }
  return clusterScoped ? kOpenClusterReport : kOpenReport;
}

}  // namespace saguard::reports
