// Renders a LintReport (audit/lint.h) for people and for CI tools. Every renderer is a
// pure function of the report, so the golden-file tests compare their output byte
// for byte.
//
//   text   `file:line:col: SAG001 message`, then the fixes, then a summary line
//   json   {"findings": [...], "summary": {...}} (schema in README.md)
//   sarif  SARIF 2.1.0: runs[0].tool.driver.rules lists every rule; each result has
//          ruleId, ruleIndex, level, message.text and one physical location; the fixes
//          go into the message text and result.properties.fixes (not SARIF `fixes`,
//          which need exact replacement regions that an insertion into YAML lacks)
//   junit  one <testcase> per checked object (every workload, every binding, each
//          invalid policy or malformed document), one <failure> per finding
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "audit/lint.h"

namespace saguard::audit {

enum class LintFormat { Text, Json, Sarif, Junit };

std::optional<LintFormat> parseLintFormat(std::string_view name);

// `version` goes into SARIF's tool.driver.version (tests pass a fixed one).
std::string renderLint(const LintReport& report, LintFormat format, std::string_view version);

}  // namespace saguard::audit
