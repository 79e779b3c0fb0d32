// libFuzzer target: audit event decoding (an EventList, as the webhook receives it, and
// JSON lines, as the log backend writes them), then what evidence/ does with each event:
// policy::tokenUseOf and the bounded, max-merge AccountUse records.
//
// The input is decoded three ways: as an EventList (from a caller-padded buffer and from
// a std::string padded in place; both must agree event for event), as one line, and
// split into lines by a LineFramer. An event that decodes alone as a line must decode
// the same inside an EventList. Every delivered view is copied while it is valid (ASan
// catches a view into released memory), checked, and turned into a use. Any violated
// invariant aborts (a finding).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "codec/decoder.h"
#include "codec/line_framer.h"
#include "policy/token_use.h"

namespace {

using saguard::ErrorKind;
using saguard::Status;
using saguard::objects::AuditEventView;
using namespace saguard::codec;
namespace policy = saguard::policy;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

// An event's fields, owned.
struct Event {
  std::vector<std::string> strings;
  int code = 0;
  std::int64_t stageTimestamp = 0;
  std::int64_t requestReceivedTimestamp = 0;
  friend bool operator==(const Event&, const Event&) = default;
};

// Checks one delivered view and everything evidence/ does with it; returns its copy.
Event take(const AuditEventView& e, policy::AccountUse& record) {
  Event out;
  for (std::string_view s :
       {e.auditId, e.stage, e.verb, e.username, e.podName, e.podUid, e.nodeName, e.credentialId,
        e.apiGroup, e.resource, e.subresource, e.requestUri}) {
    check(s.size() <= kMaxFieldBytes, "field over the limit");
    out.strings.emplace_back(s);  // reads every byte the view covers
  }
  out.code = e.code;
  out.stageTimestamp = e.stageTimestamp;
  out.requestReceivedTimestamp = e.requestReceivedTimestamp;
  check(e.code >= 0 && e.code <= 999, "code out of range");

  const policy::AuditEventClass c = policy::classify(e);
  auto use = policy::tokenUseOf(e);
  check(use.has_value() == (c == policy::AuditEventClass::Use),
        "tokenUseOf disagrees with classify");
  if (!use) return out;
  check(!use->namespace_.empty() && !use->account.empty(), "use without an account");
  check(use->at != 0, "use without a time");
  // policy/token_use.h: a watch's two stages are one use, when the request was received;
  // any other request counts when it completed.
  const bool watch = e.verb == "watch";
  const std::int64_t first = watch ? e.requestReceivedTimestamp : e.stageTimestamp;
  const std::int64_t second = watch ? e.stageTimestamp : e.requestReceivedTimestamp;
  check(use->at == (first != 0 ? first : second), "use time");
  check(use->verb == e.verb && use->code == e.code && use->podUid == e.podUid, "use fields");
  if (e.resource.empty()) {
    check(use->resource.find('?') == std::string::npos, "query kept in a non-resource path");
  } else {
    check(use->resource.starts_with(e.resource), "resource name");
  }
  // The day of the use and back: the day's last second is this use's time or later.
  const std::string day = policy::useDayOf(use->at);
  auto end = policy::endOfUseDay(day);
  check(end.has_value(), "useDayOf wrote a day endOfUseDay does not read");
  check(*end >= use->at && *end - use->at < 86400, "use day round trip");

  // Folding it in: bounded, idempotent, and a merge of the result changes nothing more.
  const policy::AccountUse before = record;
  const bool changed = policy::recordUse(record, *use);
  check(changed == !(record == before), "recordUse's answer");
  check(!policy::recordUse(record, *use), "recordUse not idempotent");
  check(record.pods.size() <= policy::AccountUse::kMaxPods, "pods over the bound");
  check(record.accesses.size() <= policy::AccountUse::kMaxAccesses, "accesses over the bound");
  policy::AccountUse merged = before;
  policy::mergeUse(merged, record);
  check(merged == record, "merge of a record with its own past differs");
  check(!policy::mergeUse(merged, before), "merge not idempotent");
  return out;
}

struct ListOutcome {
  bool ok = false;
  ErrorKind kind = ErrorKind::Internal;
  std::vector<Event> events;
  std::size_t skipped = 0;
  policy::AccountUse record;
};

ListOutcome decodeList(Decoder& decoder, auto&& input) {
  ListOutcome out;
  std::size_t lastIndex = 0;
  bool anySkipped = false;
  AuditSink sink{
      .onEvent = [&](const AuditEventView& e) { out.events.push_back(take(e, out.record)); },
      .onSkipped =
          [&](SkippedItem&& s) {
            check(s.error.kind == ErrorKind::Invalid && !s.error.message.empty(),
                  "skipped event without an error");
            check(!anySkipped || s.index > lastIndex, "skipped indexes out of order");
            anySkipped = true;
            lastIndex = s.index;
            ++out.skipped;
          },
  };
  auto meta = decoder.auditEventList(input, sink);
  out.ok = meta.ok();
  if (!meta.ok()) {
    out.kind = meta.kind();
    check(meta.kind() == ErrorKind::Invalid, "list failure that is not Invalid");
    check(!meta.error().message.empty(), "error without a message");
    return out;
  }
  check(meta->itemCount == out.events.size() && meta->skippedCount == out.skipped, "list counts");
  return out;
}

// One line: an event is delivered exactly when the line decodes.
std::vector<Event> decodeLine(Decoder& decoder, PaddedView line, Status& status) {
  std::vector<Event> events;
  policy::AccountUse record;
  status =
      decoder.auditEvent(line, [&](const AuditEventView& e) { events.push_back(take(e, record)); });
  check(events.size() == (status.ok() ? 1u : 0u), "line delivered a wrong number of events");
  if (!status.ok()) {
    check(status.error().kind == ErrorKind::Invalid, "line failure that is not Invalid");
    check(!status.error().message.empty(), "error without a message");
  }
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // One decoder for everything, as a webhook connection or a log follower keeps one:
  // buffers left by earlier inputs are part of what is tested.
  static Decoder decoder;

  // As an EventList: from a caller-padded buffer, and from a string padded in place.
  std::string padded(input);
  padded.append(kPadding, ' ');
  ListOutcome fromView = decodeList(decoder, PaddedView(padded.data(), size, padded.size()));
  std::string inPlace(input);
  ListOutcome fromString = decodeList(decoder, inPlace);
  check(inPlace == input, "string input not restored");
  check(fromView.ok == fromString.ok, "padded and in-place lists disagree");
  if (fromView.ok) {
    check(fromView.events == fromString.events && fromView.skipped == fromString.skipped,
          "padded and in-place lists decode differently");
    check(fromView.record == fromString.record, "records differ");
  }

  // As one line.
  if (size > 0) {
    Status status;
    std::vector<Event> line =
        decodeLine(decoder, PaddedView(padded.data(), size, padded.size()), status);
    if (status.ok()) {
      // The same event inside an EventList decodes the same.
      std::string list = R"({"kind":"EventList","items":[)" + std::string(input) + "]}";
      ListOutcome wrapped = decodeList(decoder, list);
      check(wrapped.ok && wrapped.skipped == 0 && wrapped.events == line,
            "an event that decodes as a line decodes differently in a list");
    }
  }

  // As JSON lines, through the framer the log follower uses.
  LineFramer framer;
  auto onLine = [&](PaddedView line) {
    check(line.padded(), "line without padding");
    Status status;
    decodeLine(decoder, line, status);
  };
  const bool fed = framer.feed(input, onLine).ok();
  check(fed, "a line over the framer's 64 MiB limit");
  check(framer.finish(onLine).ok(), "framer finish failed");
  return 0;
}
