// Line framing for Kubernetes watch streams (newline-delimited JSON, one event per
// line). The HTTP layer hands over byte chunks exactly as they arrive; a chunk may
// end anywhere (inside a line, inside a multi-byte UTF-8 sequence) or hold many
// lines. The framer joins and splits them and calls back once per complete line,
// as a PaddedView ready for Decoder::watchEvent without another copy.
//
//   LineFramer framer;
//   while (auto chunk = body.read()) {
//     Status s = framer.feed(*chunk, [&](PaddedView line) {
//       handle(decoder.watchEvent<Kind::Pod>(line));
//     });
//     if (!s.ok()) return s;  // a line over the limit: restart the watch
//   }
//
// Lines end with "\n" or "\r\n"; the terminator is not part of the line. Empty and
// whitespace-only lines are skipped (the API server sends none, proxies might).
// A line longer than Options::maxLineBytes is an Invalid error: the framer does not
// grow without bound on a stream that never sends a newline. After that error the
// framer stays failed (every feed returns the same error) until reset().
//
// Not thread-safe: one framer per stream.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include "base/result.h"
#include "codec/padded.h"

namespace saguard::codec {

class LineFramer {
 public:
  struct Options {
    // Longest accepted line, terminator excluded. A watch event is one object; the
    // API server refuses objects over about 1.5 MiB (etcd's limit), so 64 MiB is
    // generous for any real resource and still bounds memory.
    std::size_t maxLineBytes = std::size_t{64} << 20;
  };

  // Called once per complete, non-empty line. The view (and its padding) is valid
  // only until the callback returns.
  using LineHandler = std::function<void(PaddedView line)>;

  LineFramer() : LineFramer(Options{}) {}
  explicit LineFramer(Options options);

  // Feeds the next chunk of the stream. Lines completed by this chunk are handed
  // to `onLine` in order before feed returns; a trailing partial line is kept.
  Status feed(std::string_view chunk, const LineHandler& onLine);

  // End of stream: hands over a last line that had no terminator (a server that
  // closes the stream cleanly always ends with "\n", so this is either a truncated
  // event, which the decoder then rejects, or plain NDJSON without a final newline).
  Status finish(const LineHandler& onLine);

  // Forgets the partial line and any error: ready for a new stream.
  void reset();

  // Bytes of the partial line held so far.
  std::size_t pendingBytes() const { return size_; }
  // Bytes the framer has allocated (partial line, padding and slack).
  std::size_t bufferCapacity() const { return capacity_; }

 private:
  // Appends to the partial line; false if that makes it longer than the limit.
  bool append(std::string_view bytes);
  void reserve(std::size_t needed);
  void maybeShrink();
  void padBuffered(std::size_t size);
  Status fail(std::size_t lineBytes);
  // Strips the terminator's "\r", skips blank lines, enforces the limit.
  bool emit(const char* data, std::size_t size, std::size_t capacity, const LineHandler& onLine);

  Options options_;
  std::unique_ptr<char[]> buffer_;  // partial line + kPadding readable bytes
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
  bool failed_ = false;
  Error error_;
};

}  // namespace saguard::codec
