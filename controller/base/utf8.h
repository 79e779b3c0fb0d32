// Cutting UTF-8 text to a byte limit without splitting a character: what the API server's
// length limits (a finding's message in the CRD, a report result's message) need, in one
// place.
#pragma once

#include <cstddef>
#include <string_view>

namespace saguard {

// The longest prefix of `text` of at most `max` bytes that does not end inside a UTF-8
// sequence. Text that is not UTF-8 is cut at `max` or before a continuation byte.
constexpr std::string_view cutUtf8(std::string_view text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t end = max;
  // Step back over continuation bytes (10xxxxxx) to the start of the cut character.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace saguard
