// controller/reports/: the API flavours, the report data (summary, grouping, order) and
// render(): every field of both flavours, byte-stable output, the result cap and the
// content hash that ignores timestamps.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "reports/flavour.h"
#include "reports/render.h"
#include "reports/report.h"

namespace saguard::reports {
namespace {

objects::ObjectRef ref(std::string kind, std::string ns, std::string name, std::string uid = {}) {
  return objects::ObjectRef{.apiVersion = "v1",
                            .kind = std::move(kind),
                            .namespace_ = std::move(ns),
                            .name = std::move(name),
                            .uid = std::move(uid),
                            .resourceVersion = {}};
}

Result result(Outcome outcome, std::optional<policy::Severity> severity, std::string ns,
              std::string pod, std::string policyName = "p", std::string rule = "TokenMounted") {
  Result r;
  r.policy = std::move(policyName);
  r.rule = std::move(rule);
  r.result = outcome;
  r.severity = severity;
  r.timestamp = Timestamp{1765000000, 0};
  r.resources.push_back(ref("Pod", ns, pod, "uid-" + pod));
  r.message = "pod " + pod;
  r.properties["serviceAccount"] = ns + "/default";
  return r;
}

TEST(ReportsFlavour, GroupsVersionsKindsAndResources) {
  const ReportKind& report = kindOf(Flavour::OpenReports, false);
  EXPECT_EQ(report.group, "openreports.io");
  EXPECT_EQ(report.version, "v1alpha1");
  EXPECT_EQ(report.apiVersion, "openreports.io/v1alpha1");
  EXPECT_EQ(report.kind, "Report");
  EXPECT_EQ(report.resource, "reports");
  EXPECT_TRUE(report.namespaced);
  const ReportKind& cluster = kindOf(Flavour::OpenReports, true);
  EXPECT_EQ(cluster.apiVersion, "openreports.io/v1alpha1");
  EXPECT_EQ(cluster.kind, "ClusterReport");
  EXPECT_EQ(cluster.resource, "clusterreports");
  EXPECT_FALSE(cluster.namespaced);
  const ReportKind& polr = kindOf(Flavour::PolicyReport, false);
  EXPECT_EQ(polr.group, "wgpolicyk8s.io");
  EXPECT_EQ(polr.version, "v1alpha2");
  EXPECT_EQ(polr.apiVersion, "wgpolicyk8s.io/v1alpha2");
  EXPECT_EQ(polr.kind, "PolicyReport");
  EXPECT_EQ(polr.resource, "policyreports");
  EXPECT_TRUE(polr.namespaced);
  const ReportKind& cpolr = kindOf(Flavour::PolicyReport, true);
  EXPECT_EQ(cpolr.apiVersion, "wgpolicyk8s.io/v1alpha2");
  EXPECT_EQ(cpolr.kind, "ClusterPolicyReport");
  EXPECT_EQ(cpolr.resource, "clusterpolicyreports");
  EXPECT_FALSE(cpolr.namespaced);
}

TEST(ReportsFlavour, NamesParseBackAndOpenReportsIsPreferred) {
  EXPECT_STREQ(toString(Flavour::OpenReports), "openreports");
  EXPECT_STREQ(toString(Flavour::PolicyReport), "policyreport");
  for (Flavour f : kFlavoursByPreference) EXPECT_EQ(parseFlavour(toString(f)), f);
  EXPECT_EQ(parseFlavour("OpenReports"), std::nullopt);
  EXPECT_EQ(parseFlavour("policyreports"), std::nullopt);
  EXPECT_EQ(parseFlavour(""), std::nullopt);
  EXPECT_EQ(kFlavoursByPreference.front(), Flavour::OpenReports);
}

TEST(ReportsReport, OutcomeAndSeverityOnTheWire) {
  EXPECT_STREQ(toString(Outcome::Pass), "pass");
  EXPECT_STREQ(toString(Outcome::Fail), "fail");
  EXPECT_STREQ(toString(Outcome::Warn), "warn");
  EXPECT_STREQ(toString(Outcome::Error), "error");
  EXPECT_STREQ(toString(Outcome::Skip), "skip");
  EXPECT_STREQ(toWire(policy::Severity::Critical), "critical");
  EXPECT_STREQ(toWire(policy::Severity::High), "high");
  EXPECT_STREQ(toWire(policy::Severity::Medium), "medium");
  EXPECT_STREQ(toWire(policy::Severity::Low), "low");
  EXPECT_STREQ(toWire(policy::Severity::Info), "info");
}

TEST(ReportsReport, SummaryCountsEachOutcome) {
  std::vector<Result> rs;
  const std::pair<Outcome, int> counts[] = {{Outcome::Pass, 3},
                                            {Outcome::Fail, 2},
                                            {Outcome::Warn, 4},
                                            {Outcome::Error, 1},
                                            {Outcome::Skip, 5}};
  for (const auto& [outcome, n] : counts) {
    for (int i = 0; i < n; ++i) rs.push_back(result(outcome, std::nullopt, "a", "p"));
  }
  EXPECT_EQ(summarize(rs), (Summary{.pass = 3, .fail = 2, .warn = 4, .error = 1, .skip = 5}));
  EXPECT_EQ(summarize({}), Summary{});
}

TEST(ReportsReport, GroupByScopePutsTheClusterReportFirstThenNamespacesByName) {
  std::vector<Result> rs = {result(Outcome::Fail, std::nullopt, "zeta", "z1"),
                            result(Outcome::Fail, std::nullopt, "alpha", "a1"),
                            result(Outcome::Warn, std::nullopt, "zeta", "z2")};
  Result crb = result(Outcome::Warn, policy::Severity::Critical, "", "");
  crb.resources = {ref("ClusterRoleBinding", "", "crb"), ref("ServiceAccount", "alpha", "sa")};
  rs.push_back(crb);
  Result nothing = result(Outcome::Error, std::nullopt, "", "");
  nothing.resources.clear();
  rs.push_back(nothing);

  const std::vector<Report> reports = groupByScope(rs);
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_TRUE(reports[0].clusterScoped());
  EXPECT_EQ(reports[0].results, (std::vector<Result>{crb, nothing}));
  EXPECT_EQ(reports[1].namespace_, "alpha");
  EXPECT_EQ(reports[1].results, (std::vector<Result>{rs[1]}));
  EXPECT_EQ(reports[2].namespace_, "zeta");
  EXPECT_EQ(reports[2].results, (std::vector<Result>{rs[0], rs[2]}));
  EXPECT_EQ(scopeOf(crb), "");
  EXPECT_EQ(scopeOf(rs[0]), "zeta");
  EXPECT_TRUE(groupByScope({}).empty());
}

TEST(ReportsReport, RenderOrderIsProblemsFirstThenMostSevereThenPolicyAndObject) {
  const std::vector<Result> ordered = {
      result(Outcome::Fail, policy::Severity::High, "a", "x"),
      result(Outcome::Fail, policy::Severity::Medium, "a", "a"),
      result(Outcome::Fail, policy::Severity::Medium, "a", "b"),
      result(Outcome::Fail, policy::Severity::Medium, "a", "b", "q"),
      result(Outcome::Error, std::nullopt, "a", "a"),
      result(Outcome::Warn, policy::Severity::Critical, "a", "a"),
      result(Outcome::Warn, policy::Severity::Low, "a", "a"),
      result(Outcome::Skip, std::nullopt, "a", "a"),
      result(Outcome::Pass, std::nullopt, "a", "a", "p", "AutomountDisabled"),
      result(Outcome::Pass, std::nullopt, "a", "a", "p", "TokenMounted"),
  };
  for (std::size_t i = 0; i + 1 < ordered.size(); ++i) {
    EXPECT_TRUE(rendersBefore(ordered[i], ordered[i + 1])) << i;
    EXPECT_FALSE(rendersBefore(ordered[i + 1], ordered[i])) << i;
  }
  for (const Result& r : ordered) EXPECT_FALSE(rendersBefore(r, r));
  // Results that differ only in what is rendered last never tie.
  Result a = ordered[0], b = ordered[0];
  b.resources.push_back(ref("ServiceAccount", "a", "default"));
  EXPECT_NE(rendersBefore(a, b), rendersBefore(b, a));
  b = a;
  b.scored = false;
  EXPECT_NE(rendersBefore(a, b), rendersBefore(b, a));
  b = a;
  b.properties["x"] = "y";
  EXPECT_NE(rendersBefore(a, b), rendersBefore(b, a));
}

TEST(ReportsRender, NamespacedReportFieldByFieldInBothFlavours) {
  Result r = result(Outcome::Fail, policy::Severity::Medium, "shop", "web");
  r.timestamp = Timestamp{1765000000, 250};
  r.resources.push_back(ref("ServiceAccount", "shop", "default", "uid-sa"));
  r.properties["tokenSource"] = "Default";
  const Report report{"shop", {r}};
  for (Flavour flavour : kFlavoursByPreference) {
    const nlohmann::json o = render(report, flavour);
    const ReportKind& kind = kindOf(flavour, false);
    EXPECT_EQ(o["apiVersion"], kind.apiVersion);
    EXPECT_EQ(o["kind"], kind.kind);
    EXPECT_EQ(o["metadata"]["name"], "saguard");
    EXPECT_EQ(o["metadata"]["namespace"], "shop");
    EXPECT_EQ(o["metadata"]["labels"],
              nlohmann::json({{"app.kubernetes.io/managed-by", "saguard"}}));
    ASSERT_TRUE(o["metadata"]["annotations"].contains("saguard.io/rendered-hash"));
    EXPECT_EQ(o["metadata"]["annotations"].size(), 1u);
    EXPECT_FALSE(o.contains("scope"));
    EXPECT_EQ(o["summary"],
              nlohmann::json({{"pass", 0}, {"fail", 1}, {"warn", 0}, {"error", 0}, {"skip", 0}}));
    ASSERT_EQ(o["results"].size(), 1u);
    const nlohmann::json expected = {
        {"policy", "p"},
        {"rule", "TokenMounted"},
        {"result", "fail"},
        {"severity", "medium"},
        {"scored", true},
        {"source", "saguard"},
        {"timestamp", {{"seconds", 1765000000}, {"nanos", 250}}},
        {"resources",
         {{{"apiVersion", "v1"},
           {"kind", "Pod"},
           {"namespace", "shop"},
           {"name", "web"},
           {"uid", "uid-web"}},
          {{"apiVersion", "v1"},
           {"kind", "ServiceAccount"},
           {"namespace", "shop"},
           {"name", "default"},
           {"uid", "uid-sa"}}}},
        {"message", "pod web"},
        {"properties", {{"serviceAccount", "shop/default"}, {"tokenSource", "Default"}}}};
    EXPECT_EQ(o["results"][0], expected) << o["results"][0].dump(2);
    EXPECT_EQ(o.size(), 5u) << o.dump(2);  // apiVersion, kind, metadata, summary, results
  }
}

TEST(ReportsRender, ClusterReportHasNoNamespaceAndTheClusterKind) {
  Result r = result(Outcome::Warn, policy::Severity::Critical, "", "");
  r.resources = {ref("ClusterRoleBinding", "", "view-all")};
  r.resources[0].apiVersion = "rbac.authorization.k8s.io/v1";
  const Report report{"", {r}};
  const nlohmann::json open = render(report, Flavour::OpenReports);
  EXPECT_EQ(open["apiVersion"], "openreports.io/v1alpha1");
  EXPECT_EQ(open["kind"], "ClusterReport");
  EXPECT_FALSE(open["metadata"].contains("namespace"));
  EXPECT_EQ(open["metadata"]["name"], "saguard");
  const nlohmann::json polr = render(report, Flavour::PolicyReport, "other-name");
  EXPECT_EQ(polr["apiVersion"], "wgpolicyk8s.io/v1alpha2");
  EXPECT_EQ(polr["kind"], "ClusterPolicyReport");
  EXPECT_EQ(polr["metadata"]["name"], "other-name");
  // A reference without namespace or uid leaves them out.
  EXPECT_EQ(open["results"][0]["resources"][0],
            nlohmann::json({{"apiVersion", "rbac.authorization.k8s.io/v1"},
                            {"kind", "ClusterRoleBinding"},
                            {"name", "view-all"}}));
  EXPECT_EQ(open["summary"]["warn"], 1);
}

TEST(ReportsRender, OptionalFieldsAreLeftOutWhenEmpty) {
  Result r;
  r.policy = "p";
  r.result = Outcome::Pass;
  r.scored = false;
  const nlohmann::json o = render(Report{"a", {r}}, Flavour::OpenReports)["results"][0];
  EXPECT_EQ(o, nlohmann::json({{"policy", "p"},
                               {"result", "pass"},
                               {"scored", false},
                               {"source", "saguard"},
                               {"timestamp", {{"seconds", 0}, {"nanos", 0}}}}));
}

TEST(ReportsRender, AnEmptyReportRendersZeroCountsAndNoResults) {
  const nlohmann::json o = render(Report{"quiet", {}}, Flavour::PolicyReport);
  EXPECT_EQ(o["results"], nlohmann::json::array());
  EXPECT_EQ(o["summary"],
            nlohmann::json({{"pass", 0}, {"fail", 0}, {"warn", 0}, {"error", 0}, {"skip", 0}}));
}

TEST(ReportsRender, TheSameFindingsInAnyOrderRenderByteIdenticalJson) {
  std::vector<Result> rs;
  const Outcome outcomes[] = {Outcome::Pass, Outcome::Fail, Outcome::Warn, Outcome::Skip,
                              Outcome::Error};
  for (int i = 0; i < 40; ++i) {
    Result r =
        result(outcomes[i % 5], i % 3 == 0 ? std::nullopt : std::optional(policy::Severity(i % 5)),
               "ns", "pod-" + std::to_string(i % 13), "policy-" + std::to_string(i % 4));
    r.properties["i"] = std::to_string(i);
    rs.push_back(r);
  }
  const std::string first = render(Report{"ns", rs}, Flavour::OpenReports).dump();
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    std::shuffle(rs.begin(), rs.end(), rng);
    EXPECT_EQ(render(Report{"ns", rs}, Flavour::OpenReports).dump(), first);
  }
  // The order is rendersBefore()'s.
  const nlohmann::json o = nlohmann::json::parse(first);
  std::sort(rs.begin(), rs.end(), rendersBefore);
  ASSERT_EQ(o["results"].size(), rs.size());
  for (std::size_t i = 0; i < rs.size(); ++i) {
    EXPECT_EQ(o["results"][i]["properties"]["i"], rs[i].properties.at("i")) << i;
  }
  EXPECT_EQ(o["summary"],
            nlohmann::json({{"pass", 8}, {"fail", 8}, {"warn", 8}, {"error", 8}, {"skip", 8}}));
}

TEST(ReportsRender, KeepsTheFirstMaxResultsAndCountsTheOthersInAnAnnotation) {
  std::vector<Result> rs;
  for (std::size_t i = 0; i < kMaxResults; ++i) {
    rs.push_back(result(Outcome::Pass, std::nullopt, "ns", "pass-" + std::to_string(i)));
  }
  for (int i = 0; i < 3; ++i)
    rs.push_back(result(Outcome::Fail, policy::Severity::Low, "ns", "f" + std::to_string(i)));
  const nlohmann::json o = render(Report{"ns", rs}, Flavour::OpenReports);
  ASSERT_EQ(o["results"].size(), kMaxResults);
  EXPECT_EQ(o["results"][0]["result"], "fail");
  EXPECT_EQ(o["results"][2]["result"], "fail");
  EXPECT_EQ(o["summary"]["fail"], 3);
  EXPECT_EQ(o["summary"]["pass"], static_cast<std::int64_t>(kMaxResults) - 3);
  EXPECT_EQ(o["metadata"]["annotations"]["saguard.io/results-omitted"], "3");

  rs.resize(kMaxResults);
  EXPECT_FALSE(render(Report{"ns", rs}, Flavour::OpenReports)["metadata"]["annotations"].contains(
      "saguard.io/results-omitted"));
}

TEST(ReportsRender, LongMessagesAreCutOnACharacterBoundary) {
  Result r = result(Outcome::Fail, policy::Severity::Low, "ns", "p");
  r.message = std::string(kMaxMessageLength - 1, 'x') + "\xc3\xa9" + "tail";  // é straddles the cut
  const std::string rendered =
      render(Report{"ns", {r}}, Flavour::OpenReports)["results"][0]["message"];
  EXPECT_EQ(rendered, std::string(kMaxMessageLength - 1, 'x'));
  r.message = std::string(kMaxMessageLength, 'y');
  EXPECT_EQ(render(Report{"ns", {r}}, Flavour::OpenReports)["results"][0]["message"], r.message);
}

TEST(ReportsRender, ContentIgnoresTimestampsAndWhatTheServerAdds) {
  Result r = result(Outcome::Fail, policy::Severity::Medium, "ns", "web");
  const nlohmann::json before = render(Report{"ns", {r}}, Flavour::OpenReports);
  r.timestamp = Timestamp{1766000000, 5};
  const nlohmann::json later = render(Report{"ns", {r}}, Flavour::OpenReports);
  EXPECT_NE(before.dump(), later.dump());
  EXPECT_TRUE(sameContent(before, later));
  EXPECT_EQ(renderedHashOf(before), renderedHashOf(later));
  EXPECT_EQ(renderedHashOf(before), contentHash(before));
  EXPECT_EQ(renderedHashOf(before).size(), 16u);

  // As read back: server metadata, other labels and annotations do not count.
  nlohmann::json live = later;
  live["metadata"]["uid"] = "u";
  live["metadata"]["resourceVersion"] = "42";
  live["metadata"]["creationTimestamp"] = "2026-12-07T00:00:00Z";
  live["metadata"]["managedFields"] = nlohmann::json::array({{{"manager", "saguard"}}});
  live["metadata"]["labels"]["team"] = "x";
  live["metadata"]["annotations"]["note"] = "y";
  live["metadata"]["ownerReferences"] = nlohmann::json::array({{{"kind", "ServiceAccountPolicy"}}});
  EXPECT_TRUE(sameContent(before, live));
  EXPECT_EQ(contentHash(live), renderedHashOf(before));
}

TEST(ReportsRender, ContentChangesWithEveryRenderedField) {
  const Result base = result(Outcome::Fail, policy::Severity::Medium, "ns", "web");
  const nlohmann::json original = render(Report{"ns", {base}}, Flavour::OpenReports);
  std::vector<std::pair<const char*, Result>> changed;
  auto with = [&](const char* what, auto change) {
    Result r = base;
    change(r);
    changed.emplace_back(what, r);
  };
  with("policy", [](Result& r) { r.policy = "other"; });
  with("rule", [](Result& r) { r.rule = "PodOverridesPolicy"; });
  with("result", [](Result& r) { r.result = Outcome::Warn; });
  with("severity", [](Result& r) { r.severity = policy::Severity::High; });
  with("no severity", [](Result& r) { r.severity.reset(); });
  with("scored", [](Result& r) { r.scored = false; });
  with("source", [](Result& r) { r.source = "other"; });
  with("resource name", [](Result& r) { r.resources[0].name = "api"; });
  with("resource uid", [](Result& r) { r.resources[0].uid = "new-uid"; });
  with("more resources",
       [](Result& r) { r.resources.push_back(ref("ServiceAccount", "ns", "sa")); });
  with("message", [](Result& r) { r.message += "!"; });
  with("property value", [](Result& r) { r.properties["serviceAccount"] = "ns/other"; });
  with("new property", [](Result& r) { r.properties["tokenLastUsed"] = "2026-12-06"; });
  for (const auto& [what, r] : changed) {
    EXPECT_FALSE(sameContent(original, render(Report{"ns", {r}}, Flavour::OpenReports))) << what;
  }
  // The report itself: another namespace, name, flavour, or one more result.
  EXPECT_FALSE(sameContent(original, render(Report{"other", {base}}, Flavour::OpenReports)));
  EXPECT_FALSE(sameContent(original, render(Report{"ns", {base}}, Flavour::OpenReports, "x")));
  EXPECT_FALSE(sameContent(original, render(Report{"ns", {base}}, Flavour::PolicyReport)));
  EXPECT_FALSE(sameContent(original, render(Report{"ns", {base, base}}, Flavour::OpenReports)));
  // resourceVersion is not rendered, so it is not content.
  Result rv = base;
  rv.resources[0].resourceVersion = "99";
  EXPECT_TRUE(sameContent(original, render(Report{"ns", {rv}}, Flavour::OpenReports)));
}

TEST(ReportsRender, RenderedHashOfAnObjectWithoutOneIsEmpty) {
  EXPECT_EQ(renderedHashOf(nlohmann::json::object()), "");
  EXPECT_EQ(renderedHashOf(nlohmann::json::parse(
                R"({"metadata":{"annotations":{"saguard.io/rendered-hash":7}}})")),
            "");
  EXPECT_EQ(renderedHashOf(nlohmann::json("text")), "");
  EXPECT_EQ(contentHash(nlohmann::json("text")).size(), 16u);
}

}  // namespace
}  // namespace saguard::reports
