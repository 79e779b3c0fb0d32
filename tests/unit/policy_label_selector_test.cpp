#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "policy/label_selector.h"

namespace saguard::policy {
namespace {

objects::Labels labels(std::initializer_list<std::pair<const char*, const char*>> pairs) {
  objects::Labels out;
  for (const auto& [k, v] : pairs) out.emplace_back(Symbol(k), Symbol(v));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

SelectorRequirement req(const char* key, SelectorOperator op,
                        std::initializer_list<const char*> values = {}) {
  SelectorRequirement r;
  r.key = Symbol(key);
  r.op = op;
  for (const char* v : values) r.values.emplace_back(v);
  return r;
}

TEST(PolicyLabelSelector, EmptySelectorMatchesEverything) {
  LabelSelector empty;
  EXPECT_TRUE(matches(empty, {}));
  EXPECT_TRUE(matches(empty, labels({{"a", "b"}})));
}

TEST(PolicyLabelSelector, MatchLabelsNeedsEveryPairPresentWithItsValue) {
  LabelSelector s;
  s.matchLabels = {{Symbol("env"), Symbol("prod")}, {Symbol("team"), Symbol("a")}};
  EXPECT_TRUE(matches(s, labels({{"env", "prod"}, {"team", "a"}})));
  EXPECT_TRUE(matches(s, labels({{"env", "prod"}, {"team", "a"}, {"x", "y"}})));
  EXPECT_FALSE(matches(s, labels({{"env", "prod"}})));
  EXPECT_FALSE(matches(s, labels({{"env", "dev"}, {"team", "a"}})));
  EXPECT_FALSE(matches(s, {}));
}

TEST(PolicyLabelSelector, MatchLabelsWithEmptyValueNeedsTheKeyWithEmptyValue) {
  LabelSelector s;
  s.matchLabels = {{Symbol("flag"), Symbol("")}};
  EXPECT_TRUE(matches(s, labels({{"flag", ""}})));
  EXPECT_FALSE(matches(s, labels({{"flag", "x"}})));
  EXPECT_FALSE(matches(s, {}));
}

// Operator × label state, as metav1.LabelSelector defines it.
TEST(PolicyLabelSelector, OperatorTable) {
  const auto absent = labels({{"other", "x"}});
  const auto inSet = labels({{"tier", "web"}});
  const auto outOfSet = labels({{"tier", "db"}});
  struct Row {
    SelectorOperator op;
    bool onAbsent, onInSet, onOutOfSet;
  };
  const Row rows[] = {
      {SelectorOperator::In, false, true, false},
      {SelectorOperator::NotIn, true, false, true},
      {SelectorOperator::Exists, false, true, true},
      {SelectorOperator::DoesNotExist, true, false, false},
  };
  for (const auto& row : rows) {
    bool withValues = row.op == SelectorOperator::In || row.op == SelectorOperator::NotIn;
    auto r = withValues ? req("tier", row.op, {"web", "api"}) : req("tier", row.op);
    EXPECT_EQ(matches(r, absent), row.onAbsent) << toString(row.op);
    EXPECT_EQ(matches(r, inSet), row.onInSet) << toString(row.op);
    EXPECT_EQ(matches(r, outOfSet), row.onOutOfSet) << toString(row.op);
  }
}

TEST(PolicyLabelSelector, AllRequirementsMustHold) {
  LabelSelector s;
  s.matchLabels = {{Symbol("env"), Symbol("prod")}};
  s.matchExpressions = {req("tier", SelectorOperator::In, {"web"}),
                        req("legacy", SelectorOperator::DoesNotExist)};
  EXPECT_TRUE(matches(s, labels({{"env", "prod"}, {"tier", "web"}})));
  EXPECT_FALSE(matches(s, labels({{"env", "prod"}, {"tier", "web"}, {"legacy", "1"}})));
  EXPECT_FALSE(matches(s, labels({{"env", "prod"}, {"tier", "db"}})));
  EXPECT_FALSE(matches(s, labels({{"env", "dev"}, {"tier", "web"}})));
}

TEST(PolicyLabelSelector, KeysAndValuesAreCaseSensitive) {
  auto r = req("Tier", SelectorOperator::In, {"Web"});
  EXPECT_TRUE(matches(r, labels({{"Tier", "Web"}})));
  EXPECT_FALSE(matches(r, labels({{"tier", "Web"}})));
  EXPECT_FALSE(matches(r, labels({{"Tier", "web"}})));
}

TEST(PolicyLabelSelector, ValidKeys) {
  for (const char* k : {"app", "app.kubernetes.io/name", "example.com/a_b-c.d", "A", "x/Y",
                        "kubernetes.io/metadata.name", "a1-b2"}) {
    EXPECT_EQ(validateLabelKey(k), std::nullopt) << k;
  }
  // The longest key: a 253-character prefix (labels of at most 63) and a 63-character name.
  std::string prefix = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                       std::string(63, 'c') + "." + std::string(61, 'd');
  ASSERT_EQ(prefix.size(), 253u);
  EXPECT_EQ(validateLabelKey(prefix + "/" + std::string(63, 'n')), std::nullopt);
  EXPECT_TRUE(validateLabelKey(prefix + "e/n").has_value());
  EXPECT_TRUE(validateLabelKey(std::string(64, 'a') + ".com/n").has_value());  // a 64-char label
}

TEST(PolicyLabelSelector, InvalidKeys) {
  struct Case {
    std::string key;
    const char* mentions;
  };
  const Case cases[] = {
      {"", "name part must be non-empty"},
      {"/app", "prefix part must be non-empty"},
      {"example.com/", "name part must be non-empty"},
      {"Example.com/app", "prefix part"},
      {"exa_mple.com/app", "prefix part"},
      {"-app", "name part"},
      {"app-", "name part"},
      {"bad key", "name part"},
      {"a/b/c", "at most one '/'"},
      {std::string(64, 'a'), "63 characters"},
      {std::string(254, 'a') + "/x", "prefix part"},
  };
  for (const auto& c : cases) {
    auto why = validateLabelKey(c.key);
    ASSERT_TRUE(why.has_value()) << c.key;
    EXPECT_NE(why->find(c.mentions), std::string::npos) << c.key << " -> " << *why;
  }
}

TEST(PolicyLabelSelector, Values) {
  for (const char* v : {"", "prod", "v1.2_3-x", "A"}) {
    EXPECT_EQ(validateLabelValue(v), std::nullopt) << v;
  }
  EXPECT_EQ(validateLabelValue(std::string(63, 'v')), std::nullopt);
  for (std::string v : {std::string("-x"), std::string("x."), std::string("a b"),
                        std::string("a/b"), std::string(64, 'v')}) {
    EXPECT_TRUE(validateLabelValue(v).has_value()) << v;
  }
}

TEST(PolicyLabelSelector, MessagesQuoteUserTextSafely) {
  auto why = validateLabelKey(std::string("evil\n\"key") + std::string(200, 'x'));
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(why->find('\n'), std::string::npos) << *why;
  EXPECT_NE(why->find("\\x0a"), std::string::npos) << *why;
  EXPECT_NE(why->find("..."), std::string::npos) << *why;  // cut short
  EXPECT_LT(why->size(), 400u);
}

}  // namespace
}  // namespace saguard::policy
