#include "codec/line_framer.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace saguard::codec {
namespace {

// A fresh or shrunk buffer holds at least this much, so a stream of small events
// does not reallocate per line.
constexpr std::size_t kMinBuffer = 4096;
// After a line this large has passed, the buffer is given back once it is mostly empty.
constexpr std::size_t kShrinkAbove = std::size_t{1} << 20;

bool isBlank(const char* data, std::size_t size) {
  for (std::size_t i = 0; i < size; ++i) {
    const char c = data[i];
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

}  // namespace

LineFramer::LineFramer(Options options) : options_(options) {}

void LineFramer::reset() {
  buffer_.reset();
  size_ = 0;
  capacity_ = 0;
  failed_ = false;
  error_ = Error{};
}

Status LineFramer::fail(std::size_t lineBytes) {
  failed_ = true;
  error_ = makeError(ErrorKind::Invalid, "watch stream line of at least " +
                                             std::to_string(lineBytes) + " bytes exceeds the " +
                                             std::to_string(options_.maxLineBytes) + "-byte limit");
  buffer_.reset();
  size_ = 0;
  capacity_ = 0;
  return error_;
}

void LineFramer::reserve(std::size_t needed) {
  const std::size_t want = needed + kPadding;
  if (want <= capacity_) return;
  std::size_t next = std::max({want, capacity_ * 2, kMinBuffer});
  // make_unique value-initializes: the padding starts zeroed, which keeps memory
  // checkers quiet when simdjson reads it.
  auto fresh = std::make_unique<char[]>(next);
  if (size_ > 0) std::memcpy(fresh.get(), buffer_.get(), size_);
  buffer_ = std::move(fresh);
  capacity_ = next;
}

void LineFramer::maybeShrink() {
  if (capacity_ <= kShrinkAbove || size_ + kPadding > capacity_ / 4) return;
  const std::size_t next = std::max(size_ * 2 + kPadding, kMinBuffer);
  auto fresh = std::make_unique<char[]>(next);
  if (size_ > 0) std::memcpy(fresh.get(), buffer_.get(), size_);
  buffer_ = std::move(fresh);
  capacity_ = next;
}

bool LineFramer::append(std::string_view bytes) {
  // One byte of slack: the line may still turn out to end in "\r\n".
  if (size_ + bytes.size() > options_.maxLineBytes + 1) return false;
  reserve(size_ + bytes.size());
  std::memcpy(buffer_.get() + size_, bytes.data(), bytes.size());
  size_ += bytes.size();
  return true;
}

void LineFramer::padBuffered(std::size_t size) {
  // A line copied into the buffer is followed by whatever an earlier, longer line left
  // there; whitespace instead keeps decoding deterministic (see padded.h).
  std::memset(buffer_.get() + size, ' ', kPadding);
}

bool LineFramer::emit(const char* data, std::size_t size, std::size_t capacity,
                      const LineHandler& onLine) {
  if (size > 0 && data[size - 1] == '\r') --size;
  if (size > options_.maxLineBytes) return false;
  if (isBlank(data, size)) return true;
  onLine(PaddedView(data, size, capacity));
  return true;
}

Status LineFramer::feed(std::string_view chunk, const LineHandler& onLine) {
  if (failed_) return error_;
  const char* const begin = chunk.data();
  const std::size_t total = chunk.size();
  std::size_t pos = 0;

  // The partial line left by earlier chunks, if any, is completed first. Only the
  // new bytes are searched, so a long line arriving in small chunks costs O(n).
  if (size_ > 0 && total > 0) {
    const void* nl = std::memchr(begin, '\n', total);
    if (nl == nullptr) {
      if (!append(chunk)) return fail(size_ + total);
      return Status::Ok();
    }
    const std::size_t len = static_cast<const char*>(nl) - begin;
    if (!append(chunk.substr(0, len))) return fail(size_ + len);
    const std::size_t lineBytes = size_;
    padBuffered(size_);
    if (!emit(buffer_.get(), size_, capacity_, onLine)) return fail(lineBytes);
    size_ = 0;
    pos = len + 1;
  }

  // Lines wholly inside this chunk. One followed by at least kPadding more bytes of
  // the chunk is handed out in place (those bytes are its padding, and they start with
  // its own "\n", whitespace as padded.h asks); only the last line or two of a chunk
  // are copied.
  while (pos < total) {
    const void* nl = std::memchr(begin + pos, '\n', total - pos);
    if (nl == nullptr) break;
    const std::size_t len = static_cast<const char*>(nl) - (begin + pos);
    if (len > options_.maxLineBytes + 1) return fail(len);
    bool ok = true;
    if (total - pos - len >= kPadding) {
      ok = emit(begin + pos, len, total - pos, onLine);
    } else {
      reserve(len);
      std::memcpy(buffer_.get(), begin + pos, len);
      padBuffered(len);
      ok = emit(buffer_.get(), len, capacity_, onLine);
    }
    if (!ok) return fail(len);
    pos += len + 1;
  }

  if (pos < total && !append(chunk.substr(pos))) return fail(total - pos);
  maybeShrink();
  return Status::Ok();
}

Status LineFramer::finish(const LineHandler& onLine) {
  if (failed_) return error_;
  if (size_ == 0) return Status::Ok();
  const std::size_t lineBytes = size_;
  padBuffered(size_);
  const bool ok = emit(buffer_.get(), size_, capacity_, onLine);
  size_ = 0;
  if (!ok) return fail(lineBytes);
  maybeShrink();
  return Status::Ok();
}

}  // namespace saguard::codec
