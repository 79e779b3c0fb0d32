#include "events/recorder.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace saguard::events {
namespace {

bool isPowerOfTen(std::uint64_t n) {
  while (n >= 10 && n % 10 == 0) n /= 10;
  return n == 1;
}

std::string describeRef(const ObjectRef& ref) {
  return ref.kind + " " + (ref.namespace_.empty() ? ref.name : ref.namespace_ + "/" + ref.name);
}

}  // namespace

const char* toString(DropCause cause) {
  switch (cause) {
    case DropCause::QueueFull:
      return "QueueFull";
    case DropCause::SpamFiltered:
      return "SpamFiltered";
    case DropCause::ShutDown:
      return "ShutDown";
  }
  return "Unknown";
}

const char* toString(Write write) {
  return write == Write::Created ? "Created" : "SeriesPatched";
}

NoopEventMetrics& NoopEventMetrics::instance() {
  static NoopEventMetrics metrics;
  return metrics;
}

Status RecorderOptions::validate() const {
  auto invalid = [](const std::string& what) {
    return makeError(ErrorKind::Invalid, "RecorderOptions." + what);
  };
  if (reportingInstance.empty()) {
    return invalid(
        "reportingInstance: must not be empty (use the pod name, or the host name plus an id)");
  }
  if (reportingInstance.size() > kMaxReportingInstanceBytes) {
    return invalid("reportingInstance: is " + std::to_string(reportingInstance.size()) +
                   " bytes, at most " + std::to_string(kMaxReportingInstanceBytes) +
                   " are allowed");
  }
  if (queueCapacity == 0) return invalid("queueCapacity: must be at least 1");
  if (maxAttempts < 1) return invalid("maxAttempts: must be at least 1");
  if (retryBackoff.count() < 0) return invalid("retryBackoff: must not be negative");
  if (maxRetryBackoff < retryBackoff)
    return invalid("maxRetryBackoff: must not be less than retryBackoff");
  if (shutdownTimeout.count() < 0) return invalid("shutdownTimeout: must not be negative");
  if (!(writesPerSecond >= 0)) return invalid("writesPerSecond: must not be negative");
  if (writeBurst < 1) return invalid("writeBurst: must be at least 1");
  return correlator.validate("RecorderOptions.correlator.");
}

QueuedEventRecorder::QueuedEventRecorder(EventSink& sink, const Clock& clock,
                                         RecorderOptions options)
    : sink_(sink),
      clock_(clock),
      options_(std::move(options)),
      metrics_(options_.metrics != nullptr ? *options_.metrics : NoopEventMetrics::instance()),
      wallClock_(options_.wallClock ? options_.wallClock
                                    : WallClock([] { return std::chrono::system_clock::now(); })),
      queue_(options_.queueCapacity),
      correlator_(options_.correlator) {
  writer_ = std::thread([this] { run(); });
}

QueuedEventRecorder::~QueuedEventRecorder() {
  shutdown(options_.shutdownTimeout);
}

Status QueuedEventRecorder::emit(const ObjectRef& regarding, Reason reason, std::string note,
                                 const std::optional<ObjectRef>& related) {
  if (Status valid = validateRegarding(reason, regarding); !valid.ok()) return valid;
  if (related && (related->apiVersion.empty() || related->kind.empty() || related->name.empty())) {
    return makeError(ErrorKind::Invalid, std::string("event ") + toString(reason) + " about " +
                                             describeRef(regarding) +
                                             ": related needs apiVersion, kind and name");
  }
  Occurrence occurrence{regarding, related, reason, truncateNote(std::move(note)), {}, {}};
  std::optional<Occurrence> dropped;
  bool closed = false;
  {
    std::lock_guard lock(mu_);
    // Stamped under the lock, so queue order is time order.
    occurrence.at = clock_.now();
    occurrence.wallTime = wallClock_();
    closed = stopping_;
    if (!closed) {
      const auto lane = isAboutOwnAction(reason) ? decltype(queue_)::Lane::First
                                                 : decltype(queue_)::Lane::Routine;
      dropped = queue_.push(std::move(occurrence), lane);
    }
  }
  ++emitted_;
  EventType type = typeOf(reason);
  if (closed) {
    ++droppedAtShutdown_;
    metrics_.onDropped(reason, type, DropCause::ShutDown);
    return Status::Ok();
  }
  wake_.notify_one();
  if (dropped) {
    std::uint64_t drops = ++droppedQueueFull_;
    metrics_.onDropped(dropped->reason, typeOf(dropped->reason), DropCause::QueueFull);
    if (isPowerOfTen(drops)) {
      spdlog::warn(
          "event queue full ({} waiting): dropped the oldest event ({} about {}); {} dropped so "
          "far",
          options_.queueCapacity, toString(dropped->reason), describeRef(dropped->regarding),
          drops);
    }
  }
  return Status::Ok();
}

bool QueuedEventRecorder::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return idle_.wait_for(lock, timeout, [&] { return (queue_.empty() && !busy_) || exited_; });
}

void QueuedEventRecorder::shutdown(std::chrono::milliseconds timeout) {
  {
    std::unique_lock lock(mu_);
    stopping_ = true;
    wake_.notify_all();
    if (!idle_.wait_for(lock, timeout, [&] { return exited_; })) {
      abort_ = true;
      wake_.notify_all();
    }
  }
  std::lock_guard join(joinMu_);
  if (writer_.joinable()) writer_.join();
}

RecorderStats QueuedEventRecorder::stats() const {
  RecorderStats stats;
  stats.emitted = emitted_.load();
  stats.created = created_.load();
  stats.patched = patched_.load();
  stats.failed = failed_.load();
  stats.retries = retries_.load();
  stats.droppedQueueFull = droppedQueueFull_.load();
  stats.spamFiltered = spamFiltered_.load();
  stats.droppedAtShutdown = droppedAtShutdown_.load();
  {
    std::lock_guard lock(mu_);
    stats.queued = queue_.size();
  }
  std::lock_guard lock(correlatorMu_);
  stats.seriesTracked = correlator_.seriesTracked();
  stats.objectsTracked = correlator_.objectsTracked();
  return stats;
}

void QueuedEventRecorder::run() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (abort_) break;
    if (queue_.empty()) break;  // stopping, and nothing left
    if (!pace(lock)) break;
    std::optional<Occurrence> next = queue_.pop();  // after the wait: what is first now
    if (!next) break;
    busy_ = true;
    lock.unlock();
    process(*next);
    lock.lock();
    busy_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
  // Out of time: what is still queued is dropped.
  std::vector<Reason> dropped;
  while (auto left = queue_.pop()) dropped.push_back(left->reason);
  exited_ = true;
  idle_.notify_all();
  lock.unlock();
  for (Reason reason : dropped) {
    ++droppedAtShutdown_;
    metrics_.onDropped(reason, typeOf(reason), DropCause::ShutDown);
  }
  if (!dropped.empty())
    spdlog::warn("event recorder shut down with {} events not written", dropped.size());
}

bool QueuedEventRecorder::pace(std::unique_lock<std::mutex>& lock) {
  if (options_.writesPerSecond <= 0) return true;
  const double burst = options_.writeBurst;
  while (!abort_) {
    const Clock::time_point now = clock_.now();
    if (!paced_) {
      tokens_ = burst;  // a full bucket to start with
    } else {
      const double earned =
          std::chrono::duration<double>(now - *paced_).count() * options_.writesPerSecond;
      tokens_ = std::min(burst, tokens_ + earned);
    }
    paced_ = now;
    if (tokens_ >= 1) {
      tokens_ -= 1;
      return true;
    }
    // Real time, re-checked at least every 100 ms (an injected clock may move otherwise).
    const auto wait = std::chrono::duration<double>((1 - tokens_) / options_.writesPerSecond);
    wake_.wait_for(lock,
                   std::min<std::chrono::duration<double>>(wait, std::chrono::milliseconds(100)));
  }
  return false;
}

void QueuedEventRecorder::process(const Occurrence& occurrence) {
  const Reason reason = occurrence.reason;
  const EventType type = typeOf(reason);
  Decision decision;
  {
    std::lock_guard lock(correlatorMu_);
    decision = correlator_.observe(occurrence);
  }
  if (decision.verdict == Verdict::Filtered) {
    ++spamFiltered_;
    metrics_.onDropped(reason, type, DropCause::SpamFiltered);
    spdlog::debug("event {} about {} filtered: too many events about the object", toString(reason),
                  describeRef(occurrence.regarding));
    return;
  }
  WriteOutcome outcome = write(occurrence, decision);
  if (!outcome.error) {
    ++(outcome.asCreate ? created_ : patched_);
    metrics_.onWritten(reason, type, outcome.asCreate ? Write::Created : Write::SeriesPatched);
    return;
  }
  if (outcome.asCreate) {
    std::lock_guard lock(correlatorMu_);
    correlator_.forget(decision.key);
  }
  ++failed_;
  metrics_.onFailed(reason, type, outcome.error->kind);
  spdlog::warn("dropping event {} about {} (Event {}/{}): {}", toString(reason),
               describeRef(occurrence.regarding), decision.eventNamespace, decision.eventName,
               outcome.error->describe());
}

QueuedEventRecorder::WriteOutcome QueuedEventRecorder::write(const Occurrence& occurrence,
                                                             Decision& decision) {
  WriteOutcome outcome;
  outcome.asCreate = decision.verdict == Verdict::Create;
  bool recreated = false;
  int attempt = 1;
  while (true) {
    Status status = outcome.asCreate ? sink_.create(makeEvent(occurrence, decision))
                                     : sink_.patchSeries(decision.eventNamespace,
                                                         decision.eventName, *decision.series);
    if (status.ok()) {
      outcome.error.reset();
      return outcome;
    }
    outcome.error = status.error();
    bool renamed = false;
    if (!outcome.asCreate && status.is(ErrorKind::NotFound) && !recreated) {
      // The Event expired or was deleted while its series went on: create it again,
      // series included, under a new name. A different request, not a retry.
      recreated = true;
      outcome.asCreate = true;
      std::lock_guard lock(correlatorMu_);
      decision.eventName =
          correlator_.rename(decision.key, occurrence.regarding.name, occurrence.wallTime);
      continue;
    }
    if (outcome.asCreate && status.is(ErrorKind::AlreadyExists)) {
      // Another writer (another replica, say) took the name: try a new one at once.
      std::lock_guard lock(correlatorMu_);
      decision.eventName =
          correlator_.rename(decision.key, occurrence.regarding.name, occurrence.wallTime);
      renamed = true;
    } else if (!status.error().retriable()) {
      return outcome;
    }
    if (attempt >= options_.maxAttempts) return outcome;
    ++attempt;
    ++retries_;
    if (renamed) continue;
    std::chrono::milliseconds delay = options_.retryBackoff * (1 << std::min(attempt - 2, 20));
    if (status.error().retryAfter) {
      delay = std::max(
          delay, std::chrono::duration_cast<std::chrono::milliseconds>(*status.error().retryAfter));
    }
    delay = std::min(delay, options_.maxRetryBackoff);
    spdlog::debug("event {} about {}: {}; retrying in {} ms", toString(occurrence.reason),
                  describeRef(occurrence.regarding), status.error().describe(), delay.count());
    if (!backoff(delay)) return outcome;
  }
}

bool QueuedEventRecorder::backoff(std::chrono::milliseconds delay) {
  std::unique_lock lock(mu_);
  return !wake_.wait_for(lock, delay, [&] { return abort_; });
}

Event QueuedEventRecorder::makeEvent(const Occurrence& occurrence, const Decision& decision) const {
  const ReasonSpec& spec = specOf(occurrence.reason);
  Event event;
  event.namespace_ = decision.eventNamespace;
  event.name = decision.eventName;
  event.eventTime = decision.eventTime;
  event.series = decision.series;  // set only when re-creating an expired series
  event.reportingInstance = options_.reportingInstance;
  event.action = std::string(spec.action);
  event.reason = toString(occurrence.reason);
  event.note = occurrence.note;
  event.type = spec.type;
  event.regarding = occurrence.regarding;
  event.related = occurrence.related;
  return event;
}

Result<std::unique_ptr<QueuedEventRecorder>> makeRecorder(EventSink& sink, const Clock& clock,
                                                          RecorderOptions options) {
  if (Status valid = options.validate(); !valid.ok()) return valid.error();
  return std::make_unique<QueuedEventRecorder>(sink, clock, std::move(options));
}

}  // namespace saguard::events
