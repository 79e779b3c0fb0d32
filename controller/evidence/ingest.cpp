#include "evidence/ingest.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "policy/token_use.h"

namespace saguard::evidence {

const char* toString(IngestResult result) {
  switch (result) {
    case IngestResult::Accepted:
      return "accepted";
    case IngestResult::Ignored:
      return "ignored";
    case IngestResult::Malformed:
      return "malformed";
    case IngestResult::Unauthenticated:
      return "unauthenticated";
  }
  return "unknown";
}

Ingest::Ingest(Ledger& ledger, std::string source, IngestHooks* hooks)
    : ledger_(ledger), source_(std::move(source)), hooks_(hooks) {}

void Ingest::fold(const objects::AuditEventView& event) {
  const std::int64_t at =
      event.stageTimestamp != 0 ? event.stageTimestamp : event.requestReceivedTimestamp;
  if (at != 0) {
    if (counts_.earliest == 0 || at < counts_.earliest) counts_.earliest = at;
    counts_.latest = std::max(counts_.latest, at);
  }
  if (auto use = policy::tokenUseOf(event)) {
    ledger_.record(*use);
    // Count a watch once (ingest.h): its ResponseComplete repeats its ResponseStarted when
    // the audit policy logs that stage.
    if (use->verb == "watch") {
      if (!policy::endsAWatch(event)) {
        watchStartsLogged_ = true;
      } else if (watchStartsLogged_) {
        ++counts_.ignored;
        return;
      }
    }
    ++counts_.accepted;
  } else {
    ++counts_.ignored;
  }
}

void Ingest::malformed(const std::string& what) {
  ++counts_.malformed;
  const auto now = std::chrono::steady_clock::now();
  if (now - lastLogged_ < std::chrono::seconds(10)) {
    ++suppressed_;
    return;
  }
  lastLogged_ = now;
  spdlog::warn("audit {}: malformed input ({} more suppressed since the last report): {}", source_,
               std::exchange(suppressed_, 0), what);
}

void Ingest::flushCounts(const IngestCounts& before) {
  if (hooks_ == nullptr) return;
  if (counts_.accepted != before.accepted) {
    hooks_->onEvents(source_, IngestResult::Accepted, counts_.accepted - before.accepted);
  }
  if (counts_.ignored != before.ignored) {
    hooks_->onEvents(source_, IngestResult::Ignored, counts_.ignored - before.ignored);
  }
  if (counts_.malformed != before.malformed) {
    hooks_->onEvents(source_, IngestResult::Malformed, counts_.malformed - before.malformed);
  }
}

WebhookAnswer Ingest::batch(std::string& body) {
  const IngestCounts before = counts_;
  const codec::AuditSink sink{
      .onEvent = [&](const objects::AuditEventView& event) { fold(event); },
      .onSkipped = [&](codec::SkippedItem&& skipped) { malformed(skipped.error.message); },
  };
  // The server's body has room for the padding: decode it in place, no copy.
  Result<codec::ListMeta> decoded =
      body.capacity() >= body.size() + codec::kPadding
          ? decoder_.auditEventList(codec::PaddedView(body.data(), body.size(), body.capacity()),
                                    sink)
          : decoder_.auditEventList(body, sink);
  WebhookAnswer answer;
  if (!decoded.ok()) {
    malformed(decoded.error().message);
    answer = {400, "not an audit.k8s.io/v1 EventList: " + decoded.error().message};
  }
  flushCounts(before);
  return answer;
}

void Ingest::line(codec::PaddedView line) {
  const IngestCounts before = counts_;
  Status status =
      decoder_.auditEvent(line, [&](const objects::AuditEventView& event) { fold(event); });
  if (!status.ok()) malformed(status.error().message);
  flushCounts(before);
}

}  // namespace saguard::evidence
