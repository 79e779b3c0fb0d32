// The controller worker loop (controller-runtime's processNextWorkItem), over a
// WorkQueue. A work function reconciles one key and says how it went:
//
//   Outcome::done()               success: forget the key's backoff.
//   Outcome::requeueAfter(d)      success, look again later: forget, then addAfter(key, d).
//   Outcome::error(e)             retriable failure: addRateLimited(key) (backoff grows).
//   Outcome::terminalError(e)     failure that retrying cannot fix: forget, no requeue.
//
// Whatever happens, the loop calls done(key), and reports the branch it took to
// WorkerHooks (metrics count reconciles by result, logs print errors). A work
// function that throws counts as error() (exceptions stop here).
//
// Typical use, from a controller's start-up:
//   std::thread workers([&] { (void)runWorkers(queue, 4, reconcileKey, hooks); });
//   ...                       // on stop:
//   queue.shutDownWithDrain(); workers.join();
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "base/clock.h"
#include "base/result.h"
#include "queue/work_queue.h"

namespace saguard::queue {

// Which branch of the worker loop ran; also the `result` label of reconcile metrics.
enum class WorkResult { Success, RequeueAfter, Error, TerminalError };

// "success", "requeue_after", "error", "terminal_error".
const char* toString(WorkResult result);

// Every result, for metrics that start each label set at zero.
inline constexpr std::array<WorkResult, 4> kAllWorkResults = {
    WorkResult::Success, WorkResult::RequeueAfter, WorkResult::Error, WorkResult::TerminalError};

class Outcome {
 public:
  static Outcome done() { return Outcome(WorkResult::Success, {}, std::nullopt); }
  // d <= 0 requeues at once (after forgetting the backoff).
  static Outcome requeueAfter(Clock::duration d) {
    return Outcome(WorkResult::RequeueAfter, d, std::nullopt);
  }
  static Outcome error(Error e) { return Outcome(WorkResult::Error, {}, std::move(e)); }
  static Outcome terminalError(Error e) {
    return Outcome(WorkResult::TerminalError, {}, std::move(e));
  }

  WorkResult result() const { return result_; }
  // For RequeueAfter; zero otherwise.
  Clock::duration after() const { return after_; }
  // For Error and TerminalError; null otherwise.
  const Error* error() const { return error_ ? &*error_ : nullptr; }

 private:
  Outcome(WorkResult result, Clock::duration after, std::optional<Error> error)
      : result_(result), after_(after), error_(std::move(error)) {}

  WorkResult result_;
  Clock::duration after_;
  std::optional<Error> error_;
};

using WorkFn = std::function<Outcome(const std::string& key)>;

// Told about every key a worker finished. Called from worker threads concurrently,
// outside the queue's lock, after the queue was updated: must be thread-safe.
class WorkerHooks {
 public:
  virtual ~WorkerHooks() = default;
  // `took` is how long the work function ran, by the queue's clock.
  virtual void onOutcome(const std::string& key, const Outcome& outcome, Clock::duration took) = 0;
};

class NoopWorkerHooks final : public WorkerHooks {
 public:
  void onOutcome(const std::string&, const Outcome&, Clock::duration) override {}
  static NoopWorkerHooks& instance() {
    static NoopWorkerHooks hooks;
    return hooks;
  }
};

// Takes one key (blocking), runs `fn` on it and applies the outcome. Returns false,
// without calling fn, once the queue is shut down and empty. The queue's clock times the work.
bool processNextItem(WorkQueue& queue, const WorkFn& fn,
                     WorkerHooks& hooks = NoopWorkerHooks::instance());

// Runs `workers` threads of processNextItem until the queue shuts down, and returns
// when all of them have stopped. Invalid (at once) when workers < 1 or fn is empty;
// Internal when a thread cannot be started (the queue is then shut down).
Status runWorkers(WorkQueue& queue, int workers, const WorkFn& fn,
                  WorkerHooks& hooks = NoopWorkerHooks::instance());

}  // namespace saguard::queue
