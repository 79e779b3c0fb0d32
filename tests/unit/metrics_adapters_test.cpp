// The adapters that let queue/ and kube/ report without depending on metrics/, driven
// by the real WorkQueue and worker loop on a FakeClock.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

#include "base/clock.h"
#include "metrics/metrics.h"
#include "metrics/queue_adapters.h"
#include "metrics/rest_client_adapter.h"
#include "queue/work_queue.h"
#include "queue/worker.h"
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

const LabelSet kQueue{{"name", "sap"}};
const LabelSet kController{{"controller", "sap"}};

struct QueueFixture : ::testing::Test {
  FakeClock clock;
  Metrics metrics;
  PrometheusQueueMetrics queueMetrics{metrics, "sap"};
  std::unique_ptr<queue::WorkQueue> queue = [this] {
    queue::WorkQueueOptions options;
    options.metrics = &queueMetrics;
    return std::make_unique<queue::WorkQueue>(clock, std::move(options));
  }();
};

TEST_F(QueueFixture, ConstructingTheAdapterZeroesTheQueueSeries) {
  const Exposition e = scrape(metrics);
  EXPECT_EQ(valueOf(e, "workqueue_depth", kQueue), 0);
  EXPECT_EQ(valueOf(e, "workqueue_adds_total", kQueue), 0);
  EXPECT_EQ(valueOf(e, "workqueue_queue_duration_seconds_count", kQueue), 0);
}

TEST_F(QueueFixture, AddsDepthAndDurations) {
  queue->add("a");
  queue->add("b");
  queue->add("a");  // a duplicate of a waiting key is not an add
  Exposition e = scrape(metrics);
  EXPECT_EQ(valueOf(e, "workqueue_adds_total", kQueue), 2);
  EXPECT_EQ(valueOf(e, "workqueue_depth", kQueue), 2);

  clock.advance(2s);
  auto key = queue->get();
  ASSERT_TRUE(key.has_value());
  e = scrape(metrics);
  EXPECT_EQ(valueOf(e, "workqueue_depth", kQueue), 1);
  EXPECT_EQ(valueOf(e, "workqueue_queue_duration_seconds_count", kQueue), 1);
  EXPECT_NEAR(valueOf(e, "workqueue_queue_duration_seconds_sum", kQueue), 2.0, 1e-9);
  EXPECT_EQ(bucket(e, "workqueue_queue_duration_seconds", kQueue, 1), 0);
  EXPECT_EQ(bucket(e, "workqueue_queue_duration_seconds", kQueue, 10), 1);

  clock.advance(3s);
  queue->done(*key);
  e = scrape(metrics);
  EXPECT_EQ(valueOf(e, "workqueue_work_duration_seconds_count", kQueue), 1);
  EXPECT_NEAR(valueOf(e, "workqueue_work_duration_seconds_sum", kQueue), 3.0, 1e-9);
}

TEST_F(QueueFixture, RetriesCountDelayedAndRateLimitedAdds) {
  queue->addAfter("a", 1s);
  queue->addRateLimited("b");
  const Exposition e = scrape(metrics);
  EXPECT_EQ(valueOf(e, "workqueue_retries_total", kQueue), 2);
}

TEST_F(QueueFixture, UnfinishedWorkIsRefreshedAtScrape) {
  ScrapeHook refresh = refreshUnfinishedWorkOnScrape(metrics, *queue);
  queue->add("a");
  queue->add("b");
  auto a = queue->get();
  clock.advance(4s);
  auto b = queue->get();
  clock.advance(1s);
  // Nothing touched the queue since the second get(): only the scrape hook can know
  // that a has run 5 s and b 1 s.
  Exposition e = scrape(metrics);
  EXPECT_NEAR(valueOf(e, "workqueue_unfinished_work_seconds", kQueue), 6.0, 1e-9);
  EXPECT_NEAR(valueOf(e, "workqueue_longest_running_processor_seconds", kQueue), 5.0, 1e-9);

  queue->done(*a);
  queue->done(*b);
  e = scrape(metrics);
  EXPECT_EQ(valueOf(e, "workqueue_unfinished_work_seconds", kQueue), 0);
  EXPECT_EQ(valueOf(e, "workqueue_longest_running_processor_seconds", kQueue), 0);

  // Once the handle is gone the queue may go too: scrapes no longer touch it.
  refresh.reset();
  queue.reset();
  e = scrape(metrics);
  EXPECT_TRUE(e.declared("workqueue_depth"));
}

TEST_F(QueueFixture, WorkerOutcomesBecomeReconcileMetrics) {
  PrometheusWorkerHooks hooks(metrics, "sap", 3);
  Exposition e = scrape(metrics);
  EXPECT_EQ(valueOf(e, "controller_runtime_max_concurrent_reconciles", kController), 3);
  EXPECT_EQ(valueOf(e, "controller_runtime_reconcile_total",
                    {{"controller", "sap"}, {"result", "requeue"}}),
            0);

  double activeDuringWork = -1;
  queue::Outcome next = queue::Outcome::done();
  const queue::WorkFn work = hooks.countActive([&](const std::string&) {
    activeDuringWork =
        scrape(metrics).value("controller_runtime_active_workers", kController).value_or(-1);
    clock.advance(250ms);
    return next;
  });

  const queue::Outcome outcomes[] = {
      queue::Outcome::done(),
      queue::Outcome::requeueAfter(30s),
      queue::Outcome::requeueAfter(0s),
      queue::Outcome::error(makeError(ErrorKind::Conflict, "stale")),
      queue::Outcome::terminalError(makeError(ErrorKind::Invalid, "bad spec")),
  };
  int n = 0;
  for (const queue::Outcome& outcome : outcomes) {
    next = outcome;
    const std::string key = "k" + std::to_string(n++);
    queue->add(key);
    ASSERT_TRUE(queue::processNextItem(*queue, work, hooks));
    EXPECT_EQ(activeDuringWork, 1);
  }

  e = scrape(metrics);
  auto total = [&](const char* result) {
    return valueOf(e, "controller_runtime_reconcile_total",
                   {{"controller", "sap"}, {"result", result}});
  };
  EXPECT_EQ(total("success"), 1);
  EXPECT_EQ(total("requeue_after"), 1);
  EXPECT_EQ(total("requeue"), 1);
  EXPECT_EQ(total("error"), 2);
  EXPECT_EQ(valueOf(e, "controller_runtime_reconcile_errors_total", kController), 2);
  EXPECT_EQ(valueOf(e, "controller_runtime_terminal_reconcile_errors_total", kController), 1);
  EXPECT_EQ(valueOf(e, "controller_runtime_active_workers", kController), 0);
  EXPECT_EQ(valueOf(e, "controller_runtime_reconcile_time_seconds_count", kController), 5);
  EXPECT_NEAR(valueOf(e, "controller_runtime_reconcile_time_seconds_sum", kController), 1.25, 1e-9);
  EXPECT_EQ(bucket(e, "controller_runtime_reconcile_time_seconds", kController, 0.2), 0);
  EXPECT_EQ(bucket(e, "controller_runtime_reconcile_time_seconds", kController, 0.25), 5);
  // The queue saw the same story: three re-adds (after 30 s, at once, rate-limited error).
  EXPECT_EQ(valueOf(e, "workqueue_retries_total", kQueue), 3);
}

TEST_F(QueueFixture, ActiveWorkersDropsWhenTheWorkFunctionThrows) {
  PrometheusWorkerHooks hooks(metrics, "sap", 1);
  const queue::WorkFn work = hooks.countActive(
      [](const std::string&) -> queue::Outcome { throw std::runtime_error("bug"); });
  queue->add("a");
  ASSERT_TRUE(queue::processNextItem(*queue, work, hooks));
  const Exposition e = scrape(metrics);
  EXPECT_EQ(valueOf(e, "controller_runtime_active_workers", kController), 0);
  EXPECT_EQ(valueOf(e, "controller_runtime_reconcile_total",
                    {{"controller", "sap"}, {"result", "error"}}),
            1);
}

TEST(WorkerResultMappingTest, ResultOf) {
  using queue::Outcome;
  EXPECT_EQ(PrometheusWorkerHooks::resultOf(Outcome::done()), ReconcileResult::Success);
  EXPECT_EQ(PrometheusWorkerHooks::resultOf(Outcome::requeueAfter(1ms)),
            ReconcileResult::RequeueAfter);
  EXPECT_EQ(PrometheusWorkerHooks::resultOf(Outcome::requeueAfter(0s)), ReconcileResult::Requeue);
  EXPECT_EQ(PrometheusWorkerHooks::resultOf(Outcome::requeueAfter(-1s)), ReconcileResult::Requeue);
  EXPECT_EQ(PrometheusWorkerHooks::resultOf(Outcome::error(makeError(ErrorKind::Internal, "x"))),
            ReconcileResult::Error);
  EXPECT_EQ(
      PrometheusWorkerHooks::resultOf(Outcome::terminalError(makeError(ErrorKind::Invalid, "x"))),
      ReconcileResult::TerminalError);
}

TEST(RequestObserverTest, HostComesFromTheServerUrl) {
  EXPECT_EQ(PrometheusRequestObserver::hostOf("https://127.0.0.1:6443"), "127.0.0.1:6443");
  EXPECT_EQ(PrometheusRequestObserver::hostOf("https://kubernetes.default.svc/base/path?x=1"),
            "kubernetes.default.svc");
  EXPECT_EQ(PrometheusRequestObserver::hostOf("https://[fd00::1]:443"), "[fd00::1]:443");
  EXPECT_EQ(PrometheusRequestObserver::hostOf("https://user:pw@host:1"), "host:1");
  EXPECT_EQ(PrometheusRequestObserver::hostOf("10.0.0.1:6443"), "10.0.0.1:6443");
}

TEST(RequestObserverTest, EveryAttemptIsCountedByCodeMethodAndHost) {
  Metrics metrics;
  PrometheusRequestObserver observer(metrics, "https://10.0.0.1:6443");
  kube::RequestObserver& hook = observer;  // what the REST client sees
  Exposition e = scrape(metrics);
  EXPECT_EQ(valueOf(e, "rest_client_request_duration_seconds_count",
                    {{"verb", "PATCH"}, {"host", "10.0.0.1:6443"}}),
            0);

  hook.onRequest({.method = "GET", .httpCode = 200, .failure = std::nullopt, .duration = 15ms});
  hook.onRequest({.method = "PATCH", .httpCode = 409, .failure = std::nullopt, .duration = 30ms});
  hook.onRequest({.method = "GET", .httpCode = 0, .failure = ErrorKind::Transport, .duration = 5s});
  hook.onRequest({.method = "GET", .httpCode = 0, .failure = ErrorKind::Timeout, .duration = 30s});
  e = scrape(metrics);
  const std::string host = "10.0.0.1:6443";
  EXPECT_EQ(valueOf(e, "rest_client_requests_total",
                    {{"code", "200"}, {"method", "GET"}, {"host", host}}),
            1);
  EXPECT_EQ(valueOf(e, "rest_client_requests_total",
                    {{"code", "409"}, {"method", "PATCH"}, {"host", host}}),
            1);
  EXPECT_EQ(valueOf(e, "rest_client_requests_total",
                    {{"code", "<error>"}, {"method", "GET"}, {"host", host}}),
            2);
  EXPECT_EQ(
      valueOf(e, "rest_client_request_duration_seconds_count", {{"verb", "GET"}, {"host", host}}),
      3);
  EXPECT_NEAR(
      valueOf(e, "rest_client_request_duration_seconds_sum", {{"verb", "GET"}, {"host", host}}),
      35.015, 1e-9);
  EXPECT_EQ(
      bucket(e, "rest_client_request_duration_seconds", {{"verb", "GET"}, {"host", host}}, 0.025),
      1);
  EXPECT_EQ(bucket(e, "rest_client_request_duration_seconds", {{"verb", "GET"}, {"host", host}}, 8),
            2);
  EXPECT_EQ(
      bucket(e, "rest_client_request_duration_seconds", {{"verb", "GET"}, {"host", host}}, 30), 3);
}

}  // namespace
}  // namespace saguard::metrics
