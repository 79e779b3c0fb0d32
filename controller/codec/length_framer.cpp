#include "codec/length_framer.h"

#include <cstdint>

namespace saguard::codec {
namespace {

constexpr std::size_t kPrefix = 4;

std::size_t lengthAt(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return (std::size_t{b[0]} << 24) | (std::size_t{b[1]} << 16) | (std::size_t{b[2]} << 8) |
         std::size_t{b[3]};
}

}  // namespace

Status LengthFramer::fail(std::size_t length) {
  failed_ = true;
  error_ = makeError(ErrorKind::Invalid, "a watch frame of " + std::to_string(length) +
                                             " bytes exceeds the limit of " +
                                             std::to_string(options_.maxFrameBytes));
  pending_.clear();
  return error_;
}

Status LengthFramer::feed(std::string_view chunk, const FrameHandler& onFrame) {
  if (failed_) return error_;
  // Complete a frame begun by earlier chunks first.
  if (!pending_.empty()) {
    if (pending_.size() < kPrefix) {
      const std::size_t take = std::min(kPrefix - pending_.size(), chunk.size());
      pending_.append(chunk.substr(0, take));
      chunk.remove_prefix(take);
      if (pending_.size() < kPrefix) return {};
    }
    const std::size_t length = lengthAt(pending_.data());
    if (length > options_.maxFrameBytes) return fail(length);
    const std::size_t take = std::min(kPrefix + length - pending_.size(), chunk.size());
    pending_.append(chunk.substr(0, take));
    chunk.remove_prefix(take);
    if (pending_.size() < kPrefix + length) return {};
    onFrame(std::string_view(pending_).substr(kPrefix));
    pending_.clear();
    if (pending_.capacity() > (std::size_t{1} << 20)) std::string().swap(pending_);
  }
  // Whole frames straight from the chunk, without a copy.
  while (chunk.size() >= kPrefix) {
    const std::size_t length = lengthAt(chunk.data());
    if (length > options_.maxFrameBytes) return fail(length);
    if (chunk.size() - kPrefix < length) break;
    onFrame(chunk.substr(kPrefix, length));
    chunk.remove_prefix(kPrefix + length);
  }
  pending_.append(chunk);
  return {};
}

void LengthFramer::reset() {
  pending_.clear();
  failed_ = false;
  error_ = Error{};
}

}  // namespace saguard::codec
