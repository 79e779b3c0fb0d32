// A report as data: the results saguard publishes about one namespace (or about the
// cluster) and their summary, before any API flavour is chosen (render.h writes the
// JSON of either flavour from it).
//
// The fields are those both report APIs share (openreports.io/v1alpha1 and
// wgpolicyk8s.io/v1alpha2): per result `policy`, `rule`, `result`, `severity`, `scored`,
// `source`, `timestamp`, `resources`, `message`, `properties`; per report `summary`.
//
//   std::vector<Result> results = resultsOf(policy.name, evaluation.findings, now);  //
//   policy_results.h for (Report& r : groupByScope(std::move(results))) render(r, flavour); //
//   render.h
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "objects/ref.h"
#include "policy/findings.h"

namespace saguard::reports {

// What every result says in `source`: the tool that produced it.
inline constexpr std::string_view kSource = "saguard";

// A result's `result`.
enum class Outcome : std::uint8_t { Pass, Fail, Warn, Error, Skip };

const char* toString(Outcome outcome);  // "pass", "fail", "warn", "error", "skip" (the wire)

// A severity as the report APIs spell it: "critical", "high", "medium", "low", "info".
// The severity itself is policy/'s (policy::severityOf()).
const char* toWire(policy::Severity severity);

// A result's `timestamp` (the report APIs' {seconds, nanos}).
struct Timestamp {
  std::int64_t seconds = 0;
  std::int32_t nanos = 0;

  friend bool operator==(const Timestamp&, const Timestamp&) = default;
};

struct Result {
  std::string policy;  // the ServiceAccountPolicy's name (required by both APIs)
  std::string rule;    // the finding's reason: "TokenMounted"
  Outcome result = Outcome::Fail;
  std::optional<policy::Severity> severity;  // none on pass and skip results
  bool scored = true;
  std::string source{kSource};
  Timestamp timestamp;  // when saguard computed it; never part of a report's content
  // What the result is about, first the object itself. Rendered as {apiVersion, kind,
  // namespace, name, uid}: resourceVersion is left out (it changes with every write to
  // the object, which would change the report with it).
  std::vector<objects::ObjectRef> resources;
  std::string message;
  std::map<std::string, std::string> properties;  // sorted keys: stable output

  friend bool operator==(const Result&, const Result&) = default;
};

// A report's `summary`: how many results of each outcome it holds.
struct Summary {
  std::int64_t pass = 0;
  std::int64_t fail = 0;
  std::int64_t warn = 0;
  std::int64_t error = 0;
  std::int64_t skip = 0;

  // Counts one result of `outcome`.
  void add(Outcome outcome);

  friend bool operator==(const Summary&, const Summary&) = default;
};

Summary summarize(std::span<const Result> results);

struct Report {
  std::string namespace_;  // "" = the cluster report (ClusterReport / ClusterPolicyReport)
  std::vector<Result> results;

  bool clusterScoped() const { return namespace_.empty(); }
  friend bool operator==(const Report&, const Report&) = default;
};

// The namespace of the report a result belongs in: the namespace of its first resource
// ("" = the cluster report: a ClusterRoleBinding, or a result about nothing namespaced).
std::string_view scopeOf(const Result& result);

// Results grouped into reports by scopeOf(): the cluster report first (only when some
// result belongs there), then one report per namespace in name order. Results keep
// their order within a report (render() sorts them).
std::vector<Report> groupByScope(std::vector<Result> results);

// The results render() puts first: fail, error, warn, then skip and pass; within each,
// most severe first; then by policy, the first resource (namespace, kind, name, uid),
// rule, message and properties. A total order on what a report renders, so the same
// findings always give the same report.
bool rendersBefore(const Result& a, const Result& b);

}  // namespace saguard::reports
