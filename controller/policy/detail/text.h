// Internal to policy/: how user-supplied text is echoed in validation messages.
// Messages end up in Events, status conditions and logs, so echoed values are
// quoted, stripped of control characters and cut short.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace saguard::policy::detail {

// "\"value\"", with bytes outside printable ASCII shown as \xNN and anything past
// `maxChars` replaced by "...".
inline std::string quote(std::string_view text, std::size_t maxChars = 64) {
  static const char* hex = "0123456789abcdef";
  std::string out = "\"";
  std::size_t shown = 0;
  for (char c : text) {
    if (shown == maxChars) {
      out += "...";
      break;
    }
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 0xf];
    } else {
      out += c;
    }
    ++shown;
  }
  out += '"';
  return out;
}

}  // namespace saguard::policy::detail
