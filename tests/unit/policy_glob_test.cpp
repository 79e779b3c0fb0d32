#include <gtest/gtest.h>

#include <string>

#include "policy/glob.h"

namespace saguard::policy {
namespace {

TEST(PolicyGlob, LiteralMatchesOnlyTheWholeString) {
  EXPECT_TRUE(globMatch("default", "default"));
  EXPECT_FALSE(globMatch("default", "default2"));
  EXPECT_FALSE(globMatch("default", "xdefault"));
  EXPECT_FALSE(globMatch("default", "defaul"));
  EXPECT_FALSE(globMatch("default", ""));
}

TEST(PolicyGlob, StarMatchesAnyRunIncludingNone) {
  EXPECT_TRUE(globMatch("*", ""));
  EXPECT_TRUE(globMatch("*", "anything-at-all"));
  EXPECT_TRUE(globMatch("kube-*", "kube-"));
  EXPECT_TRUE(globMatch("kube-*", "kube-system"));
  EXPECT_FALSE(globMatch("kube-*", "kube"));
  EXPECT_FALSE(globMatch("kube-*", "my-kube-system"));
  EXPECT_TRUE(globMatch("*-system", "kube-system"));
  EXPECT_FALSE(globMatch("*-system", "kube-system2"));
  EXPECT_TRUE(globMatch("a*b*c", "abc"));
  EXPECT_TRUE(globMatch("a*b*c", "axxbyyc"));
  EXPECT_TRUE(globMatch("a*b*c", "abcbc"));
  EXPECT_FALSE(globMatch("a*b*c", "acb"));
  EXPECT_TRUE(globMatch("**", "x"));
  EXPECT_TRUE(globMatch("a**", "a"));
}

TEST(PolicyGlob, QuestionMarkMatchesExactlyOneCharacter) {
  EXPECT_TRUE(globMatch("team-?", "team-a"));
  EXPECT_FALSE(globMatch("team-?", "team-"));
  EXPECT_FALSE(globMatch("team-?", "team-ab"));
  EXPECT_TRUE(globMatch("??", "ab"));
  EXPECT_FALSE(globMatch("?", ""));
  EXPECT_TRUE(globMatch("?*", "a"));
  EXPECT_FALSE(globMatch("?*", ""));
  EXPECT_TRUE(globMatch("*?", "ab"));
}

TEST(PolicyGlob, BacktracksToTheLatestStar) {
  // The first candidate for "-b" is wrong; the star must absorb it.
  EXPECT_TRUE(globMatch("*-b", "a-b-b"));
  EXPECT_TRUE(globMatch("a*-b?", "a-bx-by"));
  EXPECT_FALSE(globMatch("a*-b?", "a-bx-b"));
  EXPECT_TRUE(globMatch("*a*a*a", "aaaa"));
  EXPECT_FALSE(globMatch("*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

TEST(PolicyGlob, PathologicalPatternStaysFast) {
  // Exponential matchers never finish this; the linear one does it at once.
  std::string text(4000, 'a');
  std::string pattern;
  for (int i = 0; i < 60; ++i) pattern += "*a";
  pattern += "b";
  EXPECT_FALSE(globMatch(pattern, text));
  EXPECT_TRUE(globMatch(pattern.substr(0, pattern.size() - 1), text));
}

TEST(PolicyGlob, ValidNamespaceGlobs) {
  for (const char* g : {"kube-*", "*", "?", "default", "team-??", "a", "0-9", "*-system", "a*b"}) {
    EXPECT_EQ(validateGlob(g, NameKind::Namespace), std::nullopt) << g;
  }
  EXPECT_EQ(validateGlob(std::string(63, 'a'), NameKind::Namespace), std::nullopt);
}

TEST(PolicyGlob, ValidAccountGlobs) {
  for (const char* g : {"default", "*", "prom*", "a.b", "my-app.v1", "*.*", "?.?", "a*.b"}) {
    EXPECT_EQ(validateGlob(g, NameKind::ServiceAccount), std::nullopt) << g;
  }
  EXPECT_EQ(validateGlob(std::string(253, 'a'), NameKind::ServiceAccount), std::nullopt);
}

TEST(PolicyGlob, RejectsGlobsThatCanNeverMatch) {
  struct Case {
    const char* glob;
    NameKind kind;
    const char* mentions;
  };
  const Case cases[] = {
      {"", NameKind::Namespace, "Required value"},
      {"", NameKind::ServiceAccount, "Required value"},
      {"Kube-*", NameKind::Namespace, "'K' at position 0"},
      {"kube_system", NameKind::Namespace, "'_' at position 4"},
      {"a.b", NameKind::Namespace, "'.' at position 1"},
      {"ns/x", NameKind::Namespace, "'/' at position 2"},
      {"[ab]", NameKind::ServiceAccount, "'[' at position 0"},
      {"a b", NameKind::ServiceAccount, "' ' at position 1"},
      {"-foo*", NameKind::Namespace, "starts with '-'"},
      {"foo-", NameKind::Namespace, "ends with '-'"},
      {".foo", NameKind::ServiceAccount, "starts with '.'"},
      {"foo.", NameKind::ServiceAccount, "ends with '.'"},
      {"a..b", NameKind::ServiceAccount, "\"..\" at position 1"},
      {"a-.b", NameKind::ServiceAccount, "\"-.\" at position 1"},
      {"a*.-b", NameKind::ServiceAccount, "\".-\" at position 2"},
      {"caf\xc3\xa9", NameKind::ServiceAccount, "byte 0xc3 at position 3"},
  };
  for (const auto& c : cases) {
    auto why = validateGlob(c.glob, c.kind);
    ASSERT_TRUE(why.has_value()) << c.glob;
    EXPECT_NE(why->find(c.mentions), std::string::npos) << c.glob << " -> " << *why;
  }
}

TEST(PolicyGlob, RejectsGlobsLongerThanAnyName) {
  auto ns = validateGlob(std::string(64, 'a'), NameKind::Namespace);
  ASSERT_TRUE(ns.has_value());
  EXPECT_NE(ns->find("at most 63"), std::string::npos) << *ns;
  auto sa = validateGlob(std::string(254, 'a'), NameKind::ServiceAccount);
  ASSERT_TRUE(sa.has_value());
  EXPECT_NE(sa->find("at most 253"), std::string::npos) << *sa;
}

}  // namespace
}  // namespace saguard::policy
