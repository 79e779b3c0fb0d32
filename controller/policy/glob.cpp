#include "policy/glob.h"

#include <cstddef>

#include "policy/detail/text.h"

namespace saguard::policy {

bool globMatch(std::string_view pattern, std::string_view text) {
  // Greedy scan with one backtrack point: on a mismatch, let the most recent '*'
  // swallow one more character. Earlier stars never need revisiting, because the
  // latest star can absorb anything they could.
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t starP = std::string_view::npos;
  std::size_t starT = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      starP = p++;
      starT = t;
    } else if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (starP != std::string_view::npos) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

namespace {

bool isLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool isWildcard(char c) {
  return c == '*' || c == '?';
}

std::string quoted(char c) {
  if (c >= 0x20 && c < 0x7f) return std::string("'") + c + "'";
  static const char* hex = "0123456789abcdef";
  auto u = static_cast<unsigned char>(c);
  return std::string("byte 0x") + hex[u >> 4] + hex[u & 0xf];
}

}  // namespace

std::optional<std::string> validateGlob(std::string_view pattern, NameKind kind) {
  const bool subdomain = kind == NameKind::ServiceAccount;
  const std::size_t maxLength = subdomain ? 253 : 63;
  const char* what = subdomain ? "a ServiceAccount name" : "a namespace name";
  if (pattern.empty()) return std::string("Required value: a glob must not be empty");
  if (pattern.size() > maxLength) {
    return "Too long: must have at most " + std::to_string(maxLength) +
           " characters, the length of " + "the longest " +
           (subdomain ? "ServiceAccount" : "namespace") + " name";
  }
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (isLowerAlnum(c) || isWildcard(c) || c == '-' || (subdomain && c == '.')) continue;
    return "Invalid value: " + detail::quote(pattern) + ": " + quoted(c) + " at position " +
           std::to_string(i) + " never occurs in " + what +
           (subdomain ? " (lower-case letters, digits, '-' and '.'; globs add '*' and '?')"
                      : " (lower-case letters, digits and '-'; globs add '*' and '?')");
  }
  // Every '.'-separated part of a name starts and ends with a letter or digit, so a
  // literal separator at either end, or two literal separators side by side, can
  // never match.
  auto isSeparator = [](char c) { return c == '-' || c == '.'; };
  auto never = [&](const std::string& why) {
    return "Invalid value: " + detail::quote(pattern) + ": " + why + ", so it never matches " +
           what;
  };
  if (isSeparator(pattern.front()))
    return never(std::string("starts with ") + quoted(pattern.front()));
  if (isSeparator(pattern.back())) return never(std::string("ends with ") + quoted(pattern.back()));
  for (std::size_t i = 0; i + 1 < pattern.size(); ++i) {
    char a = pattern[i];
    char b = pattern[i + 1];
    if ((a == '.' && isSeparator(b)) || (b == '.' && isSeparator(a))) {
      return never("has \"" + std::string(pattern.substr(i, 2)) + "\" at position " +
                   std::to_string(i));
    }
  }
  return std::nullopt;
}

}  // namespace saguard::policy
