// The local control plane behaves like a real cluster where saguard cares: the
// namespace controller's `default` ServiceAccount, the ServiceAccount admission
// plugin's token volume, and clean start/stop of several control planes.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "integration/support/controlplane_env.h"
#include "integration/support/pod_token.h"

namespace saguard::testing {
namespace {

using nlohmann::json;

std::string podManifest(const std::string& ns, const std::string& name,
                        const std::string& serviceAccount) {
  return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  namespace: " + ns +
         "\nspec:\n  serviceAccountName: " + serviceAccount +
         "\n  containers:\n  - name: app\n    image: registry.k8s.io/pause:3.10\n";
}

// Tests that ran before (an API server restart) may have left the controller manager
// reconnecting; these tests are about a cluster in its steady state.
class ControlPlane : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(waitForControllerManager()); }
};

TEST_F(ControlPlane, NewNamespaceGetsDefaultServiceAccount) {
  std::string ns = freshNamespace("cp-default-sa");
  EXPECT_TRUE(eventually(
      10'000, [&] { return kubectl("get serviceaccount default -n " + ns).exitCode == 0; }))
      << "namespace " << ns << " got no default ServiceAccount within 10 s";
}

TEST_F(ControlPlane, PodGetsProjectedTokenVolume) {
  std::string ns = freshNamespace("cp-token");
  ASSERT_TRUE(eventually(
      10'000, [&] { return kubectl("get serviceaccount default -n " + ns).exitCode == 0; }));
  auto created = kubectl("create -o json -f -", podManifest(ns, "with-token", "default"));
  ASSERT_EQ(created.exitCode, 0) << created.err;
  json pod = json::parse(created.out);
  EXPECT_TRUE(hasProjectedTokenVolume(pod)) << pod["spec"].dump(2);
  bool mounted = false;
  for (const auto& mount : pod["spec"]["containers"][0].value("volumeMounts", json::array())) {
    mounted |= mount.value("mountPath", "") == "/var/run/secrets/kubernetes.io/serviceaccount";
  }
  EXPECT_TRUE(mounted) << "the token volume is not mounted in the container";
}

TEST_F(ControlPlane, AccountWithAutomountFalseGivesNoToken) {
  std::string ns = freshNamespace("cp-notoken");
  auto sa =
      kubectl("create -f -",
              "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: quiet\n  namespace: " + ns +
                  "\nautomountServiceAccountToken: false\n");
  ASSERT_EQ(sa.exitCode, 0) << sa.err;
  auto created = kubectl("create -o json -f -", podManifest(ns, "no-token", "quiet"));
  ASSERT_EQ(created.exitCode, 0) << created.err;
  json pod = json::parse(created.out);
  EXPECT_FALSE(hasProjectedTokenVolume(pod)) << pod["spec"].dump(2);
}

// A second control plane next to the shared one: both run at once, and down.sh
// leaves none of its processes behind.
TEST_F(ControlPlane, SecondControlPlaneStartsAndStopsCleanly) {
  std::string dir = run("mktemp -d /tmp/saguard-cp2-XXXXXX").out;
  dir.erase(dir.find_last_not_of('\n') + 1);
  std::string scripts = std::string(SAGUARD_SOURCE_DIR) + "/tests/controlplane/";
  auto up = run(scripts + "up.sh " + dir);
  ASSERT_EQ(up.exitCode, 0) << up.err;

  std::string pids;
  for (const char* component : {"etcd", "apiserver", "controller-manager"}) {
    std::ifstream in(dir + "/" + component + ".pid");
    std::string pid;
    in >> pid;
    ASSERT_FALSE(pid.empty()) << component;
    pids += pid + " ";
  }
  auto second =
      run(controlPlane().kubectlPath + " --kubeconfig=" + dir + "/kubeconfig get --raw /readyz");
  EXPECT_EQ(second.out, "ok");
  EXPECT_NE(dir + "/kubeconfig", controlPlane().kubeconfig);

  auto down = run(scripts + "down.sh " + dir);
  ASSERT_EQ(down.exitCode, 0) << down.err;
  auto alive = run("for p in " + pids + "; do kill -0 $p 2>/dev/null && echo $p; done");
  EXPECT_EQ(alive.out, "") << "processes still running after down.sh: " << alive.out;
  EXPECT_NE(run("test -e " + dir).exitCode, 0) << "down.sh left " << dir;
  // The shared control plane is unaffected.
  EXPECT_EQ(kubectl("get --raw /readyz").out, "ok");
}

// A component that cannot start: up.sh names it and its log, and leaves nothing running.
TEST_F(ControlPlane, FailedStartNamesComponentAndCleansUp) {
  std::string dir = run("mktemp -d /tmp/saguard-cp3-XXXXXX").out;
  dir.erase(dir.find_last_not_of('\n') + 1);
  std::string scripts = std::string(SAGUARD_SOURCE_DIR) + "/tests/controlplane/";
  auto up = run("SAGUARD_CP_APISERVER_ARGS=--no-such-flag " + scripts + "up.sh " + dir);
  EXPECT_NE(up.exitCode, 0);
  EXPECT_NE(up.err.find("apiserver failed"), std::string::npos) << up.err;
  EXPECT_NE(up.err.find(dir + "/apiserver.log"), std::string::npos) << up.err;
  // Every process up.sh starts names DIR (or, for etcd, a data folder named after it).
  std::string base = dir.substr(dir.find_last_of('/') + 1);
  // "[s]aguard-..." matches the processes but not the shell that runs pgrep.
  auto leftover = run("pgrep -f -- '[" + base.substr(0, 1) + "]" + base.substr(1) + "'");
  EXPECT_EQ(leftover.out, "") << "processes left running: " << leftover.out;
  run(scripts + "down.sh " + dir);
}

}  // namespace
}  // namespace saguard::testing
