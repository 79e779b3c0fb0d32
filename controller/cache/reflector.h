// A reflector keeps a target (an informer's store) equal to one kind of object on the
// API server, forever, on its own thread:
//
//   1. list the collection page by page (limit 500) and hand the target everything; or,
//      with streamingList, open the watch with sendInitialEvents=true (KEP-3157, served by
//      default since Kubernetes 1.34): the server streams the current objects as ADDED
//      events from its watch cache, then a bookmark annotated k8s.io/initial-events-end,
//      at which the target gets them all as one listing and the same stream goes on as
//      the watch of step 2. No LIST request, and the API server never builds a whole list
//      answer in memory. A server that refuses it (400/422: the WatchList feature off, as
//      1.33 ships) gets list+watch for the rest of the reflector's life;
//   2. watch from the list's resourceVersion, with bookmarks, for a timeoutSeconds drawn
//      at random from [5, 10) minutes so that many reflectors do not reconnect together;
//   3. when a watch ends normally, watch again from the last resourceVersion seen
//      (bookmarks included): nothing is listed again;
//   4. when the server says that resourceVersion is gone (HTTP 410, or an ERROR event
//      with a 410 Status: etcd compacted it or the watch cache dropped it), list again
//      and hand the target the full listing; the target diffs it against what it holds,
//      so an object deleted in the gap yields a delete and a changed one an update;
//   5. on any other failure (transport, 5xx, 429, a watch that ends at once with no
//      event at all), wait with exponential backoff and jitter (backoff.h), then retry
//      the step that failed (a watch resumes from the last resourceVersion).
// A malformed object (a skipped list item, an Invalid watch event) is logged with its
// namespace/name and skipped; it never stops the reflector.
//
//   Reflector<objects::Pod> r(client, codecDecoding<codec::Kind::Pod>(), target,
//                             {.resource = kube::resources::kPods});
//   std::jthread t([&](std::stop_token stop) { r.run(stop); });   // t.request_stop() ends it
//   promptly
//
// run() may be called again after it returned (stop, then start again): it resumes the
// watch from the last resourceVersion instead of listing, and relists only if the
// server says that version is gone. Informer (informer.h) is the usual owner.
//
// Clock, sleeper and randomness are injected (ReflectorOptions) so tests run the whole
// loop on one thread against a scripted kube::Client, without waiting.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "cache/backoff.h"
#include "cache/decoding.h"
#include "codec/length_framer.h"
#include "codec/line_framer.h"
#include "codec/protobuf.h"
#include "kube/client.h"
#include "kube/resource.h"
#include "kube/retry.h"

namespace saguard::cache {

struct ReflectorOptions {
  kube::Resource resource;    // required: what to list and watch
  std::string name;           // for logs; "" = resource.plural
  std::string namespace_;     // "" = all namespaces (and always for cluster-scoped kinds)
  std::string labelSelector;  // server-side filters, for list and watch alike
  std::string fieldSelector;
  std::int64_t pageSize = 500;  // list limit per page, > 0
  // Each watch asks the server to end it after a timeoutSeconds drawn uniformly from
  // [minWatchTimeout, maxWatchTimeout).
  std::chrono::seconds minWatchTimeout{300};
  std::chrono::seconds maxWatchTimeout{600};
  // A watch that ends (without error) sooner than this after it was opened, having
  // received nothing at all (not even a bookmark), counts as a failure: a server or proxy
  // that closes every watch at once would otherwise be hammered in a tight loop.
  std::chrono::milliseconds shortWatch{1000};
  // Initial listing and relists by streaming list (step 1) where the server serves it.
  bool streamingList = false;
  // Watches (streaming lists included) in Kubernetes' protobuf, when the Decoding has a
  // protobufEvent: the API server encodes each event at a fraction of the CPU of JSON
  // (codec/protobuf.h). A server that answers 406 Not Acceptable gets JSON from then on.
  bool protobuf = false;
  BackoffOptions backoff;
  // Injected dependencies; null/empty = the real ones. Not owned: they must outlive the reflector.
  const Clock* clock = nullptr;      // SteadyClock::instance()
  kube::Sleeper* sleeper = nullptr;  // kube::RealSleeper::instance()
  kube::RandomSource random;         // kube::defaultRandomSource(): watch timeouts, jitter
};

// Invalid with the field named ("reflector.pageSize: must be positive").
Status validate(const ReflectorOptions& options);

// Where a reflector puts what it learns. Called on the reflector's thread only.
template <typename R>
class ReflectorTarget {
 public:
  virtual ~ReflectorTarget() = default;
  // A complete listing (the first one, or a relist after Gone): the target's contents
  // become exactly `records`. They come as the shared, immutable records a Store holds,
  // made as each item is decoded: a listing of 100,000 objects is never also held as a
  // vector of values.
  virtual void replace(std::vector<std::shared_ptr<const R>> records) = 0;
  // One watch event: Added, Modified or Deleted (Deleted carries the object's last state).
  virtual void apply(codec::EventType type, R record) = 0;
};

// Counters for tests, logs and metrics. Monotonic over the reflector's life.
struct ReflectorStats {
  std::uint64_t lists = 0;    // complete listings handed to the target
  std::uint64_t relists = 0;  // of which caused by Gone (410)
  std::uint64_t watches = 0;  // watch requests opened
  std::uint64_t events = 0;   // Added/Modified/Deleted applied
  std::uint64_t bookmarks = 0;
  std::uint64_t skipped = 0;         // malformed objects skipped (list items and watch events)
  std::uint64_t failures = 0;        // failures waited out with backoff
  std::optional<Error> lastFailure;  // the most recent of those
  std::vector<std::chrono::milliseconds>
      waits;  // the last backoff waits (at most 32, oldest first)
};

namespace detail {
// Non-template halves of the reflector (logging, option handling), in reflector.cpp.
const std::string& reflectorName(const ReflectorOptions& options);
int drawWatchTimeout(const ReflectorOptions& options, const kube::RandomSource& random);
void logSkippedListItem(const std::string& reflector, const codec::SkippedItem& item);
void logSkippedEvent(const std::string& reflector, const std::string& key, const Error& error);
void logFailure(const std::string& reflector, std::string_view step, const Error& error,
                std::chrono::milliseconds wait);
void logGone(const std::string& reflector, std::string_view resourceVersion, const Error& error);
void logListed(const std::string& reflector, std::size_t count, std::string_view resourceVersion);
void logNoStreamingList(const std::string& reflector, const Error& error);
void logNoProtobuf(const std::string& reflector, const Error& error);

// Runs `f` (which returns a Status); an exception from it (a decoder or a target that
// throws, bad_alloc) becomes an Internal error instead of unwinding through the client.
template <typename F>
Status guarded(std::string_view what, F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    return makeError(ErrorKind::Internal, std::string(what) + ": " + e.what());
  } catch (...) {
    return makeError(ErrorKind::Internal,
                     std::string(what) + ": an exception that is not a std::exception");
  }
}
}  // namespace detail

template <typename R>
class Reflector {
 public:
  // `client` and `target` must outlive the reflector; `options` must pass validate().
  Reflector(kube::Client& client, Decoding<R> decoding, ReflectorTarget<R>& target,
            ReflectorOptions options)
      : client_(client),
        decoding_(std::move(decoding)),
        target_(target),
        options_(std::move(options)),
        name_(detail::reflectorName(options_)),
        clock_(options_.clock != nullptr ? *options_.clock : SteadyClock::instance()),
        sleeper_(options_.sleeper != nullptr ? *options_.sleeper : kube::RealSleeper::instance()),
        random_(options_.random ? options_.random : kube::defaultRandomSource()),
        backoff_(options_.backoff, clock_, random_) {
    if (!decoding_.describe) decoding_.describe = peekObjectKey;
  }
  Reflector(const Reflector&) = delete;
  Reflector& operator=(const Reflector&) = delete;

  // Lists and watches until `stop` is requested; returns promptly then (a watch is
  // closed at once; a list page in flight is finished first). Never throws.
  void run(std::stop_token stop) {
    while (!stop.stop_requested()) {
      try {
        if (!step(stop)) return;
      } catch (const std::exception& e) {
        if (!backOff("loop", makeError(ErrorKind::Internal, e.what()), stop)) return;
      } catch (...) {
        if (!backOff("loop",
                     makeError(ErrorKind::Internal, "an exception that is not a std::exception"),
                     stop)) {
          return;
        }
      }
    }
  }

  // The resourceVersion a watch would resume from: the last list's, or the last event's
  // or bookmark's since. Empty before the first list.
  std::string lastResourceVersion() const {
    std::lock_guard lock(mu_);
    return lastResourceVersion_;
  }

  // True once a complete listing has been handed to the target.
  bool listed() const {
    std::lock_guard lock(mu_);
    return listed_;
  }

  ReflectorStats stats() const {
    std::lock_guard lock(mu_);
    return stats_;
  }

  const std::string& name() const { return name_; }

 private:
  enum class WatchEnd { Normal, Gone, Failed, Stopped, NotAcceptable };

  // One turn of the loop; false when stopping.
  bool step(std::stop_token stop) {
    Error failure;
    WatchEnd end = WatchEnd::Normal;
    if (needList_ && streaming_) {
      end = watchOnce(stop, failure);
      if (end == WatchEnd::Stopped) return false;
      if (end == WatchEnd::NotAcceptable) return true;  // again at once, in JSON
      if (needList_) {  // the stream ended before its listing was complete
        if (failure.kind == ErrorKind::Invalid || failure.kind == ErrorKind::BadRequest) {
          detail::logNoStreamingList(name_, failure);
          streaming_ = false;  // list+watch from now on
          return true;
        }
        if (end == WatchEnd::Normal) {
          failure = makeError(ErrorKind::Unavailable,
                              "the streaming list of " + name_ + " ended before its last object");
        }
        return backOff("streaming list", failure, stop);
      }
      // Listed; the stream then went on as a watch and ended as any watch does.
    } else {
      if (needList_) {
        Status listed = listAndReplace(stop);
        if (stop.stop_requested()) return false;
        if (!listed) return backOff("list", listed.error(), stop);
        needList_ = false;
      }
      end = watchOnce(stop, failure);
    }
    if (progressed_) goneInARow_ = 0;
    switch (end) {
      case WatchEnd::Stopped:
        return false;
      case WatchEnd::Normal:
      case WatchEnd::NotAcceptable:  // again at once, in JSON
        return true;
      case WatchEnd::Gone:
        detail::logGone(name_, lastResourceVersion(), failure);
        needList_ = true;
        relistAfterGone_ = true;
        // A server that answers Gone to the version it just listed would make the
        // reflector relist in a tight loop: a second Gone with no progress in between
        // is backed off.
        if (++goneInARow_ > 1) return backOff("watch", failure, stop);
        return true;
      case WatchEnd::Failed:
        return backOff("watch", failure, stop);
    }
    return true;
  }

  Status listAndReplace(std::stop_token stop) {
    std::vector<std::shared_ptr<const R>> records;
    std::string resourceVersion;
    std::uint64_t skipped = 0;
    codec::ListSink<R> sink;
    sink.onItem = [&](R&& record) {
      records.push_back(std::make_shared<const R>(std::move(record)));
    };
    sink.onSkipped = [&](codec::SkippedItem&& item) {
      ++skipped;
      detail::logSkippedListItem(name_, item);
    };
    kube::ListOptions list;
    list.labelSelector = options_.labelSelector;
    list.fieldSelector = options_.fieldSelector;
    list.limit = options_.pageSize;
    Status st = kube::listPages(client_, options_.resource, options_.namespace_, list,
                                [&](const kube::Page& page) -> Status {
                                  if (stop.stop_requested())
                                    return makeError(ErrorKind::Timeout, "stopped");
                                  // Index 0 starts the listing afresh (also after an expired
                                  // continue token).
                                  if (page.index == 0) {
                                    records.clear();
                                    skipped = 0;
                                  }
                                  Status decoded = detail::guarded("decoding a list page", [&] {
                                    return decoding_.list(page.body, sink);
                                  });
                                  if (!decoded) return decoded;
                                  resourceVersion = page.meta.resourceVersion;
                                  return {};
                                });
    // The page-sized decoding buffers are not needed by the watch that follows.
    if (decoding_.release) decoding_.release();
    {
      std::lock_guard lock(mu_);
      stats_.skipped += skipped;
    }
    if (!st) return st;
    if (resourceVersion.empty()) {
      return makeError(ErrorKind::Internal,
                       "the list of " + name_ + " carries no resourceVersion to watch from");
    }
    const std::size_t count = records.size();
    Status stored = detail::guarded("storing the listing", [&] {
      target_.replace(std::move(records));
      return Status::Ok();
    });
    if (!stored) return stored;
    {
      std::lock_guard lock(mu_);
      lastResourceVersion_ = resourceVersion;
      listed_ = true;
      ++stats_.lists;
      if (relistAfterGone_) ++stats_.relists;
    }
    relistAfterGone_ = false;
    detail::logListed(name_, count, resourceVersion);
    return {};
  }

  WatchEnd watchOnce(std::stop_token stop, Error& failure) {
    kube::WatchOptions watch;
    watch.labelSelector = options_.labelSelector;
    watch.fieldSelector = options_.fieldSelector;
    watch.resourceVersion = lastResourceVersion();
    watch.allowWatchBookmarks = true;  // the streaming list's end is a bookmark too
    initial_.reset();
    if (needList_) {
      // A streaming list: state at least as new as a quorum read now ("" + NotOlderThan).
      watch.resourceVersion.clear();
      watch.sendInitialEvents = true;
      watch.resourceVersionMatch = "NotOlderThan";
      initial_.emplace();
    }
    watch.timeoutSeconds = detail::drawWatchTimeout(options_, random_);
    const bool protobuf = protobuf_;
    if (protobuf) watch.accept = std::string(codec::kProtobufWatchContentType);
    {
      std::lock_guard lock(mu_);
      ++stats_.watches;
    }
    framer_.reset();
    frames_.reset();
    progressed_ = false;
    std::uint64_t received = 0;
    std::optional<Error> ended;  // set by an ERROR event or an undecodable line: ends the stream
    const Clock::time_point opened = clock_.now();
    // Each event, decoded from a JSON line or a protobuf frame; `describe` names its
    // object for the log when it is malformed.
    auto onEvent = [&](auto&& decode, auto&& describe) {
      if (ended) return;  // nothing after an ERROR event counts
      ++received;
      Status handled = detail::guarded("handling a watch event", [&] {
        handleEvent(decode(), describe, ended);
        return Status::Ok();
      });
      if (!handled) ended = handled.error();
    };
    auto onLine = [&](codec::PaddedView line) {
      onEvent([&] { return decoding_.event(line); }, [&] { return decoding_.describe(line); });
    };
    auto onFrame = [&](std::string_view frame) {
      onEvent([&] { return decoding_.protobufEvent(frame); },
              [&] { return decoding_.describeProtobuf ? decoding_.describeProtobuf(frame) : ""; });
    };
    Status st = client_.watch(
        options_.resource, options_.namespace_, watch,
        [&](std::string_view chunk) -> Status {
          Status framed = protobuf ? frames_.feed(chunk, onFrame) : framer_.feed(chunk, onLine);
          if (!framed) return framed;
          if (ended) return *ended;
          return {};
        },
        stop);
    // A partial line left at the end was cut off with the connection; the event is
    // delivered again by the next watch, which resumes before it.
    framer_.reset();
    frames_.reset();
    initial_.reset();  // a streaming list cut short is started again, never half-used
    if (watch.sendInitialEvents && decoding_.release) decoding_.release();
    if (stop.stop_requested()) return WatchEnd::Stopped;
    if (!st) {
      failure = st.error();
      if (protobuf && failure.httpCode == 406) {
        detail::logNoProtobuf(name_, failure);
        protobuf_ = false;
        return WatchEnd::NotAcceptable;
      }
      return st.is(ErrorKind::Gone) ? WatchEnd::Gone : WatchEnd::Failed;
    }
    if (received == 0 && clock_.now() - opened < options_.shortWatch) {
      failure = makeError(ErrorKind::Unavailable,
                          "the watch of " + name_ + " ended at once without any event");
      return WatchEnd::Failed;
    }
    return WatchEnd::Normal;
  }

  template <typename Describe>
  void handleEvent(Result<codec::WatchEvent<R>> event, Describe&& describe,
                   std::optional<Error>& ended) {
    if (!event) {
      if (event.is(ErrorKind::Invalid)) {
        detail::logSkippedEvent(name_, describe(), event.error());
        std::lock_guard lock(mu_);
        ++stats_.skipped;
        return;
      }
      ended = event.error();
      return;
    }
    if (initial_) {
      streamInitial(*event, ended);
      return;
    }
    switch (event->type) {
      case codec::EventType::Added:
      case codec::EventType::Modified:
      case codec::EventType::Deleted: {
        std::string resourceVersion = std::move(event->resourceVersion);
        target_.apply(event->type, std::move(event->object));
        progressed_ = true;
        std::lock_guard lock(mu_);
        if (!resourceVersion.empty()) lastResourceVersion_ = std::move(resourceVersion);
        ++stats_.events;
        return;
      }
      case codec::EventType::Bookmark: {
        progressed_ = true;
        std::lock_guard lock(mu_);
        if (!event->resourceVersion.empty())
          lastResourceVersion_ = std::move(event->resourceVersion);
        ++stats_.bookmarks;
        return;
      }
      case codec::EventType::Error:
        ended = event->error ? *event->error
                             : makeError(ErrorKind::Internal,
                                         "a watch ERROR event of " + name_ + " without a Status");
        return;
    }
  }

  // An event of a streaming list before its end: ADDED objects are gathered; the bookmark
  // annotated initial-events-end hands them to the target as one listing.
  void streamInitial(codec::WatchEvent<R>& event, std::optional<Error>& ended) {
    switch (event.type) {
      case codec::EventType::Added:
        initial_->push_back(std::make_shared<const R>(std::move(event.object)));
        return;
      case codec::EventType::Bookmark: {
        if (!event.initialEventsEnd) return;  // a progress bookmark inside the stream
        if (event.resourceVersion.empty()) {
          ended =
              makeError(ErrorKind::Internal, "the streaming list of " + name_ +
                                                 " ended with no resourceVersion to go on from");
          return;
        }
        const std::size_t count = initial_->size();
        target_.replace(std::move(*initial_));
        initial_.reset();
        needList_ = false;
        progressed_ = true;
        {
          std::lock_guard lock(mu_);
          lastResourceVersion_ = event.resourceVersion;
          listed_ = true;
          ++stats_.lists;
          if (relistAfterGone_) ++stats_.relists;
        }
        relistAfterGone_ = false;
        detail::logListed(name_, count, event.resourceVersion);
        return;
      }
      case codec::EventType::Error:
        ended = event.error ? *event.error
                            : makeError(ErrorKind::Internal,
                                        "a watch ERROR event of " + name_ + " without a Status");
        return;
      case codec::EventType::Modified:
      case codec::EventType::Deleted:
        ended = makeError(ErrorKind::Internal, "the streaming list of " + name_ + " sent " +
                                                   codec::toString(event.type) +
                                                   " before its last object");
        return;
    }
  }

  // Waits out a failure; false when stopped meanwhile.
  bool backOff(std::string_view step, const Error& error, std::stop_token stop) {
    std::chrono::milliseconds wait = backoff_.next();
    if (error.retryAfter && *error.retryAfter > wait) wait = *error.retryAfter;
    {
      std::lock_guard lock(mu_);
      ++stats_.failures;
      stats_.lastFailure = error;
      if (stats_.waits.size() == 32) stats_.waits.erase(stats_.waits.begin());
      stats_.waits.push_back(wait);
    }
    detail::logFailure(name_, step, error, wait);
    return sleeper_.sleepFor(wait, stop) && !stop.stop_requested();
  }

  kube::Client& client_;
  Decoding<R> decoding_;
  ReflectorTarget<R>& target_;
  const ReflectorOptions options_;
  const std::string name_;
  const Clock& clock_;
  kube::Sleeper& sleeper_;
  const kube::RandomSource random_;
  ExponentialBackoff backoff_;
  codec::LineFramer framer_;    // JSON watches
  codec::LengthFramer frames_;  // protobuf watches

  // Only the run() thread touches these.
  bool needList_ = true;
  bool streaming_ = options_.streamingList;  // false once the server refused a streaming list
  // Watches in protobuf; false once the server refused it (406).
  bool protobuf_ = options_.protobuf && static_cast<bool>(decoding_.protobufEvent);
  // While a streaming list runs: the objects so far.
  std::optional<std::vector<std::shared_ptr<const R>>> initial_;
  bool relistAfterGone_ = false;
  int goneInARow_ = 0;
  bool progressed_ = false;  // the last watch applied an event or a bookmark

  mutable std::mutex mu_;  // guards what other threads read
  std::string lastResourceVersion_;
  bool listed_ = false;
  ReflectorStats stats_;
};

}  // namespace saguard::cache
