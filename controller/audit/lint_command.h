// `saguard lint PATH... | -`: the command-line entry point of the offline linter
// (audit/lint.h), called by main.cpp and, in-process, by the tests.
//
// Flags: -o/--output text|json|sarif|junit, --policy FILE (repeatable), -n/--namespace
// (for objects without one; default "default"), --exit-zero.
// Exit codes: 0 no findings (or --exit-zero), 1 findings (malformed documents and
// invalid policies included), 2 usage errors and paths that cannot be read.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace saguard::audit {

// `args` are the arguments after "lint". Reads `-` from `in`, writes the report to
// `out` and usage errors to `err`.
int runLint(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
            std::ostream& err);

// The same with the version SARIF reports fixed (golden-file tests).
int runLint(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
            std::ostream& err, std::string_view version);

}  // namespace saguard::audit
