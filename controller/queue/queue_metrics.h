// What a WorkQueue reports about itself, as an interface free of any metrics
// library: metrics/ implements it with Prometheus (client-go's workqueue_* names),
// tests implement it with plain counters, and NoopQueueMetrics drops everything.
//
// The queue calls these with its own lock held, so an implementation must be quick,
// must not block, and must never call back into the queue.
#pragma once

#include <cstdint>

#include "base/clock.h"

namespace saguard::queue {

class QueueMetrics {
 public:
  virtual ~QueueMetrics() = default;
  // Keys waiting to be taken (including a key re-added while it is processed).
  virtual void setDepth(std::int64_t depth) = 0;
  // A key was accepted by add() (a duplicate of a waiting key is not counted).
  virtual void incAdds() = 0;
  // A delayed or rate-limited re-add was requested (addAfter, addRateLimited).
  virtual void incRetries() = 0;
  // A key was taken by get(): how long it waited since it was added.
  virtual void observeQueueDuration(Clock::duration waited) = 0;
  // A key was marked done(): how long it was processed.
  virtual void observeWorkDuration(Clock::duration worked) = 0;
  // Sum over keys being processed of how long each has been so far, and the longest
  // of them; refreshed on get(), done() and WorkQueue::updateUnfinishedWork().
  virtual void setUnfinishedWork(Clock::duration total) = 0;
  virtual void setLongestRunning(Clock::duration longest) = 0;
};

class NoopQueueMetrics final : public QueueMetrics {
 public:
  void setDepth(std::int64_t) override {}
  void incAdds() override {}
  void incRetries() override {}
  void observeQueueDuration(Clock::duration) override {}
  void observeWorkDuration(Clock::duration) override {}
  void setUnfinishedWork(Clock::duration) override {}
  void setLongestRunning(Clock::duration) override {}

  // A shared instance for queues built without metrics (stateless, so sharing is safe).
  static NoopQueueMetrics& instance() {
    static NoopQueueMetrics metrics;
    return metrics;
  }
};

}  // namespace saguard::queue
