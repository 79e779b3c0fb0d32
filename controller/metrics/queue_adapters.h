// Adapters from the work queue's hooks (queue/) to Prometheus, so queue/ never depends
// on metrics/. Typical wiring at a controller's start-up:
//
//   metrics::PrometheusQueueMetrics queueMetrics(metrics, "serviceaccountpolicy");
//   queue::WorkQueue queue(clock, {.metrics = &queueMetrics});
//   metrics::ScrapeHook refresh = metrics::refreshUnfinishedWorkOnScrape(metrics, queue);
//   metrics::PrometheusWorkerHooks hooks(metrics, "serviceaccountpolicy", workers);
//   runWorkers(queue, workers, hooks.countActive(reconcileKey), hooks);
//
// Each adapter zeroes its label sets when constructed and must outlive whatever
// reports to it (the queue, the workers).
#pragma once

#include <string_view>

#include "metrics/metrics.h"
#include "queue/queue_metrics.h"
#include "queue/work_queue.h"
#include "queue/worker.h"

namespace saguard::metrics {

namespace detail {
struct QueueSeries;
struct ControllerSeries;
}  // namespace detail

// workqueue_*{name}: what a WorkQueue reports about itself. Called under the queue's
// lock: every method is a lock-free update of an existing series, or a short mutex.
class PrometheusQueueMetrics final : public queue::QueueMetrics {
 public:
  PrometheusQueueMetrics(Metrics& metrics, std::string_view name);

  void setDepth(std::int64_t depth) override;
  void incAdds() override;
  void incRetries() override;
  void observeQueueDuration(Clock::duration waited) override;
  void observeWorkDuration(Clock::duration worked) override;
  void setUnfinishedWork(Clock::duration total) override;
  void setLongestRunning(Clock::duration longest) override;

 private:
  detail::QueueSeries& series_;
};

// Refreshes workqueue_unfinished_work_seconds and _longest_running_processor_seconds at
// every scrape, so a stuck key shows up even when the queue is otherwise idle. Keep
// the handle alive no longer than `queue` (declare it after the queue).
[[nodiscard]] ScrapeHook refreshUnfinishedWorkOnScrape(Metrics& metrics, queue::WorkQueue& queue);

// controller_runtime_*{controller}: the worker loop's outcomes. The queue's results map
// to controller-runtime's labels: Success -> success, RequeueAfter -> requeue_after (or
// requeue when the delay is zero), Error -> error, TerminalError -> error and
// controller_runtime_terminal_reconcile_errors_total.
class PrometheusWorkerHooks final : public queue::WorkerHooks {
 public:
  // Zeroes the controller's series and sets max_concurrent_reconciles to `workers`.
  PrometheusWorkerHooks(Metrics& metrics, std::string_view controller, int workers);

  void onOutcome(const std::string& key, const queue::Outcome& outcome,
                 Clock::duration took) override;

  // `fn`, counted in controller_runtime_active_workers while it runs (the worker loop
  // has no hook before a reconcile starts). The returned function refers to this object.
  queue::WorkFn countActive(queue::WorkFn fn);

  // The controller-runtime result of a worker outcome.
  static ReconcileResult resultOf(const queue::Outcome& outcome);

 private:
  Metrics& metrics_;
  std::string controller_;
  detail::ControllerSeries& series_;
};

}  // namespace saguard::metrics
