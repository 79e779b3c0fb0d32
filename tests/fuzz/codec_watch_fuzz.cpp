// libFuzzer target: watch stream line framing and watch event decoding of every kind.
//
// The first input byte chooses how the stream is cut into chunks and the line limit;
// the rest is the stream. The framer's lines are checked against a naive reference
// split, and every line is decoded as an event of each kind, checking the
// invariants a cache relies on. Any mismatch aborts (a finding).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "codec/decoder.h"
#include "codec/line_framer.h"

namespace {

using saguard::ErrorKind;
using namespace saguard::codec;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

bool blank(std::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

// The lines a correct framer emits, and whether it must fail on a line over `max`.
struct Reference {
  std::vector<std::string> lines;
  bool overLimit = false;
};

Reference referenceSplit(std::string_view stream, std::size_t max) {
  Reference out;
  std::size_t start = 0;
  while (start < stream.size()) {
    std::size_t nl = stream.find('\n', start);
    const bool terminated = nl != std::string_view::npos;
    std::string_view line = stream.substr(start, (terminated ? nl : stream.size()) - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > max) {
      out.overLimit = true;
      return out;
    }
    if (!blank(line)) out.lines.emplace_back(line);
    if (!terminated) break;
    start = nl + 1;
  }
  return out;
}

template <Kind K>
void decodeAs(Decoder& decoder, PaddedView line) {
  auto event = decoder.watchEvent<K>(line);
  auto copied = decoder.watchEvent<K>(line.view());
  check(event.ok() == copied.ok(), "padded and copied input disagree");
  if (!event.ok()) {
    check(event.kind() == ErrorKind::Invalid, "decode failure that is not Invalid");
    check(!event.error().message.empty(), "error without a message");
    return;
  }
  switch (event->type) {
    case EventType::Added:
    case EventType::Modified:
    case EventType::Deleted:
      check(!event->object.meta.name().empty(), "object without a name");
      if constexpr (K == Kind::Pod || K == Kind::ServiceAccount || K == Kind::RoleBinding) {
        check(!event->object.meta.namespace_.empty(), "namespaced object without a namespace");
      } else {
        check(event->object.meta.namespace_.empty(), "cluster-scoped object with a namespace");
      }
      if constexpr (K == Kind::Pod)
        check(!event->object.serviceAccountName.empty(), "pod without an account");
      if constexpr (K == Kind::RoleBinding || K == Kind::ClusterRoleBinding) {
        check(!event->object.roleRef.kind.empty() && !event->object.roleRef.name.empty(),
              "binding without roleRef");
        for (const auto& s : event->object.subjects)
          check(!s.kind.empty() && !s.name.empty(), "bad subject");
      }
      check(event->resourceVersion == event->object.meta.resourceVersion(),
            "event resourceVersion");
      check(!event->error.has_value(), "object event with an error");
      break;
    case EventType::Bookmark:
      check(!event->resourceVersion.empty(), "bookmark without a resourceVersion");
      break;
    case EventType::Error:
      check(event->error.has_value() && !event->error->message.empty(),
            "error event without an error");
      break;
  }
  // The copied decode must see exactly the same event.
  check(copied->type == event->type && copied->resourceVersion == event->resourceVersion,
        "padded and copied input decode differently");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);

  LineFramer::Options options;
  if (mode & 0x80) options.maxLineBytes = 1 + (mode & 0x3f) * 16;  // exercise the limit
  LineFramer framer(options);
  // One decoder for the whole run, as a watch keeps one: state left by earlier inputs
  // (parser buffers, the symbol memo) is part of what is tested.
  static Decoder decoder;
  std::vector<std::string> lines;
  auto onLine = [&](PaddedView line) {
    check(line.padded(), "line without padding");
    check(line.size() <= options.maxLineBytes, "line over the limit");
    lines.emplace_back(line.view());
    decodeAs<Kind::Pod>(decoder, line);
    decodeAs<Kind::ServiceAccount>(decoder, line);
    decodeAs<Kind::RoleBinding>(decoder, line);
    decodeAs<Kind::ClusterRoleBinding>(decoder, line);
    decodeAs<Kind::Namespace>(decoder, line);
  };

  // Chunk sizes from a small generator seeded by the mode: 1..16 bytes, or larger.
  std::uint32_t state = 0x9e3779b9u ^ mode;
  bool failed = false;
  std::size_t pos = 0;
  while (pos < stream.size() && !failed) {
    state = state * 1664525u + 1013904223u;
    std::size_t chunk = (mode & 0x40) ? 1 + (state >> 28) : 1 + (state >> 20) % 4096;
    chunk = std::min(chunk, stream.size() - pos);
    failed = !framer.feed(stream.substr(pos, chunk), onLine).ok();
    pos += chunk;
  }
  if (!failed) failed = !framer.finish(onLine).ok();

  const Reference want = referenceSplit(stream, options.maxLineBytes);
  check(failed == want.overLimit, "framer and reference disagree on the line limit");
  check(lines == want.lines, "framer and reference disagree on the lines");
  return 0;
}
