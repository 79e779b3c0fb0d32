#include "metrics/queue_adapters.h"

#include <string>
#include <utility>

#include "metrics/detail/families.h"

namespace saguard::metrics {

PrometheusQueueMetrics::PrometheusQueueMetrics(Metrics& metrics, std::string_view name)
    : series_(metrics.families().queue(name)) {}

void PrometheusQueueMetrics::setDepth(std::int64_t depth) {
  series_.depth->Set(static_cast<double>(depth));
}

void PrometheusQueueMetrics::incAdds() {
  series_.adds->Increment();
}

void PrometheusQueueMetrics::incRetries() {
  series_.retries->Increment();
}

void PrometheusQueueMetrics::observeQueueDuration(Clock::duration waited) {
  series_.queueDuration->Observe(detail::seconds(waited));
}

void PrometheusQueueMetrics::observeWorkDuration(Clock::duration worked) {
  series_.workDuration->Observe(detail::seconds(worked));
}

void PrometheusQueueMetrics::setUnfinishedWork(Clock::duration total) {
  series_.unfinishedWork->Set(detail::seconds(total));
}

void PrometheusQueueMetrics::setLongestRunning(Clock::duration longest) {
  series_.longestRunning->Set(detail::seconds(longest));
}

ScrapeHook refreshUnfinishedWorkOnScrape(Metrics& metrics, queue::WorkQueue& queue) {
  return metrics.onScrape([&queue] { queue.updateUnfinishedWork(); });
}

PrometheusWorkerHooks::PrometheusWorkerHooks(Metrics& metrics, std::string_view controller,
                                             int workers)
    : metrics_(metrics),
      controller_(controller),
      series_(metrics.families().controller(controller)) {
  metrics_.registerController(controller_, workers);
}

ReconcileResult PrometheusWorkerHooks::resultOf(const queue::Outcome& outcome) {
  switch (outcome.result()) {
    case queue::WorkResult::Success:
      return ReconcileResult::Success;
    case queue::WorkResult::RequeueAfter:
      return outcome.after() > Clock::duration::zero() ? ReconcileResult::RequeueAfter
                                                       : ReconcileResult::Requeue;
    case queue::WorkResult::Error:
      return ReconcileResult::Error;
    case queue::WorkResult::TerminalError:
      return ReconcileResult::TerminalError;
  }
  return ReconcileResult::Error;
}

void PrometheusWorkerHooks::onOutcome(const std::string& /*key*/, const queue::Outcome& outcome,
                                      Clock::duration took) {
  metrics_.observeReconcile(controller_, resultOf(outcome), took);
}

queue::WorkFn PrometheusWorkerHooks::countActive(queue::WorkFn fn) {
  prometheus::Gauge* active = series_.activeWorkers;
  return [active, fn = std::move(fn)](const std::string& key) {
    struct Guard {
      prometheus::Gauge* gauge;
      explicit Guard(prometheus::Gauge* g) : gauge(g) { gauge->Increment(); }
      ~Guard() { gauge->Decrement(); }
      Guard(const Guard&) = delete;
      Guard& operator=(const Guard&) = delete;
    } guard(active);
    return fn(key);
  };
}

}  // namespace saguard::metrics
