#include "queue/work_queue.h"

#include <algorithm>
#include <utility>

namespace saguard::queue {

namespace {

// get() never sleeps longer than this without looking at the clock again, so a
// delayed key is released even if its wake-up was missed or the clock jumped.
constexpr Clock::duration kMaxWait = std::chrono::seconds(10);

}  // namespace

WorkQueue::WorkQueue(const Clock& clock, WorkQueueOptions options)
    : clock_(clock),
      rateLimiter_(options.rateLimiter ? std::move(options.rateLimiter)
                                       : defaultControllerRateLimiter(clock)),
      metrics_(options.metrics ? *options.metrics : NoopQueueMetrics::instance()) {}

bool WorkQueue::addLocked(const std::string& key, Clock::time_point now) {
  if (shuttingDown_) return false;
  if (dirty_.contains(key)) return false;  // already waiting to be taken
  metrics_.incAdds();
  dirty_.emplace(key, now);
  metrics_.setDepth(static_cast<std::int64_t>(dirty_.size()));
  // In flight: done(key) queues it, so no second worker can take it meanwhile.
  if (processing_.contains(key)) return false;
  queue_.push_back(key);
  return true;
}

void WorkQueue::add(const std::string& key) {
  const Clock::time_point now = clock_.now();
  std::lock_guard lock(mu_);
  if (addLocked(key, now)) ready_.notify_one();
}

void WorkQueue::addAfter(const std::string& key, Clock::duration delay) {
  const Clock::time_point now = clock_.now();
  std::lock_guard lock(mu_);
  if (shuttingDown_) return;
  metrics_.incRetries();
  if (delay <= Clock::duration::zero()) {
    if (addLocked(key, now)) ready_.notify_one();
    return;
  }
  // Saturate instead of overflowing on absurd delays.
  const Clock::time_point readyAt =
      delay >= Clock::time_point::max() - now ? Clock::time_point::max() : now + delay;
  if (auto found = waitingIndex_.find(key); found != waitingIndex_.end()) {
    if (found->second->first <= readyAt) return;  // the earlier time wins
    waiting_.erase(found->second);
    found->second = waiting_.emplace(readyAt, key);
  } else {
    waitingIndex_.emplace(key, waiting_.emplace(readyAt, key));
  }
  // A waiting get() may be sleeping until a later key; let it recompute its wake-up.
  ready_.notify_one();
}

void WorkQueue::addRateLimited(const std::string& key) {
  // A failure after shutdown is not recorded: the key will not be retried anyway.
  if (shuttingDown()) return;
  // Asked outside the queue lock: the limiter has its own.
  addAfter(key, rateLimiter_->when(key));
}

void WorkQueue::addRateLimited(const std::string& key, Clock::duration atLeast) {
  if (shuttingDown()) return;
  addAfter(key, std::max(rateLimiter_->when(key), atLeast));
}

void WorkQueue::forget(const std::string& key) {
  rateLimiter_->forget(key);
}

int WorkQueue::numRequeues(const std::string& key) {
  return rateLimiter_->numRequeues(key);
}

std::size_t WorkQueue::releaseReadyLocked(Clock::time_point now) {
  std::size_t released = 0;
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    auto node = waiting_.extract(waiting_.begin());
    waitingIndex_.erase(node.mapped());
    addLocked(node.mapped(), now);
    ++released;
  }
  return released;
}

std::size_t WorkQueue::releaseReady() {
  const Clock::time_point now = clock_.now();
  std::lock_guard lock(mu_);
  const std::size_t released = releaseReadyLocked(now);
  if (released > 0) ready_.notify_all();
  return released;
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock lock(mu_);
  for (;;) {
    const Clock::time_point now = clock_.now();
    if (releaseReadyLocked(now) > 1) ready_.notify_all();  // more than this worker can take
    if (!queue_.empty()) break;
    if (shuttingDown_) return std::nullopt;
    if (waiting_.empty()) {
      ready_.wait(lock);
    } else {
      const Clock::duration untilReady = waiting_.begin()->first - now;
      ready_.wait_for(lock, std::min(untilReady, kMaxWait));
    }
  }
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  const Clock::time_point now = clock_.now();
  if (auto added = dirty_.find(key); added != dirty_.end()) {
    metrics_.observeQueueDuration(now - added->second);
    dirty_.erase(added);
  }
  metrics_.setDepth(static_cast<std::int64_t>(dirty_.size()));
  processing_.emplace(key, now);
  updateUnfinishedWorkLocked(now);
  return key;
}

void WorkQueue::done(const std::string& key) {
  const Clock::time_point now = clock_.now();
  std::lock_guard lock(mu_);
  auto started = processing_.find(key);
  if (started == processing_.end()) return;  // not taken by get(): nothing to finish
  metrics_.observeWorkDuration(now - started->second);
  processing_.erase(started);
  updateUnfinishedWorkLocked(now);
  if (dirty_.contains(key)) {
    // Re-added while in flight: its turn comes now. Queued even during shutdown, as
    // the add was accepted before it; get() hands out what is queued.
    queue_.push_back(key);
    ready_.notify_one();
  }
  if (processing_.empty()) drained_.notify_all();
}

void WorkQueue::shutDown() {
  std::lock_guard lock(mu_);
  shuttingDown_ = true;
  drain_ = false;
  waiting_.clear();
  waitingIndex_.clear();
  ready_.notify_all();
  drained_.notify_all();
}

void WorkQueue::shutDownWithDrain() {
  std::unique_lock lock(mu_);
  shuttingDown_ = true;
  drain_ = true;
  waiting_.clear();
  waitingIndex_.clear();
  ready_.notify_all();
  drained_.wait(lock, [this] { return processing_.empty() || !drain_; });
}

bool WorkQueue::shuttingDown() const {
  std::lock_guard lock(mu_);
  return shuttingDown_;
}

void WorkQueue::updateUnfinishedWorkLocked(Clock::time_point now) {
  Clock::duration total = Clock::duration::zero();
  Clock::duration longest = Clock::duration::zero();
  for (const auto& [key, started] : processing_) {
    const Clock::duration running = now - started;
    total += running;
    longest = std::max(longest, running);
  }
  metrics_.setUnfinishedWork(total);
  metrics_.setLongestRunning(longest);
}

void WorkQueue::updateUnfinishedWork() {
  const Clock::time_point now = clock_.now();
  std::lock_guard lock(mu_);
  updateUnfinishedWorkLocked(now);
}

std::size_t WorkQueue::len() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

std::size_t WorkQueue::inFlight() const {
  std::lock_guard lock(mu_);
  return processing_.size();
}

std::size_t WorkQueue::waiting() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

}  // namespace saguard::queue
