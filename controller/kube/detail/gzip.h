// Inflates a gzip-encoded HTTP body (Content-Encoding: gzip) as its bytes arrive.
//
// The API server compresses large answers (a list page of pods is 4 MB of JSON, about
// 0.3 MB gzipped) when the client accepts it; so does client-go by default. Reading the
// compressed bytes costs far less than the plain ones through cpprestsdk, which handles
// every HTTP chunk (the server sends one per list item) on its I/O thread.
//
//   GzipInflater inflater(kMaxBody);
//   for (each piece of the body) if (Status st = inflater.feed(piece); !st) ...;
//   Result<std::string> body = inflater.finish();   // the stream must be complete
//
// One gzip member per body (what Go's gzip writer sends); bytes after its end are an
// error, as are a corrupt stream, a truncated one and output past `maxOutput` (a body
// that inflates without bound is refused instead of exhausting memory). The output
// buffer grows geometrically and each byte of it is written once by zlib (and zeroed
// once before), not copied piece by piece.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace saguard::kube::detail {

class GzipInflater {
 public:
  explicit GzipInflater(std::size_t maxOutput);
  ~GzipInflater();
  GzipInflater(const GzipInflater&) = delete;
  GzipInflater& operator=(const GzipInflater&) = delete;

  // Inflates `input` onto the output.
  Status feed(std::string_view input);
  // The whole output when the gzip member has ended (its trailer checked); Invalid when
  // it has not. Call once.
  Result<std::string> finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace saguard::kube::detail
