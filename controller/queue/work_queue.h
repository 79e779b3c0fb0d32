// The controller work queue, with client-go's workqueue semantics, keyed by string
// (a policy name, a "namespace/name"). Event handlers add() keys; workers take them
// with get(), reconcile, and always call done(key).
//
//   - De-duplication: a key added several times before it is taken is taken once.
//   - One worker per key: a key added while it is being processed is marked dirty and
//     queued again only when done(key) is called, so two workers never hold it at once.
//   - Delays: addAfter(key, d) adds the key once d has passed; for a key already
//     waiting, the earlier time wins. addRateLimited(key) waits as the RateLimiter
//     says (by default max(per-key backoff 5 ms..1000 s, 10 qps burst 100));
//     forget(key) resets the key's backoff.
//   - Shutdown: adds are ignored from then on; get() still hands out what is queued
//     and then reports shutdown. shutDownWithDrain() also waits until every key in
//     flight is done(). Keys still waiting for their delay are dropped.
//
// Time comes from the injected Clock. Delayed keys become ready when the clock passes
// their time, at the next releaseReady(): get() calls it while it waits (sleeping on
// the real clock until the earliest delayed key, at most 10 s), and tests that use a
// FakeClock call it after advance() to release the keys deterministically.
//
// Thread-safe. Usually driven by runWorkers() (queue/worker.h).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/clock.h"
#include "queue/queue_metrics.h"
#include "queue/rate_limiter.h"

namespace saguard::queue {

struct WorkQueueOptions {
  // How addRateLimited() spaces retries. Default (null): defaultControllerRateLimiter(clock).
  std::unique_ptr<RateLimiter> rateLimiter;
  // Where the queue reports itself. Default (null): nowhere. Not owned: must outlive the queue.
  QueueMetrics* metrics = nullptr;
};

class WorkQueue {
 public:
  // `clock` must outlive the queue.
  explicit WorkQueue(const Clock& clock, WorkQueueOptions options = {});
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `key` unless it is already waiting to be taken, or the queue is shutting down.
  void add(const std::string& key);
  // Queues `key` once `delay` has passed (at once when delay <= 0). If the key is
  // already waiting for a delay, the earlier of the two times is kept.
  void addAfter(const std::string& key, Clock::duration delay);
  // addAfter(key, rateLimiter.when(key)): called when processing `key` failed.
  void addRateLimited(const std::string& key);
  // The same, but not sooner than `atLeast`: the failure said when to come back (an API
  // server's Retry-After). The failure still counts for the key's backoff.
  void addRateLimited(const std::string& key, Clock::duration atLeast);
  // Called when `key` succeeded (or will not be retried): resets its backoff.
  void forget(const std::string& key);
  // Failed attempts recorded for `key` since its last forget().
  int numRequeues(const std::string& key);

  // Blocks until a key is ready, and hands it to the caller, who then owns it until
  // done(key). Returns nullopt once the queue is shutting down and nothing is queued.
  std::optional<std::string> get();
  // The worker finished `key` (whatever the outcome). If the key was re-added while
  // it was processed, it is queued again now.
  void done(const std::string& key);

  // Stop accepting keys; get() returns nullopt once the queue is empty. Does not wait.
  // Also releases a shutDownWithDrain() that is still waiting.
  void shutDown();
  // shutDown(), then wait until every key taken by get() has been done().
  void shutDownWithDrain();
  bool shuttingDown() const;

  // Moves every delayed key whose time has come into the queue and wakes waiting
  // workers. Returns how many keys were released. get() does this by itself; tests
  // with a FakeClock call it after advancing the clock.
  std::size_t releaseReady();
  // Reports unfinished work and longest running to the metrics. get() and done() do
  // this too; metrics/ calls it periodically so the figures grow while a key is stuck.
  void updateUnfinishedWork();

  // Keys ready to be taken (not those in flight, nor those waiting for a delay).
  std::size_t len() const;
  // Keys taken by get() and not yet done().
  std::size_t inFlight() const;
  // Keys waiting for their delay to pass.
  std::size_t waiting() const;

  const Clock& clock() const { return clock_; }

 private:
  using Waiting = std::multimap<Clock::time_point, std::string>;

  // The *Locked helpers expect mu_ to be held.
  bool addLocked(const std::string& key, Clock::time_point now);
  std::size_t releaseReadyLocked(Clock::time_point now);
  void updateUnfinishedWorkLocked(Clock::time_point now);

  const Clock& clock_;
  const std::unique_ptr<RateLimiter> rateLimiter_;
  QueueMetrics& metrics_;

  mutable std::mutex mu_;
  std::condition_variable ready_;    // a key was queued, or shutdown began
  std::condition_variable drained_;  // nothing in flight any more, or drain cancelled
  std::deque<std::string> queue_;    // keys ready to be taken, in order
  // Keys added and not yet taken, with the time of the add (for queue duration).
  // Every key in queue_ is here; so is a key re-added while it is in flight.
  std::unordered_map<std::string, Clock::time_point> dirty_;
  // Keys taken by get() and not yet done(), with the time they were taken.
  std::unordered_map<std::string, Clock::time_point> processing_;
  // Delayed keys by ready time (equal times keep insertion order), and where each is.
  Waiting waiting_;
  std::unordered_map<std::string, Waiting::iterator> waitingIndex_;
  bool shuttingDown_ = false;
  bool drain_ = false;
};

}  // namespace saguard::queue
