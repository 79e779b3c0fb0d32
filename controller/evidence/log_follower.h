// Follows the API server's live audit log (--audit-log-path FILE --audit-log-format
// json): one audit.k8s.io/v1 Event per line, appended as requests complete, with FILE
// rotated by the log backend (lumberjack) once it reaches --audit-log-maxsize MB: FILE
// is closed, renamed to NAME-<timestamp>.log (gzip-compressed later, or deleted past
// --audit-log-maxbackup) and a fresh FILE is created. Each complete line is handed to
// the caller as a codec::PaddedView, ready for the decoder.
//
//   auto follower = evidence::LogFollower::create({.path = "/var/log/kubernetes/audit.log"});
//   if (!follower.ok()) die(follower.error().describe());   // invalid options
//   std::jthread t([&](std::stop_token stop) {
//     (*follower)->run(stop, [&](codec::PaddedView line) { ledger.fold(decode(line)); });
//   });                                                     // t.request_stop() ends it promptly
//
// What is delivered, and when:
// - Start: the current FILE is read from its beginning, so events logged while saguard
//   was down are not lost. Lines already folded before a restart are delivered again;
//   that is safe because folding is idempotent (max-merge records, evidence/ledger).
// - Growth: each poll reads to end of file. A last line still being written (no "\n"
//   yet) is held until its newline arrives; it is never delivered in pieces.
// - Rotation by rename: when FILE names another (device, inode) than the open file, the
//   old file is first read to its end (the writer may have appended after our last
//   read, before renaming), a trailing unterminated fragment of it is delivered as a
//   last line (lumberjack writes whole lines, so normally there is none), and the new
//   FILE is then read from offset 0. While FILE does not exist (renamed, new one not yet
//   created) the old file stays open and is still read: that is not an error.
// - Truncation in place (copytruncate: same inode, size now below what we read): read
//   again from offset 0, the held partial line dropped.
// Within a process no line is delivered twice and none is skipped, with two limits
// inherent to following by polling: a file that is both created and rotated away
// between two polls is never seen (at lumberjack's sizes, >= 1 MB per file and usually
// 100, a poll each 250 ms makes that unlikely), and a copytruncate that the file regrows
// past our offset before the next poll is not noticed (lines are then missed or cut).
// A writer must also not append to a renamed file once the new one exists (lumberjack
// closes the old file before it renames it). A line longer than maxLineBytes is skipped
// up to its newline, logged and counted (linesSkipped); the lines around it still come.
//
// Errors. poll() returns them: NotFound while no file is open and FILE does not exist
// (the API server has not created it yet), Forbidden, Invalid (FILE is not a regular
// file), Unavailable (a failed read or stat). The next poll tries again from where this
// one stopped. run() never stops on them: it reports them through
// LogFollowerOptions::reportError (spdlog warn by default) at most once per errorLogInterval (one
// minute), saying how many were suppressed, and logs once when following resumes.
//
// Plain POSIX (open, read, fstat, stat), no inotify: a poll is one stat(2) plus reads.
// Not thread-safe: one thread calls poll() or run() and reads counters().
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "base/clock.h"
#include "base/result.h"
#include "codec/line_framer.h"

namespace saguard::evidence {

struct LogFollowerOptions {
  // Required: the API server's --audit-log-path.
  std::string path{};
  // run(): the wait between two polls; > 0.
  std::chrono::milliseconds pollInterval{250};
  // Bytes per read(2); in [1, min(maxLineBytes, 1 GiB)] (not above maxLineBytes, so only
  // a line continued from an earlier read can be too long: it is then skipped exactly).
  std::size_t chunkBytes = std::size_t{256} << 10;
  // Longest line delivered (codec::LineFramer::Options::maxLineBytes); > 0.
  std::size_t maxLineBytes = codec::LineFramer::Options{}.maxLineBytes;
  // run(): at most one reportError call per this interval; >= 0 (0: report every error).
  Clock::duration errorLogInterval = std::chrono::minutes(1);
  // The clock for errorLogInterval; null = SteadyClock::instance(). Not owned.
  const Clock* clock = nullptr;
  // run(): waits `interval` between polls; returns false once `stop` is requested (run
  // then returns). Empty = a std::condition_variable_any wait that wakes on `stop`.
  std::function<bool(std::chrono::milliseconds interval, std::stop_token stop)> wait{};
  // run(): reports a failed poll; `suppressed` counts the failures not reported since
  // the previous report. Empty = spdlog warn.
  std::function<void(const Error& error, std::uint64_t suppressed)> reportError{};

  // Ok, or Invalid naming the offending field ("logFollower.pollInterval: ...").
  Status validate() const;
};

// Monotonic over the follower's life; for tests, logs and metrics.
struct LogFollowerCounters {
  std::uint64_t linesDelivered = 0;  // onLine calls
  std::uint64_t linesSkipped = 0;    // over maxLineBytes
  std::uint64_t bytesRead = 0;       // from all files, as read(2) returned them
  std::uint64_t rotations = 0;       // switches to a new FILE (another inode)
  std::uint64_t truncations = 0;     // restarts from offset 0 of the same inode
  std::uint64_t pollErrors = 0;      // polls that returned an error
};

class LogFollower {
 public:
  using LineHandler = codec::LineFramer::LineHandler;

  // Invalid when the options are (LogFollowerOptions::validate). Opens nothing yet.
  static Result<std::unique_ptr<LogFollower>> create(LogFollowerOptions options);
  ~LogFollower();
  LogFollower(const LogFollower&) = delete;
  LogFollower& operator=(const LogFollower&) = delete;

  // Reads everything FILE (and a file it replaced) holds now, calls `onLine` once per
  // complete line in order, and returns. Errors: see the header comment; lines
  // delivered before an error stay delivered. `onLine` must not throw (if it does, the
  // exception leaves poll() and the rest of that read is lost).
  Status poll(const LineHandler& onLine);

  // poll(), then wait pollInterval, until `stop` is requested; returns promptly then
  // (within the poll in progress). Errors are reported, rate-limited, and retried at the
  // next poll. May be called again after it returned: it continues where it stopped.
  void run(std::stop_token stop, const LineHandler& onLine);

  const LogFollowerCounters& counters() const { return counters_; }
  const LogFollowerOptions& options() const { return options_; }

 private:
  explicit LogFollower(LogFollowerOptions options);

  // Opens FILE from offset 0 as the current file.
  Status openCurrent();
  void closeCurrent();
  // Reads the current file to its end, feeding the framer.
  Status drain(const LineHandler& deliver);
  // Frames one chunk read at offset_, skipping a line over the limit.
  void feedChunk(const char* data, std::size_t size, const LineHandler& deliver);
  // End of the current file: hands over a trailing unterminated fragment.
  void finishCurrent(const LineHandler& deliver);
  void skippedLine(std::uint64_t startOffset);
  void report(const Error& error);

  LogFollowerOptions options_;
  const Clock& clock_;
  codec::LineFramer framer_;
  std::unique_ptr<char[]> chunk_;

  int fd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  std::uint64_t offset_ = 0;  // bytes read from the current file
  bool skipping_ = false;     // inside a line over the limit: drop bytes up to its "\n"

  LogFollowerCounters counters_;
  // run()'s rate limit: when the last report was made, failures since, and whether the
  // last poll failed (to log once when following resumes).
  std::optional<Clock::time_point> lastReport_;
  std::uint64_t suppressed_ = 0;
  bool failing_ = false;
};

}  // namespace saguard::evidence
