// gzip-encodes test bodies with zlib's own deflate, framed as Go's gzip writer frames an
// API server's answer (one member). For the inflater and transport unit tests.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace saguard::kube::test_gzip {

inline std::string gzipped(const std::string& plain, int level = Z_DEFAULT_COMPRESSION) {
  z_stream s{};
  EXPECT_EQ(deflateInit2(&s, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&s, plain.size()) + 64, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  s.avail_in = static_cast<uInt>(plain.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

}  // namespace saguard::kube::test_gzip
