// The reconciler's reports: each policy's results as its evaluation gives them, and the
// "reports" key that publishes them all (reconciler.h says when each runs).
//
// Writes, and what they cost, are the ReportWriter's (only what changed is written);
// here is what to publish and what the policies' statuses say of it:
//   - results are kept per policy only while a report API is served, sorted, and
//     replaced only when something other than their timestamps changed: an unchanged
//     cluster renders byte-identical reports, so steady state writes nothing;
//   - the reports key publishes only once every valid policy has results (right after
//     a start, or a report API appearing, publishing a partial set would delete the
//     reports of the policies not evaluated yet and write them again a moment later);
//   - a report refused by the API server (or stored with fields dropped: a CRD of
//     another shape) is logged once per message and shown as condition Reports
//     False/Refused on every policy; it is tried again at the next change of results or
//     after reportsDiscovery, never in a loop. Transport errors are retried with backoff;
//   - published or not, the key comes back every reportsDiscovery: a report API that
//     appears, goes or is replaced by the preferred one is noticed without a change.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "reconcile/reconciler.h"
#include "reports/policy_results.h"
#include "reports/render.h"

namespace saguard::reconcile {
namespace {

// What a report result says when its timestamp is left out.
bool sameButTime(const std::vector<reports::Result>& a, const std::vector<reports::Result>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const reports::Result& x, const reports::Result& y) {
                      reports::Result yAtX = y;
                      yAtX.timestamp = x.timestamp;
                      return x == yAtX;
                    });
}

nlohmann::json ownerReference(const std::string& name, const std::string& uid) {
  return {{"apiVersion", "saguard.io/v1alpha1"},
          {"kind", "ServiceAccountPolicy"},
          {"name", name},
          {"uid", uid}};
}

std::string summaryText(const std::vector<reports::Report>& reports, reports::Flavour flavour) {
  reports::Summary total;
  for (const auto& r : reports) {
    for (const auto& result : r.results) total.add(result.result);
  }
  const reports::ReportKind& kind = reports::kindOf(flavour, false);
  return std::to_string(reports.size()) + " " + std::string(kind.apiVersion) +
         " reports: " + std::to_string(total.fail) + " fail, " + std::to_string(total.warn) +
         " warn, " + std::to_string(total.pass) + " pass";
}

}  // namespace

void Reconciler::keepResults(const PolicyRecord& record, const policy::Evaluation* evaluation) {
  if (options_.reports == nullptr) return;
  std::string why;
  const bool served = evaluation != nullptr && options_.reports->flavour(why).has_value();
  bool changed = false;
  if (!served) {
    std::lock_guard lock(mu_);
    changed = results_.erase(record.name) > 0;
  } else {
    const reports::Timestamp at{reader_.now(), 0};
    std::vector<reports::Result> results =
        reports::resultsOf(record.name, evaluation->findings, at);
    for (const auto& account : evaluation->compliant) {
      results.push_back(reports::passOf(record.name, *account, at));
    }
    std::sort(results.begin(), results.end(), reports::rendersBefore);
    std::lock_guard lock(mu_);
    auto [it, fresh] = results_.try_emplace(record.name);
    if (fresh || it->second.uid != record.uid || !sameButTime(it->second.results, results)) {
      it->second = PolicyResults{record.uid, std::move(results)};
      changed = true;
    }
  }
  if (changed && options_.resultsChanged) options_.resultsChanged();
}

std::optional<policy::Condition> Reconciler::reportsCondition() const {
  std::lock_guard lock(mu_);
  return reportsCondition_;
}

void Reconciler::setReportsCondition(policy::Condition condition) {
  {
    std::lock_guard lock(mu_);
    if (reportsCondition_ == condition) return;
    if (!condition.ok && condition.reason != "NotInstalled") {
      spdlog::warn("policy reports: {}", condition.message);  // once per message
    } else {
      spdlog::info("policy reports: {}", condition.message);
    }
    reportsCondition_ = std::move(condition);
  }
  if (options_.reportsChanged) options_.reportsChanged();
}

queue::Outcome Reconciler::reconcileReports() {
  if (options_.reports == nullptr) return queue::Outcome::done();
  std::string why;
  const std::optional<reports::Flavour> flavour = options_.reports->flavour(why);
  if (!flavour) {
    {
      std::lock_guard lock(mu_);
      results_.clear();
    }
    setReportsCondition({.ok = false, .reason = "NotInstalled", .message = why});
    return queue::Outcome::requeueAfter(options_.reportsDiscovery);
  }

  std::vector<reports::Result> all;
  std::map<std::string, std::string> uids;  // policy -> uid, for the owner references
  bool complete = true;
  {
    const std::vector<PolicyRecord> records = reader_.policies();
    std::lock_guard lock(mu_);
    for (const auto& record : records) {
      if (!record.policy) continue;
      auto it = results_.find(record.name);
      if (it == results_.end() || it->second.uid != record.uid) {
        complete = false;
        continue;
      }
      uids[record.name] = record.uid;
      all.insert(all.end(), it->second.results.begin(), it->second.results.end());
    }
  }
  if (!complete) {
    // A report API just appeared, or saguard just started: the policies' next
    // evaluations keep their results and bring this key back (resultsChanged); if one
    // keeps none (its evaluation did not find the API served), this looks again later.
    if (options_.reportsChanged) options_.reportsChanged();
    return queue::Outcome::requeueAfter(options_.reportsDiscovery);
  }

  const std::vector<reports::Report> grouped = reports::groupByScope(std::move(all));
  std::vector<nlohmann::json> objects;
  objects.reserve(grouped.size());
  for (const reports::Report& report : grouped) {
    nlohmann::json object = reports::render(report, *flavour);
    std::set<std::string> owners;
    for (const auto& result : report.results) owners.insert(result.policy);
    nlohmann::json refs = nlohmann::json::array();
    for (const auto& name : owners) refs.push_back(ownerReference(name, uids[name]));
    object["metadata"]["ownerReferences"] = std::move(refs);
    objects.push_back(std::move(object));
  }
  const Status published = options_.reports->publish(*flavour, objects);
  if (published.ok()) {
    setReportsCondition(
        {.ok = true, .reason = "Published", .message = summaryText(grouped, *flavour)});
    // Looked at again even when nothing changes: the writer notices a report API that
    // appears or goes and reports deleted behind its back (it asks the API server only
    // when its memory is due, so this costs a render, not a request).
    return queue::Outcome::requeueAfter(options_.reportsDiscovery);
  }
  if (published.is(ErrorKind::Invalid) || published.is(ErrorKind::Forbidden)) {
    setReportsCondition(
        {.ok = false, .reason = "Refused", .message = published.error().describe()});
    return queue::Outcome::requeueAfter(options_.reportsDiscovery);
  }
  return queue::Outcome::error(published.error());
}

}  // namespace saguard::reconcile
