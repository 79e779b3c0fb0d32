// The controller: informers → work queue → reconciler, assembled. This is the one
// place where data flow is wired, and it flows one way:
//
//   watch streams → informer caches → handlers map each change to work keys
//     → rate-limited work queue → workers run the Reconciler → patches, status, Events
//
// Which keys a change touches (all level-based: the reconciler re-reads the caches):
//   Namespace            every account in it, every policy
//   ServiceAccount       that account, every policy
//   Pod                  every policy (pod findings and counts)
//   (Cluster)RoleBinding the accounts it names (for unboundOnly), every policy
//   ServiceAccountPolicy that policy, every account (spec changes); that policy,
//                        delayed (status or metadata only, e.g. saguard's own write)
//   a first use on a new day (evidence/ledger.h)   that account (its last-used annotation)
//   an earlier observing-since merged (ledger)       every account and policy (unusedFor)
//   a policy's report results changed               "reports", delayed (reportInterval)
//   the Reports condition changed                   every policy (its status shows it)
// "Every policy" keys are added with a short delay (policyDelay), so a burst of
// changes costs one status computation per policy, not one per change, and while
// changes keep coming, at most one per policyInterval (status_schedule.h).
//
// Lifecycle: create(), then two runnables for the manager (manager/manager.h):
// runInformers(token) at once (a standby keeps its caches warm) and runWorkers(token)
// while this replica leads; each blocks until its token stops. stop() from anywhere
// ends both (the destructor calls it). startInformers()/runWorkers() without a token are
// the same steps for tests that drive the controller by hand.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "cache/informer_set.h"
#include "evidence/ledger.h"
#include "kube/client.h"
#include "queue/queue_metrics.h"
#include "queue/work_queue.h"
#include "queue/worker.h"
#include "reconcile/cache_reader.h"
#include "reconcile/reconciler.h"
#include "reconcile/status_schedule.h"

namespace saguard::reconcile {

struct ControllerOptions {
  int workers = 2;                              // concurrent reconciles, >= 1
  std::chrono::milliseconds policyDelay{250};   // coalesces policy recomputations, >= 0
  std::chrono::milliseconds policyInterval{0};  // their least spacing under churn, >= 0
  // With reconciler.reports: the least time between two publications of the policy
  // reports (each writes only the reports that changed), >= 0.
  std::chrono::milliseconds reportInterval{std::chrono::seconds(30)};
  // Informers sync by streaming list (a watch with sendInitialEvents, KEP-3157) where the
  // API server serves it, by paged LIST otherwise (cache/reflector.h).
  bool streamingList = true;
  // Watches of the built-in kinds in Kubernetes' protobuf (cache/reflector.h): the API
  // server's CPU for saguard's sync is mostly encoding (issue 19).
  bool protobuf = true;
  ReconcilerOptions reconciler;                 // self identity, cache catch-up, ...
  queue::QueueMetrics* queueMetrics = nullptr;  // optional hooks (metrics/)
  queue::WorkerHooks* workerHooks = nullptr;
  // Optional: wraps each reconcile (e.g. PrometheusWorkerHooks::countActive).
  std::function<queue::WorkFn(queue::WorkFn)> wrapWork = nullptr;
  ReconcileHooks* reconcileHooks = nullptr;
  const Clock* clock = nullptr;  // default SteadyClock
  // Optional: what the audit sources recorded of token use (`unusedFor`, the last-used
  // annotation). The controller sets its onNewUseDay to enqueue that account; it must
  // outlive the controller, and its sources must stop before the controller goes.
  evidence::Ledger* evidence = nullptr;
};

class Controller {
 public:
  // Errors: Invalid options (the message names the field).
  static Result<std::unique_ptr<Controller>> create(kube::Client& client, ClusterWriter& writer,
                                                    Notifier& notifier, ControllerOptions options);
  ~Controller();

  void startInformers();
  bool waitForSync(std::chrono::milliseconds timeout, std::stop_token stop = {}) const;
  bool hasSynced() const;
  // Objects held by each informer's cache, by informer name.
  const cache::ObjectCountSource& caches() const { return informers_; }
  // Blocks running the workers until stop(). Returns at once if stopped already. Waits
  // for every cache to sync first (as controller-runtime does): a decision made on a
  // partial view is wrong, e.g. an account whose RoleBinding is not cached yet would look
  // unbound to an `unboundOnly` policy and be patched.
  void runWorkers();
  // Stops the informers and drains the queue (in-flight reconciles finish). Idempotent.
  void stop();

  // The manager's runnables: each returns once `stop` is requested (and its part has
  // stopped: informers closed, or the queue drained).
  void runInformers(std::stop_token stop);
  void runWorkers(std::stop_token stop);

  const ClusterReader& reader() const { return *reader_; }
  queue::WorkQueue& workQueue() { return *queue_; }

 private:
  Controller() = default;
  void wireHandlers();
  void enqueueAllPolicies();
  void schedulePolicy(std::string_view name);
  void scheduleReports();
  void enqueueAllAccounts();
  void enqueueAccountsIn(std::string_view ns);
  void enqueueBindingAccounts(const objects::Binding& binding);

  ControllerOptions options_;
  cache::InformerSet informers_;
  Informers views_;
  std::unique_ptr<CacheReader> reader_;
  std::unique_ptr<queue::WorkQueue> queue_;
  std::unique_ptr<Reconciler> reconciler_;
  std::unique_ptr<StatusSchedule> statusSchedule_;
  std::unique_ptr<StatusSchedule> reportSchedule_;  // of the "reports" key
  std::atomic<bool> stopped_{false};
  std::stop_source stopSource_;  // requested by stop(): ends runWorkers()' wait for the caches
};

}  // namespace saguard::reconcile
