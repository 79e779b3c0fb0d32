#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "evidence/log_file.h"
#include "evidence/log_follower.h"
#include "support/temp_dir.h"

namespace saguard::evidence {
namespace {

using Lines = std::vector<std::string>;

// Collects delivered lines, checking that each is padded for simdjson.
struct Collector {
  Lines lines;
  codec::LineFramer::LineHandler handler() {
    return [this](codec::PaddedView line) {
      EXPECT_TRUE(line.padded()) << line.view();
      lines.emplace_back(line.view());
    };
  }
  // The lines delivered since the last call.
  Lines take() { return std::exchange(lines, {}); }
};

std::string event(int i) {
  return R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"id-)" + std::to_string(i) +
         R"(","verb":"get","user":{"username":"system:serviceaccount:ns:sa-)" +
         std::to_string(i % 7) + R"("}})";
}

// Lines first..first+count-1, each with its "\n".
std::string events(int first, int count) {
  std::string out;
  for (int i = first; i < first + count; ++i) out += event(i) + "\n";
  return out;
}

Lines eventLines(int first, int count) {
  Lines out;
  for (int i = first; i < first + count; ++i) out.push_back(event(i));
  return out;
}

void writeFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

// Appends as a log writer does: O_APPEND, one write(2).
void appendFile(const std::string& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  ::close(fd);
}

std::string readBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// One gzip member holding `content`; mode "wb" starts the file, "ab" appends a member.
void writeGzip(const std::string& path, const std::string& content, const char* mode = "wb") {
  gzFile gz = gzopen(path.c_str(), mode);
  ASSERT_NE(gz, nullptr) << path;
  ASSERT_EQ(gzwrite(gz, content.data(), static_cast<unsigned>(content.size())),
            static_cast<int>(content.size()));
  ASSERT_EQ(gzclose(gz), Z_OK);
}

class TempDirTest : public ::testing::Test {
 protected:
  std::string file(const std::string& name) const { return dir_.file(name); }

  test_support::TempDir dir_{"evidence_log_"};
};

// ---- readAuditLogFile -------------------------------------------------------------

using ReadAuditLogFile = TempDirTest;

TEST_F(ReadAuditLogFile, PlainAndGzipGiveTheSameLines) {
  // CRLF, blank lines and a last line without "\n", over many chunks.
  std::string content = events(0, 2000) + "\r\n" + event(2000) + "\r\n\n   \n" + event(2001);
  Lines expected = eventLines(0, 2002);
  writeFile(file("audit.log"), content);
  writeGzip(file("audit.log.gz"), content);

  for (std::size_t chunk : {std::size_t{1} << 18, std::size_t{4096}, std::size_t{61}}) {
    Collector plain;
    Collector gzip;
    ASSERT_TRUE(readAuditLogFile(file("audit.log"), plain.handler(), {.chunkBytes = chunk}).ok());
    ASSERT_TRUE(readAuditLogFile(file("audit.log.gz"), gzip.handler(), {.chunkBytes = chunk}).ok());
    EXPECT_EQ(plain.lines, expected) << "chunk " << chunk;
    EXPECT_EQ(gzip.lines, expected) << "chunk " << chunk;
  }
}

TEST_F(ReadAuditLogFile, ReadsConcatenatedGzipMembers) {
  // The second member completes a line the first one began (cat a.gz b.gz).
  const std::string path = file("joined.log.gz");
  writeGzip(path, events(0, 100) + "{\"auditID\":");
  writeGzip(path, "\"split\"}\n" + events(100, 50), "ab");
  writeGzip(path, events(150, 1), "ab");

  Collector out;
  ASSERT_TRUE(readAuditLogFile(path, out.handler()).ok());
  Lines expected = eventLines(0, 100);
  expected.emplace_back("{\"auditID\":\"split\"}");
  for (auto& line : eventLines(100, 51)) expected.push_back(line);
  EXPECT_EQ(out.lines, expected);
}

TEST_F(ReadAuditLogFile, CorruptGzipIsInvalidWithThePathAndOffset) {
  std::string content;
  for (int i = 0; i < 20000; ++i) content += event(i * 7919 % 100003) + "\n";
  const std::string good = file("good.log.gz");
  writeGzip(good, content);
  std::string bytes = readBytes(good);
  ASSERT_GT(bytes.size(), 4000U);
  for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 64; ++i) bytes[i] ^= 0x5a;
  const std::string bad = file("corrupt.log.gz");
  writeFile(bad, bytes);

  Collector out;
  Status s = readAuditLogFile(bad, out.handler());
  ASSERT_TRUE(s.is(ErrorKind::Invalid)) << (s.ok() ? "ok" : s.error().describe());
  EXPECT_NE(s.error().message.find(bad), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("corrupt gzip data near compressed byte"), std::string::npos)
      << s.error().message;
  // The lines before the damage stay delivered. (Just before it, a damaged deflate
  // stream may decode to wrong bytes until zlib notices, so only the start is compared.)
  ASSERT_GT(out.lines.size(), 100U);
  EXPECT_LT(out.lines.size(), 20000U);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(out.lines[i], event(i * 7919 % 100003)) << i;
}

TEST_F(ReadAuditLogFile, TruncatedGzipIsInvalid) {
  const std::string good = file("good.log.gz");
  writeGzip(good, events(0, 500));
  std::string bytes = readBytes(good);
  const std::string cut = file("cut.log.gz");
  writeFile(cut, bytes.substr(0, bytes.size() - 12));

  Collector out;
  Status s = readAuditLogFile(cut, out.handler());
  ASSERT_TRUE(s.is(ErrorKind::Invalid)) << (s.ok() ? "ok" : s.error().describe());
  EXPECT_NE(s.error().message.find(cut), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("unexpected end of file"), std::string::npos)
      << s.error().message;
}

TEST_F(ReadAuditLogFile, MissingFileIsNotFound) {
  Collector out;
  Status s = readAuditLogFile(file("nope.log"), out.handler());
  ASSERT_TRUE(s.is(ErrorKind::NotFound));
  EXPECT_NE(s.error().message.find(file("nope.log")), std::string::npos) << s.error().message;
  EXPECT_TRUE(readAuditLogFile(file("nope/deeper.log"), out.handler()).is(ErrorKind::NotFound));
}

TEST_F(ReadAuditLogFile, DirectoryIsInvalid) {
  Collector out;
  Status s = readAuditLogFile(dir_.path().string(), out.handler());
  ASSERT_TRUE(s.is(ErrorKind::Invalid));
  EXPECT_NE(s.error().message.find("is a directory"), std::string::npos) << s.error().message;
}

TEST_F(ReadAuditLogFile, EmptyFileHasNoLines) {
  writeFile(file("empty.log"), "");
  writeGzip(file("empty.log.gz"), "");
  Collector out;
  EXPECT_TRUE(readAuditLogFile(file("empty.log"), out.handler()).ok());
  EXPECT_TRUE(readAuditLogFile(file("empty.log.gz"), out.handler()).ok());
  EXPECT_TRUE(out.lines.empty());
}

TEST_F(ReadAuditLogFile, LineOverTheLimitIsInvalidAfterTheLinesBeforeIt) {
  const std::string path = file("long.log");
  writeFile(path, "{\"a\":1}\n{\"b\":2}\n" + std::string(300, 'x') + "\n{\"c\":3}\n");
  Collector out;
  Status s = readAuditLogFile(path, out.handler(), {.chunkBytes = 16, .maxLineBytes = 100});
  ASSERT_TRUE(s.is(ErrorKind::Invalid));
  EXPECT_NE(s.error().message.find(path + ": the line starting at byte offset 16 is longer"),
            std::string::npos)
      << s.error().message;
  EXPECT_EQ(out.lines, (Lines{"{\"a\":1}", "{\"b\":2}"}));

  // An unterminated last line one byte over the limit is refused at the end.
  writeFile(path, "{\"a\":1}\n" + std::string(101, 'y'));
  out.take();
  s = readAuditLogFile(path, out.handler(), {.chunkBytes = 16, .maxLineBytes = 100});
  ASSERT_TRUE(s.is(ErrorKind::Invalid));
  EXPECT_NE(s.error().message.find("the last line, starting at byte offset 8,"), std::string::npos)
      << s.error().message;
  EXPECT_EQ(out.lines, (Lines{"{\"a\":1}"}));
}

TEST_F(ReadAuditLogFile, DashReadsStandardInput) {
  const std::string path = file("stdin.log.gz");
  writeGzip(path, events(0, 10));
  const int saved = ::dup(STDIN_FILENO);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::dup2(fd, STDIN_FILENO), STDIN_FILENO);
  ::close(fd);
  Collector out;
  Status s = readAuditLogFile("-", out.handler());
  ::dup2(saved, STDIN_FILENO);
  ::close(saved);
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(out.lines, eventLines(0, 10));
}

TEST(ReadAuditLogOptions, ValidateNamesTheField) {
  EXPECT_TRUE((ReadAuditLogOptions{}).validate().ok());
  Status s = ReadAuditLogOptions{.chunkBytes = 0}.validate();
  ASSERT_TRUE(s.is(ErrorKind::Invalid));
  EXPECT_NE(s.error().message.find("chunkBytes"), std::string::npos);
  s = ReadAuditLogOptions{.chunkBytes = 200, .maxLineBytes = 100}.validate();
  ASSERT_TRUE(s.is(ErrorKind::Invalid));
  s = ReadAuditLogOptions{.maxLineBytes = 0}.validate();
  ASSERT_TRUE(s.is(ErrorKind::Invalid));
  EXPECT_NE(s.error().message.find("maxLineBytes"), std::string::npos);
}

// ---- LogFollower ------------------------------------------------------------------

class LogFollowerTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    path_ = file("audit.log");
  }

  std::unique_ptr<LogFollower> follower(LogFollowerOptions options = {}) {
    options.path = path_;
    auto made = LogFollower::create(std::move(options));
    EXPECT_TRUE(made.ok()) << made.error().describe();
    return std::move(made).value();
  }

  // One poll that must succeed; the lines it delivered.
  Lines poll(LogFollower& f) {
    Status s = f.poll(out_.handler());
    EXPECT_TRUE(s.ok()) << s.error().describe();
    return out_.take();
  }

  // Renames the live file as lumberjack does: audit-<n>.log.
  void rotate(int n) {
    ASSERT_EQ(std::rename(path_.c_str(), file("audit-" + std::to_string(n) + ".log").c_str()), 0);
  }

  std::string path_;
  Collector out_;
};

TEST_F(LogFollowerTest, ReadsTheFileFromItsStartThenWhatIsAppended) {
  writeFile(path_, events(0, 3));
  auto f = follower();
  EXPECT_EQ(poll(*f), eventLines(0, 3));
  EXPECT_EQ(poll(*f), Lines{});
  appendFile(path_, events(3, 2));
  EXPECT_EQ(poll(*f), eventLines(3, 2));
  appendFile(path_, events(5, 1));
  appendFile(path_, events(6, 1));
  EXPECT_EQ(poll(*f), eventLines(5, 2));
  EXPECT_EQ(f->counters().linesDelivered, 7U);
  EXPECT_EQ(f->counters().bytesRead, events(0, 7).size());
  EXPECT_EQ(f->counters().rotations, 0U);
  EXPECT_EQ(f->counters().pollErrors, 0U);
}

TEST_F(LogFollowerTest, HoldsAPartialLineUntilItsNewlineArrives) {
  const std::string line = event(1);
  writeFile(path_, events(0, 1) + line.substr(0, 10));
  auto f = follower({.chunkBytes = 7});
  EXPECT_EQ(poll(*f), eventLines(0, 1));
  appendFile(path_, line.substr(10, 20));
  EXPECT_EQ(poll(*f), Lines{});
  appendFile(path_, line.substr(30));
  EXPECT_EQ(poll(*f), Lines{});
  appendFile(path_, "\n" + events(2, 1));
  EXPECT_EQ(poll(*f), eventLines(1, 2));
  EXPECT_EQ(f->counters().linesDelivered, 3U);
}

TEST_F(LogFollowerTest, WaitsForTheFileToBeCreated) {
  auto f = follower();
  for (int i = 0; i < 3; ++i) {
    Status s = f->poll(out_.handler());
    ASSERT_TRUE(s.is(ErrorKind::NotFound));
    EXPECT_NE(s.error().message.find(path_), std::string::npos) << s.error().message;
  }
  EXPECT_EQ(f->counters().pollErrors, 3U);
  writeFile(path_, events(0, 2));
  EXPECT_EQ(poll(*f), eventLines(0, 2));
}

TEST_F(LogFollowerTest, ADirectoryIsNotALogFile) {
  std::filesystem::create_directory(path_);
  auto f = follower();
  Status s = f->poll(out_.handler());
  ASSERT_TRUE(s.is(ErrorKind::Invalid));
  EXPECT_NE(s.error().message.find("not a regular file"), std::string::npos);
}

TEST_F(LogFollowerTest, RotationDeliversWhatWasAppendedToTheOldFileBeforeTheRename) {
  writeFile(path_, events(0, 2));
  auto f = follower();
  EXPECT_EQ(poll(*f), eventLines(0, 2));
  // The writer appends, then rotates, then writes to the new file, all between polls.
  appendFile(path_, events(2, 3));
  rotate(1);
  writeFile(path_, events(5, 2));
  EXPECT_EQ(poll(*f), eventLines(2, 5));
  appendFile(path_, events(7, 1));
  EXPECT_EQ(poll(*f), eventLines(7, 1));
  EXPECT_EQ(f->counters().rotations, 1U);
  EXPECT_EQ(f->counters().linesDelivered, 8U);
}

TEST_F(LogFollowerTest, KeepsReadingTheOldFileWhileTheNewOneIsMissing) {
  writeFile(path_, events(0, 1));
  auto f = follower();
  EXPECT_EQ(poll(*f), eventLines(0, 1));
  rotate(1);
  // A gap of several polls with no FILE: not an error, nothing new.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(poll(*f), Lines{});
  // A late write to the renamed file still arrives (we hold it open).
  appendFile(file("audit-1.log"), events(1, 1));
  EXPECT_EQ(poll(*f), eventLines(1, 1));
  EXPECT_EQ(poll(*f), Lines{});
  writeFile(path_, events(2, 2));
  EXPECT_EQ(poll(*f), eventLines(2, 2));
  EXPECT_EQ(f->counters().rotations, 1U);
  EXPECT_EQ(f->counters().pollErrors, 0U);
}

TEST_F(LogFollowerTest, RotationHandsOverAnUnterminatedFragmentOfTheOldFile) {
  writeFile(path_, events(0, 1) + "{\"cut\":");
  auto f = follower();
  EXPECT_EQ(poll(*f), eventLines(0, 1));
  appendFile(path_, "true}");
  rotate(1);
  writeFile(path_, events(1, 1));
  EXPECT_EQ(poll(*f), (Lines{"{\"cut\":true}", event(1)}));
}

TEST_F(LogFollowerTest, ReadsARotatedFileThatWasDeletedMeanwhile) {
  // Compression replaces the renamed file by NAME-<ts>.log.gz; our descriptor still reads it.
  writeFile(path_, events(0, 1));
  auto f = follower();
  EXPECT_EQ(poll(*f), eventLines(0, 1));
  appendFile(path_, events(1, 2));
  rotate(1);
  ASSERT_EQ(std::remove(file("audit-1.log").c_str()), 0);
  writeFile(path_, events(3, 1));
  EXPECT_EQ(poll(*f), eventLines(1, 3));
}

TEST_F(LogFollowerTest, TruncationInPlaceRestartsFromTheStart) {
  writeFile(path_, events(0, 3) + "{\"partial\":");
  auto f = follower();
  EXPECT_EQ(poll(*f), eventLines(0, 3));
  // copytruncate: same inode, emptied, then written again (shorter than before).
  ASSERT_EQ(::truncate(path_.c_str(), 0), 0);
  appendFile(path_, events(10, 1));
  EXPECT_EQ(poll(*f), eventLines(10, 1));  // the held fragment is dropped, not joined
  EXPECT_EQ(f->counters().truncations, 1U);
  EXPECT_EQ(f->counters().rotations, 0U);
  appendFile(path_, events(11, 1));
  EXPECT_EQ(poll(*f), eventLines(11, 1));
  // Truncated to nothing and left empty.
  ASSERT_EQ(::truncate(path_.c_str(), 0), 0);
  EXPECT_EQ(poll(*f), Lines{});
  EXPECT_EQ(f->counters().truncations, 2U);
  appendFile(path_, events(12, 1));
  EXPECT_EQ(poll(*f), eventLines(12, 1));
}

TEST_F(LogFollowerTest, ManyRotationsInARowLoseAndRepeatNothing) {
  writeFile(path_, "");
  auto f = follower({.chunkBytes = 37});  // lines span reads
  EXPECT_EQ(poll(*f), Lines{});           // the first file is open before it rotates
  Lines expected;
  Lines got;
  int next = 0;
  auto write = [&](int count) {
    appendFile(path_, events(next, count));
    for (auto& line : eventLines(next, count)) expected.push_back(line);
    next += count;
  };
  auto pollInto = [&] {
    for (auto& line : poll(*f)) got.push_back(line);
  };
  for (int round = 1; round <= 200; ++round) {
    write(1 + round % 5);
    if (round % 2 == 0) pollInto();
    write(round % 3);  // appended right before the rename, maybe without a poll
    if (round % 7 == 0) {
      // Half a line just before the rename; the writer finishes it in the old file.
      appendFile(path_, "{\"half\":");
      appendFile(path_, std::to_string(round) + "}\n");
      expected.push_back("{\"half\":" + std::to_string(round) + "}");
    }
    rotate(round);
    if (round % 3 == 0) pollInto();  // a poll while FILE is missing
    writeFile(path_, "");
    if (round % 4 == 0) write(2);
    pollInto();  // at least one poll per file: the documented limit of polling
  }
  write(3);
  pollInto();
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_EQ(got, expected);
  EXPECT_EQ(f->counters().rotations, 200U);
  EXPECT_EQ(f->counters().linesDelivered, expected.size());
  EXPECT_EQ(f->counters().truncations, 0U);
  EXPECT_EQ(f->counters().pollErrors, 0U);
}

TEST_F(LogFollowerTest, BytesReadCountsEveryFile) {
  const std::string first = events(0, 4);
  const std::string second = events(4, 3);
  writeFile(path_, first);
  auto f = follower();
  poll(*f);
  rotate(1);
  writeFile(path_, second);
  poll(*f);
  EXPECT_EQ(f->counters().bytesRead, first.size() + second.size());
}

TEST_F(LogFollowerTest, SkipsALineOverTheLimitAndKeepsTheRest) {
  // The long line spans reads and polls; the lines around it come through.
  writeFile(path_, "{\"a\":1}\n" + std::string(50, 'x'));
  auto f = follower({.chunkBytes = 8, .maxLineBytes = 32});
  EXPECT_EQ(poll(*f), (Lines{"{\"a\":1}"}));
  appendFile(path_, std::string(50, 'y'));
  EXPECT_EQ(poll(*f), Lines{});
  appendFile(path_, "zz\n{\"b\":2}\n" + std::string(40, 'w') + "\n{\"c\":3}\n");
  EXPECT_EQ(poll(*f), (Lines{"{\"b\":2}", "{\"c\":3}"}));
  EXPECT_EQ(f->counters().linesSkipped, 2U);
  EXPECT_EQ(f->counters().linesDelivered, 3U);
}

TEST(LogFollowerOptions, ValidateNamesTheField) {
  auto invalid = [](const LogFollowerOptions& o, const std::string& field) {
    Status s = o.validate();
    ASSERT_TRUE(s.is(ErrorKind::Invalid)) << field;
    EXPECT_NE(s.error().message.find("logFollower." + field), std::string::npos)
        << s.error().message;
    EXPECT_FALSE(LogFollower::create(o).ok());
  };
  EXPECT_TRUE(LogFollowerOptions{.path = "/x"}.validate().ok());
  invalid({}, "path");
  invalid({.path = "/x", .pollInterval = std::chrono::milliseconds(0)}, "pollInterval");
  invalid({.path = "/x", .chunkBytes = 0}, "chunkBytes");
  invalid({.path = "/x", .chunkBytes = 64, .maxLineBytes = 32}, "chunkBytes");
  invalid({.path = "/x", .maxLineBytes = 0}, "maxLineBytes");
  invalid({.path = "/x", .errorLogInterval = -std::chrono::seconds(1)}, "errorLogInterval");
}

TEST_F(LogFollowerTest, RunReportsFailuresAtMostOncePerIntervalAndStops) {
  // Deterministic: each wait moves a fake clock 20 s; the file appears after 7 polls.
  FakeClock clock;
  std::stop_source stop;
  int waits = 0;
  std::vector<std::pair<std::string, std::uint64_t>> reports;
  auto f = follower({
      .errorLogInterval = std::chrono::seconds(60),
      .clock = &clock,
      .wait =
          [&](std::chrono::milliseconds interval, std::stop_token token) {
            EXPECT_EQ(interval, std::chrono::milliseconds(250));
            clock.advance(std::chrono::seconds(20));
            if (++waits == 7) writeFile(path_, events(0, 2));
            if (waits == 9) stop.request_stop();
            return !token.stop_requested();
          },
      .reportError =
          [&](const Error& error, std::uint64_t suppressed) {
            EXPECT_EQ(error.kind, ErrorKind::NotFound);
            reports.emplace_back(error.message, suppressed);
          },
  });
  f->run(stop.get_token(), out_.handler());
  EXPECT_EQ(waits, 9);
  // Failed polls at t = 0, 20, ..., 120 s: reported at 0, 60 and 120.
  ASSERT_EQ(reports.size(), 3U);
  EXPECT_EQ(reports[0].second, 0U);
  EXPECT_EQ(reports[1].second, 2U);
  EXPECT_EQ(reports[2].second, 2U);
  EXPECT_NE(reports[0].first.find(path_), std::string::npos);
  EXPECT_EQ(f->counters().pollErrors, 7U);
  EXPECT_EQ(out_.take(), eventLines(0, 2));
}

TEST_F(LogFollowerTest, RunDeliversOnItsThreadAndStopsPromptly) {
  writeFile(path_, events(0, 3));
  // A long interval: only the stop request can end the wait after the first poll.
  auto f = follower({.pollInterval = std::chrono::hours(1)});
  std::mutex mu;
  std::condition_variable cv;
  Lines got;
  const auto start = std::chrono::steady_clock::now();
  {
    std::jthread runner([&](std::stop_token stop) {
      f->run(stop, [&](codec::PaddedView line) {
        std::lock_guard lock(mu);
        got.emplace_back(line.view());
        cv.notify_all();
      });
    });
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return got.size() == 3; }));
  }  // ~jthread requests stop and joins
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(got, eventLines(0, 3));
  EXPECT_EQ(f->counters().linesDelivered, 3U);
}

}  // namespace
}  // namespace saguard::evidence
