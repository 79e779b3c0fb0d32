// `saguard restart` against the real local control plane. Its controller manager runs no
// workload controllers, so the workloads, their ReplicaSets and their pods are created here
// as the controllers would (ownerReferences with controller: true and the owners' real
// uids: the garbage collector, which does run, deletes pods whose owner does not exist).
// The pods are created before their account is set to false, so they hold a token that
// predates the change. Rollouts never progress here: the tests that restart pass
// --wait=false, and one checks that a rollout that does not finish stops the run.
#include "audit/restart_command.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "audit/audit_command.h"
#include "integration/support/controlplane_env.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/rest_client.h"

namespace saguard::audit {
namespace {

using nlohmann::json;
using saguard::testing::controlPlane;
using saguard::testing::eventually;
using saguard::testing::freshNamespace;
using saguard::testing::kubectl;

// The line of `text` that holds `needle`, or "".
std::string lineWith(const std::string& text, const std::string& needle) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(needle) != std::string::npos) return line;
  }
  return "";
}

struct RestartRun {
  int code;
  std::string out, err;
};

RestartRun restart(std::vector<std::string> args) {
  args.insert(args.begin(), {"--kubeconfig", controlPlane().kubeconfig});
  std::ostringstream out, err;
  int code = runRestart(args, out, err);
  return RestartRun{code, out.str(), err.str()};
}

std::string podTemplate(const std::string& app, const std::string& account) {
  return "  selector: {matchLabels: {app: " + app +
         "}}\n  template:\n    metadata: {labels: {app: " + app +
         "}}\n    spec:\n      serviceAccountName: " + account +
         "\n      containers: [{name: app, image: registry.invalid/app:1}]\n";
}

std::string ownerRefs(const std::string& kind, const std::string& name, const std::string& uid) {
  return "  ownerReferences: [{apiVersion: apps/v1, kind: " + kind + ", name: " + name +
         ", uid: " + uid + ", controller: true}]\n";
}

class RestartCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    ns_ = freshNamespace("restart");
    ASSERT_TRUE(eventually(
        60'000, [&] { return kubectl("get serviceaccount default -n " + ns_).exitCode == 0; }));
    ASSERT_EQ(kubectl("create serviceaccount loud -n " + ns_).exitCode, 0);
    // web and api are Deployments (through a ReplicaSet), db a StatefulSet, agent a
    // DaemonSet, all as `default` but api, which runs as `loud` (never set to false).
    createWorkload("Deployment", "web", "default", "  replicas: 1\n");
    createWorkload("Deployment", "api", "loud", "  replicas: 1\n");
    createWorkload("StatefulSet", "db", "default", "  replicas: 1\n  serviceName: db\n");
    createWorkload("DaemonSet", "agent", "default", "");
    const std::string webRs =
        createWorkload("ReplicaSet", "web-1", "default", "  replicas: 1\n",
                       ownerRefs("Deployment", "web", uidOf("deployment", "web")));
    const std::string apiRs =
        createWorkload("ReplicaSet", "api-1", "loud", "  replicas: 1\n",
                       ownerRefs("Deployment", "api", uidOf("deployment", "api")));
    createPod("web-1-a", "default", ownerRefs("ReplicaSet", "web-1", webRs));
    createPod("web-1-b", "default", ownerRefs("ReplicaSet", "web-1", webRs));
    createPod("api-1-a", "loud", ownerRefs("ReplicaSet", "api-1", apiRs));
    createPod("db-0", "default", ownerRefs("StatefulSet", "db", uidOf("statefulset", "db")));
    // A pod whose name does not start with its controller's: the cached record keeps only
    // the kind, and saguard restart reads the pod's ownerReferences.
    createPod("renamed", "default", ownerRefs("StatefulSet", "db", uidOf("statefulset", "db")));
    createPod("agent-x", "default", ownerRefs("DaemonSet", "agent", uidOf("daemonset", "agent")));
    createPod("bare", "default", "");
    // Now the account is fixed; the pods keep their tokens.
    auto patched = kubectl("patch serviceaccount default -n " + ns_ +
                           " -p '{\"automountServiceAccountToken\":false}'");
    ASSERT_EQ(patched.exitCode, 0) << patched.err;
  }

  void TearDown() override { kubectl("delete namespace " + ns_ + " --wait=false"); }

  std::string uidOf(const std::string& resource, const std::string& name) {
    auto r =
        kubectl("get " + resource + " " + name + " -n " + ns_ + " -o jsonpath={.metadata.uid}");
    EXPECT_EQ(r.exitCode, 0) << r.err;
    return r.out;
  }

  // Creates a workload of `kind`; returns its uid.
  std::string createWorkload(const std::string& kind, const std::string& name,
                             const std::string& account, const std::string& specExtra,
                             const std::string& owners = "") {
    const std::string yaml = "apiVersion: apps/v1\nkind: " + kind + "\nmetadata:\n  name: " + name +
                             "\n  namespace: " + ns_ + "\n" + owners + "spec:\n" + specExtra +
                             podTemplate(name, account);
    auto created = kubectl("create -f -", yaml);
    EXPECT_EQ(created.exitCode, 0) << created.err << yaml;
    return uidOf(kind == "ReplicaSet" ? "replicaset" : kind, name);
  }

  void createPod(const std::string& name, const std::string& account, const std::string& owners) {
    const std::string yaml = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name +
                             "\n  namespace: " + ns_ + "\n" + owners +
                             "spec:\n  serviceAccountName: " + account +
                             "\n  containers: [{name: app, image: registry.invalid/app:1}]\n";
    auto created = kubectl("create -f -", yaml);
    ASSERT_EQ(created.exitCode, 0) << created.err << yaml;
  }

  // The template's restartedAt annotation ("" when absent).
  std::string restartedAt(const std::string& resource, const std::string& name) {
    auto r = kubectl("get " + resource + " " + name + " -n " + ns_ + " -o json");
    EXPECT_EQ(r.exitCode, 0) << r.err;
    const json o = json::parse(r.out, nullptr, false);
    if (!o.is_object()) return "";
    return o["spec"]["template"]["metadata"]
        .value("annotations", json::object())
        .value("kubectl.kubernetes.io/restartedAt", "");
  }

  bool podExists(const std::string& name) {
    return kubectl("get pod " + name + " -n " + ns_).exitCode == 0;
  }

  std::string ns_;
};

TEST_F(RestartCommand, DryRunPrintsThePlanAndChangesNothing) {
  RestartRun r = restart({"-n", ns_});
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("restart  Deployment/" + ns_ + "/web "), std::string::npos) << r.out;
  // db's two pods: db-0 and "renamed" (found through a GET of the pod).
  const std::string dbLine = lineWith(r.out, "StatefulSet/" + ns_ + "/db ");
  EXPECT_TRUE(dbLine.starts_with("restart  ")) << r.out;
  EXPECT_NE(dbLine.find("  2  "), std::string::npos) << dbLine;
  EXPECT_NE(r.out.find("restart  DaemonSet/" + ns_ + "/agent "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("refuse   Deployment/" + ns_ + "/api "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not compliant"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("skip     Pod/" + ns_ + "/bare "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("7 pods hold a token they should not: 3 workloads to restart, 0 bare pods "
                       "to delete, 1 refused, 1 skipped"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Dry run"), std::string::npos);
  for (auto [resource, name] : {std::pair{"deployment", "web"},
                                {"deployment", "api"},
                                {"statefulset", "db"},
                                {"daemonset", "agent"}}) {
    EXPECT_EQ(restartedAt(resource, name), "") << name;
  }
}

TEST_F(RestartCommand, RestartsTheOwnersAndNeverTheNonCompliantOne) {
  RestartRun r = restart({"-n", ns_, "--yes", "--wait=false", "--interval", "0s"});
  EXPECT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("Restarted 3 workloads, deleted 0 bare pods"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("[1/3]"), std::string::npos) << r.err;  // progress on stderr
  EXPECT_NE(restartedAt("deployment", "web"), "");
  EXPECT_NE(restartedAt("statefulset", "db"), "");
  EXPECT_NE(restartedAt("daemonset", "agent"), "");
  // api's account `loud` does not set false: never touched.
  EXPECT_EQ(restartedAt("deployment", "api"), "");
  // The ReplicaSet is not what is restarted: its Deployment is.
  EXPECT_EQ(restartedAt("replicaset", "web-1"), "");
  // The field manager is saguard.
  auto web = kubectl("get deployment web -n " + ns_ + " -o json --show-managed-fields");
  EXPECT_NE(web.out.find("\"manager\": \"saguard\""), std::string::npos);
  EXPECT_TRUE(podExists("bare"));

  // A bare pod goes only when asked.
  r = restart({"-n", ns_, "--yes", "--wait=false", "--interval", "0s", "--include-bare-pods"});
  EXPECT_NE(r.out.find("deleted 1 bare pod "), std::string::npos) << r.out;
  EXPECT_TRUE(eventually(30'000, [&] { return !podExists("bare"); }));
}

// The plan was made while the account was compliant; by the time it runs, someone has set
// the account back to true. The run checks again and refuses: the new pods would get the
// token again.
TEST_F(RestartCommand, ChecksTheAccountAgainBeforeEachRestart) {
  auto config = kube::loadConfig({.kubeconfig = controlPlane().kubeconfig});
  ASSERT_TRUE(config.ok());
  auto client = kube::makeRestClient(*config);
  ASSERT_TRUE(client.ok());
  EvidenceOptions noEvidence;
  noEvidence.storeNamespace = "";
  auto audited = collectAudit(**client, ns_, 500, noEvidence);
  ASSERT_TRUE(audited.ok()) << audited.error().describe();
  auto planned = planFromCluster(**client, audited->rows, {});
  ASSERT_TRUE(planned.ok()) << planned.error().describe();
  const RestartPlan& plan = *planned;
  ASSERT_EQ(plan.count(RestartAction::Restart), 3u);

  ASSERT_EQ(kubectl("patch serviceaccount default -n " + ns_ +
                    " -p '{\"automountServiceAccountToken\":true}'")
                .exitCode,
            0);
  std::ostringstream progress;
  RestartOptions options;
  options.interval = std::chrono::seconds(0);
  options.wait = false;
  const RestartOutcome outcome = executeRestart(**client, plan, options, progress);
  EXPECT_EQ(outcome.restarted, 0u) << progress.str();
  EXPECT_EQ(outcome.refused, 3u) << progress.str();
  EXPECT_NE(progress.str().find("not compliant"), std::string::npos) << progress.str();
  for (auto [resource, name] :
       {std::pair{"deployment", "web"}, {"statefulset", "db"}, {"daemonset", "agent"}}) {
    EXPECT_EQ(restartedAt(resource, name), "") << name;
  }
}

// No workload controller runs here, so no rollout finishes: with --wait, the first one
// times out and the run stops, leaving the others untouched.
TEST_F(RestartCommand, ARolloutThatDoesNotFinishStopsTheRun) {
  RestartRun r = restart({"-n", ns_, "--yes", "--timeout", "2s", "--interval", "0s"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("rollout not finished after 2s"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("Restarted 1 workload,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 left"), std::string::npos) << r.out;
  // The first in plan order (DaemonSet agent) was restarted, the rest not.
  EXPECT_NE(restartedAt("daemonset", "agent"), "");
  EXPECT_EQ(restartedAt("deployment", "web"), "");
  EXPECT_EQ(restartedAt("statefulset", "db"), "");
}

}  // namespace
}  // namespace saguard::audit
