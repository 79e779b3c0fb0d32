#include "metrics/bind_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <utility>

namespace saguard::metrics {

namespace {

Error invalid(std::string_view text, std::string_view why) {
  return makeError(ErrorKind::Invalid,
                   "bind address \"" + std::string(text) + "\": " + std::string(why) +
                       " (expected \":PORT\", \"HOST:PORT\" or \"0\" to disable)");
}

}  // namespace

std::string BindAddress::toString() const {
  return host + ":" + std::to_string(port);
}

Result<std::optional<BindAddress>> parseBindAddress(std::string_view text) {
  if (text == "0") return std::optional<BindAddress>();
  if (text.empty()) return invalid(text, "empty");
  if (text.front() == '[')
    return invalid(text, "IPv6 addresses are not supported; use an IPv4 address");

  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    if (text.find_first_not_of("0123456789") == std::string_view::npos) {
      return invalid(text,
                     "missing ':' before the port (did you mean \":" + std::string(text) + "\"?)");
    }
    return invalid(text, "missing port");
  }
  std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  if (host.find(':') != std::string_view::npos) {
    return invalid(text, "IPv6 addresses are not supported; use an IPv4 address");
  }

  if (port.empty()) return invalid(text, "missing port");
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec == std::errc::result_out_of_range || (ec == std::errc() && value > 65535)) {
    return invalid(text, "port " + std::string(port) + " is out of range 0-65535");
  }
  if (ec != std::errc() || end != port.data() + port.size()) {
    return invalid(text, "port \"" + std::string(port) + "\" is not a number");
  }

  BindAddress address;
  address.port = static_cast<std::uint16_t>(value);
  if (host == "localhost") host = "127.0.0.1";
  if (!host.empty()) {
    in_addr parsed{};
    const std::string h(host);
    if (inet_pton(AF_INET, h.c_str(), &parsed) != 1) {
      return invalid(text, "host \"" + h + "\" is not an IPv4 address");
    }
    address.host = h;
  }
  return std::optional<BindAddress>(std::move(address));
}

}  // namespace saguard::metrics
