#include "evidence/log_follower.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string_view>
#include <utility>

#include "evidence/log_file.h"

namespace saguard::evidence {
namespace {

constexpr std::size_t kMaxChunk = std::size_t{1} << 30;
// Rotations followed in one poll before it returns (the next poll continues): a poll
// always ends, even against a writer that rotates faster than we read.
constexpr int kMaxRotationsPerPoll = 64;

Error invalidOption(const std::string& field, const std::string& what) {
  return makeError(ErrorKind::Invalid, "logFollower." + field + ": " + what);
}

bool waitOnStop(std::chrono::milliseconds interval, std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  // Returns early when stop is requested; the predicate never holds otherwise.
  cv.wait_for(lock, stop, interval, [] { return false; });
  return !stop.stop_requested();
}

}  // namespace

Status LogFollowerOptions::validate() const {
  if (path.empty()) return invalidOption("path", "required (the API server's --audit-log-path)");
  if (pollInterval <= std::chrono::milliseconds::zero()) {
    return invalidOption("pollInterval", "must be positive");
  }
  if (maxLineBytes == 0) return invalidOption("maxLineBytes", "must be positive");
  if (chunkBytes == 0 || chunkBytes > kMaxChunk || chunkBytes > maxLineBytes) {
    return invalidOption("chunkBytes", "must be in [1, min(maxLineBytes, 1 GiB)], got " +
                                           std::to_string(chunkBytes));
  }
  if (errorLogInterval < Clock::duration::zero()) {
    return invalidOption("errorLogInterval", "must not be negative");
  }
  return Status::Ok();
}

Result<std::unique_ptr<LogFollower>> LogFollower::create(LogFollowerOptions options) {
  if (Status valid = options.validate(); !valid.ok()) return valid.error();
  return std::unique_ptr<LogFollower>(new LogFollower(std::move(options)));
}

LogFollower::LogFollower(LogFollowerOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : SteadyClock::instance()),
      framer_({.maxLineBytes = options_.maxLineBytes}),
      chunk_(std::make_unique_for_overwrite<char[]>(options_.chunkBytes)) {
  if (!options_.wait) options_.wait = waitOnStop;
  if (!options_.reportError) {
    options_.reportError = [](const Error& error, std::uint64_t suppressed) {
      if (suppressed == 0) {
        spdlog::warn("audit log: {}", error.describe());
      } else {
        spdlog::warn("audit log: {} ({} similar failures since the last report)", error.describe(),
                     suppressed);
      }
    };
  }
}

LogFollower::~LogFollower() {
  closeCurrent();
}

Status LogFollower::openCurrent() {
  int fd = -1;
  do {
    fd = ::open(options_.path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return detail::fileError(errno, "open", options_.path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return detail::fileError(err, "stat", options_.path);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return makeError(ErrorKind::Invalid, options_.path + ": is not a regular file");
  }
  fd_ = fd;
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  offset_ = 0;
  skipping_ = false;
  framer_.reset();
  return Status::Ok();
}

void LogFollower::closeCurrent() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status LogFollower::drain(const LineHandler& deliver) {
  for (;;) {
    const ssize_t n = ::read(fd_, chunk_.get(), options_.chunkBytes);
    if (n == 0) return Status::Ok();
    if (n < 0) {
      if (errno == EINTR) continue;
      // The offset is unchanged: the next poll reads from here again.
      return detail::fileError(errno, "read", options_.path);
    }
    counters_.bytesRead += static_cast<std::uint64_t>(n);
    feedChunk(chunk_.get(), static_cast<std::size_t>(n), deliver);
    offset_ += static_cast<std::uint64_t>(n);
  }
}

void LogFollower::feedChunk(const char* data, std::size_t size, const LineHandler& deliver) {
  std::string_view rest(data, size);
  std::uint64_t restOffset = offset_;
  if (skipping_) {
    const void* nl = std::memchr(rest.data(), '\n', rest.size());
    if (nl == nullptr) return;
    const std::size_t skip = static_cast<const char*>(nl) - rest.data() + 1;
    rest.remove_prefix(skip);
    restOffset += skip;
    skipping_ = false;
  }
  const std::size_t pending = framer_.pendingBytes();
  if (framer_.feed(rest, deliver).ok()) return;
  // With chunkBytes <= maxLineBytes only the line held from earlier reads can be too
  // long, and nothing of this chunk was delivered: drop bytes up to its newline, then
  // frame the rest afresh.
  skippedLine(restOffset - pending);
  framer_.reset();
  const void* nl = std::memchr(rest.data(), '\n', rest.size());
  if (nl == nullptr) {
    skipping_ = true;
    return;
  }
  rest.remove_prefix(static_cast<const char*>(nl) - rest.data() + 1);
  // Cannot fail: the framer holds nothing and rest is shorter than the limit.
  (void)framer_.feed(rest, deliver);
}

void LogFollower::finishCurrent(const LineHandler& deliver) {
  const std::size_t pending = framer_.pendingBytes();
  // An unterminated last line one byte over the limit passes feed and fails here.
  if (!framer_.finish(deliver).ok()) {
    skippedLine(offset_ - pending);
    framer_.reset();
  }
  skipping_ = false;
}

void LogFollower::skippedLine(std::uint64_t startOffset) {
  ++counters_.linesSkipped;
  spdlog::warn("audit log {}: skipped the line starting at byte offset {}: longer than {} bytes",
               options_.path, startOffset, options_.maxLineBytes);
}

Status LogFollower::poll(const LineHandler& onLine) {
  const LineHandler deliver = [&](codec::PaddedView line) {
    ++counters_.linesDelivered;
    onLine(line);
  };
  auto failed = [&](Error error) -> Status {
    ++counters_.pollErrors;
    return error;
  };

  if (fd_ < 0) {
    if (Status opened = openCurrent(); !opened.ok()) return failed(opened.error());
  }
  for (int rotations = 0;;) {
    if (Status read = drain(deliver); !read.ok()) return failed(read.error());

    struct stat st {};
    if (::stat(options_.path.c_str(), &st) != 0) {
      const int err = errno;
      // Renamed away and the new FILE not created yet: keep reading the old one.
      if (err == ENOENT) return Status::Ok();
      return failed(detail::fileError(err, "stat", options_.path));
    }
    if (st.st_dev == dev_ && st.st_ino == ino_) {
      // Same file. Everything up to its end was read just now and a log only grows, so
      // a size below our offset means it was truncated in place (copytruncate).
      if (static_cast<std::uint64_t>(st.st_size) >= offset_) return Status::Ok();
      if (::lseek(fd_, 0, SEEK_SET) != 0) {
        return failed(detail::fileError(errno, "seek", options_.path));
      }
      spdlog::info("audit log {}: truncated in place (size {} < offset {}), reading from the start",
                   options_.path, st.st_size, offset_);
      offset_ = 0;
      skipping_ = false;
      framer_.reset();
      ++counters_.truncations;
      continue;
    }

    // Rotated: what the writer appended to the old file after our last read, before
    // renaming it, is read first.
    if (Status read = drain(deliver); !read.ok()) return failed(read.error());
    finishCurrent(deliver);
    closeCurrent();
    ++counters_.rotations;
    spdlog::debug("audit log {}: rotated, following the new file", options_.path);
    // Opened by name again (not from the stat above): if FILE was rotated once more in
    // between, the next round notices it.
    if (Status opened = openCurrent(); !opened.ok()) return failed(opened.error());
    if (++rotations >= kMaxRotationsPerPoll) return Status::Ok();
  }
}

void LogFollower::report(const Error& error) {
  const Clock::time_point now = clock_.now();
  if (lastReport_ && now - *lastReport_ < options_.errorLogInterval) {
    ++suppressed_;
    return;
  }
  options_.reportError(error, suppressed_);
  lastReport_ = now;
  suppressed_ = 0;
}

void LogFollower::run(std::stop_token stop, const LineHandler& onLine) {
  while (!stop.stop_requested()) {
    Status polled = poll(onLine);
    if (!polled.ok()) {
      report(polled.error());
      failing_ = true;
    } else if (failing_) {
      spdlog::info("audit log {}: following again", options_.path);
      failing_ = false;
    }
    if (!options_.wait(options_.pollInterval, stop)) return;
  }
}

}  // namespace saguard::evidence
