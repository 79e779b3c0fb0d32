// Errors as values. Every call that can fail across a module boundary returns a
// Result<T> (or a Status when there is no value): either the value, or an Error
// whose kind says what the caller may do next (retry, give up, relist, ...).
// Exceptions never cross a module boundary.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace saguard {

enum class ErrorKind {
  NotFound,         // 404: the object does not exist.
  AlreadyExists,    // 409 on create.
  Conflict,         // 409: stale resourceVersion; re-read and retry.
  Gone,             // 410: resourceVersion too old (expired/compacted); relist.
  Invalid,          // 422 or a local validation failure; not retried.
  BadRequest,       // 400: the request itself was malformed; not retried.
  Unauthorized,     // 401: credentials rejected.
  Forbidden,        // 403: RBAC says no.
  TooManyRequests,  // 429: throttled; honour retryAfter.
  Unavailable,      // 503/500-class: the server could not answer now.
  Timeout,          // 504 or a client-side timeout.
  Transport,        // TLS, DNS, connection refused: no HTTP answer at all.
  Internal,         // A bug or an unexpected answer.
};

const char* toString(ErrorKind kind);

// One field-level cause of an Invalid error ("spec.mode: Unsupported value").
struct ErrorCause {
  std::string field;
  std::string message;
};

struct Error {
  ErrorKind kind = ErrorKind::Internal;
  std::string message;
  int httpCode = 0;                                     // 0 when no HTTP answer was received.
  std::optional<std::chrono::milliseconds> retryAfter;  // from Retry-After / Status details.
  std::vector<ErrorCause> causes;                       // for Invalid.

  // Whether a caller that has nothing better to do should retry the same request.
  bool retriable() const;
  // "Conflict (409): the object has been modified ..." — fit for a log line or an Event.
  std::string describe() const;
};

Error makeError(ErrorKind kind, std::string message);

// The kind of a Kubernetes API answer, from its HTTP code and, when the body is a
// metav1.Status, its `reason` ("Expired" and "Gone" both mean Gone; "AlreadyExists"
// and "Conflict" share 409). Used for HTTP answers and for watch ERROR events alike.
ErrorKind kindFromStatus(int httpCode, std::string_view reason = {});

// Result<T>: a value or an Error. Result<void> is spelled Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(v_); }
  ErrorKind kind() const { return error().kind; }
  bool is(ErrorKind kind) const { return !ok() && error().kind == kind; }

 private:
  std::variant<T, Error> v_;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  static Status Ok() { return {}; }

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *error_; }
  ErrorKind kind() const { return error_->kind; }
  bool is(ErrorKind kind) const { return error_.has_value() && error_->kind == kind; }

 private:
  std::optional<Error> error_;
};

}  // namespace saguard
