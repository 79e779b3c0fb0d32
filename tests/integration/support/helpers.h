// Small helpers the integration and end-to-end tests share (both binaries compile
// tests/integration/support/): files, temporary folders, text and names. One copy of
// each: a test that needs more extends these instead of writing its own.
#pragma once

#include <optional>
#include <string>

namespace saguard::testing {

// The whole file, byte for byte; "" when it cannot be read.
std::string readFile(const std::string& path);

// `relative` ("manifests/rbac", "tests/controlplane/up.sh") in the source tree.
std::string source(const std::string& relative);

// A new, empty folder named /tmp/saguard-<what>-XXXXXX (under $TMPDIR when set). Nothing
// removes it: the caller does, or it stays for the post-mortem. Throws std::runtime_error
// when it cannot be made.
std::string makeTempDir(const std::string& what);

// `text` without its trailing whitespace (kubectl and mktemp end their answers with a
// newline).
std::string trimmed(std::string text);

// `arg` single-quoted for a POSIX shell command line.
std::string shellQuote(const std::string& arg);

// Six random characters of [a-z0-9]: names that must not collide with an earlier run's.
std::string randomSuffix();

// How often `needle` occurs in `text`, overlapping occurrences counted.
int countOf(const std::string& text, const std::string& needle);

// Whether `needle` occurs in `text` (std::string::contains is C++23).
bool contains(const std::string& text, const std::string& needle);

// A MicroTime ("2026-11-30T13:02:21.123456Z": saguard's log lines start with one, a
// Lease's acquireTime is one) as seconds since the epoch; nullopt when it does not parse.
std::optional<double> parseMicroTime(const std::string& text);

}  // namespace saguard::testing
