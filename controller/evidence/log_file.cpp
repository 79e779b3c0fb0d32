#include "evidence/log_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

namespace saguard::evidence {
namespace {

constexpr std::size_t kMaxChunk = std::size_t{1} << 30;  // gzread counts in unsigned int
// zlib's own input buffer (compressed bytes per read(2)); its default is 8 KiB.
constexpr unsigned kGzBuffer = 128U << 10;

// Closes a gzFile (and the descriptor it owns) on every path out.
struct GzCloser {
  void operator()(gzFile_s* gz) const { gzclose(gz); }
};
using GzHandle = std::unique_ptr<gzFile_s, GzCloser>;

Error invalid(const std::string& name, const std::string& what) {
  return makeError(ErrorKind::Invalid, name + ": " + what);
}

// Opens `path` ("-": a duplicate of stdin, so that gzclose leaves stdin open) and checks
// that it is something a log can be read from.
Result<int> openLog(const std::string& path, const std::string& name) {
  int fd = -1;
  if (path == "-") {
    fd = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return detail::fileError(errno, "duplicate", name);
  } else {
    do {
      fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return detail::fileError(errno, "open", name);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return detail::fileError(err, "stat", name);
  }
  // A terminal or /dev/null on stdin is fine; a named device or a folder is a mistake.
  const bool readable = S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
                        (path == "-" && S_ISCHR(st.st_mode));
  if (!readable) {
    ::close(fd);
    return invalid(name, S_ISDIR(st.st_mode) ? "is a directory, not a file"
                                             : "is not a regular file or a pipe");
  }
  return fd;
}

}  // namespace

namespace detail {
Error fileError(int errnum, const std::string& action, const std::string& path) {
  ErrorKind kind = ErrorKind::Unavailable;
  if (errnum == ENOENT || errnum == ENOTDIR) kind = ErrorKind::NotFound;
  if (errnum == EACCES || errnum == EPERM) kind = ErrorKind::Forbidden;
  return makeError(kind, path + ": " + action + ": " + std::strerror(errnum));
}
}  // namespace detail

Status ReadAuditLogOptions::validate() const {
  if (maxLineBytes == 0) {
    return makeError(ErrorKind::Invalid, "readAuditLogFile.maxLineBytes: must be positive");
  }
  if (chunkBytes == 0 || chunkBytes > kMaxChunk || chunkBytes > maxLineBytes) {
    return makeError(ErrorKind::Invalid,
                     "readAuditLogFile.chunkBytes: must be in [1, min(maxLineBytes, 1 GiB)], got " +
                         std::to_string(chunkBytes));
  }
  return Status::Ok();
}

Status readAuditLogFile(const std::string& path, const codec::LineFramer::LineHandler& onLine,
                        const ReadAuditLogOptions& options) {
  if (Status valid = options.validate(); !valid.ok()) return valid;
  if (path.empty()) return makeError(ErrorKind::Invalid, "readAuditLogFile: empty path");
  const std::string name = path == "-" ? std::string("standard input") : path;

  Result<int> fd = openLog(path, name);
  if (!fd.ok()) return fd.error();
  GzHandle gz(gzdopen(*fd, "rb"));
  if (!gz) {
    ::close(*fd);
    return makeError(ErrorKind::Unavailable, name + ": gzdopen: out of memory");
  }
  gzbuffer(gz.get(), kGzBuffer);  // before the first read, or zlib ignores it

  codec::LineFramer framer({.maxLineBytes = options.maxLineBytes});
  auto chunk = std::make_unique_for_overwrite<char[]>(options.chunkBytes);
  std::uint64_t offset = 0;  // decompressed bytes read so far
  for (;;) {
    const int n = gzread(gz.get(), chunk.get(), static_cast<unsigned>(options.chunkBytes));
    if (n > 0) {
      // With chunkBytes <= maxLineBytes only the line continued from earlier chunks can
      // be too long (log_file.h), so it starts pendingBytes() before this chunk.
      const std::size_t pending = framer.pendingBytes();
      if (!framer.feed({chunk.get(), static_cast<std::size_t>(n)}, onLine).ok()) {
        return invalid(name, "the line starting at byte offset " +
                                 std::to_string(offset - pending) + " is longer than the " +
                                 std::to_string(options.maxLineBytes) + "-byte limit");
      }
      offset += static_cast<std::uint64_t>(n);
      continue;
    }
    int errnum = Z_OK;
    const char* message = gzerror(gz.get(), &errnum);
    if (n == 0 && errnum == Z_OK) break;  // end of file
    if (errnum == Z_ERRNO) {
      // zlib's message is strerror(errno) of the failed read(2).
      return makeError(ErrorKind::Unavailable, name + ": read: " + message);
    }
    if (errnum == Z_MEM_ERROR) {
      return makeError(ErrorKind::Unavailable, name + ": gzread: out of memory");
    }
    // Z_DATA_ERROR (bad header, bad deflate data, bad check value) or Z_BUF_ERROR (the
    // file ends inside a member). gzoffset counts compressed bytes consumed, including
    // zlib's read-ahead, hence "near".
    return invalid(
        name, std::string("corrupt gzip data near compressed byte ") +
                  std::to_string(gzoffset(gz.get())) + " (after " + std::to_string(offset) +
                  " decompressed bytes): " + (message != nullptr ? message : "unknown zlib error"));
  }
  // An unterminated last line one byte over the limit passes feed (which waits to see
  // whether it ends in "\r\n") and is refused here.
  const std::size_t pending = framer.pendingBytes();
  if (!framer.finish(onLine).ok()) {
    return invalid(name, "the last line, starting at byte offset " +
                             std::to_string(offset - pending) + ", is longer than the " +
                             std::to_string(options.maxLineBytes) + "-byte limit");
  }
  return Status::Ok();
}

}  // namespace saguard::evidence
