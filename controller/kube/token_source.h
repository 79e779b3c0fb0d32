// The bearer token of a client, kept fresh. A static token (kubeconfig `token`) never
// changes; a token file (kubeconfig `tokenFile`, the in-cluster service-account token)
// holds a bound token that the kubelet rotates, so it is re-read when the copy in
// memory is older than the refresh interval (one minute by default) and whenever the
// server answers 401.
//
// RestClient asks for token() before each request and calls refreshAfterUnauthorized()
// after a 401 to decide whether one retry is worth it. Thread-safe. The token is never
// logged.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/result.h"
#include "kube/config.h"

namespace saguard::kube {

class TokenSource {
 public:
  // Empty `token` and `tokenFile`: no bearer token (client certificates, or anonymous).
  TokenSource(std::string_view token, std::string tokenFile, const Clock& clock,
              std::chrono::milliseconds refreshInterval = std::chrono::minutes(1),
              FileReader files = diskFileReader());

  // The current token ("" when there is none). A file that cannot be re-read (for
  // instance mid-rotation) leaves the last good token in place; an error is returned
  // only when the file has never been read successfully.
  Result<std::string> token();

  // Re-reads the file now. True when the token is now different from `rejected` (the
  // one the failed request carried), so retrying the request can help.
  bool refreshAfterUnauthorized(const std::string& rejected);

  // For messages: "bearer token from file PATH", "static bearer token" or "no bearer token".
  std::string describe() const;

 private:
  Status reloadLocked();

  const std::string static_;
  const std::string file_;
  const Clock& clock_;
  const std::chrono::milliseconds refreshInterval_;
  const FileReader files_;

  mutable std::mutex mu_;
  std::string current_;
  bool loaded_ = false;
  Clock::time_point loadedAt_{};
};

}  // namespace saguard::kube
