// libFuzzer target: protobuf watch framing (codec/length_framer.h) and decoding
// (codec/protobuf.h) of every kind.
//
// The first input byte chooses how the stream is cut into chunks and the frame limit;
// the rest is a watch stream. The framer's frames are checked against a naive reference
// split; every frame is decoded as a watch event of each kind, and the whole stream as
// a list body and an object of each kind, checking the invariants a cache relies on.
// Any mismatch aborts (a finding). Seeds: real API server answers (a watch stream of
// ServiceAccounts with its initial-events-end bookmark, a PodList).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "codec/length_framer.h"
#include "codec/protobuf.h"

namespace {

using saguard::ErrorKind;
using namespace saguard::codec;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

struct Reference {
  std::vector<std::string> frames;
  bool overLimit = false;
};

Reference referenceSplit(std::string_view stream, std::size_t max) {
  Reference out;
  while (stream.size() >= 4) {
    const auto* b = reinterpret_cast<const unsigned char*>(stream.data());
    const std::size_t n =
        (std::size_t{b[0]} << 24) | (std::size_t{b[1]} << 16) | (std::size_t{b[2]} << 8) | b[3];
    if (n > max) {
      out.overLimit = true;
      return out;
    }
    if (stream.size() - 4 < n) break;
    out.frames.emplace_back(stream.substr(4, n));
    stream.remove_prefix(4 + n);
  }
  return out;
}

template <Kind K>
void checkRecord(const RecordOf<K>& r) {
  check(!r.meta.name().empty(), "object without a name");
  if constexpr (K == Kind::Pod || K == Kind::ServiceAccount || K == Kind::RoleBinding) {
    check(!r.meta.namespace_.empty(), "namespaced object without a namespace");
  } else {
    check(r.meta.namespace_.empty(), "cluster-scoped object with a namespace");
  }
  if constexpr (K == Kind::Pod) check(!r.serviceAccountName.empty(), "pod without an account");
  if constexpr (K == Kind::RoleBinding || K == Kind::ClusterRoleBinding) {
    check(!r.roleRef.kind.empty() && !r.roleRef.name.empty(), "binding without roleRef");
    for (const auto& s : r.subjects) check(!s.kind.empty() && !s.name.empty(), "bad subject");
  }
}

template <Kind K>
void decodeAs(ProtobufDecoder& decoder, std::string_view frame, std::string_view whole) {
  auto event = decoder.watchEvent<K>(frame);
  if (!event.ok()) {
    check(event.kind() == ErrorKind::Invalid, "decode failure that is not Invalid");
    check(!event.error().message.empty(), "error without a message");
  } else if (event->type == EventType::Bookmark) {
    check(!event->resourceVersion.empty(), "bookmark without a resourceVersion");
  } else if (event->type == EventType::Error) {
    check(event->error.has_value() && !event->error->message.empty(), "error event without error");
  } else {
    checkRecord<K>(event->object);
    check(event->resourceVersion == event->object.meta.resourceVersion(), "event resourceVersion");
  }
  (void)peekProtobufObjectKey(frame);

  std::size_t items = 0, skipped = 0;
  auto meta = decoder.list<K>(whole, {.onItem =
                                          [&](RecordOf<K>&& r) {
                                            checkRecord<K>(r);
                                            ++items;
                                          },
                                      .onSkipped =
                                          [&](SkippedItem&& s) {
                                            check(s.error.kind == ErrorKind::Invalid, "skip kind");
                                            ++skipped;
                                          }});
  if (meta.ok()) {
    check(meta->itemCount == items && meta->skippedCount == skipped, "list counts");
  } else {
    check(meta.kind() == ErrorKind::Invalid, "list failure that is not Invalid");
  }
  auto object = decoder.object<K>(whole);
  if (object.ok()) checkRecord<K>(*object);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);

  LengthFramer::Options options;
  if (mode & 0x80) options.maxFrameBytes = (mode & 0x3f) * 16;  // exercise the limit
  LengthFramer framer(options);
  static ProtobufDecoder decoder;  // kept across inputs, as a watch keeps one
  std::vector<std::string> frames;
  auto onFrame = [&](std::string_view frame) {
    check(frame.size() <= options.maxFrameBytes, "frame over the limit");
    frames.emplace_back(frame);
    decodeAs<Kind::Pod>(decoder, frame, stream);
    decodeAs<Kind::ServiceAccount>(decoder, frame, stream);
    decodeAs<Kind::RoleBinding>(decoder, frame, stream);
    decodeAs<Kind::ClusterRoleBinding>(decoder, frame, stream);
    decodeAs<Kind::Namespace>(decoder, frame, stream);
  };
  std::uint32_t state = 0x9e3779b9u ^ mode;
  bool failed = false;
  std::size_t pos = 0;
  while (pos < stream.size() && !failed) {
    state = state * 1664525u + 1013904223u;
    std::size_t chunk = (mode & 0x40) ? 1 + (state >> 28) : 1 + (state >> 20) % 4096;
    chunk = std::min(chunk, stream.size() - pos);
    failed = !framer.feed(stream.substr(pos, chunk), onFrame).ok();
    pos += chunk;
  }
  // A stream with no whole frame is still decoded as a list and an object once.
  if (frames.empty() && !failed) decodeAs<Kind::Pod>(decoder, stream, stream);

  const Reference want = referenceSplit(stream, options.maxFrameBytes);
  check(failed == want.overLimit, "framer and reference disagree on the limit");
  check(frames == want.frames, "framer and reference disagree on the frames");
  return 0;
}
