// GzipInflater (kube/detail/gzip.h): what the API server's gzip-encoded answers inflate
// to, fed whole or byte by byte, and the refusals: corrupt, truncated, trailing bytes,
// not gzip at all, and output past the limit. The compressed inputs are made here with
// zlib's own deflate, the way Go's gzip writer frames them (one member).
#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "kube/detail/gzip.h"
#include "unit/support/gzip.h"

namespace saguard::kube::detail {
namespace {

using test_gzip::gzipped;

// A list-like body: long, repetitive, like a page of pods.
std::string listBody(int items) {
  std::string body = R"({"kind":"PodList","items":[)";
  for (int i = 0; i < items; ++i) {
    if (i > 0) body += ',';
    body += R"({"metadata":{"name":"web-)" + std::to_string(i) + R"(","namespace":"ns-)" +
            std::to_string(i % 7) + R"("},"spec":{"serviceAccountName":"default"}})";
  }
  return body + "]}";
}

Result<std::string> inflateAll(const std::string& compressed, std::size_t maxOutput,
                               std::size_t piece) {
  GzipInflater inflater(maxOutput);
  for (std::size_t at = 0; at < compressed.size(); at += piece) {
    if (Status st = inflater.feed(std::string_view(compressed).substr(at, piece)); !st)
      return st.error();
  }
  return inflater.finish();
}

TEST(GzipInflater, InflatesWholeAndPieceByPiece) {
  const std::string plain = listBody(20000);  // ~1.6 MB: the output doubles several times
  const std::string compressed = gzipped(plain);
  ASSERT_LT(compressed.size(), plain.size() / 5);
  for (std::size_t piece :
       {compressed.size(), std::size_t{65536}, std::size_t{1000}, std::size_t{1}}) {
    auto out = inflateAll(compressed, std::size_t{1} << 30, piece);
    ASSERT_TRUE(out.ok()) << "pieces of " << piece << ": " << out.error().describe();
    EXPECT_EQ(*out, plain) << "pieces of " << piece;
  }
}

TEST(GzipInflater, InflatesAnEmptyBodyAndStoredBlocks) {
  auto empty = inflateAll(gzipped(""), 1024, 7);
  ASSERT_TRUE(empty.ok()) << empty.error().describe();
  EXPECT_EQ(*empty, "");
  const std::string plain = listBody(50);
  auto stored = inflateAll(gzipped(plain, Z_NO_COMPRESSION), std::size_t{1} << 20, 333);
  ASSERT_TRUE(stored.ok()) << stored.error().describe();
  EXPECT_EQ(*stored, plain);
}

TEST(GzipInflater, RefusesATruncatedStream) {
  const std::string compressed = gzipped(listBody(100));
  for (std::size_t keep :
       {std::size_t{0}, std::size_t{5}, compressed.size() / 2, compressed.size() - 1}) {
    auto out = inflateAll(compressed.substr(0, keep), std::size_t{1} << 20, 64);
    ASSERT_FALSE(out.ok()) << "kept " << keep << " bytes";
    EXPECT_EQ(out.kind(), ErrorKind::Invalid);
    EXPECT_NE(out.error().message.find("truncated"), std::string::npos) << out.error().message;
  }
}

TEST(GzipInflater, RefusesCorruptDataAndAWrongChecksum) {
  std::string compressed = gzipped(listBody(100));
  std::string badCrc = compressed;
  badCrc[badCrc.size() - 6] ^= 0x55;  // in the CRC-32 of the trailer
  auto crc = inflateAll(badCrc, std::size_t{1} << 20, 64);
  ASSERT_FALSE(crc.ok());
  EXPECT_EQ(crc.kind(), ErrorKind::Invalid);
  EXPECT_NE(crc.error().message.find("gzip-encoded body"), std::string::npos)
      << crc.error().message;

  auto plainText = inflateAll(R"({"kind":"PodList"})", std::size_t{1} << 20, 64);
  ASSERT_FALSE(plainText.ok());
  EXPECT_EQ(plainText.kind(), ErrorKind::Invalid);
}

TEST(GzipInflater, RefusesBytesAfterTheEnd) {
  const std::string compressed = gzipped("{}");
  auto sameFeed = inflateAll(compressed + "x", 1024, compressed.size() + 1);
  ASSERT_FALSE(sameFeed.ok());
  EXPECT_NE(sameFeed.error().message.find("after the end"), std::string::npos)
      << sameFeed.error().message;
  auto laterFeed = inflateAll(compressed + "x", 1024, compressed.size());
  ASSERT_FALSE(laterFeed.ok());
  EXPECT_NE(laterFeed.error().message.find("after the end"), std::string::npos)
      << laterFeed.error().message;
}

TEST(GzipInflater, RefusesOutputPastTheLimit) {
  const std::string bomb = gzipped(std::string(std::size_t{8} << 20, 'a'));  // 8 MiB of 'a': ~8 KB
  auto out = inflateAll(bomb, std::size_t{1} << 20, 4096);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.kind(), ErrorKind::Invalid);
  EXPECT_NE(out.error().message.find("past 1048576 bytes"), std::string::npos)
      << out.error().message;
  // Exactly at the limit is fine.
  auto exact = inflateAll(gzipped(std::string(1000, 'b')), 1000, 4096);
  ASSERT_TRUE(exact.ok()) << exact.error().describe();
  EXPECT_EQ(exact->size(), 1000u);
}

}  // namespace
}  // namespace saguard::kube::detail
