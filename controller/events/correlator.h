// The event correlator: decides, for each occurrence the recorder takes off its
// queue, whether to create a new Event, bump the series of an earlier one, or drop it
// as spam. Pure logic over an injected time (no I/O, no threads); the recorder
// (recorder.h) runs it on its writer thread and reports the outcome of each write back.
//
// What it follows from client-go (read, not copied):
//   - Series, as tools/events (the events.k8s.io/v1 broadcaster) does: occurrences
//     with the same key are one Event; the first creates it, each repeat sets
//     series.count (2, 3, ...) and series.lastObservedTime. client-go finishes a series
//     6 minutes (finishTime) after its last observation; a repeat after that starts a
//     new Event. Differences: client-go's key is (regarding, related, reason, action,
//     reportingController), and it patches only the first repeat, sending later counts
//     every 30 minutes; saguard's key adds the type and the note (a different message
//     is a different Event, so a note never describes occurrences it does not match)
//     and leaves out regarding.resourceVersion (an object that changes between repeats,
//     as a drifting ServiceAccount does, is still the same object), and every repeat
//     that passes the spam filter patches the count at once (the filter bounds the writes).
//   - The spam filter, as tools/record's EventSourceObjectSpamFilter does: a token
//     bucket per source + object (kind, apiVersion, namespace, name, uid), burst 25,
//     refilled at one token per 5 minutes. An occurrence that finds the bucket empty
//     is dropped, and does not count in any series.
//   - Both caches are LRUs of 4096 entries (client-go's maxLruCacheEntries). A series
//     evicted from the cache ends: its next repeat creates a new Event.
// client-go's aggregation of similar events (same reason, different messages, into
// "(combined from similar events)") is not done: saguard's reasons are few and its
// notes name the object, so there is nothing to combine.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/result.h"
#include "events/detail/lru_map.h"
#include "events/event.h"
#include "events/vocabulary.h"

namespace saguard::events {

struct CorrelatorOptions {
  // A repeat within this long of the series' last observation joins the series.
  Clock::duration seriesWindow = std::chrono::minutes(6);
  // Entries of each cache (series, and spam buckets); at least 1.
  std::size_t cacheSize = 4096;
  // The per-object token bucket: at most spamBurst occurrences at once (at least 1),
  // then one more per spamRefillInterval (more than zero).
  int spamBurst = 25;
  Clock::duration spamRefillInterval = std::chrono::minutes(5);

  // Ok, or Invalid naming the first field out of range: "<prefix>cacheSize: ...".
  Status validate(std::string_view prefix = "CorrelatorOptions.") const;
};

// One occurrence of an Event, as emit() captured it.
struct Occurrence {
  ObjectRef regarding;
  std::optional<ObjectRef> related;
  Reason reason = Reason::AutomountDisabled;
  std::string note;      // already fit for the API (truncateNote())
  Clock::time_point at;  // when it was emitted, on the injected clock
  WallTime wallTime;     // the same moment on the wall clock (eventTime, lastObservedTime)
};

enum class Verdict : std::uint8_t {
  Create,       // write a new Event named eventName
  PatchSeries,  // set `series` on the Event eventName
  Filtered,     // spam: write nothing
};

struct Decision {
  Verdict verdict = Verdict::Filtered;
  std::string key;             // the series key, to report the write's outcome
  std::string eventNamespace;  // eventNamespace(regarding)
  std::string eventName;
  WallTime eventTime;            // when the Event's series began
  std::optional<Series> series;  // PatchSeries only
};

// The identity of a series: regarding (without resourceVersion), related, reason (and
// so type and action), note. The reportingController is the same for every Event.
std::string seriesKey(const Occurrence& occurrence);
// The identity of a spam bucket: the regarding object (without resourceVersion).
std::string spamKey(const ObjectRef& regarding);

class Correlator {
 public:
  // `options` must be valid (CorrelatorOptions::validate()).
  explicit Correlator(CorrelatorOptions options = {});

  // Occurrences must come in the order they were emitted. Filtered when the object's
  // bucket is empty; PatchSeries when a series with the same key was last observed at
  // most seriesWindow ago (its count is bumped); Create otherwise (a new series of one).
  Decision observe(const Occurrence& occurrence);

  // The Event of series `key` could not be created: forget the series, so the next
  // repeat creates an Event again instead of patching one that does not exist.
  void forget(const std::string& key);

  // The series `key` moves to an Event with a new name (the old name was taken, or
  // the Event expired and is re-created); returns that name.
  std::string rename(const std::string& key, std::string_view objectName, WallTime wallTime);

  // eventName(objectName, nanoseconds of wallTime), where the nanoseconds are moved
  // past any this correlator handed out before, so its names never repeat even when
  // the clock does not move.
  std::string newEventName(std::string_view objectName, WallTime wallTime);

  std::size_t seriesTracked() const { return series_.size(); }
  std::size_t objectsTracked() const { return buckets_.size(); }
  std::size_t seriesEvicted() const { return series_.evictions(); }

 private:
  struct SeriesEntry {
    std::string eventNamespace;
    std::string eventName;
    std::int32_t count = 1;
    Clock::time_point lastObserved;
    WallTime eventTime;
  };
  struct Bucket {
    double tokens = 0;
    Clock::time_point last;
  };

  bool admit(const ObjectRef& regarding, Clock::time_point at);

  CorrelatorOptions options_;
  detail::LruMap<std::string, SeriesEntry> series_;
  detail::LruMap<std::string, Bucket> buckets_;
  std::uint64_t lastNanos_ = 0;
};

}  // namespace saguard::events
