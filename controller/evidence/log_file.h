// Offline reading of exported API server audit logs: the files the log backend
// (--audit-log-path FILE --audit-log-format json) writes, one audit.k8s.io/v1 Event per
// line, whether still plain (FILE, NAME-<timestamp>.log) or gzip-compressed by rotation
// (NAME-<timestamp>.log.gz), or several gzip members concatenated (cat a.gz b.gz > c.gz).
// The file is read in chunks and framed into lines by codec::LineFramer, so each line
// reaches the handler as a PaddedView ready for the decoder, without another copy.
//
//   Status s = evidence::readAuditLogFile("/var/log/audit/audit-2024-05-01T10-00-00.000.log.gz",
//                                         [&](codec::PaddedView line) { fold(decode(line)); });
//   if (!s.ok()) spdlog::error("{}", s.error().describe());
//
// The live file, which keeps growing and is renamed away, is followed by LogFollower
// (log_follower.h), not read here.
#pragma once

#include <cstddef>
#include <string>

#include "base/result.h"
#include "codec/line_framer.h"

namespace saguard::evidence {

struct ReadAuditLogOptions {
  // Decompressed bytes handed to the framer at a time; in [1, min(maxLineBytes, 1 GiB)].
  // Not above maxLineBytes: then only a line continued from an earlier chunk can be too
  // long, and the error can say where it starts.
  std::size_t chunkBytes = std::size_t{256} << 10;
  // Longest accepted line (codec::LineFramer::Options::maxLineBytes); > 0.
  std::size_t maxLineBytes = codec::LineFramer::Options{}.maxLineBytes;
  // Ok, or Invalid naming the offending field.
  Status validate() const;
};

// Reads the whole file at `path` and calls `onLine` once per non-blank line, in order;
// "-" reads standard input (plain or gzip alike). A last line without a final newline
// is delivered too. zlib decides between gzip and plain by the first bytes, so the file
// name does not matter.
//
// Errors name the path and what is wrong:
//   NotFound   the path (or a folder on it) does not exist;
//   Forbidden  permission denied;
//   Invalid    not a regular file or pipe (a folder, a device); corrupt or truncated
//              gzip data (zlib's message, the compressed byte offset near the damage and
//              how many decompressed bytes were good); a line longer than maxLineBytes
//              (with its byte offset); options that fail validate();
//   Unavailable  any other failure to open or read (EIO, too many open files, ...).
// The lines delivered before an error stay delivered: a caller that folds them
// idempotently (as the evidence ledger does) keeps what it learned from the good part
// of a damaged file. `onLine` must not throw.
Status readAuditLogFile(const std::string& path, const codec::LineFramer::LineHandler& onLine,
                        const ReadAuditLogOptions& options = {});

namespace detail {
// The Error for a failed open/read/stat of `path` (errno `errnum`), shared with
// LogFollower: ENOENT, ENOTDIR → NotFound; EACCES, EPERM → Forbidden; else Unavailable.
// "<path>: <action>: <strerror>".
Error fileError(int errnum, const std::string& action, const std::string& path);
}  // namespace detail

}  // namespace saguard::evidence
