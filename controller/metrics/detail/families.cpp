#include "metrics/detail/families.h"

#include <unordered_map>
#include <utility>

namespace saguard::metrics::detail {

namespace {

std::string joinKey(std::initializer_list<std::string_view> parts) {
  std::string key;
  for (std::string_view part : parts) {
    key.append(part);
    key.push_back('\0');  // label values never contain NUL, so keys cannot collide
  }
  return key;
}

template <typename T, typename Make>
T& cached(std::mutex& mu, std::map<std::string, T*, std::less<>>& cache, std::string key,
          Make make) {
  std::lock_guard lock(mu);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(std::move(key), &make()).first;
  return *it->second;
}

}  // namespace

Collector::Collector() : registry_(std::make_shared<prometheus::Registry>()) {}

void Collector::declare(const std::string& name, const std::string& help,
                        prometheus::MetricType type) {
  declared_.push_back(Declared{name, help, type});
}

std::uint64_t Collector::addHook(std::function<void()> hook) {
  std::lock_guard lock(hooksMu_);
  const std::uint64_t id = nextHookId_++;
  hooks_.emplace(id, std::move(hook));
  return id;
}

void Collector::removeHook(std::uint64_t id) {
  std::lock_guard lock(hooksMu_);
  hooks_.erase(id);
}

std::vector<prometheus::MetricFamily> Collector::Collect() const {
  {
    std::lock_guard lock(hooksMu_);
    for (const auto& [id, hook] : hooks_) {
      // A failing hook leaves its figures stale; it must not break the scrape.
      try {
        hook();
      } catch (...) {  // NOLINT(bugprone-empty-catch)
      }
    }
  }
  std::vector<prometheus::MetricFamily> collected = registry_->Collect();
  std::unordered_map<std::string, prometheus::MetricFamily*> byName;
  for (auto& family : collected) byName.emplace(family.name, &family);

  std::vector<prometheus::MetricFamily> out;
  out.reserve(declared_.size());
  for (const Declared& d : declared_) {
    auto it = byName.find(d.name);
    if (it != byName.end()) {
      out.push_back(std::move(*it->second));
      byName.erase(it);
    } else {
      out.push_back(prometheus::MetricFamily{d.name, d.help, d.type, {}});
    }
  }
  for (auto& family : collected) {
    if (byName.count(family.name) != 0) out.push_back(std::move(family));
  }
  return out;
}

const Histogram::BucketBoundaries& reconcileBuckets() {
  static const Histogram::BucketBoundaries buckets = {
      0.005, 0.01, 0.025, 0.05, 0.1,  0.15, 0.2,  0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6,
      0.7,   0.8,  0.9,   1.0,  1.25, 1.5,  1.75, 2.0,  2.5, 3.0,  3.5, 4.0,  4.5, 5,
      6,     7,    8,     9,    10,   15,   20,   25,   30,  40,   50,  60};
  return buckets;
}

const Histogram::BucketBoundaries& queueBuckets() {
  static const Histogram::BucketBoundaries buckets = [] {
    Histogram::BucketBoundaries b;
    double bound = 1e-8;
    for (int i = 0; i < 12; ++i, bound *= 10) b.push_back(bound);
    return b;
  }();
  return buckets;
}

const Histogram::BucketBoundaries& requestBuckets() {
  static const Histogram::BucketBoundaries buckets = {0.005, 0.025, 0.1, 0.25, 0.5,  1.0,
                                                      2.0,   4.0,   8.0, 15.0, 30.0, 60.0};
  return buckets;
}

Families::Families() : collector(std::make_shared<Collector>()) {
  prometheus::Registry& registry = collector->registry();
  auto counter = [&](const std::string& name, const std::string& help) {
    collector->declare(name, help, prometheus::MetricType::Counter);
    return &prometheus::BuildCounter().Name(name).Help(help).Register(registry);
  };
  auto gauge = [&](const std::string& name, const std::string& help) {
    collector->declare(name, help, prometheus::MetricType::Gauge);
    return &prometheus::BuildGauge().Name(name).Help(help).Register(registry);
  };
  auto histogram = [&](const std::string& name, const std::string& help) {
    collector->declare(name, help, prometheus::MetricType::Histogram);
    return &prometheus::BuildHistogram().Name(name).Help(help).Register(registry);
  };

  reconcileTotal =
      counter("controller_runtime_reconcile_total",
              "Reconciles per controller, by result (success, requeue, requeue_after, error).");
  reconcileErrors = counter("controller_runtime_reconcile_errors_total",
                            "Reconciles per controller that returned an error.");
  terminalReconcileErrors =
      counter("controller_runtime_terminal_reconcile_errors_total",
              "Reconciles per controller that returned an error retrying cannot fix.");
  reconcileTime = histogram("controller_runtime_reconcile_time_seconds",
                            "How long each reconcile took, per controller.");
  activeWorkers = gauge("controller_runtime_active_workers",
                        "Workers of the controller reconciling a key right now.");
  maxConcurrentReconciles =
      gauge("controller_runtime_max_concurrent_reconciles",
            "Workers the controller runs, so at most this many reconciles at once.");

  queueDepth = gauge("workqueue_depth", "Keys waiting in the work queue.");
  queueAdds = counter("workqueue_adds_total", "Keys accepted by the work queue.");
  queueRetries =
      counter("workqueue_retries_total", "Delayed or rate-limited re-adds to the work queue.");
  queueDuration = histogram("workqueue_queue_duration_seconds",
                            "How long a key waited in the work queue before a worker took it.");
  workDuration = histogram("workqueue_work_duration_seconds",
                           "How long a worker processed a key taken from the work queue.");
  unfinishedWork = gauge(
      "workqueue_unfinished_work_seconds",
      "Seconds spent so far on keys still being processed; steady growth means a stuck worker.");
  longestRunning = gauge("workqueue_longest_running_processor_seconds",
                         "Seconds the longest-running worker of the queue has spent on its key.");

  requestsTotal = counter("rest_client_requests_total",
                          "HTTP requests to the API server, by status code (\"<error>\" when none "
                          "came), method and host.");
  requestDurationSeconds = histogram("rest_client_request_duration_seconds",
                                     "HTTP request latency to the API server, by verb and host.");

  leaderStatus = gauge("leader_election_master_status",
                       "1 while this process holds the lease `name`, 0 while it stands by.");

  policySelected = gauge("saguard_policy_selected_accounts", "ServiceAccounts the policy selects.");
  policyCompliant = gauge("saguard_policy_compliant_accounts",
                          "Selected ServiceAccounts whose automountServiceAccountToken is false.");
  policyPodsWithToken = gauge("saguard_policy_pods_with_token",
                              "Pods of selected ServiceAccounts that still hold an API token.");
  policyRiskyBindings =
      gauge("saguard_policy_risky_bindings",
            "RoleBindings and ClusterRoleBindings that grant a selected account permissions.");
  policyDeclaredByOwner =
      gauge("saguard_policy_declared_by_owner_accounts",
            "Selected ServiceAccounts an Enforce policy leaves alone because a source of truth "
            "(a GitOps tool's applied configuration) declares automountServiceAccountToken.");
  patchesTotal = counter("saguard_patches_total",
                         "ServiceAccount patches, by result (success, conflict, error).");
  eventsTotal = counter("saguard_events_total", "Kubernetes Events emitted, by reason and type.");
  cacheObjectsFamily =
      gauge("saguard_cache_objects", "Objects held in the informer cache, by kind.");

  auditEventsTotal = counter("saguard_audit_events_total",
                             "Audit events received, by source (webhook, log, file) and result "
                             "(accepted, ignored, malformed, unauthenticated).");
  auditWebhookSeconds = histogram("saguard_audit_webhook_request_duration_seconds",
                                  "Time to answer one audit webhook batch, by HTTP status code.");
  tokenUseAccounts = gauge("saguard_token_use_accounts",
                           "Cached ServiceAccounts with (use=\"recorded\") and without "
                           "(use=\"none\") a recorded use of their token.");
  accountsWithUse = &tokenUseAccounts->Add({{"use", "recorded"}});
  accountsWithoutUse = &tokenUseAccounts->Add({{"use", "none"}});

  patches[0] = &patchesTotal->Add({{"result", "success"}});
  patches[1] = &patchesTotal->Add({{"result", "conflict"}});
  patches[2] = &patchesTotal->Add({{"result", "error"}});
}

ControllerSeries& Families::controller(std::string_view name) {
  std::lock_guard lock(mu);
  auto it = controllers.find(name);
  if (it != controllers.end()) return it->second;
  const std::string n(name);
  ControllerSeries s;
  static constexpr std::array<const char*, kResultLabels> kLabels = {"success", "requeue",
                                                                     "requeue_after", "error"};
  for (int i = 0; i < kResultLabels; ++i) {
    s.total[static_cast<std::size_t>(i)] =
        &reconcileTotal->Add({{"controller", n}, {"result", kLabels[static_cast<std::size_t>(i)]}});
  }
  s.errors = &reconcileErrors->Add({{"controller", n}});
  s.terminalErrors = &terminalReconcileErrors->Add({{"controller", n}});
  s.time = &reconcileTime->Add({{"controller", n}}, reconcileBuckets());
  s.activeWorkers = &activeWorkers->Add({{"controller", n}});
  s.maxConcurrent = &maxConcurrentReconciles->Add({{"controller", n}});
  return controllers.emplace(n, s).first->second;
}

QueueSeries& Families::queue(std::string_view name) {
  std::lock_guard lock(mu);
  auto it = queues.find(name);
  if (it != queues.end()) return it->second;
  const prometheus::Labels labels{{"name", std::string(name)}};
  QueueSeries s;
  s.depth = &queueDepth->Add(labels);
  s.adds = &queueAdds->Add(labels);
  s.retries = &queueRetries->Add(labels);
  s.queueDuration = &queueDuration->Add(labels, queueBuckets());
  s.workDuration = &workDuration->Add(labels, queueBuckets());
  s.unfinishedWork = &unfinishedWork->Add(labels);
  s.longestRunning = &longestRunning->Add(labels);
  return queues.emplace(std::string(name), s).first->second;
}

Counter& Families::request(std::string_view method, std::string_view code, std::string_view host) {
  return cached(mu, requests, joinKey({method, code, host}), [&]() -> Counter& {
    return requestsTotal->Add({{"code", std::string(code)},
                               {"method", std::string(method)},
                               {"host", std::string(host)}});
  });
}

Histogram& Families::requestDuration(std::string_view verb, std::string_view host) {
  return cached(mu, requestDurations, joinKey({verb, host}), [&]() -> Histogram& {
    return requestDurationSeconds->Add({{"verb", std::string(verb)}, {"host", std::string(host)}},
                                       requestBuckets());
  });
}

Gauge& Families::leader(std::string_view name) {
  return cached(mu, leaders, std::string(name), [&]() -> Gauge& {
    return leaderStatus->Add({{"name", std::string(name)}});
  });
}

Counter& Families::event(std::string_view reason, std::string_view type) {
  return cached(mu, events, joinKey({reason, type}), [&]() -> Counter& {
    return eventsTotal->Add({{"reason", std::string(reason)}, {"type", std::string(type)}});
  });
}

Gauge& Families::cacheObjects(std::string_view kind) {
  return cached(mu, cacheKinds, std::string(kind), [&]() -> Gauge& {
    return cacheObjectsFamily->Add({{"kind", std::string(kind)}});
  });
}

Counter& Families::auditEvents(std::string_view source, std::string_view result) {
  return cached(mu, auditEventSeries, joinKey({source, result}), [&]() -> Counter& {
    return auditEventsTotal->Add(
        {{"source", std::string(source)}, {"result", std::string(result)}});
  });
}

Histogram& Families::auditWebhookDuration(std::string_view code) {
  return cached(mu, auditWebhookSeries, std::string(code), [&]() -> Histogram& {
    return auditWebhookSeconds->Add({{"code", std::string(code)}}, requestBuckets());
  });
}

}  // namespace saguard::metrics::detail
