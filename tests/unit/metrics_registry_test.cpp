// Metrics: names, label sets, zero initialisation and the typed methods, read back
// through the text exposition (the same text /metrics serves).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "metrics/metrics.h"
#include "support/exposition.h"

namespace saguard::metrics {
namespace {

using namespace std::chrono_literals;

Exposition scrape(const Metrics& metrics) {
  auto parsed = parseExposition(metrics.text());
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message);
  return parsed.ok() ? std::move(parsed).value() : Exposition{};
}

double valueOf(const Exposition& e, std::string_view name, const LabelSet& labels) {
  auto v = e.value(name, labels);
  EXPECT_TRUE(v.has_value()) << name << " has no series with the given labels";
  return v.value_or(-1);
}

// Every sample of a histogram series (buckets, sum, count) is zero.
void expectZeroHistogram(const Exposition& e, std::string_view name, const LabelSet& labels,
                         std::size_t buckets) {
  EXPECT_EQ(valueOf(e, std::string(name) + "_count", labels), 0) << name;
  EXPECT_EQ(valueOf(e, std::string(name) + "_sum", labels), 0) << name;
  std::size_t seen = 0;
  for (const Sample* s : e.series(std::string(name) + "_bucket")) {
    LabelSet without = s->labels;
    without.erase("le");
    if (without != labels) continue;
    ++seen;
    EXPECT_EQ(s->value, 0) << name << " le=" << s->labels.at("le");
  }
  EXPECT_EQ(seen, buckets + 1) << name << ": buckets plus +Inf";
}

// The cumulative count of the bucket `le` of a histogram series (bounds compared as
// numbers: the text may print 0.005 with more digits).
double bucket(const Exposition& e, std::string_view name, const LabelSet& labels, double le) {
  for (const Sample* s : e.series(std::string(name) + "_bucket")) {
    LabelSet without = s->labels;
    without.erase("le");
    if (without != labels || s->labels.at("le") == "+Inf") continue;
    if (std::abs(std::stod(s->labels.at("le")) - le) <= le * 1e-9) return s->value;
  }
  ADD_FAILURE() << name << " has no bucket le=" << le;
  return -1;
}

const std::vector<std::string> kAllFamilies = {
    "controller_runtime_reconcile_total",
    "controller_runtime_reconcile_errors_total",
    "controller_runtime_terminal_reconcile_errors_total",
    "controller_runtime_reconcile_time_seconds",
    "controller_runtime_active_workers",
    "controller_runtime_max_concurrent_reconciles",
    "workqueue_depth",
    "workqueue_adds_total",
    "workqueue_retries_total",
    "workqueue_queue_duration_seconds",
    "workqueue_work_duration_seconds",
    "workqueue_unfinished_work_seconds",
    "workqueue_longest_running_processor_seconds",
    "rest_client_requests_total",
    "rest_client_request_duration_seconds",
    "leader_election_master_status",
    "saguard_policy_selected_accounts",
    "saguard_policy_compliant_accounts",
    "saguard_policy_pods_with_token",
    "saguard_policy_risky_bindings",
    "saguard_policy_declared_by_owner_accounts",
    "saguard_patches_total",
    "saguard_events_total",
    "saguard_cache_objects",
};

TEST(MetricsRegistryTest, EveryFamilyIsDeclaredFromTheStart) {
  Metrics metrics;
  const Exposition e = scrape(metrics);
  for (const std::string& name : kAllFamilies) {
    EXPECT_TRUE(e.declared(name)) << name;
    EXPECT_TRUE(e.helps.count(name) != 0 && !e.helps.at(name).empty()) << name;
  }
  EXPECT_EQ(e.types.at("controller_runtime_reconcile_total"), "counter");
  EXPECT_EQ(e.types.at("controller_runtime_reconcile_time_seconds"), "histogram");
  EXPECT_EQ(e.types.at("workqueue_depth"), "gauge");
  EXPECT_EQ(e.types.at("workqueue_queue_duration_seconds"), "histogram");
  EXPECT_EQ(e.types.at("rest_client_requests_total"), "counter");
  EXPECT_EQ(e.types.at("leader_election_master_status"), "gauge");
  EXPECT_EQ(e.types.at("saguard_policy_selected_accounts"), "gauge");
  // Known up front without any registration: every patch result.
  for (const char* result : {"success", "conflict", "error"}) {
    EXPECT_EQ(valueOf(e, "saguard_patches_total", {{"result", result}}), 0) << result;
  }
}

TEST(MetricsRegistryTest, RegisteredLabelSetsStartAtZero) {
  Metrics metrics;
  metrics.registerController("serviceaccountpolicy", 4);
  metrics.registerQueue("serviceaccountpolicy");
  metrics.registerRestHost("127.0.0.1:6443");
  metrics.registerLeaderElection("saguard-leader");
  metrics.registerEvent("AutomountDisabled", "Normal");
  metrics.registerCacheKind("pods");
  const Exposition e = scrape(metrics);

  const LabelSet controller{{"controller", "serviceaccountpolicy"}};
  for (const char* result : {"success", "error", "requeue", "requeue_after"}) {
    EXPECT_EQ(valueOf(e, "controller_runtime_reconcile_total",
                      {{"controller", "serviceaccountpolicy"}, {"result", result}}),
              0)
        << result;
  }
  EXPECT_EQ(e.series("controller_runtime_reconcile_total").size(), 4u);
  EXPECT_EQ(valueOf(e, "controller_runtime_reconcile_errors_total", controller), 0);
  EXPECT_EQ(valueOf(e, "controller_runtime_terminal_reconcile_errors_total", controller), 0);
  expectZeroHistogram(e, "controller_runtime_reconcile_time_seconds", controller, 40);
  EXPECT_EQ(valueOf(e, "controller_runtime_active_workers", controller), 0);
  EXPECT_EQ(valueOf(e, "controller_runtime_max_concurrent_reconciles", controller), 4);

  const LabelSet queue{{"name", "serviceaccountpolicy"}};
  EXPECT_EQ(valueOf(e, "workqueue_depth", queue), 0);
  EXPECT_EQ(valueOf(e, "workqueue_adds_total", queue), 0);
  EXPECT_EQ(valueOf(e, "workqueue_retries_total", queue), 0);
  expectZeroHistogram(e, "workqueue_queue_duration_seconds", queue, 12);
  expectZeroHistogram(e, "workqueue_work_duration_seconds", queue, 12);
  EXPECT_EQ(valueOf(e, "workqueue_unfinished_work_seconds", queue), 0);
  EXPECT_EQ(valueOf(e, "workqueue_longest_running_processor_seconds", queue), 0);

  for (const char* verb : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    expectZeroHistogram(e, "rest_client_request_duration_seconds",
                        {{"verb", verb}, {"host", "127.0.0.1:6443"}}, 12);
  }
  // The status code is not known before the first answer: declared, no series yet.
  EXPECT_TRUE(e.series("rest_client_requests_total").empty());

  EXPECT_EQ(valueOf(e, "leader_election_master_status", {{"name", "saguard-leader"}}), 0);
  EXPECT_EQ(
      valueOf(e, "saguard_events_total", {{"reason", "AutomountDisabled"}, {"type", "Normal"}}), 0);
  EXPECT_EQ(valueOf(e, "saguard_cache_objects", {{"kind", "pods"}}), 0);
  // Policies are not known up front either.
  EXPECT_TRUE(e.series("saguard_policy_selected_accounts").empty());
}

TEST(MetricsRegistryTest, WorkqueueBucketsAreClientGosExponentialOnes) {
  Metrics metrics;
  metrics.registerQueue("q");
  const Exposition e = scrape(metrics);
  std::vector<std::string> les;
  for (const Sample* s : e.series("workqueue_queue_duration_seconds_bucket"))
    les.push_back(s->labels.at("le"));
  ASSERT_EQ(les.size(), 13u);
  double expected = 1e-8;
  for (std::size_t i = 0; i < 12; ++i, expected *= 10) {
    EXPECT_NEAR(std::stod(les[i]), expected, expected * 1e-9) << i;
  }
  EXPECT_EQ(les[12], "+Inf");
}

TEST(MetricsRegistryTest, ReconcileResultsAndErrors) {
  Metrics metrics;
  metrics.registerController("c", 1);
  metrics.observeReconcile("c", ReconcileResult::Success, 300ms);
  metrics.observeReconcile("c", ReconcileResult::Success, 2ms);
  metrics.observeReconcile("c", ReconcileResult::Requeue, 1ms);
  metrics.observeReconcile("c", ReconcileResult::RequeueAfter, 1ms);
  metrics.observeReconcile("c", ReconcileResult::Error, 1ms);
  metrics.observeReconcile("c", ReconcileResult::TerminalError, 1ms);
  const Exposition e = scrape(metrics);
  auto total = [&](const char* result) {
    return valueOf(e, "controller_runtime_reconcile_total",
                   {{"controller", "c"}, {"result", result}});
  };
  EXPECT_EQ(total("success"), 2);
  EXPECT_EQ(total("requeue"), 1);
  EXPECT_EQ(total("requeue_after"), 1);
  EXPECT_EQ(total("error"), 2);  // a terminal error is an error too
  EXPECT_EQ(valueOf(e, "controller_runtime_reconcile_errors_total", {{"controller", "c"}}), 2);
  EXPECT_EQ(valueOf(e, "controller_runtime_terminal_reconcile_errors_total", {{"controller", "c"}}),
            1);

  const LabelSet c{{"controller", "c"}};
  EXPECT_EQ(valueOf(e, "controller_runtime_reconcile_time_seconds_count", c), 6);
  EXPECT_NEAR(valueOf(e, "controller_runtime_reconcile_time_seconds_sum", c), 0.306, 1e-9);
  EXPECT_EQ(bucket(e, "controller_runtime_reconcile_time_seconds", c, 0.005), 5);
  EXPECT_EQ(bucket(e, "controller_runtime_reconcile_time_seconds", c, 0.25), 5);
  EXPECT_EQ(bucket(e, "controller_runtime_reconcile_time_seconds", c, 0.3), 6);
}

TEST(MetricsRegistryTest, ReconcileOfAnUnregisteredControllerCreatesItsSeries) {
  Metrics metrics;
  metrics.observeReconcile("late", ReconcileResult::Error, 0s);
  const Exposition e = scrape(metrics);
  EXPECT_EQ(valueOf(e, "controller_runtime_reconcile_total",
                    {{"controller", "late"}, {"result", "error"}}),
            1);
  EXPECT_EQ(valueOf(e, "controller_runtime_reconcile_total",
                    {{"controller", "late"}, {"result", "success"}}),
            0);
}

TEST(MetricsRegistryTest, NegativeDurationsCountAsZero) {
  Metrics metrics;
  metrics.observeReconcile("c", ReconcileResult::Success, -5s);
  const Exposition e = scrape(metrics);
  EXPECT_EQ(valueOf(e, "controller_runtime_reconcile_time_seconds_sum", {{"controller", "c"}}), 0);
  EXPECT_EQ(bucket(e, "controller_runtime_reconcile_time_seconds", {{"controller", "c"}}, 0.005),
            1);
}

TEST(MetricsRegistryTest, ActiveWorkersAndMaxConcurrent) {
  Metrics metrics;
  metrics.registerController("c", 2);
  metrics.addActiveWorkers("c", 1);
  metrics.addActiveWorkers("c", 1);
  metrics.addActiveWorkers("c", -1);
  metrics.registerController("c", 8);  // a second registration only updates the maximum
  metrics.observeReconcile("c", ReconcileResult::Success, 0s);
  metrics.registerController("c", 8);
  const Exposition e = scrape(metrics);
  EXPECT_EQ(valueOf(e, "controller_runtime_active_workers", {{"controller", "c"}}), 1);
  EXPECT_EQ(valueOf(e, "controller_runtime_max_concurrent_reconciles", {{"controller", "c"}}), 8);
  EXPECT_EQ(valueOf(e, "controller_runtime_reconcile_total",
                    {{"controller", "c"}, {"result", "success"}}),
            1);
}

TEST(MetricsRegistryTest, PolicyGaugesAreSetAndRemoved) {
  Metrics metrics;
  metrics.setPolicyGauges("a",
                          {.selected = 10, .compliant = 7, .podsWithToken = 3, .riskyBindings = 1});
  metrics.setPolicyGauges("b",
                          {.selected = 1, .compliant = 1, .podsWithToken = 0, .riskyBindings = 0});
  metrics.setPolicyGauges("a", {.selected = 10,
                                .compliant = 9,
                                .podsWithToken = 2,
                                .riskyBindings = 1,
                                .declaredByOwner = 2});
  Exposition e = scrape(metrics);
  EXPECT_EQ(valueOf(e, "saguard_policy_selected_accounts", {{"policy", "a"}}), 10);
  EXPECT_EQ(valueOf(e, "saguard_policy_compliant_accounts", {{"policy", "a"}}), 9);
  EXPECT_EQ(valueOf(e, "saguard_policy_pods_with_token", {{"policy", "a"}}), 2);
  EXPECT_EQ(valueOf(e, "saguard_policy_risky_bindings", {{"policy", "a"}}), 1);
  EXPECT_EQ(valueOf(e, "saguard_policy_declared_by_owner_accounts", {{"policy", "a"}}), 2);
  EXPECT_EQ(valueOf(e, "saguard_policy_selected_accounts", {{"policy", "b"}}), 1);

  metrics.removePolicy("a");
  metrics.removePolicy("never-seen");  // nothing to remove: no effect
  e = scrape(metrics);
  for (const char* name : {"saguard_policy_selected_accounts", "saguard_policy_compliant_accounts",
                           "saguard_policy_pods_with_token", "saguard_policy_risky_bindings",
                           "saguard_policy_declared_by_owner_accounts"}) {
    EXPECT_FALSE(e.value(name, {{"policy", "a"}}).has_value()) << name;
    EXPECT_TRUE(e.value(name, {{"policy", "b"}}).has_value()) << name;
    EXPECT_TRUE(e.declared(name)) << name;
  }

  // A policy created again under the same name starts afresh.
  metrics.setPolicyGauges("a", {.selected = 2});
  e = scrape(metrics);
  EXPECT_EQ(valueOf(e, "saguard_policy_selected_accounts", {{"policy", "a"}}), 2);
  EXPECT_EQ(valueOf(e, "saguard_policy_compliant_accounts", {{"policy", "a"}}), 0);
}

TEST(MetricsRegistryTest, PatchesEventsCacheAndLeader) {
  Metrics metrics;
  metrics.registerEvent("DriftReverted", "Warning");
  metrics.countPatch(PatchResult::Success);
  metrics.countPatch(PatchResult::Success);
  metrics.countPatch(PatchResult::Conflict);
  metrics.countEvent("AutomountDisabled", "Normal");  // not registered: counted all the same
  metrics.countEvent("AutomountDisabled", "Normal");
  metrics.setCacheObjects("pods", 20000);
  metrics.setCacheObjects("pods", 19999);
  metrics.registerLeaderElection("lease");
  metrics.setLeader("lease", true);
  Exposition e = scrape(metrics);
  EXPECT_EQ(valueOf(e, "saguard_patches_total", {{"result", "success"}}), 2);
  EXPECT_EQ(valueOf(e, "saguard_patches_total", {{"result", "conflict"}}), 1);
  EXPECT_EQ(valueOf(e, "saguard_patches_total", {{"result", "error"}}), 0);
  EXPECT_EQ(
      valueOf(e, "saguard_events_total", {{"reason", "AutomountDisabled"}, {"type", "Normal"}}), 2);
  EXPECT_EQ(valueOf(e, "saguard_events_total", {{"reason", "DriftReverted"}, {"type", "Warning"}}),
            0);
  EXPECT_EQ(valueOf(e, "saguard_cache_objects", {{"kind", "pods"}}), 19999);
  EXPECT_EQ(valueOf(e, "leader_election_master_status", {{"name", "lease"}}), 1);
  metrics.setLeader("lease", false);
  e = scrape(metrics);
  EXPECT_EQ(valueOf(e, "leader_election_master_status", {{"name", "lease"}}), 0);
}

TEST(MetricsRegistryTest, RestRequestsByCodeMethodAndHost) {
  Metrics metrics;
  metrics.observeRequest("GET", "200", "h:6443", 20ms);
  metrics.observeRequest("GET", "200", "h:6443", 30ms);
  metrics.observeRequest("PATCH", "409", "h:6443", 10ms);
  metrics.observeRequest("GET", "<error>", "h:6443", 2s);
  const Exposition e = scrape(metrics);
  EXPECT_EQ(valueOf(e, "rest_client_requests_total",
                    {{"code", "200"}, {"method", "GET"}, {"host", "h:6443"}}),
            2);
  EXPECT_EQ(valueOf(e, "rest_client_requests_total",
                    {{"code", "409"}, {"method", "PATCH"}, {"host", "h:6443"}}),
            1);
  EXPECT_EQ(valueOf(e, "rest_client_requests_total",
                    {{"code", "<error>"}, {"method", "GET"}, {"host", "h:6443"}}),
            1);
  const LabelSet get{{"verb", "GET"}, {"host", "h:6443"}};
  EXPECT_EQ(valueOf(e, "rest_client_request_duration_seconds_count", get), 3);
  EXPECT_EQ(bucket(e, "rest_client_request_duration_seconds", get, 0.025), 1);
  EXPECT_EQ(bucket(e, "rest_client_request_duration_seconds", get, 0.1), 2);
  EXPECT_EQ(bucket(e, "rest_client_request_duration_seconds", get, 2), 3);
}

TEST(MetricsRegistryTest, ScrapeHooksRunAtEveryScrapeUntilReleased) {
  Metrics metrics;
  int runs = 0;
  {
    ScrapeHook hook = metrics.onScrape([&] {
      ++runs;
      metrics.setCacheObjects("pods", runs);
    });
    (void)metrics.text();
    const Exposition e = scrape(metrics);
    EXPECT_EQ(runs, 2);
    EXPECT_EQ(valueOf(e, "saguard_cache_objects", {{"kind", "pods"}}),
              2);  // set before the registry is read

    ScrapeHook moved = std::move(hook);
    hook.reset();  // the moved-from handle owns nothing: the hook stays
    (void)metrics.text();
    EXPECT_EQ(runs, 3);
  }
  (void)metrics.text();
  EXPECT_EQ(runs, 3);

  ScrapeHook explicitReset = metrics.onScrape([&] { ++runs; });
  explicitReset.reset();
  (void)metrics.text();
  EXPECT_EQ(runs, 3);
}

TEST(MetricsRegistryTest, AThrowingHookDoesNotBreakTheScrape) {
  Metrics metrics;
  ScrapeHook bad = metrics.onScrape([] { throw std::runtime_error("boom"); });
  int runs = 0;
  ScrapeHook good = metrics.onScrape([&] { ++runs; });
  const Exposition e = scrape(metrics);
  EXPECT_EQ(runs, 1);
  EXPECT_TRUE(e.declared("workqueue_depth"));
}

TEST(MetricsRegistryTest, ConcurrentUpdatesAreAllCounted) {
  Metrics metrics;
  constexpr int kThreads = 4;
  constexpr int kEach = 2000;
  std::vector<std::thread> threads;
  std::atomic<bool> stop{false};
  std::thread scraper([&] {
    while (!stop) (void)metrics.text();
  });
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        metrics.observeReconcile("c" + std::to_string(i % 3), ReconcileResult::Success, 1ms);
        metrics.countEvent("R" + std::to_string(t), "Normal");
        metrics.setPolicyGauges("p" + std::to_string(i % 5), {.selected = i});
        if (i % 7 == 0) metrics.removePolicy("p" + std::to_string(i % 5));
      }
    });
  }
  for (auto& t : threads) t.join();
  stop = true;
  scraper.join();
  const Exposition e = scrape(metrics);
  double total = 0;
  for (const char* c : {"c0", "c1", "c2"}) {
    total += valueOf(e, "controller_runtime_reconcile_total",
                     {{"controller", c}, {"result", "success"}});
  }
  EXPECT_EQ(total, kThreads * kEach);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(valueOf(e, "saguard_events_total",
                      {{"reason", "R" + std::to_string(t)}, {"type", "Normal"}}),
              kEach);
  }
}

TEST(MetricsRegistryTest, LabelValuesAreEscaped) {
  Metrics metrics;
  metrics.countEvent("odd\"reason\\with\nnewline", "Normal");
  const Exposition e = scrape(metrics);
  EXPECT_EQ(valueOf(e, "saguard_events_total",
                    {{"reason", "odd\"reason\\with\nnewline"}, {"type", "Normal"}}),
            1);
}

TEST(MetricsRegistryTest, ResultLabelNames) {
  EXPECT_STREQ(toString(ReconcileResult::Success), "success");
  EXPECT_STREQ(toString(ReconcileResult::Requeue), "requeue");
  EXPECT_STREQ(toString(ReconcileResult::RequeueAfter), "requeue_after");
  EXPECT_STREQ(toString(ReconcileResult::Error), "error");
  EXPECT_STREQ(toString(ReconcileResult::TerminalError), "error");
  EXPECT_STREQ(toString(PatchResult::Conflict), "conflict");
}

}  // namespace
}  // namespace saguard::metrics
