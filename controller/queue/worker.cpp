#include "queue/worker.h"

#include <exception>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace saguard::queue {

const char* toString(WorkResult result) {
  switch (result) {
    case WorkResult::Success:
      return "success";
    case WorkResult::RequeueAfter:
      return "requeue_after";
    case WorkResult::Error:
      return "error";
    case WorkResult::TerminalError:
      return "terminal_error";
  }
  return "unknown";
}

namespace {

Outcome runGuarded(const WorkFn& fn, const std::string& key) {
  try {
    return fn(key);
  } catch (const std::exception& e) {
    return Outcome::error(
        makeError(ErrorKind::Internal, std::string("work function threw: ") + e.what()));
  } catch (...) {
    return Outcome::error(makeError(ErrorKind::Internal, "work function threw a non-exception"));
  }
}

}  // namespace

bool processNextItem(WorkQueue& queue, const WorkFn& fn, WorkerHooks& hooks) {
  std::optional<std::string> taken = queue.get();
  if (!taken) return false;
  const std::string& key = *taken;

  const Clock::time_point start = queue.clock().now();
  const Outcome outcome = runGuarded(fn, key);
  const Clock::duration took = queue.clock().now() - start;

  switch (outcome.result()) {
    case WorkResult::Success:
      queue.forget(key);
      break;
    case WorkResult::RequeueAfter:
      // A deliberate requeue is not a failure: the backoff starts over.
      queue.forget(key);
      queue.addAfter(key, outcome.after());
      break;
    case WorkResult::Error:
      // A throttled request (429, or 5xx with Retry-After) that the kube client gave back
      // (its retries ran out, or the Retry-After was longer than it waits by itself): the
      // key comes back when the server said, not after the few ms of its own backoff.
      if (const Error* e = outcome.error(); e != nullptr && e->retryAfter) {
        queue.addRateLimited(key, *e->retryAfter);
      } else {
        queue.addRateLimited(key);
      }
      break;
    case WorkResult::TerminalError:
      queue.forget(key);
      break;
  }
  // After the requeue above: a key re-added while in flight is then queued once, by done().
  queue.done(key);
  hooks.onOutcome(key, outcome, took);
  return true;
}

Status runWorkers(WorkQueue& queue, int workers, const WorkFn& fn, WorkerHooks& hooks) {
  if (workers < 1) return makeError(ErrorKind::Invalid, "runWorkers: workers must be >= 1");
  if (!fn) return makeError(ErrorKind::Invalid, "runWorkers: fn must not be empty");
  std::vector<std::jthread> threads;
  threads.reserve(static_cast<std::size_t>(workers));
  auto loop = [&] {
    while (processNextItem(queue, fn, hooks)) {
    }
  };
  try {
    for (int i = 0; i < workers; ++i) threads.emplace_back(loop);
  } catch (const std::system_error& e) {
    // Without its workers the controller cannot run: stop the queue so the workers
    // already started return, and report.
    queue.shutDown();
    threads.clear();
    return makeError(ErrorKind::Internal,
                     std::string("runWorkers: cannot start a thread: ") + e.what());
  }
  threads.clear();  // jthread joins: every worker has seen the shutdown.
  return Status::Ok();
}

}  // namespace saguard::queue
