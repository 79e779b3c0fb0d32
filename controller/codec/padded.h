// Padded input for the JSON decoders. simdjson reads up to kPadding bytes past the
// end of a document (their content does not matter, they only have to be readable),
// so every decoder entry point takes a PaddedView: the JSON bytes plus the promise
// that `capacity() - size() >= kPadding` more bytes after them may be read.
//
// Where the padding comes from, cheapest first:
// - LineFramer hands out PaddedViews of watch lines straight from its buffers.
// - A caller that fills a std::string reserves `size + kPadding` and passes the
//   string itself: the decoder pads it in place (codec/decoder.h).
// - A simdjson::padded_string p: PaddedView(p.data(), p.size(), p.size() + kPadding).
// - Anything else is copied once into the decoder's own padded scratch buffer.
//
// What the padding holds does not matter for valid JSON. For malformed JSON it can:
// simdjson's iterator may look at the first padding bytes when a broken document
// runs past its end (a "}" there once made an unbalanced document fail where a space
// let it pass). So that the same bytes always decode the same way, padding should
// start with whitespace. LineFramer (the line's own "\n" or spaces), the std::string
// overloads and the copying overloads of the decoder all guarantee it.
//
// This header does not include simdjson, so a module that only moves bytes
// (kube/) does not pay for simdjson's headers.
#pragma once

#include <cstddef>
#include <string_view>

namespace saguard::codec {

// simdjson::SIMDJSON_PADDING in simdjson 3.0.1; decoder.cpp checks that they agree.
inline constexpr std::size_t kPadding = 64;

class PaddedView {
 public:
  PaddedView() = default;
  // `capacity` counts the readable bytes starting at `data`; it must be at least
  // size + kPadding or the decoders answer Internal (a caller bug, not bad input).
  PaddedView(const char* data, std::size_t size, std::size_t capacity)
      : data_(data), size_(size), capacity_(capacity) {}

  const char* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  bool padded() const { return capacity_ >= size_ && capacity_ - size_ >= kPadding; }
  std::string_view view() const { return {data_, size_}; }

 private:
  const char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace saguard::codec
