#include "kube/token_source.h"

#include <spdlog/spdlog.h>

namespace saguard::kube {
namespace {

std::string trimmed(std::string_view s) {
  const char* ws = " \t\r\n";
  auto begin = s.find_first_not_of(ws);
  if (begin == std::string_view::npos) return {};
  return std::string(s.substr(begin, s.find_last_not_of(ws) - begin + 1));
}

}  // namespace

TokenSource::TokenSource(std::string_view token, std::string tokenFile, const Clock& clock,
                         std::chrono::milliseconds refreshInterval, FileReader files)
    : static_(trimmed(token)),
      file_(std::move(tokenFile)),
      clock_(clock),
      refreshInterval_(refreshInterval),
      files_(files ? std::move(files) : diskFileReader()),
      current_(static_) {}

Status TokenSource::reloadLocked() {
  auto content = files_(file_);
  if (!content) {
    return makeError(ErrorKind::Unauthorized,
                     "cannot read the token file " + file_ + ": " + content.error().message);
  }
  std::string token = trimmed(*content);
  if (token.empty())
    return makeError(ErrorKind::Unauthorized, "the token file " + file_ + " is empty");
  current_ = std::move(token);
  loaded_ = true;
  loadedAt_ = clock_.now();
  return {};
}

Result<std::string> TokenSource::token() {
  std::lock_guard lock(mu_);
  if (file_.empty()) return current_;
  if (!loaded_ || clock_.now() - loadedAt_ >= refreshInterval_) {
    Status st = reloadLocked();
    if (!st) {
      if (!loaded_) return st.error();
      // Keep the last good token; try again on the next request, not on every one.
      spdlog::warn("keeping the previous bearer token: {}", st.error().message);
      loadedAt_ = clock_.now();
    }
  }
  return current_;
}

bool TokenSource::refreshAfterUnauthorized(const std::string& rejected) {
  std::lock_guard lock(mu_);
  if (file_.empty()) return false;
  if (Status st = reloadLocked(); !st) {
    spdlog::warn("after a 401: {}", st.error().message);
    return current_ != rejected;
  }
  return current_ != rejected;
}

std::string TokenSource::describe() const {
  if (!file_.empty()) return "bearer token from file " + file_;
  if (!static_.empty()) return "static bearer token";
  return "no bearer token";
}

}  // namespace saguard::kube
