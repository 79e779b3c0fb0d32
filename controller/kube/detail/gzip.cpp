#include "kube/detail/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <climits>

namespace saguard::kube::detail {

namespace {

// The output's first size; it doubles whenever zlib has filled it.
constexpr std::size_t kFirstSize = std::size_t{256} * 1024;

Error invalid(const std::string& what) {
  return makeError(ErrorKind::Invalid, "gzip-encoded body: " + what);
}

}  // namespace

struct GzipInflater::Impl {
  z_stream stream{};
  bool ready = false;  // inflateInit2 succeeded
  bool ended = false;  // the member's trailer has been read
  std::size_t maxOutput = 0;
  std::string out;  // out[0, produced) is output; the rest is room for zlib
  std::size_t produced = 0;
};

GzipInflater::GzipInflater(std::size_t maxOutput) : impl_(std::make_unique<Impl>()) {
  impl_->maxOutput = maxOutput;
  // 16 + MAX_WBITS: a gzip header and trailer around the deflate data, not zlib's.
  impl_->ready = inflateInit2(&impl_->stream, 16 + MAX_WBITS) == Z_OK;
}

GzipInflater::~GzipInflater() {
  if (impl_->ready) inflateEnd(&impl_->stream);
}

Status GzipInflater::feed(std::string_view input) {
  Impl& s = *impl_;
  if (!s.ready) return makeError(ErrorKind::Internal, "gzip-encoded body: zlib could not start");
  if (input.empty()) return {};
  if (s.ended) return invalid("bytes after the end of the compressed data");
  // zlib's counters are 32-bit; feed at most UINT_MAX bytes at a time.
  while (!input.empty()) {
    const std::size_t take = std::min<std::size_t>(input.size(), UINT_MAX);
    s.stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    s.stream.avail_in = static_cast<uInt>(take);
    while (s.stream.avail_in > 0) {
      if (s.produced == s.out.size()) {
        // Full: double it, but never past one byte more than the limit (so that a body
        // that fills the limit exactly is told apart from one that goes past it).
        const std::size_t cap = s.maxOutput + 1;
        s.out.resize(std::min(cap, std::max(kFirstSize, s.out.size() * 2)));
      }
      const std::size_t room = std::min<std::size_t>(s.out.size() - s.produced, UINT_MAX);
      s.stream.next_out = reinterpret_cast<Bytef*>(s.out.data() + s.produced);
      s.stream.avail_out = static_cast<uInt>(room);
      const int rc = inflate(&s.stream, Z_NO_FLUSH);
      const std::size_t made = room - s.stream.avail_out;
      s.produced += made;
      if (s.produced > s.maxOutput) {
        return invalid("inflates past " + std::to_string(s.maxOutput) + " bytes");
      }
      if (rc == Z_STREAM_END) {
        s.ended = true;
        if (s.stream.avail_in > 0 || take < input.size()) {
          return invalid("bytes after the end of the compressed data");
        }
        return {};
      }
      if (rc == Z_BUF_ERROR && made == 0 && s.stream.avail_in > 0 && s.produced < s.out.size()) {
        return invalid("zlib made no progress");
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return invalid(s.stream.msg != nullptr ? s.stream.msg
                                               : "corrupt data (zlib " + std::to_string(rc) + ")");
      }
    }
    input.remove_prefix(take);
  }
  return {};
}

Result<std::string> GzipInflater::finish() {
  if (!impl_->ready)
    return makeError(ErrorKind::Internal, "gzip-encoded body: zlib could not start");
  if (!impl_->ended) return invalid("truncated: the compressed data ended early");
  impl_->out.resize(impl_->produced);
  return std::move(impl_->out);
}

}  // namespace saguard::kube::detail
