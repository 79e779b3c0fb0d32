// Ingest: one audit source's bytes into the ledger. Decodes (codec/, simdjson), keeps the
// events policy/token_use.h counts as token use, folds them into the Ledger, and counts
// every event by source and result for the metrics:
//   accepted   a use of a service account's token, folded in
//   ignored    another user, another stage of a request already counted
//   malformed  an event with a field of the wrong type, or a line / body that is not JSON
// (A caller refused at the TLS handshake is counted as `unauthenticated` by the webhook's
// hooks: it never reaches the ingest.)
//
// A watch is evidence at both its stages (policy/token_use.h), folded both times (the
// second changes nothing), but counted once where that is cheap to know: once this source
// has seen the ResponseStarted of a service account's watch, the audit policy logs that
// stage, and a watch's ResponseComplete counts as `ignored`; until then (a policy that
// omits ResponseStarted) as `accepted`. No table of open watches' audit IDs: a watch stays
// open for minutes to hours and a cluster holds thousands, for a metric. The price: until
// the first ResponseStarted after a start, a watch's end is counted although its start
// was logged (before the start, or not yet seen).
//
//   Ingest webhook(ledger, "webhook", &hooks);                 // one per source thread
//   WebhookAnswer a = webhook.batch(body);                    // 200, or 400 for bad JSON
//   Ingest log(ledger, "log", &hooks);
//   follower.run(stop, [&](codec::PaddedView line) { log.line(line); });
//
// Not thread-safe (the decoder's buffers): one Ingest per thread. The ledger it feeds is.
// Malformed input is logged at most once per 10 seconds per source, with how many were
// suppressed: the decoder's message (the field's path, and at most 64 characters of a bad
// value), never the event itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "codec/decoder.h"
#include "codec/padded.h"
#include "evidence/ledger.h"
#include "evidence/webhook_server.h"

namespace saguard::evidence {

enum class IngestResult : std::uint8_t { Accepted, Ignored, Malformed, Unauthenticated };

// "accepted", "ignored", "malformed", "unauthenticated": the metric's `result` label.
const char* toString(IngestResult result);

inline constexpr IngestResult kAllIngestResults[] = {IngestResult::Accepted, IngestResult::Ignored,
                                                     IngestResult::Malformed,
                                                     IngestResult::Unauthenticated};

// Metric hooks; called on the ingesting thread.
class IngestHooks {
 public:
  virtual ~IngestHooks() = default;
  virtual void onEvents(const std::string& source, IngestResult result, std::uint64_t count) = 0;
};

struct IngestCounts {
  std::uint64_t accepted = 0;
  std::uint64_t ignored = 0;
  std::uint64_t malformed = 0;
  // The earliest and latest time of any decoded event (seconds; 0 = none): the span a log
  // file covers, which is what `saguard audit --audit-log` has observed.
  std::int64_t earliest = 0;
  std::int64_t latest = 0;
};

class Ingest {
 public:
  // `source`: "webhook", "log" or "file", the metric's `source` label.
  Ingest(Ledger& ledger, std::string source, IngestHooks* hooks = nullptr);

  // A webhook body (an EventList). 200 when it decoded, even with malformed events in it
  // (they are counted and skipped: sending the batch again would not mend them); 400 when
  // the body is not an EventList at all. `body` needs no padding of its own: the
  // capacity the WebhookServer gives it is used, else it is padded in place.
  WebhookAnswer batch(std::string& body);
  // One line of a log file (an Event). Counted like a batch's events.
  void line(codec::PaddedView line);

  const IngestCounts& counts() const { return counts_; }

 private:
  void fold(const objects::AuditEventView& event);
  void malformed(const std::string& what);
  void flushCounts(const IngestCounts& before);

  Ledger& ledger_;
  std::string source_;
  IngestHooks* hooks_;
  codec::Decoder decoder_;
  IngestCounts counts_;
  std::chrono::steady_clock::time_point lastLogged_{};
  std::uint64_t suppressed_ = 0;
  bool watchStartsLogged_ = false;  // a service account's watch seen at ResponseStarted
};

}  // namespace saguard::evidence
