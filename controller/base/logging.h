// Process-wide logging set-up on spdlog: JSON lines (time, level, message, and the
// reconcile context: controller, object, reconcileID) or plain text, at a level.
//
// Every line passes through a redactor first: bearer tokens, JWTs and PEM blocks are
// replaced by "[REDACTED]", so a credential that slips into a message by mistake
// never reaches a log. Code must still not log credentials; this is the safety net.
//
//   setupLogging({.format = LogFormat::Json, .level = "info"});
//   { ScopedLogContext ctx("serviceaccountpolicy", "account/ns/default", id); spdlog::info(...); }
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace saguard {

enum class LogFormat { Json, Text };

struct LoggingOptions {
  LogFormat format = LogFormat::Text;
  std::string level = "info";  // trace, debug, info, warn, error
};

// Parses "json"/"text"; Invalid naming the flag otherwise.
Result<LogFormat> parseLogFormat(std::string_view text);
// Configures the default logger (stderr). Invalid for an unknown level.
Status setupLogging(const LoggingOptions& options);

// The text with credentials replaced by "[REDACTED]".
std::string redactSecrets(std::string_view text);

// Fields added to every line logged by this thread while the object lives.
class ScopedLogContext {
 public:
  ScopedLogContext(std::string controller, std::string object, std::string reconcileId);
  ~ScopedLogContext();
  ScopedLogContext(const ScopedLogContext&) = delete;
  ScopedLogContext& operator=(const ScopedLogContext&) = delete;
};

}  // namespace saguard
