#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "codec/decoder.h"
#include "codec/line_framer.h"

namespace saguard::codec {
namespace {

// Feeds `chunks` and collects the lines, checking that each one is padded.
struct Collector {
  std::vector<std::string> lines;
  LineFramer::LineHandler handler() {
    return [this](PaddedView line) {
      EXPECT_TRUE(line.padded()) << "line handed over without padding: " << line.view();
      lines.emplace_back(line.view());
    };
  }
};

std::vector<std::string> frame(const std::vector<std::string>& chunks,
                               LineFramer::Options options = {}) {
  LineFramer framer(options);
  Collector out;
  for (const auto& chunk : chunks) EXPECT_TRUE(framer.feed(chunk, out.handler()).ok());
  EXPECT_TRUE(framer.finish(out.handler()).ok());
  return out.lines;
}

using Lines = std::vector<std::string>;

TEST(LineFramer, SplitsManyLinesInOneChunk) {
  EXPECT_EQ(frame({"{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n"}),
            (Lines{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"}));
}

TEST(LineFramer, JoinsALineSpreadOverChunks) {
  EXPECT_EQ(frame({"{\"a\"", ":", "1}", "\n{\"b\":2}\n"}), (Lines{"{\"a\":1}", "{\"b\":2}"}));
}

TEST(LineFramer, StripsCarriageReturnsAndSkipsBlankLines) {
  EXPECT_EQ(frame({"\n\r\n  \n{\"a\":1}\r\n\t\r\n{\"b\":2}\n\n"}),
            (Lines{"{\"a\":1}", "{\"b\":2}"}));
  // A "\r\n" split between chunks.
  EXPECT_EQ(frame({"{\"a\":1}\r", "\n{\"b\":2}\r", "\n"}), (Lines{"{\"a\":1}", "{\"b\":2}"}));
}

TEST(LineFramer, KeepsAPartialLineUntilItsNewlineArrives) {
  LineFramer framer;
  Collector out;
  ASSERT_TRUE(framer.feed("{\"a\":1}\n{\"b\"", out.handler()).ok());
  EXPECT_EQ(out.lines, Lines{"{\"a\":1}"});
  EXPECT_EQ(framer.pendingBytes(), 4u);
  ASSERT_TRUE(framer.feed(":2}", out.handler()).ok());
  EXPECT_EQ(out.lines.size(), 1u);
  ASSERT_TRUE(framer.feed("\n", out.handler()).ok());
  EXPECT_EQ(out.lines, (Lines{"{\"a\":1}", "{\"b\":2}"}));
  EXPECT_EQ(framer.pendingBytes(), 0u);
}

TEST(LineFramer, FinishHandsOverAnUnterminatedLastLine) {
  EXPECT_EQ(frame({"{\"a\":1}\n{\"b\":", "2}"}), (Lines{"{\"a\":1}", "{\"b\":2}"}));
  EXPECT_EQ(frame({"{\"a\":1}\n"}), (Lines{"{\"a\":1}"}));
  EXPECT_EQ(frame({"{\"a\":1}\n  \r"}), (Lines{"{\"a\":1}"}));
  EXPECT_EQ(frame({}), Lines{});
}

TEST(LineFramer, HandsOutLinesInPlaceWhenTheChunkCanPadThem) {
  // The first line is followed by more than kPadding bytes of the same chunk: no copy.
  const std::string first = "{\"first\":1}";
  const std::string chunk = first + "\n" + "{\"second\":\"" + std::string(100, 'x') + "\"}\n";
  LineFramer framer;
  std::vector<const char*> starts;
  ASSERT_TRUE(framer
                  .feed(chunk,
                        [&](PaddedView line) {
                          EXPECT_TRUE(line.padded());
                          starts.push_back(line.data());
                        })
                  .ok());
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[0], chunk.data());
  // The last line has no padding in the chunk, so it was copied.
  EXPECT_NE(starts[1], chunk.data() + first.size() + 1);
}

TEST(LineFramer, RejectsALineOverTheLimitAndStaysFailedUntilReset) {
  LineFramer::Options options;
  options.maxLineBytes = 16;
  LineFramer framer(options);
  Collector out;
  // Exactly at the limit (the "\r" of "\r\n" does not count).
  ASSERT_TRUE(framer.feed(std::string(16, 'a') + "\r\n", out.handler()).ok());
  EXPECT_EQ(out.lines, Lines{std::string(16, 'a')});

  Status s = framer.feed(std::string(17, 'b') + "\n", out.handler());
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.is(ErrorKind::Invalid));
  EXPECT_NE(s.error().message.find("16-byte limit"), std::string::npos) << s.error().message;
  EXPECT_TRUE(framer.feed("{}\n", out.handler()).is(ErrorKind::Invalid));
  EXPECT_TRUE(framer.finish(out.handler()).is(ErrorKind::Invalid));
  EXPECT_EQ(out.lines.size(), 1u);

  framer.reset();
  ASSERT_TRUE(framer.feed("{}\n", out.handler()).ok());
  EXPECT_EQ(out.lines.back(), "{}");
}

TEST(LineFramer, DoesNotBufferAnEndlessLine) {
  LineFramer::Options options;
  options.maxLineBytes = 1000;
  LineFramer framer(options);
  Collector out;
  Status last = Status::Ok();
  int fed = 0;
  for (; fed < 100 && last.ok(); ++fed) last = framer.feed(std::string(64, 'x'), out.handler());
  EXPECT_TRUE(last.is(ErrorKind::Invalid));
  EXPECT_EQ(fed, 16);  // 16 * 64 = 1024 > 1000 + 1
  EXPECT_EQ(framer.bufferCapacity(), 0u);
  EXPECT_TRUE(out.lines.empty());
}

TEST(LineFramer, LimitAppliesToLinesInsideOneChunkToo) {
  LineFramer::Options options;
  options.maxLineBytes = 8;
  LineFramer framer(options);
  Collector out;
  EXPECT_TRUE(
      framer.feed("{}\n" + std::string(200, 'x') + "\n{}\n", out.handler()).is(ErrorKind::Invalid));
  EXPECT_EQ(out.lines, Lines{"{}"});
}

TEST(LineFramer, GivesBackTheBufferOfAHugeLine) {
  LineFramer framer;
  Collector out;
  const std::string huge = "\"" + std::string(4 << 20, 'h') + "\"";
  // Fed in pieces, so the line has to be assembled in the framer's buffer.
  for (std::size_t i = 0; i < huge.size(); i += 100000) {
    ASSERT_TRUE(framer.feed(std::string_view(huge).substr(i, 100000), out.handler()).ok());
  }
  EXPECT_GE(framer.bufferCapacity(), huge.size());
  ASSERT_TRUE(framer.feed("\n{}\n", out.handler()).ok());
  ASSERT_EQ(out.lines.size(), 2u);
  EXPECT_EQ(out.lines[0].size(), huge.size());
  EXPECT_LT(framer.bufferCapacity(), std::size_t{1} << 20);
}

// Three watch events (one with "\r\n", one with multi-byte UTF-8, a blank line
// between) cut at every possible point, in two and in three chunks, and byte by byte:
// the lines and their decoded events are always the same.
class EverySplit : public ::testing::Test {
 protected:
  static std::string pod(const std::string& type, const std::string& name, const std::string& rv) {
    return R"({"type":")" + type +
           R"(","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":")" + name +
           R"(","namespace":"shop","uid":"u-)" + name + R"(","resourceVersion":")" + rv +
           R"(","annotations":{"note":"caf\u00e9 ☕ 日本語"}},"spec":{"serviceAccountName":"web"}}})";
  }
  const std::string bookmark =
      R"({"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"130","creationTimestamp":null}}})";
  const Lines expected = {pod("ADDED", "web-ä1", "100"), pod("MODIFIED", "web-ä1", "120"),
                          bookmark};
  const std::string stream = expected[0] + "\n" + expected[1] + "\r\n\n" + expected[2] + "\n";

  void check(const Lines& lines) {
    ASSERT_EQ(lines, expected);
    Decoder decoder;
    auto added = decoder.watchEvent<Kind::Pod>(lines[0]);
    ASSERT_TRUE(added.ok()) << added.error().describe();
    EXPECT_EQ(added->type, EventType::Added);
    EXPECT_EQ(added->object.meta.name(), "web-ä1");
    auto bookmarked = decoder.watchEvent<Kind::Pod>(lines[2]);
    ASSERT_TRUE(bookmarked.ok()) << bookmarked.error().describe();
    EXPECT_EQ(bookmarked->resourceVersion, "130");
  }
};

TEST_F(EverySplit, TwoChunks) {
  for (std::size_t i = 0; i <= stream.size(); ++i) {
    SCOPED_TRACE("split at " + std::to_string(i));
    LineFramer framer;
    Decoder decoder;
    Lines lines;
    std::vector<EventType> types;
    auto onLine = [&](PaddedView line) {
      ASSERT_TRUE(line.padded());
      lines.emplace_back(line.view());
      // Decoded straight from the framer's view, as a watch does.
      auto event = decoder.watchEvent<Kind::Pod>(line);
      ASSERT_TRUE(event.ok()) << event.error().describe();
      types.push_back(event->type);
    };
    ASSERT_TRUE(framer.feed(stream.substr(0, i), onLine).ok());
    ASSERT_TRUE(framer.feed(stream.substr(i), onLine).ok());
    ASSERT_TRUE(framer.finish(onLine).ok());
    ASSERT_EQ(lines, expected);
    EXPECT_EQ(types,
              (std::vector<EventType>{EventType::Added, EventType::Modified, EventType::Bookmark}));
  }
}

TEST_F(EverySplit, ThreeChunks) {
  for (std::size_t i = 0; i <= stream.size(); ++i) {
    for (std::size_t j = i; j <= stream.size(); ++j) {
      Lines lines = frame({stream.substr(0, i), stream.substr(i, j - i), stream.substr(j)});
      ASSERT_EQ(lines, expected) << "split at " << i << " and " << j;
    }
  }
}

TEST_F(EverySplit, ByteByByte) {
  std::vector<std::string> bytes;
  for (char ch : stream) bytes.emplace_back(1, ch);
  check(frame(bytes));
}

TEST_F(EverySplit, WholeStream) {
  check(frame({stream}));
}

}  // namespace
}  // namespace saguard::codec
