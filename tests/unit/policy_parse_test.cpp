#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "policy/parse.h"

namespace saguard::policy {
namespace {

using nlohmann::json;

// The example of DESIGN.md, as the API server returns it.
const char* kDesignExample = R"({
  "apiVersion": "saguard.io/v1alpha1",
  "kind": "ServiceAccountPolicy",
  "metadata": {"name": "default-accounts-no-token", "uid": "6f1c-uid", "generation": 2,
               "resourceVersion": "881"},
  "spec": {
    "mode": "Enforce",
    "namespaces": {"selector": {}, "exclude": ["kube-*"]},
    "serviceAccounts": {"names": ["default"], "selector": {}, "unboundOnly": false},
    "exemptions": [{"namespace": "monitoring", "name": "prometheus",
                    "reason": "reads pods and endpoints"}],
    "reportPods": true,
    "reportBindings": true
  },
  "status": {"observedGeneration": 1, "findings": "status is never read"}
})";

json minimal() {
  return json::parse(R"({"metadata": {"name": "p"}, "spec": {}})");
}

// The causes of a failed parse, as "field: message" lines, for failure output.
std::string causes(const Result<Policy>& r) {
  if (r.ok()) return "(parsed fine)";
  std::string out = r.error().message;
  for (const auto& c : r.error().causes) out += "\n  " + c.field + ": " + c.message;
  return out;
}

// Whether the parse failed as Invalid with a cause at exactly `field` whose message
// contains `mentions`.
::testing::AssertionResult rejectedAt(const Result<Policy>& r, const std::string& field,
                                      const std::string& mentions = "") {
  if (r.ok()) return ::testing::AssertionFailure() << "accepted, expected an error at " << field;
  if (r.kind() != ErrorKind::Invalid) {
    return ::testing::AssertionFailure() << "kind " << toString(r.kind()) << ": " << causes(r);
  }
  for (const auto& c : r.error().causes) {
    if (c.field == field && c.message.find(mentions) != std::string::npos) {
      return ::testing::AssertionSuccess();
    }
  }
  return ::testing::AssertionFailure()
         << "no cause at " << field << " mentioning '" << mentions << "': " << causes(r);
}

TEST(PolicyParse, DesignExample) {
  auto r = parsePolicy(std::string_view(kDesignExample));
  ASSERT_TRUE(r.ok()) << causes(r);
  Policy want;
  want.name = "default-accounts-no-token";
  want.uid = "6f1c-uid";
  want.generation = 2;
  want.mode = Mode::Enforce;
  want.namespaces.selector = LabelSelector{};
  want.namespaces.exclude = {"kube-*"};
  want.serviceAccounts.names = std::vector<std::string>{"default"};
  want.serviceAccounts.selector = LabelSelector{};
  want.serviceAccounts.unboundOnly = false;
  want.exemptions = {{"monitoring", "prometheus", "reads pods and endpoints"}};
  want.reportPods = true;
  want.reportBindings = true;
  EXPECT_EQ(*r, want);
}

TEST(PolicyParse, JsonAndTextOverloadsAgree) {
  auto fromText = parsePolicy(std::string_view(kDesignExample));
  auto fromJson = parsePolicy(json::parse(kDesignExample));
  ASSERT_TRUE(fromText.ok() && fromJson.ok());
  EXPECT_EQ(*fromText, *fromJson);
}

TEST(PolicyParse, DefaultsForAnEmptySpec) {
  auto r = parsePolicy(minimal());
  ASSERT_TRUE(r.ok()) << causes(r);
  EXPECT_EQ(r->name, "p");
  EXPECT_EQ(r->uid, "");
  EXPECT_EQ(r->generation, 0);
  EXPECT_EQ(r->mode, Mode::Enforce);
  EXPECT_EQ(r->namespaces.selector, std::nullopt);
  EXPECT_TRUE(r->namespaces.exclude.empty());
  EXPECT_EQ(r->serviceAccounts.names, std::nullopt);
  EXPECT_EQ(r->serviceAccounts.selector, std::nullopt);
  EXPECT_FALSE(r->serviceAccounts.unboundOnly);
  EXPECT_TRUE(r->exemptions.empty());
  EXPECT_TRUE(r->reportPods);
  EXPECT_TRUE(r->reportBindings);
}

TEST(PolicyParse, NullCountsAsAbsent) {
  auto r = parsePolicy(std::string_view(R"({"metadata": {"name": "p", "uid": null},
      "spec": {"mode": null, "namespaces": null, "serviceAccounts": {"names": null,
      "selector": null}, "exemptions": null, "reportPods": null}})"));
  ASSERT_TRUE(r.ok()) << causes(r);
  EXPECT_EQ(r->mode, Mode::Enforce);
  EXPECT_EQ(r->serviceAccounts.names, std::nullopt);
  EXPECT_TRUE(r->reportPods);
}

TEST(PolicyParse, AuditModeAndFlags) {
  json o = minimal();
  o["spec"] = json::parse(R"({"mode": "Audit", "reportPods": false, "reportBindings": false,
      "serviceAccounts": {"unboundOnly": true}})");
  auto r = parsePolicy(o);
  ASSERT_TRUE(r.ok()) << causes(r);
  EXPECT_EQ(r->mode, Mode::Audit);
  EXPECT_FALSE(r->reportPods);
  EXPECT_FALSE(r->reportBindings);
  EXPECT_TRUE(r->serviceAccounts.unboundOnly);
}

TEST(PolicyParse, SelectorsAreParsedAndMatchLabelsSorted) {
  json o = minimal();
  o["spec"]["namespaces"]["selector"] = json::parse(R"({
      "matchLabels": {"zone": "eu", "app.kubernetes.io/part-of": "shop", "env": ""},
      "matchExpressions": [
        {"key": "tier", "operator": "In", "values": ["web", "api"]},
        {"key": "legacy", "operator": "DoesNotExist"},
        {"key": "team", "operator": "NotIn", "values": ["x"]},
        {"key": "owner", "operator": "Exists", "values": []}]})");
  auto r = parsePolicy(o);
  ASSERT_TRUE(r.ok()) << causes(r);
  const LabelSelector& s = *r->namespaces.selector;
  ASSERT_EQ(s.matchLabels.size(), 3u);
  EXPECT_EQ(s.matchLabels[0].first.str(), "app.kubernetes.io/part-of");
  EXPECT_EQ(s.matchLabels[0].second.str(), "shop");
  EXPECT_EQ(s.matchLabels[1].first.str(), "env");
  EXPECT_EQ(s.matchLabels[1].second.str(), "");
  EXPECT_EQ(s.matchLabels[2].first.str(), "zone");
  ASSERT_EQ(s.matchExpressions.size(), 4u);
  EXPECT_EQ(s.matchExpressions[0].key.str(), "tier");
  EXPECT_EQ(s.matchExpressions[0].op, SelectorOperator::In);
  EXPECT_EQ(s.matchExpressions[0].values, (std::vector<Symbol>{Symbol("web"), Symbol("api")}));
  EXPECT_EQ(s.matchExpressions[1].op, SelectorOperator::DoesNotExist);
  EXPECT_TRUE(s.matchExpressions[1].values.empty());
  EXPECT_EQ(s.matchExpressions[2].op, SelectorOperator::NotIn);
  EXPECT_EQ(s.matchExpressions[3].op, SelectorOperator::Exists);
  EXPECT_EQ(r->serviceAccounts.selector, std::nullopt);
}

TEST(PolicyParse, GenerationAcceptsLargeValuesAndRejectsNegativeOnes) {
  json o = minimal();
  o["metadata"]["generation"] = 9007199254740993LL;
  auto r = parsePolicy(o);
  ASSERT_TRUE(r.ok()) << causes(r);
  EXPECT_EQ(r->generation, 9007199254740993LL);
  o["metadata"]["generation"] = 18446744073709551615ULL;
  EXPECT_TRUE(rejectedAt(parsePolicy(o), "metadata.generation", "out of range"));
  o["metadata"]["generation"] = -1;
  EXPECT_TRUE(rejectedAt(parsePolicy(o), "metadata.generation", "non-negative"));
  o["metadata"]["generation"] = 1.5;
  EXPECT_TRUE(rejectedAt(parsePolicy(o), "metadata.generation", "expected integer"));
}

// One malformed policy per row: the spec (merged into a valid object) and the field
// path the error must name.
struct Malformed {
  const char* spec;
  const char* field;
  const char* mentions;
};

void PrintTo(const Malformed& m, std::ostream* os) {
  *os << m.field << " <- " << m.spec;
}

class PolicyParseRejects : public ::testing::TestWithParam<Malformed> {};

TEST_P(PolicyParseRejects, NamesTheField) {
  json o = minimal();
  o["spec"] = json::parse(GetParam().spec);
  auto r = parsePolicy(o);
  EXPECT_TRUE(rejectedAt(r, GetParam().field, GetParam().mentions)) << GetParam().spec;
  if (!r.ok()) {
    EXPECT_NE(r.error().message.find("ServiceAccountPolicy \"p\" is invalid"), std::string::npos)
        << r.error().message;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Spec, PolicyParseRejects,
    ::testing::Values(
        Malformed{R"({"mode": "Enforced"})", "spec.mode",
                  "supported values: \"Enforce\", \"Audit\""},
        Malformed{R"({"mode": "enforce"})", "spec.mode", "Unsupported value"},
        Malformed{R"({"mode": true})", "spec.mode", "expected string, got boolean"},
        Malformed{R"({"reportPods": "yes"})", "spec.reportPods", "expected boolean, got string"},
        Malformed{R"({"reportBindings": 1})", "spec.reportBindings", "expected boolean"},
        Malformed{R"({"namespaces": []})", "spec.namespaces", "expected object, got array"},
        Malformed{R"({"namespaces": {"exclude": "kube-*"}})", "spec.namespaces.exclude",
                  "expected array"},
        Malformed{R"({"namespaces": {"exclude": ["kube-*", ""]}})", "spec.namespaces.exclude[1]",
                  "Required value"},
        Malformed{R"({"namespaces": {"exclude": ["Kube-*"]}})", "spec.namespaces.exclude[0]",
                  "'K' at position 0"},
        Malformed{R"({"namespaces": {"exclude": ["a", 7]}})", "spec.namespaces.exclude[1]",
                  "expected string, got number"},
        Malformed{R"({"namespaces": {"exclude": ["a", "a"]}})", "spec.namespaces.exclude[1]",
                  "Duplicate value"},
        Malformed{R"({"namespaces": {"selector": "all"}})", "spec.namespaces.selector",
                  "expected object"},
        Malformed{R"({"namespaces": {"selector": {"matchLabels": {"bad key": "x"}}}})",
                  "spec.namespaces.selector.matchLabels", "name part"},
        Malformed{R"({"namespaces": {"selector": {"matchLabels": {"a": "bad value"}}}})",
                  "spec.namespaces.selector.matchLabels[a]", "label value"},
        Malformed{R"({"namespaces": {"selector": {"matchLabels": {"a": 1}}}})",
                  "spec.namespaces.selector.matchLabels[a]", "expected string"},
        Malformed{R"({"namespaces": {"selector": {"matchExpressions": {}}}})",
                  "spec.namespaces.selector.matchExpressions", "expected array"},
        Malformed{R"({"namespaces": {"selector": {"matchExpressions": [
                    {"key": "a", "operator": "Exists"}, {"key": "a", "operator": "Equals"}]}}})",
                  "spec.namespaces.selector.matchExpressions[1].operator",
                  "Unsupported value: \"Equals\""},
        Malformed{R"({"namespaces": {"selector": {"matchExpressions": [{"key": "a"}]}}})",
                  "spec.namespaces.selector.matchExpressions[0].operator", "Required value"},
        Malformed{R"({"namespaces": {"selector": {"matchExpressions": [{"operator": "Exists"}]}}})",
                  "spec.namespaces.selector.matchExpressions[0].key", "Required value"},
        Malformed{R"({"namespaces": {"selector": {"matchExpressions": [
                    {"key": "-a", "operator": "Exists"}]}}})",
                  "spec.namespaces.selector.matchExpressions[0].key", "name part"},
        Malformed{R"({"namespaces": {"selector": {"matchExpressions": [
                    {"key": "a", "operator": "In"}]}}})",
                  "spec.namespaces.selector.matchExpressions[0].values",
                  "must be specified when `operator` is 'In'"},
        Malformed{R"({"namespaces": {"selector": {"matchExpressions": [
                    {"key": "a", "operator": "NotIn", "values": []}]}}})",
                  "spec.namespaces.selector.matchExpressions[0].values",
                  "must be specified when `operator` is 'NotIn'"},
        Malformed{R"({"namespaces": {"selector": {"matchExpressions": [
                    {"key": "a", "operator": "Exists", "values": ["x"]}]}}})",
                  "spec.namespaces.selector.matchExpressions[0].values",
                  "may not be specified when `operator` is 'Exists'"},
        Malformed{R"({"namespaces": {"selector": {"matchExpressions": [
                    {"key": "a", "operator": "DoesNotExist", "values": ["x"]}]}}})",
                  "spec.namespaces.selector.matchExpressions[0].values",
                  "may not be specified when `operator` is 'DoesNotExist'"},
        Malformed{R"({"namespaces": {"selector": {"matchExpressions": [
                    {"key": "a", "operator": "In", "values": ["ok", "not ok"]}]}}})",
                  "spec.namespaces.selector.matchExpressions[0].values[1]", "label value"},
        Malformed{R"({"namespaces": {"selector": {"matchExpressions": [
                    {"key": "a", "operator": "In", "values": "x"}]}}})",
                  "spec.namespaces.selector.matchExpressions[0].values", "expected array"},
        Malformed{R"j({"namespaces": {"selector": {"matchExpressions": ["a in (x)"]}}})j",
                  "spec.namespaces.selector.matchExpressions[0]", "expected object"},
        Malformed{R"({"serviceAccounts": {"names": []}})", "spec.serviceAccounts.names",
                  "at least one glob"},
        Malformed{R"({"serviceAccounts": {"names": ["ok", "a..b"]}})",
                  "spec.serviceAccounts.names[1]", "never matches"},
        Malformed{R"({"serviceAccounts": {"unboundOnly": "true"}})",
                  "spec.serviceAccounts.unboundOnly", "expected boolean"},
        Malformed{R"({"serviceAccounts": {"selector": {"matchExpressions": [
                    {"key": "a", "operator": "Gt", "values": ["1"]}]}}})",
                  "spec.serviceAccounts.selector.matchExpressions[0].operator", "Unsupported"},
        Malformed{R"({"exemptions": {}})", "spec.exemptions", "expected array"},
        Malformed{R"({"exemptions": [{"name": "prometheus"}]})", "spec.exemptions[0].namespace",
                  "Required value"},
        Malformed{R"({"exemptions": [{"namespace": "monitoring"}]})", "spec.exemptions[0].name",
                  "Required value"},
        Malformed{R"({"exemptions": [{"namespace": "", "name": "x"}]})",
                  "spec.exemptions[0].namespace", "Required value"},
        Malformed{
            R"({"exemptions": [{"namespace": "a", "name": "x"}, {"namespace": "a.b", "name": "x"}]})",
            "spec.exemptions[1].namespace", "'.' at position 1"},
        Malformed{R"({"exemptions": [{"namespace": "a", "name": "x", "reason": 5}]})",
                  "spec.exemptions[0].reason", "expected string"},
        Malformed{R"({"exemptions": [3]})", "spec.exemptions[0]", "expected object"}));

TEST(PolicyParse, RejectsOversizedLists) {
  json o = minimal();
  o["spec"]["namespaces"]["exclude"] = json::array();
  for (std::size_t i = 0; i <= kMaxGlobs; ++i)
    o["spec"]["namespaces"]["exclude"].push_back("n" + std::to_string(i));
  EXPECT_TRUE(rejectedAt(parsePolicy(o), "spec.namespaces.exclude", "must have at most 64 items"));

  o = minimal();
  json exemption = {{"namespace", "a"}, {"name", "b"}};
  o["spec"]["exemptions"] = json::array();
  for (std::size_t i = 0; i <= kMaxExemptions; ++i) o["spec"]["exemptions"].push_back(exemption);
  EXPECT_TRUE(rejectedAt(parsePolicy(o), "spec.exemptions", "at most 256 items"));

  o = minimal();
  json labels = json::object();
  for (std::size_t i = 0; i <= kMaxSelectorEntries; ++i) labels["k" + std::to_string(i)] = "v";
  o["spec"]["serviceAccounts"]["selector"]["matchLabels"] = labels;
  EXPECT_TRUE(
      rejectedAt(parsePolicy(o), "spec.serviceAccounts.selector.matchLabels", "at most 64"));

  o = minimal();
  o["spec"]["exemptions"] = {
      {{"namespace", "a"}, {"name", "b"}, {"reason", std::string(513, 'r')}}};
  EXPECT_TRUE(rejectedAt(parsePolicy(o), "spec.exemptions[0].reason", "at most 512"));
  o["spec"]["exemptions"][0]["reason"] = std::string(512, 'r');
  EXPECT_TRUE(parsePolicy(o).ok());
}

TEST(PolicyParse, ObjectLevelProblems) {
  EXPECT_TRUE(
      rejectedAt(parsePolicy(json::parse(R"({"spec": {}})")), "metadata", "Required value"));
  EXPECT_TRUE(rejectedAt(parsePolicy(json::parse(R"({"metadata": {}, "spec": {}})")),
                         "metadata.name", "Required value"));
  EXPECT_TRUE(rejectedAt(parsePolicy(json::parse(R"({"metadata": {"name": ""}, "spec": {}})")),
                         "metadata.name", "Required value"));
  EXPECT_TRUE(rejectedAt(parsePolicy(json::parse(R"({"metadata": {"name": 3}, "spec": {}})")),
                         "metadata.name", "expected string"));
  EXPECT_TRUE(rejectedAt(parsePolicy(json::parse(R"({"metadata": {"name": "p"}})")), "spec",
                         "Required value"));
  EXPECT_TRUE(rejectedAt(parsePolicy(json::parse(R"({"metadata": {"name": "p"}, "spec": 1})")),
                         "spec", "expected object, got number"));
  json o = minimal();
  o["kind"] = "Pod";
  EXPECT_TRUE(rejectedAt(parsePolicy(o), "kind", "supported values: \"ServiceAccountPolicy\""));
  o = minimal();
  o["apiVersion"] = "saguard.io/v1";
  EXPECT_TRUE(rejectedAt(parsePolicy(o), "apiVersion", "saguard.io/v1alpha1"));
  EXPECT_TRUE(rejectedAt(parsePolicy(json::array()), "", "expected a ServiceAccountPolicy object"));
  EXPECT_TRUE(rejectedAt(parsePolicy(json("text")), "", "got string"));
}

TEST(PolicyParse, TextThatIsNotJson) {
  for (std::string_view text :
       {std::string_view(""), std::string_view("{"), std::string_view("{\"metadata\": }"),
        std::string_view("\xff\xfe"), std::string_view("{\"a\": \"\xc3\"}")}) {
    auto r = parsePolicy(text);
    EXPECT_TRUE(rejectedAt(r, "", "not valid JSON")) << text;
  }
}

TEST(PolicyParse, ReportsEveryProblemAtOnce) {
  json o = minimal();
  o["spec"] = json::parse(R"({"mode": "Strict", "reportPods": 1,
      "namespaces": {"exclude": ["UPPER"]},
      "exemptions": [{"namespace": "a"}]})");
  auto r = parsePolicy(o);
  EXPECT_TRUE(rejectedAt(r, "spec.mode"));
  EXPECT_TRUE(rejectedAt(r, "spec.reportPods"));
  EXPECT_TRUE(rejectedAt(r, "spec.namespaces.exclude[0]"));
  EXPECT_TRUE(rejectedAt(r, "spec.exemptions[0].name"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().causes.size(), 4u) << causes(r);
  // describe() lists them all, fit for a condition message.
  EXPECT_NE(r.error().describe().find("spec.exemptions[0].name: Required value"),
            std::string::npos);
}

TEST(PolicyParse, CapsTheNumberOfCauses) {
  json o = minimal();
  o["spec"]["namespaces"]["exclude"] = json::array();
  for (int i = 0; i < 60; ++i)
    o["spec"]["namespaces"]["exclude"].push_back("BAD" + std::to_string(i));
  auto r = parsePolicy(o);
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.error().causes.size(), kMaxCauses);
  EXPECT_EQ(r.error().causes.back().message, "and 29 more errors");
  EXPECT_EQ(r.error().causes.front().field, "spec.namespaces.exclude[0]");
}

TEST(PolicyParse, IgnoresUnknownFields) {
  json o = minimal();
  o["spec"]["futureField"] = {{"x", 1}};
  o["spec"]["namespaces"]["somethingElse"] = true;
  EXPECT_TRUE(parsePolicy(o).ok());
}

// Every field replaced by every kind of JSON value: never a throw, never a crash,
// always a value or an Invalid error.
TEST(PolicyParse, SurvivesEveryTypeInEveryField) {
  const json base = json::parse(kDesignExample);
  const std::vector<json> replacements = {json(nullptr),
                                          json(true),
                                          json(0),
                                          json(-7),
                                          json(18446744073709551615ULL),
                                          json(2.5),
                                          json(""),
                                          json("x"),
                                          json::array(),
                                          json::array({1, "a", nullptr}),
                                          json::object(),
                                          json::object({{"k", json::array()}})};
  const json flat = base.flatten();
  int checked = 0;
  for (auto it = flat.begin(); it != flat.end(); ++it) {
    // Replace the leaf and each of its ancestors.
    json::json_pointer ptr(it.key());
    while (!ptr.empty()) {
      for (const auto& replacement : replacements) {
        json mutated = base;
        mutated[ptr] = replacement;
        Result<Policy> r = makeError(ErrorKind::Internal, "not run");
        EXPECT_NO_THROW(r = parsePolicy(mutated)) << ptr.to_string();
        EXPECT_TRUE(r.ok() || r.kind() == ErrorKind::Invalid) << ptr.to_string() << causes(r);
        ++checked;
      }
      ptr = ptr.parent_pointer();
    }
  }
  EXPECT_GT(checked, 300);
}

// Random byte-level corruption of the example text, from a fixed seed.
TEST(PolicyParse, SurvivesCorruptedText) {
  std::mt19937 rng(20240501);
  const std::string base = kDesignExample;
  const std::string alphabet = "{}[]\":,0123456789-.eE truefalsnul\\\xc3\xa9\x00";
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = base;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      std::size_t at = rng() % text.size();
      switch (rng() % 3) {
        case 0:
          text[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          text.erase(at, 1 + rng() % 8);
          break;
        default:
          text.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
      }
      if (text.empty()) text = "x";
    }
    Result<Policy> r = makeError(ErrorKind::Internal, "not run");
    ASSERT_NO_THROW(r = parsePolicy(std::string_view(text))) << text;
    ASSERT_TRUE(r.ok() || r.kind() == ErrorKind::Invalid) << text << causes(r);
    parsed += r.ok() ? 1 : 0;
  }
  EXPECT_GT(parsed, 0);  // some corruptions only touch free text
}

TEST(PolicyParse, SurvivesDeepNesting) {
  std::string deep = R"({"metadata": {"name": "p"}, "spec": {"namespaces": )";
  deep += std::string(200000, '[') + std::string(200000, ']') + "}}";
  auto r = parsePolicy(std::string_view(deep));
  EXPECT_TRUE(rejectedAt(r, "spec.namespaces", "expected object, got array"));
  std::string unbalanced(300000, '{');
  EXPECT_TRUE(rejectedAt(parsePolicy(std::string_view(unbalanced)), "", "not valid JSON"));
}

}  // namespace
}  // namespace saguard::policy
