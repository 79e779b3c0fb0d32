#include "events/correlator.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace saguard::events {
namespace {

// Names, namespaces and UIDs never contain NUL, so it separates fields unambiguously.
void appendField(std::string& key, std::string_view field) {
  key.append(field);
  key.push_back('\0');
}

void appendRef(std::string& key, const ObjectRef& ref) {
  appendField(key, ref.apiVersion);
  appendField(key, ref.kind);
  appendField(key, ref.namespace_);
  appendField(key, ref.name);
  appendField(key, ref.uid);
}

}  // namespace

Status CorrelatorOptions::validate(std::string_view prefix) const {
  auto invalid = [&](const char* what) {
    return makeError(ErrorKind::Invalid, std::string(prefix) + what);
  };
  if (seriesWindow <= Clock::duration::zero())
    return invalid("seriesWindow: must be more than zero");
  if (cacheSize == 0) return invalid("cacheSize: must be at least 1");
  if (spamBurst < 1) return invalid("spamBurst: must be at least 1");
  if (spamRefillInterval <= Clock::duration::zero())
    return invalid("spamRefillInterval: must be more than zero");
  return Status::Ok();
}

std::string seriesKey(const Occurrence& occurrence) {
  std::string key;
  appendRef(key, occurrence.regarding);
  if (occurrence.related) {
    appendField(key, "related");
    appendRef(key, *occurrence.related);
  }
  appendField(key, toString(occurrence.reason));
  appendField(key, occurrence.note);
  return key;
}

std::string spamKey(const ObjectRef& regarding) {
  std::string key;
  appendRef(key, regarding);
  return key;
}

Correlator::Correlator(CorrelatorOptions options)
    : options_(options), series_(options.cacheSize), buckets_(options.cacheSize) {}

bool Correlator::admit(const ObjectRef& regarding, Clock::time_point at) {
  const double burst = options_.spamBurst;
  std::string key = spamKey(regarding);
  Bucket* bucket = buckets_.get(key);
  if (bucket == nullptr) {
    bucket = &buckets_.put(key, Bucket{burst, at});
  } else if (at > bucket->last) {
    // Emits from several threads may reach the queue a little out of time order; time
    // never runs backwards for a bucket.
    double refill = std::chrono::duration<double>(at - bucket->last) /
                    std::chrono::duration<double>(options_.spamRefillInterval);
    bucket->tokens = std::min(burst, bucket->tokens + refill);
    bucket->last = at;
  }
  if (bucket->tokens < 1.0) return false;
  bucket->tokens -= 1.0;
  return true;
}

Decision Correlator::observe(const Occurrence& occurrence) {
  Decision decision;
  decision.key = seriesKey(occurrence);
  decision.eventNamespace = eventNamespace(occurrence.regarding);
  if (!admit(occurrence.regarding, occurrence.at)) {
    decision.verdict = Verdict::Filtered;
    return decision;
  }
  SeriesEntry* entry = series_.get(decision.key);
  if (entry != nullptr && occurrence.at - entry->lastObserved <= options_.seriesWindow) {
    if (entry->count < std::numeric_limits<std::int32_t>::max()) ++entry->count;
    entry->lastObserved = std::max(entry->lastObserved, occurrence.at);
    decision.verdict = Verdict::PatchSeries;
    decision.eventNamespace = entry->eventNamespace;
    decision.eventName = entry->eventName;
    decision.eventTime = entry->eventTime;
    decision.series = Series{entry->count, occurrence.wallTime};
    return decision;
  }
  decision.verdict = Verdict::Create;
  decision.eventName = newEventName(occurrence.regarding.name, occurrence.wallTime);
  decision.eventTime = occurrence.wallTime;
  series_.put(decision.key, SeriesEntry{decision.eventNamespace, decision.eventName, 1,
                                        occurrence.at, occurrence.wallTime});
  return decision;
}

void Correlator::forget(const std::string& key) {
  series_.erase(key);
}

std::string Correlator::rename(const std::string& key, std::string_view objectName,
                               WallTime wallTime) {
  std::string name = newEventName(objectName, wallTime);
  if (SeriesEntry* entry = series_.get(key)) entry->eventName = name;
  return name;
}

std::string Correlator::newEventName(std::string_view objectName, WallTime wallTime) {
  auto since =
      std::chrono::duration_cast<std::chrono::nanoseconds>(wallTime.time_since_epoch()).count();
  std::uint64_t nanos = since > 0 ? static_cast<std::uint64_t>(since) : 0;
  if (nanos <= lastNanos_) nanos = lastNanos_ + 1;
  lastNanos_ = nanos;
  return eventName(objectName, nanos);
}

}  // namespace saguard::events
