// The report objects saguard renders (controller/reports/) against the real API server,
// with the test CRDs of tests/support/crds/ (written from the report fields, with enums
// and `policy` required): every flavour and scope is accepted and reads back with the
// same content, the schema refuses what it must, and `saguard audit -o openreports|
// policyreport` prints what `kubectl apply` takes.
//
// The CRDs are cluster-wide: the suite installs them (idempotently, with apply) and
// deletes them at its end, which deletes every report the tests made with them.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "audit/audit_command.h"
#include "integration/support/controlplane_env.h"
#include "integration/support/helpers.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/resource.h"
#include "kube/rest_client.h"
#include "reports/flavour.h"
#include "reports/render.h"

namespace saguard::reports {
namespace {

using nlohmann::json;
using saguard::testing::controlPlane;
using saguard::testing::eventually;
using saguard::testing::freshNamespace;
using saguard::testing::kubectl;

const std::string kCrds = std::string(SAGUARD_SOURCE_DIR) + "/tests/support/crds/";

std::string describe(const saguard::testing::CommandResult& r) {
  return "exit " + std::to_string(r.exitCode) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

kube::Resource resourceOf(const ReportKind& kind) {
  return kube::Resource{std::string(kind.group), std::string(kind.version),
                        std::string(kind.resource), kind.namespaced};
}

std::string qualified(const ReportKind& kind) {
  return std::string(kind.resource) + "." + std::string(kind.group);
}

// Results with every field and outcome, two of them about the same pod.
std::vector<Result> everyKindOfResult(const std::string& ns) {
  std::vector<Result> out;
  const Outcome outcomes[] = {Outcome::Fail, Outcome::Warn, Outcome::Error, Outcome::Skip,
                              Outcome::Pass};
  const std::optional<policy::Severity> severities[] = {
      policy::Severity::Critical, policy::Severity::High, policy::Severity::Medium,
      policy::Severity::Low, policy::Severity::Info};
  for (int i = 0; i < 5; ++i) {
    Result r;
    r.policy = "default-accounts";
    r.rule = i % 2 == 0 ? "TokenMounted" : "BindingGrantsSelectedAccount";
    r.result = outcomes[i];
    r.severity = severities[i];
    r.scored = i != 3;
    r.timestamp = Timestamp{1765000000 + i, 123456789};
    r.resources.push_back(objects::ObjectRef{"v1", "Pod", ns, "web-" + std::to_string(i % 3),
                                             "0b6f-" + std::to_string(i), ""});
    r.resources.push_back(objects::ObjectRef{"v1", "ServiceAccount", ns, "default", "", ""});
    r.message = "pod holds a token (" + std::to_string(i) + ") \xc3\xa9";
    r.properties = {{"serviceAccount", ns + "/default"}, {"tokenSource", "Default"}};
    out.push_back(std::move(r));
  }
  Result bare;  // only what is required
  bare.policy = "p";
  bare.result = Outcome::Pass;
  out.push_back(bare);
  return out;
}

class ReportsCrd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto applied = kubectl("apply -f " + kCrds);
    ASSERT_EQ(applied.exitCode, 0) << describe(applied);
    for (Flavour f : kFlavoursByPreference) {
      for (bool cluster : {false, true}) {
        const std::string crd = qualified(kindOf(f, cluster));
        auto established = kubectl("wait --for=condition=Established --timeout=60s crd/" + crd);
        ASSERT_EQ(established.exitCode, 0) << describe(established);
        // kubectl's discovery cache may lag the new resource by a moment.
        ASSERT_TRUE(
            eventually(30000, [&] { return kubectl("get " + crd + " -A -o name").exitCode == 0; }))
            << "the API server never served " << crd;
      }
    }
    auto config = kube::loadKubeconfig(controlPlane().kubeconfig);
    ASSERT_TRUE(config.ok()) << config.error().describe();
    auto client = kube::makeRestClient(*config);
    ASSERT_TRUE(client.ok()) << client.error().describe();
    client_ = std::move(*client);
  }

  static void TearDownTestSuite() {
    client_.reset();
    // Deleting a CRD deletes its objects; other tests never see these kinds.
    auto deleted = kubectl("delete --ignore-not-found --timeout=120s -f " + kCrds);
    EXPECT_EQ(deleted.exitCode, 0) << describe(deleted);
  }

  // Creates `object` as `kind` and reads it back with a GET.
  static json createAndGet(const ReportKind& kind, const std::string& ns, const json& object) {
    auto created = client_->create(resourceOf(kind), ns, object.dump());
    EXPECT_TRUE(created.ok()) << (created.ok() ? "" : created.error().describe()) << "\n"
                              << object.dump(2);
    if (!created.ok()) return json();
    auto got = client_->get(resourceOf(kind), ns, object["metadata"]["name"].get<std::string>());
    EXPECT_TRUE(got.ok()) << (got.ok() ? "" : got.error().describe());
    return got.ok() ? json::parse(*got) : json();
  }

  static void expectSameFields(const json& rendered, const json& live) {
    EXPECT_EQ(live["apiVersion"], rendered["apiVersion"]);
    EXPECT_EQ(live["kind"], rendered["kind"]);
    EXPECT_EQ(live["metadata"]["name"], rendered["metadata"]["name"]);
    EXPECT_EQ(live["metadata"].value("namespace", ""), rendered["metadata"].value("namespace", ""));
    EXPECT_EQ(live["metadata"]["labels"], rendered["metadata"]["labels"]);
    EXPECT_EQ(live["metadata"]["annotations"], rendered["metadata"]["annotations"]);
    EXPECT_EQ(live["summary"], rendered["summary"]);
    // Field by field, timestamps included: the schema prunes nothing saguard writes.
    EXPECT_EQ(live["results"], rendered["results"]) << live["results"].dump(2);
    EXPECT_TRUE(sameContent(rendered, live));
    EXPECT_EQ(contentHash(live), renderedHashOf(live));
  }

  static inline std::unique_ptr<kube::Client> client_;
};

TEST_F(ReportsCrd, NamespacedReportsOfBothFlavoursAreAcceptedAndReadBackUnchanged) {
  const std::string ns = freshNamespace("reports");
  for (Flavour flavour : kFlavoursByPreference) {
    SCOPED_TRACE(toString(flavour));
    const json rendered = render(Report{ns, everyKindOfResult(ns)}, flavour);
    const json live = createAndGet(kindOf(flavour, false), ns, rendered);
    expectSameFields(rendered, live);
    EXPECT_EQ(live["summary"],
              json({{"pass", 2}, {"fail", 1}, {"warn", 1}, {"error", 1}, {"skip", 1}}));
    // kubectl shows the summary columns.
    auto table = kubectl("get " + qualified(kindOf(flavour, false)) + " saguard -n " + ns);
    EXPECT_EQ(table.exitCode, 0) << describe(table);
    EXPECT_TRUE(saguard::testing::contains(table.out, "PASS")) << table.out;
  }
}

TEST_F(ReportsCrd, ClusterReportsOfBothFlavoursAreAcceptedAndReadBackUnchanged) {
  // Cluster-scoped and shared by every run against this server: a name of its own.
  const std::string name = "saguard-test-" + saguard::testing::randomSuffix();
  Result r;
  r.policy = "default-accounts";
  r.rule = "BindingGrantsSelectedAccount";
  r.result = Outcome::Warn;
  r.severity = policy::Severity::Critical;
  r.timestamp = Timestamp{1765000000, 0};
  r.resources = {objects::ObjectRef{"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "",
                                    "view-all", "", ""},
                 objects::ObjectRef{"v1", "ServiceAccount", "shop", "default", "", ""}};
  r.message = "ClusterRoleBinding grants ClusterRole view to selected ServiceAccount shop/default";
  r.properties = {{"role", "ClusterRole/view"}};
  for (Flavour flavour : kFlavoursByPreference) {
    SCOPED_TRACE(toString(flavour));
    const json rendered = render(Report{"", {r}}, flavour, name);
    const json live = createAndGet(kindOf(flavour, true), "", rendered);
    expectSameFields(rendered, live);
    auto removed = client_->remove(resourceOf(kindOf(flavour, true)), "", name);
    EXPECT_TRUE(removed.ok()) << (removed.ok() ? "" : removed.error().describe());
  }
}

TEST_F(ReportsCrd, TheSchemaRefusesAResultWithoutPolicyOrWithAnUnknownResultOrSeverity) {
  const std::string ns = freshNamespace("reports-bad");
  Result good;
  good.policy = "p";
  good.result = Outcome::Fail;
  good.severity = policy::Severity::High;
  const json base = render(Report{ns, {good}}, Flavour::OpenReports);
  auto refused = [&](const char* what, auto change) {
    json bad = base;
    change(bad["results"][0]);
    auto created = client_->create(resourceOf(kindOf(Flavour::OpenReports, false)), ns, bad.dump());
    ASSERT_FALSE(created.ok()) << what;
    EXPECT_TRUE(created.is(ErrorKind::Invalid)) << what << ": " << created.error().describe();
  };
  refused("no policy", [](json& r) { r.erase("policy"); });
  refused("unknown result", [](json& r) { r["result"] = "passed"; });
  refused("unknown severity", [](json& r) { r["severity"] = "Critical"; });
  refused("properties not strings", [](json& r) { r["properties"] = {{"n", 1}}; });
}

TEST_F(ReportsCrd, AuditReportsAreAcceptedByKubectlApply) {
  const std::string ns = freshNamespace("reports-audit");
  ASSERT_TRUE(eventually(
      60'000, [&] { return kubectl("get serviceaccount default -n " + ns).exitCode == 0; }));
  // web: the default account, nothing set, no binding: its token is unneeded.
  auto created =
      kubectl("create -f -", "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: " + ns +
                                 "}\nspec:\n  containers:\n  - name: app\n    image: "
                                 "registry.invalid/app:1\n");
  ASSERT_EQ(created.exitCode, 0) << describe(created);

  for (Flavour flavour : kFlavoursByPreference) {
    SCOPED_TRACE(toString(flavour));
    std::ostringstream out, err;
    const int code = audit::runAudit(
        {"--kubeconfig", controlPlane().kubeconfig, "-n", ns, "-o", toString(flavour)}, out, err);
    ASSERT_EQ(code, 0) << err.str();
    auto dryRun = kubectl("apply --dry-run=server -f -", out.str());
    EXPECT_EQ(dryRun.exitCode, 0) << describe(dryRun) << "\n" << out.str();
    EXPECT_TRUE(saguard::testing::contains(dryRun.out, "created (server dry run)")) << dryRun.out;

    auto applied = kubectl("apply -f -", out.str());
    ASSERT_EQ(applied.exitCode, 0) << describe(applied);
    const ReportKind& kind = kindOf(flavour, false);
    auto got = kubectl("get " + qualified(kind) + " saguard-audit -n " + ns + " -o json");
    ASSERT_EQ(got.exitCode, 0) << describe(got);
    const json live = json::parse(got.out);
    EXPECT_EQ(live["summary"]["fail"], 1) << got.out;
    ASSERT_EQ(live["results"].size(), 1u);
    EXPECT_EQ(live["results"][0]["policy"], "saguard-audit");
    EXPECT_EQ(live["results"][0]["result"], "fail");
    EXPECT_EQ(live["results"][0]["resources"][0]["name"], "web");
    EXPECT_EQ(live["results"][0]["properties"]["verdict"], "unneeded");
    // The List's item and the object read back have the same content.
    EXPECT_TRUE(sameContent(json::parse(out.str())["items"][0], live));
    // Applying the same audit again changes nothing.
    auto again = kubectl("apply -f -", out.str());
    EXPECT_TRUE(saguard::testing::contains(again.out, "unchanged")) << describe(again);
  }
}

}  // namespace
}  // namespace saguard::reports
