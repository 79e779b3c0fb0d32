// `saguard audit` against the real local control plane, compared with the classic
// kubectl + jq one-liner
//   kubectl get pods -o json | jq -r '.items[] | select(.spec.automountServiceAccountToken !=
//   false) | ...'
// on a namespace of its own. The ground truth is each pod's volumes as the API server
// admitted them (a projected serviceAccountToken source), read here with kubectl, not
// with saguard's decoder.
#include "audit/audit_command.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "integration/support/controlplane_env.h"

namespace saguard::audit {
namespace {

using nlohmann::json;
using saguard::testing::controlPlane;
using saguard::testing::eventually;
using saguard::testing::freshNamespace;
using saguard::testing::kubectl;
using saguard::testing::run;

std::string podYaml(const std::string& ns, const std::string& name, const std::string& account,
                    const std::string& extra) {
  return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  namespace: " + ns +
         "\nspec:\n  serviceAccountName: " + account + "\n" + extra +
         "  containers:\n  - name: app\n    image: registry.invalid/app:1\n";
}

struct AuditRun {
  int code;
  std::string out, err;
};

AuditRun audit(std::vector<std::string> args) {
  args.insert(args.begin(), {"--kubeconfig", controlPlane().kubeconfig});
  std::ostringstream out, err;
  int code = runAudit(args, out, err);
  return AuditRun{code, out.str(), err.str()};
}

class AuditCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    ns_ = freshNamespace("audit");
    ASSERT_TRUE(eventually(
        60'000, [&] { return kubectl("get serviceaccount default -n " + ns_).exitCode == 0; }));
    const std::string manifests =
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: quiet, namespace: " + ns_ +
        "}\nautomountServiceAccountToken: false\n---\n"
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: bot, namespace: " +
        ns_ +
        "}\n---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: bot-edit, "
        "namespace: " +
        ns_ +
        "}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}\n"
        "subjects: [{kind: ServiceAccount, name: bot, namespace: " +
        ns_ +
        "}]\n---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: "
        "default-view, namespace: " +
        ns_ +
        "}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\n"
        "subjects: [{kind: ServiceAccount, name: default, namespace: " +
        ns_ + "}]\n---\n" +
        // web: nothing set -> token through default (bound by default-view: review)
        podYaml(ns_, "web", "default", "") + "---\n" +
        // pod-off: the pod sets false -> no token
        podYaml(ns_, "pod-off", "default", "  automountServiceAccountToken: false\n") + "---\n" +
        // quiet-pod: the account sets false -> no token, but jq lists it
        podYaml(ns_, "quiet-pod", "quiet", "") + "---\n" +
        // forced: the pod sets true over the quiet account -> token, no binding: unneeded
        podYaml(ns_, "forced", "quiet", "  automountServiceAccountToken: true\n") + "---\n" +
        // ci: bot is bound -> needed
        podYaml(ns_, "ci", "bot", "") + "---\n" +
        // declares: sets false but declares the projected token volume itself -> holds a
        // token; jq does not list it
        podYaml(ns_, "declares", "default",
                "  automountServiceAccountToken: false\n  volumes:\n  - name: tok\n    projected:\n"
                "      sources:\n      - serviceAccountToken: {path: token}\n");
    auto created = kubectl("create -f -", manifests);
    ASSERT_EQ(created.exitCode, 0) << created.err;
  }

  std::string ns_;
};

TEST_F(AuditCommand, JsonAgreesWithTheVolumesAndExplainsEachDifferenceFromKubectlJq) {
  // Ground truth from the admitted pods' volumes.
  auto pods = kubectl("get pods -n " + ns_ + " -o json");
  ASSERT_EQ(pods.exitCode, 0) << pods.err;
  std::set<std::string> holders;
  const json podList = json::parse(pods.out);  // kept: a reference into a temporary would dangle
  for (const auto& item : podList["items"]) {
    for (const auto& v : item["spec"].value("volumes", json::array())) {
      bool token = false;
      if (v.contains("projected")) {
        for (const auto& s : v["projected"].value("sources", json::array()))
          token |= s.contains("serviceAccountToken");
      }
      if (token) holders.insert(item["metadata"]["name"].get<std::string>());
    }
  }
  EXPECT_EQ(holders, (std::set<std::string>{"web", "forced", "ci", "declares"}));

  // The one-liner.
  const auto& cp = controlPlane();
  auto jq = run(cp.kubectlPath + " --kubeconfig=" + cp.kubeconfig + " get pods -n " + ns_ +
                " -o json | jq -r '.items[] | select(.spec.automountServiceAccountToken != false) "
                "| .metadata.name'");
  ASSERT_EQ(jq.exitCode, 0) << jq.err;
  std::set<std::string> jqPods;
  std::istringstream lines(jq.out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) jqPods.insert(line);
  }

  AuditRun r = audit({"-n", ns_, "-o", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = json::parse(r.out);
  std::set<std::string> saguardPods;
  std::map<std::string, json> rows;
  for (const auto& p : j["pods"]) {
    EXPECT_EQ(p["namespace"], ns_);
    saguardPods.insert(p["pod"].get<std::string>());
    rows[p["pod"].get<std::string>()] = p;
  }

  // saguard lists exactly the pods that hold a token.
  EXPECT_EQ(saguardPods, holders);
  // jq lists quiet-pod, which holds no token: its ServiceAccount sets false, and jq
  // only looks at the pod field.
  EXPECT_TRUE(jqPods.count("quiet-pod"));
  EXPECT_FALSE(saguardPods.count("quiet-pod"));
  // jq misses declares, which sets false but mounts a token volume it declares itself.
  EXPECT_FALSE(jqPods.count("declares"));
  EXPECT_TRUE(saguardPods.count("declares"));
  // Otherwise they agree: both skip pod-off, both list web, forced and ci.
  std::set<std::string> jqExplained = jqPods;
  jqExplained.erase("quiet-pod");
  jqExplained.insert("declares");
  EXPECT_EQ(jqExplained, saguardPods);

  // What jq cannot say: how the token got there and whether it is needed.
  EXPECT_EQ(rows["web"]["tokenSource"], "Default");
  EXPECT_EQ(rows["web"]["verdict"], "review");
  EXPECT_EQ(rows["web"]["bindings"][0]["name"], "default-view");
  EXPECT_EQ(rows["forced"]["tokenSource"], "PodSetsTrue");
  EXPECT_EQ(rows["forced"]["verdict"], "unneeded");
  EXPECT_EQ(rows["ci"]["tokenSource"], "Default");
  EXPECT_EQ(rows["ci"]["verdict"], "needed");
  EXPECT_EQ(rows["ci"]["bindings"][0]["roleName"], "edit");
  EXPECT_EQ(rows["declares"]["tokenSource"], "PodDeclaresVolume");
  EXPECT_EQ(rows["declares"]["verdict"], "review");  // default, and default-view names it
  EXPECT_EQ(j["summary"]["podsSeen"], 6);
  EXPECT_EQ(j["summary"]["withToken"], 4);
  EXPECT_EQ(j["summary"]["unneeded"], 1);
  EXPECT_EQ(j["summary"]["review"], 2);
  EXPECT_EQ(j["summary"]["needed"], 1);
}

TEST_F(AuditCommand, TableYamlPagingAndFailOn) {
  AuditRun table = audit({"-n", ns_, "--page-size", "2"});  // 6 pods over 3 pages
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_TRUE(table.out.starts_with("NAMESPACE")) << table.out;
  EXPECT_NE(table.out.find("4 of 6 pods hold a token: 1 unneeded, 2 review, 1 needed, 0 exempt"),
            std::string::npos)
      << table.out;
  EXPECT_EQ(table.out.find("\033["), std::string::npos);  // not a terminal: no colour
  AuditRun yaml = audit({"-n", ns_, "-o", "yaml"});
  ASSERT_EQ(yaml.code, 0);
  EXPECT_NE(yaml.out.find("verdict: \"needed\""), std::string::npos) << yaml.out;
  EXPECT_EQ(audit({"-n", ns_, "--fail-on", "unneeded"}).code, 1);
  EXPECT_EQ(audit({"-n", ns_, "--fail-on", "review"}).code, 1);
  EXPECT_EQ(audit({"-n", ns_, "--fail-on", "sometimes"}).code, 2);
  EXPECT_EQ(audit({"-n", ns_, "-A"}).code, 2);
  // -A sees this namespace's pods too.
  AuditRun all = audit({"-A", "-o", "json"});
  ASSERT_EQ(all.code, 0) << all.err;
  std::size_t mine = 0;
  const json allPods = json::parse(all.out);
  for (const auto& p : allPods["pods"]) mine += p["namespace"] == ns_ ? 1 : 0;
  EXPECT_EQ(mine, 4u);
}

}  // namespace
}  // namespace saguard::audit
