// The event recorder: how the reconciler tells people what saguard did and found,
// as events.k8s.io/v1 Events (reportingController saguard.io/controller).
//
//   ClientEventSink sink(client);
//   auto recorder = makeRecorder(sink, SteadyClock::instance(), {.reportingInstance = podName + "-"
//   + id});
//   (*recorder)->emit(refTo(account), Reason::AutomountDisabled, "set automountServiceAccountToken
//   to false");
//
// emit() never waits for the API server. It checks the call, stamps the occurrence
// with the injected clock and the wall clock, and puts it on a bounded queue; when the
// queue is full the oldest occurrence is dropped (and counted). One writer thread takes
// occurrences in order, runs the correlator (correlator.h: spam filter, then series:
// create a new Event or patch the series of an earlier one) and writes through the
// EventSink, retrying what may succeed later (throttled, unavailable, timed out, no
// answer) with exponential backoff a few times before it gives up with a log line.
// An Event whose name is taken is retried under a new name; a series patch that finds
// its Event gone (expired) re-creates it with the series, as client-go does.
//
// Time: series windows and the spam filter use the times emit() recorded on the
// injected Clock, so tests drive them with a FakeClock; eventTime and
// series.lastObservedTime come from the wall clock (RecorderOptions::wallClock). The
// backoff between retries and the bounds of flush() and shutdown() are real waits.
//
// Counters: every occurrence ends as exactly one of created, patched, failed,
// droppedQueueFull, spamFiltered or droppedAtShutdown (stats(), and the EventMetrics
// hook that metrics/ implements).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "base/clock.h"
#include "base/result.h"
#include "events/correlator.h"
#include "events/detail/drop_oldest_queue.h"
#include "events/event.h"
#include "events/sink.h"
#include "events/vocabulary.h"

namespace saguard::events {

// What the reconciler depends on: an Event emitter (FakeEventRecorder in
// tests/support/fake_recorder.h is the one for tests).
class EventRecorder {
 public:
  virtual ~EventRecorder() = default;

  // Reports that `reason` happened to `regarding` (refTo()/policyRef() build it), with
  // `note`, a sentence for people (cut to the API's 1 KiB). `related` names a second
  // object the Event concerns (the account a binding grants, say). Does not block on
  // the API and is safe from any thread. Invalid, with nothing queued, when the call is
  // wrong (validateRegarding()); Ok otherwise, including when the occurrence is later
  // dropped (queue full, spam, shut down: counted, not an error of the caller's).
  virtual Status emit(const ObjectRef& regarding, Reason reason, std::string note,
                      const std::optional<ObjectRef>& related = std::nullopt) = 0;
};

enum class DropCause : std::uint8_t { QueueFull, SpamFiltered, ShutDown };
const char* toString(DropCause cause);

enum class Write : std::uint8_t { Created, SeriesPatched };
const char* toString(Write write);

// The metrics hook: called from the writer thread, and from emitting threads for
// QueueFull and ShutDown drops, so possibly from several threads at once; never with
// the recorder's lock held. Must be thread-safe, quick, and must not throw.
class EventMetrics {
 public:
  virtual ~EventMetrics() = default;
  // An Event was written. The type is typeOf(reason).
  virtual void onWritten(Reason reason, EventType type, Write write) = 0;
  // An occurrence was dropped without a write.
  virtual void onDropped(Reason reason, EventType type, DropCause cause) = 0;
  // A write failed for good: refused by the API, or still failing after the retries.
  virtual void onFailed(Reason reason, EventType type, ErrorKind kind) = 0;
};

class NoopEventMetrics final : public EventMetrics {
 public:
  void onWritten(Reason, EventType, Write) override {}
  void onDropped(Reason, EventType, DropCause) override {}
  void onFailed(Reason, EventType, ErrorKind) override {}
  static NoopEventMetrics& instance();
};

using WallClock = std::function<WallTime()>;

struct RecorderOptions {
  // Required: who reports, e.g. the pod name, or the host name plus an id; at most
  // 128 bytes (the API's limit).
  std::string reportingInstance;
  // Occurrences waiting for the writer; at least 1. client-go queues 1000. Events about
  // saguard's own writes (vocabulary.h's isAboutOwnAction) are written before reports
  // and dropped after them when the queue is full.
  std::size_t queueCapacity = 1000;
  // The writer's pace: at most writesPerSecond requests (creates and series patches), in
  // bursts of up to writeBurst; 0 = as fast as the API server answers. Events are the
  // least urgent of saguard's writes: at its first sync of a large cluster the reports
  // would otherwise arrive as a burst of a thousand POSTs beside the patches (client-go's
  // clients pace every request the same way: 5 per second by default, 20 in
  // controller-runtime). saguard run sets 25 and 100 (main.cpp).
  double writesPerSecond = 0;
  int writeBurst = 100;
  // Series window, cache sizes and spam filter (client-go's values by default).
  CorrelatorOptions correlator;
  // Attempts per write, the first included; at least 1. Retried: TooManyRequests,
  // Unavailable, Timeout, Transport, Conflict; AlreadyExists retries under a new name.
  int maxAttempts = 4;
  // Wait before the first retry, doubled for each next one, at most maxRetryBackoff
  // (a longer Retry-After from the server is honoured up to maxRetryBackoff).
  std::chrono::milliseconds retryBackoff{500};
  std::chrono::milliseconds maxRetryBackoff{std::chrono::seconds(8)};
  // How long the destructor lets the writer flush what is queued.
  std::chrono::milliseconds shutdownTimeout{std::chrono::seconds(5)};
  // Source of eventTime and lastObservedTime. Default: std::chrono::system_clock::now.
  WallClock wallClock;
  // Not owned; must outlive the recorder. Default (null): nowhere.
  EventMetrics* metrics = nullptr;

  // Ok, or Invalid naming the first field that is wrong ("RecorderOptions.reportingInstance: ...").
  Status validate() const;
};

struct RecorderStats {
  std::uint64_t emitted = 0;  // accepted by emit()
  std::uint64_t created = 0;  // Events created
  std::uint64_t patched = 0;  // series patches written
  std::uint64_t failed = 0;   // writes given up
  std::uint64_t retries = 0;  // attempts after the first
  std::uint64_t droppedQueueFull = 0;
  std::uint64_t spamFiltered = 0;
  std::uint64_t droppedAtShutdown = 0;  // queued when shutdown ran out of time, or emitted after
  std::size_t queued = 0;               // waiting now
  std::size_t seriesTracked = 0;        // series in the correlator's cache
  std::size_t objectsTracked = 0;       // spam buckets in the correlator's cache
};

class QueuedEventRecorder final : public EventRecorder {
 public:
  // Use makeRecorder(), which validates the options first. `sink` and `clock` must
  // outlive the recorder. Starts the writer thread.
  QueuedEventRecorder(EventSink& sink, const Clock& clock, RecorderOptions options);
  // shutdown(options.shutdownTimeout).
  ~QueuedEventRecorder() override;
  QueuedEventRecorder(const QueuedEventRecorder&) = delete;
  QueuedEventRecorder& operator=(const QueuedEventRecorder&) = delete;

  Status emit(const ObjectRef& regarding, Reason reason, std::string note,
              const std::optional<ObjectRef>& related = std::nullopt) override;

  // Waits until everything emitted before the call has been written or dropped (the
  // queue is empty and the writer idle). False when `timeout` passed first.
  bool flush(std::chrono::milliseconds timeout);

  // Stops taking occurrences (later emits are dropped and counted), lets the writer
  // work through the queue for at most `timeout`, then drops what is left, cuts short
  // any retry backoff, and joins the writer (a request in flight finishes first: its
  // time is bounded by the sink's request timeout). Idempotent.
  void shutdown(std::chrono::milliseconds timeout);

  RecorderStats stats() const;

 private:
  // How a write ended: `error` when it gave up; `asCreate` when the last request was
  // a create (so a failure leaves no Event behind for the series).
  struct WriteOutcome {
    std::optional<Error> error;
    bool asCreate = false;
  };

  void run();
  void process(const Occurrence& occurrence);
  // Writes one decision, with retries.
  WriteOutcome write(const Occurrence& occurrence, Decision& decision);
  // Waits `delay` unless the shutdown deadline passes first; false when cut short.
  bool backoff(std::chrono::milliseconds delay);
  // Takes one write from the pace's bucket (writesPerSecond), waiting for it; false when
  // shutdown ran out of time meanwhile. Called with mu_ held through `lock`.
  bool pace(std::unique_lock<std::mutex>& lock);
  Event makeEvent(const Occurrence& occurrence, const Decision& decision) const;

  EventSink& sink_;
  const Clock& clock_;
  const RecorderOptions options_;
  EventMetrics& metrics_;
  WallClock wallClock_;

  mutable std::mutex mu_;
  std::condition_variable wake_;  // an item was queued, or shutdown began or ran out of time
  std::condition_variable idle_;  // the queue is empty and the writer idle, or it exited
  detail::DropOldestQueue<Occurrence> queue_;
  bool busy_ = false;      // the writer holds an occurrence
  bool stopping_ = false;  // shutdown began: no new occurrences
  bool abort_ = false;     // shutdown ran out of time: drop the rest, no more backoff
  bool exited_ = false;    // the writer thread returned
  double tokens_ = 0;      // the pace's bucket (writer only, under mu_)
  std::optional<Clock::time_point> paced_;  // when tokens_ was last brought up to date
  std::mutex joinMu_;                       // one joiner at a time
  std::thread writer_;

  // Touched by the writer only, and by stats() under correlatorMu_.
  mutable std::mutex correlatorMu_;
  Correlator correlator_;

  std::atomic<std::uint64_t> emitted_{0}, created_{0}, patched_{0}, failed_{0}, retries_{0},
      droppedQueueFull_{0}, spamFiltered_{0}, droppedAtShutdown_{0};
};

// A started recorder, or Invalid when `options` are not valid (the message names the field).
Result<std::unique_ptr<QueuedEventRecorder>> makeRecorder(EventSink& sink, const Clock& clock,
                                                          RecorderOptions options);

}  // namespace saguard::events
