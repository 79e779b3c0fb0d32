// saguard's Prometheus metrics: controller-runtime's and client-go's names and label
// sets (controller_runtime_*, workqueue_*, rest_client_*, leader_election_*), plus
// saguard's own (saguard_*). One Metrics object owns the registry; the HTTP server
// (server.h) exposes it on /metrics.
//
// Other modules never see Prometheus types: they call the typed methods below, or hand
// an adapter to the module that reports (queue_adapters.h: a queue::QueueMetrics and
// a queue::WorkerHooks; rest_client_adapter.h: a kube::RequestObserver).
//
// Every label set whose values are known up front starts at zero, so a dashboard or an
// alert sees "0" instead of "no data": the register*() methods create them (the result
// labels of a controller, the name of a queue, ...) and the constructor creates those
// that depend on nothing (saguard_patches_total{result}). Families whose label values
// are only known when something happens (rest_client_requests_total{code}, the
// per-policy gauges) are still declared (HELP and TYPE lines) from the start.
//
// All methods are thread-safe and cheap enough for hot paths (one hash lookup).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "base/clock.h"

namespace saguard::metrics {

namespace detail {
struct Families;  // the prometheus-cpp families; only metrics/*.cpp see them
}

// How one reconcile ended, as controller-runtime labels it.
enum class ReconcileResult {
  Success,        // result="success"
  Requeue,        // result="requeue": success, look again at once
  RequeueAfter,   // result="requeue_after": success, look again after a delay
  Error,          // result="error", and controller_runtime_reconcile_errors_total
  TerminalError,  // result="error", and both errors_total and terminal_reconcile_errors_total
};
// The `result` label value: "success", "requeue", "requeue_after" or "error".
const char* toString(ReconcileResult result);

// The `result` of saguard_patches_total.
enum class PatchResult { Success, Conflict, Error };
const char* toString(PatchResult result);  // "success", "conflict", "error"

// What a policy's last reconcile counted (its status summary).
struct PolicyGauges {
  std::int64_t selected = 0;         // saguard_policy_selected_accounts
  std::int64_t compliant = 0;        // saguard_policy_compliant_accounts
  std::int64_t podsWithToken = 0;    // saguard_policy_pods_with_token
  std::int64_t riskyBindings = 0;    // saguard_policy_risky_bindings
  std::int64_t declaredByOwner = 0;  // saguard_policy_declared_by_owner_accounts
};

class Metrics;

// Keeps a scrape hook registered (see Metrics::onScrape); unregisters it when destroyed.
class ScrapeHook {
 public:
  ScrapeHook() = default;
  ScrapeHook(ScrapeHook&& other) noexcept;
  ScrapeHook& operator=(ScrapeHook&& other) noexcept;
  ScrapeHook(const ScrapeHook&) = delete;
  ScrapeHook& operator=(const ScrapeHook&) = delete;
  ~ScrapeHook();
  // Unregisters now; waits for a run of the hook in progress to finish.
  void reset();

 private:
  friend class Metrics;
  ScrapeHook(Metrics* metrics, std::uint64_t id) : metrics_(metrics), id_(id) {}
  Metrics* metrics_ = nullptr;
  std::uint64_t id_ = 0;
};

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // --- controller-runtime: controller_runtime_* ---------------------------------
  // Called once per controller at start-up: zeroes reconcile_total for every result,
  // the error counters, the reconcile-time histogram and active_workers, and sets
  // max_concurrent_reconciles. Calling it again only updates max_concurrent_reconciles.
  void registerController(std::string_view controller, int maxConcurrentReconciles);
  // After every reconcile: counts the result and observes how long it took.
  void observeReconcile(std::string_view controller, ReconcileResult result, Clock::duration took);
  // +1 when a worker starts a reconcile, -1 when it ends.
  void addActiveWorkers(std::string_view controller, int delta);

  // --- client-go workqueue: workqueue_* ------------------------------------------
  // Zeroes every workqueue_* series of the queue `name`. The queue reports through a
  // PrometheusQueueMetrics adapter (queue_adapters.h), which does this itself.
  void registerQueue(std::string_view name);

  // --- client-go REST client: rest_client_* --------------------------------------
  // Zeroes rest_client_request_duration_seconds{verb,host} for the usual verbs of
  // `host` (the API server's host:port). PrometheusRequestObserver calls it.
  void registerRestHost(std::string_view host);
  // One HTTP attempt. `code` is the HTTP status as text, or "<error>" when no answer came.
  void observeRequest(std::string_view method, std::string_view code, std::string_view host,
                      std::chrono::nanoseconds took);

  // --- leader election: leader_election_master_status{name} ------------------------
  // Zeroes the status of the lease `name` (not the leader until told otherwise).
  void registerLeaderElection(std::string_view name);
  void setLeader(std::string_view name, bool leading);

  // --- saguard's own: saguard_* ---------------------------------------------------
  // Sets the four per-policy gauges after the policy's reconcile.
  void setPolicyGauges(std::string_view policy, const PolicyGauges& gauges);
  // The policy was deleted: its series disappear (a stale gauge would lie forever).
  void removePolicy(std::string_view policy);
  void countPatch(PatchResult result);
  // Zeroes saguard_events_total{reason,type} for one (reason, type) of the Event vocabulary.
  void registerEvent(std::string_view reason, std::string_view type);
  void countEvent(std::string_view reason, std::string_view type);
  // Zeroes saguard_cache_objects{kind} for a cached kind.
  void registerCacheKind(std::string_view kind);
  void setCacheObjects(std::string_view kind, std::int64_t count);

  // --- audit evidence: saguard_audit_*, saguard_token_use_accounts ------------------
  // Zeroes saguard_audit_events_total{source,result} for every result of `source`
  // (`results`: their label values).
  void registerAuditSource(std::string_view source, std::initializer_list<const char*> results);
  void countAuditEvents(std::string_view source, std::string_view result, std::uint64_t count);
  // One answered audit webhook request (any status), and how long it took.
  void observeAuditWebhook(int status, double seconds);
  void setTokenUseAccounts(std::int64_t recorded, std::int64_t none);

  // --- scraping --------------------------------------------------------------------
  // Runs `hook` at the start of every scrape (e.g. WorkQueue::updateUnfinishedWork, so
  // a stuck key's figures are fresh when read). The hook runs on a server thread, must
  // be quick and must not call onScrape(). Keep the returned handle alive for as long
  // as `hook` may run: declare it after whatever the hook touches.
  [[nodiscard]] ScrapeHook onScrape(std::function<void()> hook);

  // The Prometheus text exposition of everything, as /metrics serves it. Runs the
  // scrape hooks. For tests, debugging and a final dump at exit.
  std::string text() const;

  // The families themselves, for the adapters and the server (metrics/*.cpp only).
  detail::Families& families() const { return *families_; }

 private:
  friend class ScrapeHook;
  void removeHook(std::uint64_t id);

  std::unique_ptr<detail::Families> families_;
};

}  // namespace saguard::metrics
