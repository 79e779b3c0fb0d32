// The policy reports saguard keeps (reconcile_reports.cpp, reporting/ApiPublisher), end to
// end in-process against the real API server, with the report CRDs of tests/support/crds/
// (written from the report fields) installed and removed while the controller runs:
// neither API served, then only wgpolicyk8s.io/v1alpha2, then OpenReports too; contents
// field by field; no write at steady state; a change written; reports gone with their
// policy; a CRD of another shape said once, not written in a loop.
//
// The CRDs are cluster-wide: each test starts without them and deletes them at its end.
// The policy selects only this test's namespaces (label saguard-test).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "integration/support/controlplane_env.h"
#include "integration/support/helpers.h"
#include "kube/config.h"
#include "kube/rest_client.h"
#include "reconcile/api_writer.h"
#include "reconcile/controller.h"
#include "reporting/api_publisher.h"

namespace saguard::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string kCrds = std::string(SAGUARD_SOURCE_DIR) + "/tests/support/crds/";

class NoEvents final : public reconcile::Notifier {
 public:
  void notify(const objects::ObjectRef&, policy::Reason, const std::string&) override {}
};

json getJson(const std::string& args) {
  return kubectlJson(args);
}

json reportsCondition(const std::string& policy) {
  json p = getJson("serviceaccountpolicy " + policy);
  if (!p.is_object()) return json();
  for (const auto& c : p.value("status", json::object()).value("conditions", json::array())) {
    if (c.value("type", "") == "Reports") return c;
  }
  return json();
}

// Installs (or removes) the CRDs of the files named, and waits until the API server
// serves (or no longer serves) their resources.
void installCrds(const std::vector<std::string>& files) {
  for (const auto& f : files) {
    auto r = kubectl("apply -f " + kCrds + f);
    ASSERT_EQ(r.exitCode, 0) << r.err;
  }
  for (const auto& f : files) {
    const std::string crd =
        f.substr(f.find('_') + 1, f.size() - f.find('_') - 6) + "." + f.substr(0, f.find('_'));
    ASSERT_EQ(kubectl("wait --for=condition=Established --timeout=60s crd/" + crd).exitCode, 0)
        << crd;
  }
}
void removeAllCrds() {
  auto r = kubectl("delete --ignore-not-found --timeout=120s -f " + kCrds);
  ASSERT_EQ(r.exitCode, 0) << r.err;
}
const std::vector<std::string> kOld = {"wgpolicyk8s.io_policyreports.yaml",
                                       "wgpolicyk8s.io_clusterpolicyreports.yaml"};
const std::vector<std::string> kNew = {"openreports.io_reports.yaml",
                                       "openreports.io_clusterreports.yaml"};

class ReportsControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(waitForControllerManager());
    ASSERT_TRUE(installPolicyCrd());
    removeAllCrds();
    label_ = "reports-" + randomSuffix();
    auto config = kube::loadConfig({.kubeconfig = controlPlane().kubeconfig});
    ASSERT_TRUE(config.ok()) << config.error().describe();
    auto client = kube::makeRestClient(*config);
    ASSERT_TRUE(client.ok()) << client.error().describe();
    client_ = std::move(*client);
    writer_ = std::make_unique<reconcile::ApiWriter>(*client_);
    // Short intervals, so that a CRD installed or removed is noticed within the test.
    publisher_ = std::make_unique<reporting::ApiPublisher>(*client_, publisherOptions());
    reconcile::ControllerOptions options;
    options.policyDelay = 100ms;
    options.reportInterval = 500ms;
    options.reconciler.reports = publisher_.get();
    options.reconciler.reportsDiscovery = 500ms;
    auto controller = reconcile::Controller::create(*client_, *writer_, notifier_, options);
    ASSERT_TRUE(controller.ok()) << controller.error().describe();
    controller_ = std::move(*controller);
    controller_->startInformers();
    ASSERT_TRUE(controller_->waitForSync(30s));
    workers_ = std::thread([this] { controller_->runWorkers(); });
  }
  void TearDown() override {
    if (controller_) controller_->stop();
    if (workers_.joinable()) workers_.join();
    kubectl("delete serviceaccountpolicy " + label_ + " --ignore-not-found");
    removeAllCrds();
  }
  virtual reporting::ApiPublisherOptions publisherOptions() const {
    return {.reverifyAfter = 2s, .recheckAbsent = 500ms};
  }
  // An Audit policy (it writes no account) over this test's namespaces.
  void applyPolicy() {
    const std::string yaml =
        "apiVersion: saguard.io/v1alpha1\nkind: ServiceAccountPolicy\nmetadata:\n  name: " +
        label_ +
        "\nspec:\n  mode: Audit\n  namespaces:\n    selector:\n      matchLabels:\n"
        "        saguard-test: " +
        label_ + "\n";
    auto r = kubectl("apply -f -", yaml);
    ASSERT_EQ(r.exitCode, 0) << r.err;
  }
  // A namespace with: default (unset: Audit finding, fail), quiet (false: pass), a pod of
  // default holding a token (fail), a RoleBinding granting default (warn) and a
  // ClusterRoleBinding granting it (warn, in the cluster report).
  std::string populatedNamespace() {
    const std::string ns = freshNamespace("reports", {{"saguard-test", label_}});
    EXPECT_TRUE(eventually(
        10'000, [&] { return kubectl("get serviceaccount default -n " + ns).exitCode == 0; }));
    const std::string yaml =
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: quiet\n  namespace: " + ns +
        "\nautomountServiceAccountToken: false\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: " +
        ns +
        "\nspec:\n  containers:\n  - name: app\n    image: registry.k8s.io/pause:3.10\n---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: view\n"
        "  namespace: " +
        ns +
        "\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: view\n"
        "subjects:\n- kind: ServiceAccount\n  name: default\n  namespace: " +
        ns +
        "\n---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n"
        "  name: " +
        label_ +
        "\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: view\n"
        "subjects:\n- kind: ServiceAccount\n  name: default\n  namespace: " +
        ns + "\n";
    auto r = kubectl("create -f -", yaml);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    return ns;
  }

  std::string label_;
  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<reconcile::ApiWriter> writer_;
  std::unique_ptr<reporting::ApiPublisher> publisher_;
  NoEvents notifier_;
  std::unique_ptr<reconcile::Controller> controller_;
  std::thread workers_;
};

// The results of a report, by rule.
std::map<std::string, std::vector<json>> byRule(const json& report) {
  std::map<std::string, std::vector<json>> out;
  for (const auto& r : report.value("results", json::array()))
    out[r.value("rule", "")].push_back(r);
  return out;
}

void expectReportOf(const json& report, const std::string& apiVersion, const std::string& kind,
                    const std::string& ns, const std::string& policy, const std::string& uid) {
  EXPECT_EQ(report["apiVersion"], apiVersion);
  EXPECT_EQ(report["kind"], kind);
  EXPECT_EQ(report["metadata"]["name"], "saguard");
  EXPECT_EQ(report["metadata"]["labels"]["app.kubernetes.io/managed-by"], "saguard");
  ASSERT_EQ(report["metadata"]["ownerReferences"].size(), 1u) << report.dump();
  EXPECT_EQ(report["metadata"]["ownerReferences"][0]["kind"], "ServiceAccountPolicy");
  EXPECT_EQ(report["metadata"]["ownerReferences"][0]["name"], policy);
  EXPECT_EQ(report["metadata"]["ownerReferences"][0]["uid"], uid);
  EXPECT_EQ(report["summary"], json::parse(R"({"pass":1,"fail":2,"warn":1,"error":0,"skip":0})"))
      << report.dump();
  auto rules = byRule(report);
  ASSERT_EQ(rules["AutomountWouldBeDisabled"].size(), 1u) << report.dump();
  const json& account = rules["AutomountWouldBeDisabled"][0];
  EXPECT_EQ(account["policy"], policy);
  EXPECT_EQ(account["result"], "fail");
  EXPECT_EQ(account["severity"], "low");
  EXPECT_EQ(account["source"], "saguard");
  EXPECT_EQ(account["scored"], true);
  EXPECT_GT(account["timestamp"]["seconds"].get<std::int64_t>(), 1700000000);
  EXPECT_EQ(account["resources"][0]["kind"], "ServiceAccount");
  EXPECT_EQ(account["resources"][0]["namespace"], ns);
  EXPECT_EQ(account["resources"][0]["name"], "default");
  EXPECT_FALSE(account["resources"][0].value("uid", "").empty());
  EXPECT_EQ(account["properties"]["serviceAccount"], ns + "/default");
  EXPECT_EQ(account["properties"]["automountServiceAccountToken"], "unset");
  EXPECT_FALSE(account.value("message", "").empty());
  ASSERT_EQ(rules["TokenMounted"].size(), 1u);
  const json& pod = rules["TokenMounted"][0];
  EXPECT_EQ(pod["result"], "fail");
  EXPECT_EQ(pod["severity"], "medium");
  EXPECT_EQ(pod["resources"][0]["kind"], "Pod");
  EXPECT_EQ(pod["resources"][0]["name"], "web");
  EXPECT_EQ(pod["resources"][1]["kind"], "ServiceAccount");
  EXPECT_EQ(pod["properties"]["tokenSource"], "Default");
  ASSERT_EQ(rules["BindingGrantsSelectedAccount"].size(), 1u);
  const json& binding = rules["BindingGrantsSelectedAccount"][0];
  EXPECT_EQ(binding["result"], "warn");
  EXPECT_EQ(binding["severity"], "critical");
  EXPECT_EQ(binding["resources"][0]["kind"], "RoleBinding");
  EXPECT_EQ(binding["properties"]["role"], "ClusterRole/view");
  ASSERT_EQ(rules["AutomountDisabled"].size(), 1u);
  const json& pass = rules["AutomountDisabled"][0];
  EXPECT_EQ(pass["result"], "pass");
  EXPECT_EQ(pass["resources"][0]["name"], "quiet");
  EXPECT_FALSE(pass.contains("severity"));
}

TEST_F(ReportsControllerTest, NoneThenPolicyReportThenOpenReportsWhileRunning) {
  const std::string ns = populatedNamespace();
  applyPolicy();
  const std::string uid = getJson("serviceaccountpolicy " + label_)["metadata"]["uid"];

  // Neither API is served: said, nothing written.
  ASSERT_TRUE(eventually(10'000, [&] {
    return reportsCondition(label_).value("reason", "") == "NotInstalled";
  })) << reportsCondition(label_).dump();
  EXPECT_EQ(reportsCondition(label_)["status"], "False");
  EXPECT_TRUE(contains(reportsCondition(label_).value("message", ""), "is not served"));
  EXPECT_EQ(publisher_->writes(), 0u);

  // wgpolicyk8s.io/v1alpha2 installed while saguard runs.
  installCrds(kOld);
  ASSERT_TRUE(eventually(20'000, [&] {
    return getJson("policyreports.wgpolicyk8s.io saguard -n " + ns).is_object();
  })) << reportsCondition(label_).dump();
  ASSERT_TRUE(eventually(
      10'000, [&] { return getJson("clusterpolicyreports.wgpolicyk8s.io saguard").is_object(); }));
  // The summary settles once every finding is in (the pod may come after the account).
  ASSERT_TRUE(eventually(10'000, [&] {
    return getJson("policyreports.wgpolicyk8s.io saguard -n " + ns)["summary"].value("fail", 0) ==
           2;
  }));
  expectReportOf(getJson("policyreports.wgpolicyk8s.io saguard -n " + ns),
                 "wgpolicyk8s.io/v1alpha2", "PolicyReport", ns, label_, uid);
  const json cluster = getJson("clusterpolicyreports.wgpolicyk8s.io saguard");
  EXPECT_EQ(cluster["kind"], "ClusterPolicyReport");
  auto clusterRules = byRule(cluster);
  ASSERT_EQ(clusterRules["BindingGrantsSelectedAccount"].size(), 1u) << cluster.dump();
  EXPECT_EQ(clusterRules["BindingGrantsSelectedAccount"][0]["resources"][0]["name"], label_);
  ASSERT_TRUE(eventually(
      10'000, [&] { return reportsCondition(label_).value("reason", "") == "Published"; }));
  EXPECT_TRUE(contains(reportsCondition(label_).value("message", ""), "wgpolicyk8s.io/v1alpha2"));

  // Steady state: recomputations (a pod elsewhere changes every policy's inputs) write
  // no report.
  std::this_thread::sleep_for(2s);
  const std::size_t settled = publisher_->writes();
  const std::string rv =
      getJson("policyreports.wgpolicyk8s.io saguard -n " + ns)["metadata"]["resourceVersion"];
  const std::string elsewhere = freshNamespace("reports-other");
  for (int i = 0; i < 3; ++i) {
    kubectl("run p" + std::to_string(i) + " -n " + elsewhere +
            " --image=registry.k8s.io/pause:3.10");
    std::this_thread::sleep_for(1s);
  }
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(publisher_->writes(), settled);
  EXPECT_EQ(getJson("policyreports.wgpolicyk8s.io saguard -n " + ns)["metadata"]["resourceVersion"],
            rv);
  std::printf("[ figures ] steady state over 6 s with 3 recomputations: %zu report writes\n",
              publisher_->writes() - settled);

  // OpenReports installed too: preferred; saguard's PolicyReports go.
  installCrds(kNew);
  ASSERT_TRUE(eventually(
      20'000, [&] { return getJson("reports.openreports.io saguard -n " + ns).is_object(); }));
  expectReportOf(getJson("reports.openreports.io saguard -n " + ns), "openreports.io/v1alpha1",
                 "Report", ns, label_, uid);
  EXPECT_TRUE(eventually(10'000, [&] {
    return getJson("clusterreports.openreports.io saguard").is_object() &&
           !getJson("policyreports.wgpolicyk8s.io saguard -n " + ns).is_object() &&
           !getJson("clusterpolicyreports.wgpolicyk8s.io saguard").is_object();
  }));

  // A change is published: the pod goes.
  ASSERT_EQ(kubectl("delete pod web -n " + ns + " --wait=false").exitCode, 0);
  EXPECT_TRUE(eventually(15'000, [&] {
    return getJson("reports.openreports.io saguard -n " + ns)["summary"].value("fail", 0) == 1;
  }));

  // The policy goes: so do its reports.
  ASSERT_EQ(kubectl("delete serviceaccountpolicy " + label_).exitCode, 0);
  EXPECT_TRUE(eventually(30'000, [&] {
    return !getJson("reports.openreports.io saguard -n " + ns).is_object() &&
           !getJson("clusterreports.openreports.io saguard").is_object();
  }));
  kubectl("delete clusterrolebinding " + label_ + " --ignore-not-found");
}

// A PolicyReport CRD whose schema keeps only `policy` of each result: the API server
// prunes the rest. saguard says so (condition Refused, naming what to check) and does not
// write the same report again and again (once more per listing, every 10 minutes).
class ReportsCrdShapeTest : public ReportsControllerTest {
 protected:
  // As in production: saguard's reports are listed again after 10 minutes.
  reporting::ApiPublisherOptions publisherOptions() const override {
    return {.reverifyAfter = 10min, .recheckAbsent = 500ms};
  }
};

TEST_F(ReportsCrdShapeTest, ACrdOfAnotherShapeIsSaidNotWrittenInALoop) {
  auto crd = [](const std::string& plural, const std::string& kind, const std::string& scope) {
    return "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
           "  name: " +
           plural +
           ".wgpolicyk8s.io\nspec:\n  group: wgpolicyk8s.io\n  names:\n"
           "    plural: " +
           plural + "\n    singular: " + plural.substr(0, plural.size() - 1) +
           "\n    kind: " + kind + "\n    listKind: " + kind + "List\n  scope: " + scope +
           "\n  versions:\n  - name: v1alpha2\n    served: true\n    storage: true\n"
           "    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n"
           "          summary:\n            type: object\n"
           "            x-kubernetes-preserve-unknown-fields: true\n"
           "          results:\n            type: array\n            items:\n"
           "              type: object\n              properties:\n                policy:\n"
           "                  type: string\n";
  };
  auto r = kubectl("apply -f -", crd("policyreports", "PolicyReport", "Namespaced") + "---\n" +
                                     crd("clusterpolicyreports", "ClusterPolicyReport", "Cluster"));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  for (const char* c : {"policyreports.wgpolicyk8s.io", "clusterpolicyreports.wgpolicyk8s.io"}) {
    ASSERT_EQ(
        kubectl(std::string("wait --for=condition=Established --timeout=60s crd/") + c).exitCode,
        0);
  }
  const std::string ns = populatedNamespace();
  applyPolicy();
  ASSERT_TRUE(eventually(20'000, [&] {
    return reportsCondition(label_).value("reason", "") == "Refused";
  })) << reportsCondition(label_).dump();
  EXPECT_TRUE(contains(reportsCondition(label_).value("message", ""), "stored without"))
      << reportsCondition(label_).dump();
  std::this_thread::sleep_for(2s);
  const std::size_t after = publisher_->writes();
  std::this_thread::sleep_for(5s);
  EXPECT_EQ(publisher_->writes(), after) << "the same report was written again";
  std::printf("[ figures ] CRD of another shape: %zu writes, then 0 in 5 s\n", after);
  kubectl("delete clusterrolebinding " + label_ + " --ignore-not-found");
}

// OpenReports installed at a version saguard does not write (v1 here): not used, and the
// condition says which kinds are not served.
TEST_F(ReportsCrdShapeTest, AnotherVersionIsNotUsedAndSaidSo) {
  const std::string crd =
      "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
      "  name: reports.openreports.io\nspec:\n  group: openreports.io\n  names:\n"
      "    plural: reports\n    singular: report\n    kind: Report\n    listKind: ReportList\n"
      "  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n"
      "    schema:\n      openAPIV3Schema:\n        type: object\n"
      "        x-kubernetes-preserve-unknown-fields: true\n";
  ASSERT_EQ(kubectl("apply -f -", crd).exitCode, 0);
  ASSERT_EQ(
      kubectl("wait --for=condition=Established --timeout=60s crd/reports.openreports.io").exitCode,
      0);
  populatedNamespace();
  applyPolicy();
  ASSERT_TRUE(eventually(10'000, [&] {
    return reportsCondition(label_).value("reason", "") == "NotInstalled";
  })) << reportsCondition(label_).dump();
  EXPECT_TRUE(contains(reportsCondition(label_).value("message", ""),
                       "openreports.io/v1alpha1 reports is not served"))
      << reportsCondition(label_).dump();
  EXPECT_EQ(publisher_->writes(), 0u);
  kubectl("delete clusterrolebinding " + label_ + " --ignore-not-found");
  kubectl("delete crd reports.openreports.io --ignore-not-found");
}

}  // namespace
}  // namespace saguard::testing
