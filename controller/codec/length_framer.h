// Framing of protobuf watch streams (protobuf.h): each event is a 4-byte big-endian
// length followed by that many bytes. Like LineFramer, it is fed the chunks the HTTP
// layer hands over (a chunk may end anywhere, or hold many frames) and calls back once
// per complete frame, with a view valid during the call.
//
//   LengthFramer framer;
//   Status s = framer.feed(chunk, [&](std::string_view frame) {
//     handle(decoder.watchEvent<Kind::Pod>(frame));
//   });
//
// A frame longer than Options::maxFrameBytes is an Invalid error (a corrupt length must
// not make it allocate gigabytes); the framer then stays failed until reset(). A frame
// of length 0 is handed over as an empty view (the decoder rejects it).
//
// Not thread-safe: one framer per stream.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace saguard::codec {

class LengthFramer {
 public:
  struct Options {
    // As LineFramer's limit: one object per event, far below this.
    std::size_t maxFrameBytes = std::size_t{64} << 20;
  };
  using FrameHandler = std::function<void(std::string_view frame)>;

  LengthFramer() : LengthFramer(Options{}) {}
  explicit LengthFramer(Options options) : options_(options) {}

  Status feed(std::string_view chunk, const FrameHandler& onFrame);
  // Forgets a partial frame and any error: ready for a new stream.
  void reset();

  std::size_t pendingBytes() const { return pending_.size(); }

 private:
  Status fail(std::size_t length);

  Options options_;
  std::string pending_;  // a partial frame (its length prefix included)
  bool failed_ = false;
  Error error_;
};

}  // namespace saguard::codec
