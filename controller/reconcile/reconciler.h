// The reconciler: what saguard does for one work-queue key (reconcile/keys.h).
//
// Contract (controller-runtime's): level-based. It reads the cluster from the
// ClusterReader (the informer caches), never from the event that queued the key, so
// running it twice, late, or for a key whose object is gone is always correct. It
// returns an Outcome for the worker loop (queue/worker.h):
//   done()             the key is as the policies want it
//   requeueAfter(d)    look again after d (the cache has not caught up with a write yet)
//   error(e)           retriable failure (Conflict, throttling, server down): backoff
//   terminalError(e)   a failure that retrying cannot fix; logged, not retried
//
// account/<ns>/<name>: combines every valid policy (policy/selection.h). An account
//   selected by any Enforce policy whose field is not false gets exactly one forced
//   server-side apply setting it to false (AutomountDisabled, or DriftReverted when
//   saguard had seen it compliant before), unless a source of truth declares the field
//   (policy/ownership.h): then no write and one DeclaredByOwner Event per declaration.
//   Already false = no write. Audit-only: no write, one AutomountWouldBeDisabled Event.
//   saguard's own account is never patched.
// policy/<name>: recomputes the policy's summary and findings, writes its status only
//   when the content changed, emits Events for findings that are new since the last
//   time, and reports the policy's gauges. An invalid spec gives Ready=False, reason
//   Invalid, and one PolicyInvalid Event per generation. With an AdmissionWriter, it
//   also keeps the policy's admission objects as planAdmission() says (condition
//   Admission), deletes them when the policy is gone, and looks again when the plan
//   changes by time alone; an invalid policy's objects are left as they are. With a
//   ReportWriter serving a report API, it also keeps the policy's findings as report
//   results (reports/policy_results.h) and says when they changed (resultsChanged).
// reports: publishes every valid policy's latest results as policy reports, one per
//   namespace and one for the cluster (reconcile_reports.cpp), and keeps condition
//   Reports of every policy's status; looks again every reportsDiscovery.
//
// Thread-safe: several workers may run it at once (the queue never hands the same key
// to two of them).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "base/clock.h"
#include "policy/evaluate.h"
#include "policy/ownership.h"
#include "policy/selection.h"
#include "policy/status.h"
#include "queue/worker.h"
#include "reconcile/admission_writer.h"
#include "reconcile/cluster_reader.h"
#include "reconcile/cluster_writer.h"
#include "reconcile/notifier.h"
#include "reconcile/reconcile_hooks.h"
#include "reconcile/report_writer.h"
#include "reports/report.h"

namespace saguard::reconcile {

struct ReconcilerOptions {
  // saguard's own ServiceAccount ("namespace", "name"); never patched. Empty = unknown.
  std::string selfNamespace;
  std::string selfName;
  // How long to wait for the cache to show a write saguard made before trusting a
  // cached object that still looks non-compliant. Default 200 ms.
  std::chrono::milliseconds cacheCatchUp{200};
  // Wall clock for condition timestamps. Default: system_clock::now.
  std::function<std::chrono::system_clock::time_point()> wallClock;
  // Keeps each valid policy's admission objects (policy/admission.h); nullptr = saguard
  // keeps none (and the status says nothing of admission). Must outlive the reconciler.
  AdmissionWriter* admission = nullptr;
  // Publishes the findings as policy reports; nullptr = no reports (and no Reports
  // condition). Must outlive the reconciler.
  ReportWriter* reports = nullptr;
  // How often the reports key looks again without a change (a report API installed,
  // removed or replaced by the preferred one). Default 60 s.
  std::chrono::milliseconds reportsDiscovery{std::chrono::seconds(60)};
  // Set by the controller: a policy's report results changed (it schedules the reports
  // key), and the Reports condition changed (it recomputes every policy's status).
  std::function<void()> resultsChanged;
  std::function<void()> reportsChanged;
};

class Reconciler {
 public:
  Reconciler(const ClusterReader& reader, ClusterWriter& writer, Notifier& notifier,
             ReconcilerOptions options, ReconcileHooks* hooks = nullptr);

  queue::Outcome reconcile(const std::string& key);

 private:
  queue::Outcome reconcileAccount(const std::string& ns, const std::string& name);
  // What every valid policy decides together for the account (policy::combine), and, with
  // `unusedFor` policies, when that may change by time alone (`recheckIn`: the reconciler
  // looks again then).
  policy::AccountVerdict verdictFor(const objects::ServiceAccount& account,
                                    std::optional<std::chrono::seconds>& recheckIn) const;
  // Moves the account's last-used annotation forward when the audit sources recorded a
  // use on a later day, at most once per UTC day of the clock: a use in a day's last
  // seconds that arrives after midnight is written then, and a use later that day waits
  // for the next midnight (`deferIn`). An error is the write's (retried).
  Status recordUseDay(const objects::ServiceAccount& account,
                      std::optional<std::chrono::seconds>& deferIn);
  // Updates the memory of the account; returns the outcome when nothing is to be done
  // (compliant, or our own patch not in the cache yet), else says whether it drifted.
  std::optional<queue::Outcome> observe(const objects::ServiceAccount& account, bool& drifted);
  // An enforced account whose field a source of truth declares (policy/ownership.h): no
  // write, a DeclaredByOwner Event naming the manager and the fix, once per declaration.
  void leaveToOwner(const objects::ServiceAccount& account, const policy::Declaration& declaration);
  queue::Outcome enforce(const objects::ServiceAccount& account,
                         const policy::AccountVerdict& verdict, bool drifted);
  queue::Outcome reconcilePolicy(const std::string& name);
  // reconcile_reports.cpp: the reports key, and the results a policy's evaluation gives.
  queue::Outcome reconcileReports();
  void keepResults(const PolicyRecord& record, const policy::Evaluation* evaluation);
  std::optional<policy::Condition> reportsCondition() const;
  void setReportsCondition(policy::Condition condition);
  policy::PolicyStatus evaluatedStatus(const PolicyRecord& record);  // keeps its results too
  policy::PolicyStatus invalidStatus(const PolicyRecord& record);
  // Events for the findings that are new since the policy's last reconcile.
  void notifyNewFindings(const std::string& policyName,
                         const std::vector<policy::PendingFinding>& findings);
  queue::Outcome writeStatus(const PolicyRecord& record, const policy::PolicyStatus& status);
  // Keeps the valid policy's admission objects; the condition for its status, and when
  // to look again (the plan's changesAt).
  policy::Condition keepAdmission(const policy::Policy& policy,
                                  std::optional<std::chrono::seconds>& recheckIn, Status& failure);
  bool isSelf(std::string_view ns, std::string_view name) const;

  const ClusterReader& reader_;
  ClusterWriter& writer_;
  Notifier& notifier_;
  ReconcilerOptions options_;
  ReconcileHooks* hooks_;
  ReconcileHooks noHooks_;

  // Memory of what saguard did and said, so that it does not repeat itself. Lost on
  // restart, which only means one repeated Event (de-duplicated into a series).
  mutable std::mutex mu_;
  std::unordered_set<std::string> seenCompliant_;  // account uids seen with the field false
  std::unordered_map<std::string, std::string> patchedAt_;  // uid -> resourceVersion of our patch
  std::unordered_set<std::string> auditNotified_;  // account uids told AutomountWouldBeDisabled
  std::unordered_map<std::string, std::string> declaredNotified_;  // uid -> DeclaredByOwner text
  struct UseDayWrite {
    std::string day;         // the last-used day written
    std::int64_t onDay = 0;  // the UTC day (days since the epoch) it was written on
  };
  std::unordered_map<std::string, UseDayWrite> useDayWritten_;  // by account uid
  std::map<std::string, std::unordered_set<std::uint64_t>>
      reported_;                                         // policy -> keys of findings sent
  std::map<std::string, std::int64_t> patchedCount_;     // policy -> accounts patched
  std::map<std::string, std::int64_t> invalidNotified_;  // policy -> generation told invalid
  bool loggedSelf_ = false;

  // Reports: each valid policy's latest results, kept only while a report API is served
  // (building every finding's message costs CPU otherwise spent on nothing).
  struct PolicyResults {
    std::string uid;
    std::vector<reports::Result> results;  // sorted (reports::rendersBefore)
  };
  std::map<std::string, PolicyResults> results_;
  std::optional<policy::Condition> reportsCondition_;  // the last publication's outcome
};

}  // namespace saguard::reconcile
