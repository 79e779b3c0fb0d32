#include "base/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>

namespace saguard {
namespace {

struct LogContext {
  std::string controller;
  std::string object;
  std::string reconcileId;
};
thread_local std::optional<LogContext> t_context;

bool isBase64Url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '=';
}

std::string timestamp(const spdlog::details::log_msg& msg) {
  auto t = std::chrono::system_clock::to_time_t(msg.time);
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch()).count() %
      1000000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%06lldZ", static_cast<long long>(micros));
  return buf;
}

class RedactingFormatter : public spdlog::formatter {
 public:
  explicit RedactingFormatter(LogFormat format) : format_(format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string message = redactSecrets(std::string_view(msg.payload.data(), msg.payload.size()));
    std::string level(spdlog::level::to_string_view(msg.level).data(),
                      spdlog::level::to_string_view(msg.level).size());
    std::string line;
    if (format_ == LogFormat::Json) {
      nlohmann::json j = {{"time", timestamp(msg)}, {"level", level}, {"message", message}};
      if (t_context) {
        j["controller"] = t_context->controller;
        j["object"] = t_context->object;
        j["reconcileID"] = t_context->reconcileId;
      }
      line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
      line = timestamp(msg) + " " + level + " " + message;
      if (t_context)
        line += "  object=" + t_context->object + " reconcileID=" + t_context->reconcileId;
    }
    line.push_back('\n');
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<RedactingFormatter>(format_);
  }

 private:
  LogFormat format_;
};

}  // namespace

Result<LogFormat> parseLogFormat(std::string_view text) {
  if (text == "json") return LogFormat::Json;
  if (text == "text") return LogFormat::Text;
  return makeError(ErrorKind::Invalid,
                   "--log-format: expected json or text, got \"" + std::string(text) + "\"");
}

Status setupLogging(const LoggingOptions& options) {
  auto level = spdlog::level::from_str(options.level);
  if (level == spdlog::level::off && options.level != "off") {
    return makeError(
        ErrorKind::Invalid,
        "--log-level: expected trace, debug, info, warn or error, got \"" + options.level + "\"");
  }
  auto logger = std::make_shared<spdlog::logger>("saguard",
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_formatter(std::make_unique<RedactingFormatter>(options.format));
  logger->set_level(level);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  return {};
}

std::string redactSecrets(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    // PEM blocks: everything from -----BEGIN to the matching -----END ...-----.
    if (text.compare(i, 10, "-----BEGIN") == 0) {
      std::size_t end = text.find("-----END", i);
      std::size_t close =
          end == std::string_view::npos ? std::string_view::npos : text.find("-----", end + 8);
      out += "[REDACTED]";
      i = close == std::string_view::npos ? text.size() : close + 5;
      continue;
    }
    // "Bearer <token>".
    if (text.compare(i, 7, "Bearer ") == 0) {
      out += "Bearer [REDACTED]";
      i += 7;
      while (i < text.size() && text[i] != ' ' && text[i] != '"' && text[i] != '\n') ++i;
      continue;
    }
    // A JWT: three base64url segments, the first starting "eyJ" ({"...).
    if (text.compare(i, 3, "eyJ") == 0 && (i == 0 || !isBase64Url(text[i - 1]))) {
      std::size_t j = i;
      int dots = 0;
      while (j < text.size() && (isBase64Url(text[j]) || text[j] == '.')) {
        if (text[j] == '.') ++dots;
        ++j;
      }
      if (dots >= 2) {
        out += "[REDACTED]";
        i = j;
        continue;
      }
    }
    out.push_back(text[i++]);
  }
  return out;
}

ScopedLogContext::ScopedLogContext(std::string controller, std::string object,
                                   std::string reconcileId) {
  t_context = LogContext{std::move(controller), std::move(object), std::move(reconcileId)};
}

ScopedLogContext::~ScopedLogContext() {
  t_context.reset();
}

}  // namespace saguard
