// Internal to metrics/: the prometheus-cpp registry behind Metrics, its families, and
// a cache of the series already created (prometheus-cpp's Family::Add builds a new
// metric object before it looks for an existing one, so hot paths look up here first).
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace saguard::metrics::detail {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

// Seconds as Prometheus wants them; a negative duration (a clock that went back) is 0.
template <typename Duration>
double seconds(Duration d) {
  const double s = std::chrono::duration<double>(d).count();
  return s > 0 ? s : 0.0;
}

// What the Exposer and Metrics::text() collect: the scrape hooks first, then the
// registry, then an empty entry (HELP and TYPE only) for each declared family that has
// no series yet, all in declaration order. It owns the registry and the hooks, so a
// scrape that still holds it (the Exposer keeps a weak_ptr) never reaches freed state.
class Collector final : public prometheus::Collectable {
 public:
  Collector();
  prometheus::Registry& registry() { return *registry_; }

  // Called while the families are built (before any scrape).
  void declare(const std::string& name, const std::string& help, prometheus::MetricType type);

  std::uint64_t addHook(std::function<void()> hook);
  // Waits for a run of the hooks in progress (hooks run under the same lock).
  void removeHook(std::uint64_t id);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  struct Declared {
    std::string name;
    std::string help;
    prometheus::MetricType type;
  };
  std::shared_ptr<prometheus::Registry> registry_;
  std::vector<Declared> declared_;

  mutable std::mutex hooksMu_;
  std::map<std::uint64_t, std::function<void()>> hooks_;
  std::uint64_t nextHookId_ = 1;
};

// Indexes into ControllerSeries::total, in ReconcileResult label order.
enum ResultLabel { kSuccess = 0, kRequeue, kRequeueAfter, kError, kResultLabels };

struct ControllerSeries {
  std::array<Counter*, kResultLabels> total{};
  Counter* errors = nullptr;
  Counter* terminalErrors = nullptr;
  Histogram* time = nullptr;
  Gauge* activeWorkers = nullptr;
  Gauge* maxConcurrent = nullptr;
};

struct QueueSeries {
  Gauge* depth = nullptr;
  Counter* adds = nullptr;
  Counter* retries = nullptr;
  Histogram* queueDuration = nullptr;
  Histogram* workDuration = nullptr;
  Gauge* unfinishedWork = nullptr;
  Gauge* longestRunning = nullptr;
};

struct PolicySeries {
  Gauge* selected = nullptr;
  Gauge* compliant = nullptr;
  Gauge* podsWithToken = nullptr;
  Gauge* riskyBindings = nullptr;
  Gauge* declaredByOwner = nullptr;
};

struct Families {
  Families();

  // Series by label values, created on first use. The returned references stay valid
  // (map nodes never move; controllers, queues and hosts are never removed).
  ControllerSeries& controller(std::string_view name);
  QueueSeries& queue(std::string_view name);
  Counter& request(std::string_view method, std::string_view code, std::string_view host);
  Histogram& requestDuration(std::string_view verb, std::string_view host);
  Gauge& leader(std::string_view name);
  Counter& event(std::string_view reason, std::string_view type);
  Gauge& cacheObjects(std::string_view kind);
  Counter& auditEvents(std::string_view source, std::string_view result);
  Histogram& auditWebhookDuration(std::string_view code);

  // Guards the maps below, and the policy series against a concurrent remove.
  std::mutex mu;
  std::map<std::string, ControllerSeries, std::less<>> controllers;
  std::map<std::string, QueueSeries, std::less<>> queues;
  std::map<std::string, Counter*, std::less<>> requests;            // method \n code \n host
  std::map<std::string, Histogram*, std::less<>> requestDurations;  // verb \n host
  std::map<std::string, Gauge*, std::less<>> leaders;
  std::map<std::string, Counter*, std::less<>> events;  // reason \n type
  std::map<std::string, Gauge*, std::less<>> cacheKinds;
  std::map<std::string, Counter*, std::less<>> auditEventSeries;      // source \n result
  std::map<std::string, Histogram*, std::less<>> auditWebhookSeries;  // code
  std::map<std::string, PolicySeries, std::less<>> policies;

  std::shared_ptr<Collector> collector;

  Family<Counter>* reconcileTotal;
  Family<Counter>* reconcileErrors;
  Family<Counter>* terminalReconcileErrors;
  Family<Histogram>* reconcileTime;
  Family<Gauge>* activeWorkers;
  Family<Gauge>* maxConcurrentReconciles;

  Family<Gauge>* queueDepth;
  Family<Counter>* queueAdds;
  Family<Counter>* queueRetries;
  Family<Histogram>* queueDuration;
  Family<Histogram>* workDuration;
  Family<Gauge>* unfinishedWork;
  Family<Gauge>* longestRunning;

  Family<Counter>* requestsTotal;
  Family<Histogram>* requestDurationSeconds;

  Family<Gauge>* leaderStatus;

  Family<Gauge>* policySelected;
  Family<Gauge>* policyCompliant;
  Family<Gauge>* policyPodsWithToken;
  Family<Gauge>* policyRiskyBindings;
  Family<Gauge>* policyDeclaredByOwner;
  Family<Counter>* patchesTotal;
  Family<Counter>* eventsTotal;
  Family<Gauge>* cacheObjectsFamily;
  Family<Counter>* auditEventsTotal;
  Family<Histogram>* auditWebhookSeconds;
  Family<Gauge>* tokenUseAccounts;
  Gauge* accountsWithUse = nullptr;
  Gauge* accountsWithoutUse = nullptr;

  std::array<Counter*, 3> patches{};  // by PatchResult
};

// Bucket boundaries, as the Go libraries define them.
const Histogram::BucketBoundaries& reconcileBuckets();  // controller-runtime's reconcile time
const Histogram::BucketBoundaries& queueBuckets();      // 1e-8 s .. 1e3 s, x10 each
const Histogram::BucketBoundaries& requestBuckets();    // client-go's request latency

}  // namespace saguard::metrics::detail
