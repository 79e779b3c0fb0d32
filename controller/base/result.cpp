#include "base/result.h"

namespace saguard {

const char* toString(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::NotFound:
      return "NotFound";
    case ErrorKind::AlreadyExists:
      return "AlreadyExists";
    case ErrorKind::Conflict:
      return "Conflict";
    case ErrorKind::Gone:
      return "Gone";
    case ErrorKind::Invalid:
      return "Invalid";
    case ErrorKind::BadRequest:
      return "BadRequest";
    case ErrorKind::Unauthorized:
      return "Unauthorized";
    case ErrorKind::Forbidden:
      return "Forbidden";
    case ErrorKind::TooManyRequests:
      return "TooManyRequests";
    case ErrorKind::Unavailable:
      return "Unavailable";
    case ErrorKind::Timeout:
      return "Timeout";
    case ErrorKind::Transport:
      return "Transport";
    case ErrorKind::Internal:
      return "Internal";
  }
  return "Unknown";
}

bool Error::retriable() const {
  switch (kind) {
    case ErrorKind::Conflict:
    case ErrorKind::TooManyRequests:
    case ErrorKind::Unavailable:
    case ErrorKind::Timeout:
    case ErrorKind::Transport:
      return true;
    default:
      return false;
  }
}

std::string Error::describe() const {
  std::string out = toString(kind);
  if (httpCode != 0) out += " (" + std::to_string(httpCode) + ")";
  if (!message.empty()) out += ": " + message;
  for (const auto& cause : causes) {
    out += "; " + cause.field + ": " + cause.message;
  }
  return out;
}

Error makeError(ErrorKind kind, std::string message) {
  Error error;
  error.kind = kind;
  error.message = std::move(message);
  return error;
}

ErrorKind kindFromStatus(int httpCode, std::string_view reason) {
  if (reason == "Expired" || reason == "Gone") return ErrorKind::Gone;
  if (reason == "AlreadyExists") return ErrorKind::AlreadyExists;
  if (reason == "Conflict") return ErrorKind::Conflict;
  if (reason == "NotFound") return ErrorKind::NotFound;
  if (reason == "Invalid") return ErrorKind::Invalid;
  if (reason == "Unauthorized") return ErrorKind::Unauthorized;
  if (reason == "Forbidden") return ErrorKind::Forbidden;
  if (reason == "TooManyRequests") return ErrorKind::TooManyRequests;
  if (reason == "Timeout" || reason == "ServerTimeout") return ErrorKind::Timeout;
  if (reason == "ServiceUnavailable") return ErrorKind::Unavailable;
  if (reason == "BadRequest") return ErrorKind::BadRequest;
  switch (httpCode) {
    case 400:
      return ErrorKind::BadRequest;
    case 401:
      return ErrorKind::Unauthorized;
    case 403:
      return ErrorKind::Forbidden;
    case 404:
      return ErrorKind::NotFound;
    case 409:
      return ErrorKind::Conflict;
    case 410:
      return ErrorKind::Gone;
    case 422:
      return ErrorKind::Invalid;
    case 429:
      return ErrorKind::TooManyRequests;
    case 504:
      return ErrorKind::Timeout;
    default:
      break;
  }
  if (httpCode >= 500) return ErrorKind::Unavailable;
  return ErrorKind::Internal;
}

}  // namespace saguard
