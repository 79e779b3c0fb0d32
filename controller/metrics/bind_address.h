// The `--metrics-bind-address` and `--health-probe-bind-address` values, spelled as in
// kubebuilder: ":8080" (every interface), "127.0.0.1:8080" (one address), "0" (serve
// nothing). Port 0 (":0", "127.0.0.1:0") asks for a free port, for tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace saguard::metrics {

struct BindAddress {
  std::string host;        // an IPv4 address; "" = every interface
  std::uint16_t port = 0;  // 0 = any free port

  // ":8080" or "127.0.0.1:8080": parseBindAddress() reads it back.
  std::string toString() const;
};

// nullopt for "0" (the server is disabled). Invalid, with a message that quotes the
// value and says what is expected, for anything else that is not ":PORT" or
// "IPV4:PORT" ("localhost" is taken as 127.0.0.1). IPv6 addresses are refused: the
// embedded HTTP server (civetweb, as Debian builds it) cannot listen on them.
Result<std::optional<BindAddress>> parseBindAddress(std::string_view text);

}  // namespace saguard::metrics
