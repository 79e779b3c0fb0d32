#include "reports/report.h"

#include <functional>
#include <map>
#include <tuple>

namespace saguard::reports {
namespace {

// Problems first (what a reader of a report looks for), then what was checked and
// found fine or left out.
int rankOf(Outcome outcome) {
  switch (outcome) {
    case Outcome::Fail:
      return 0;
    case Outcome::Error:
      return 1;
    case Outcome::Warn:
      return 2;
    case Outcome::Skip:
      return 3;
    case Outcome::Pass:
      return 4;
  }
  return 4;
}

// Most severe first; no severity after Info.
int severityRank(const std::optional<policy::Severity>& severity) {
  return severity ? -static_cast<int>(*severity) : 1;
}

const objects::ObjectRef& firstResource(const Result& r) {
  static const objects::ObjectRef kNone;
  return r.resources.empty() ? kNone : r.resources.front();
}

// Every rendered field of the resources, for the last tie-break.
auto resourceKeys(const Result& r) {
  std::vector<std::tuple<const std::string&, const std::string&, const std::string&,
                         const std::string&, const std::string&>>
      keys;
  for (const auto& ref : r.resources) {
    keys.emplace_back(ref.namespace_, ref.kind, ref.name, ref.uid, ref.apiVersion);
  }
  return keys;
}

}  // namespace

const char* toString(Outcome outcome) {
  switch (outcome) {
    case Outcome::Pass:
      return "pass";
    case Outcome::Fail:
      return "fail";
    case Outcome::Warn:
      return "warn";
    case Outcome::Error:
      return "error";
    case Outcome::Skip:
      return "skip";
  }
  return "error";
}

const char* toWire(policy::Severity severity) {
  switch (severity) {
    case policy::Severity::Critical:
      return "critical";
    case policy::Severity::High:
      return "high";
    case policy::Severity::Medium:
      return "medium";
    case policy::Severity::Low:
      return "low";
    case policy::Severity::Info:
      return "info";
  }
  return "info";
}

void Summary::add(Outcome outcome) {
  switch (outcome) {
    case Outcome::Pass:
      ++pass;
      return;
    case Outcome::Fail:
      ++fail;
      return;
    case Outcome::Warn:
      ++warn;
      return;
    case Outcome::Error:
      ++error;
      return;
    case Outcome::Skip:
      ++skip;
      return;
  }
}

Summary summarize(std::span<const Result> results) {
  Summary s;
  for (const Result& r : results) s.add(r.result);
  return s;
}

std::string_view scopeOf(const Result& result) {
  return firstResource(result).namespace_;
}

std::vector<Report> groupByScope(std::vector<Result> results) {
  std::map<std::string, std::vector<Result>, std::less<>> byScope;  // "" (cluster) sorts first
  for (Result& r : results) {
    const std::string_view scope = scopeOf(r);
    auto it = byScope.find(scope);
    if (it == byScope.end()) it = byScope.emplace(std::string(scope), std::vector<Result>{}).first;
    it->second.push_back(std::move(r));
  }
  std::vector<Report> reports;
  reports.reserve(byScope.size());
  for (auto& [scope, inScope] : byScope) reports.push_back(Report{scope, std::move(inScope)});
  return reports;
}

bool rendersBefore(const Result& a, const Result& b) {
  const objects::ObjectRef& ra = firstResource(a);
  const objects::ObjectRef& rb = firstResource(b);
  const int outcomeA = rankOf(a.result), outcomeB = rankOf(b.result);
  const int severityA = severityRank(a.severity), severityB = severityRank(b.severity);
  const auto ka = std::tie(outcomeA, severityA, a.policy, ra.namespace_, ra.kind, ra.name, ra.uid,
                           a.rule, a.message, a.properties);
  const auto kb = std::tie(outcomeB, severityB, b.policy, rb.namespace_, rb.kind, rb.name, rb.uid,
                           b.rule, b.message, b.properties);
  if (ka != kb) return ka < kb;
  // Equal so far: the rest of what renders (other resources, scored, source), so that
  // two results that render differently never tie.
  const auto restA = resourceKeys(a), restB = resourceKeys(b);
  return std::tie(restA, a.scored, a.source) < std::tie(restB, b.scored, b.source);
}

}  // namespace saguard::reports
