// base/utf8.h: cutting text to a byte limit never splits a UTF-8 character.
#include <gtest/gtest.h>

#include <string>

#include "base/utf8.h"

namespace saguard {
namespace {

TEST(BaseUtf8, CutsOnACharacterBoundary) {
  EXPECT_EQ(cutUtf8("short", 10), "short");
  EXPECT_EQ(cutUtf8("exactly", 7), "exactly");
  EXPECT_EQ(cutUtf8("abcdef", 3), "abc");
  EXPECT_EQ(cutUtf8("", 0), "");
  EXPECT_EQ(cutUtf8("abc", 0), "");
  const std::string e = "ab\xc3\xa9";                   // "abé": é is two bytes
  EXPECT_EQ(cutUtf8(e, 3), "ab");                       // inside é: before it
  EXPECT_EQ(cutUtf8(e + "x", 4), e);                    // right after it
  const std::string euro = "\xe2\x82\xac\xe2\x82\xac";  // "€€": three bytes each
  EXPECT_EQ(cutUtf8(euro, 5), "\xe2\x82\xac");
  EXPECT_EQ(cutUtf8(euro, 2), "");
  const std::string emoji = "a\xf0\x9f\x94\x91";  // "a🔑": four bytes
  EXPECT_EQ(cutUtf8(emoji, 4), "a");
  static_assert(cutUtf8("abc", 2) == "ab");
}

}  // namespace
}  // namespace saguard
