// Churn (issue 17): the pod replacement a real cluster lives in. A Deployment of 50 replicas
// of a selected account is rolled 5 times while saguard runs, on a control plane whose
// workload controllers, scheduler and kwok nodes replace the pods as a real cluster does
// (DedicatedControlPlane({.nodes = 3})):
//   - no pod of the selected account ever gets a token: every pod the API server announced
//     during the whole run (a `kubectl get --watch` beside the test) is checked, not only
//     the last ones;
//   - saguard writes the account once: apiserver_request_total for writes to serviceaccounts
//     (on this plane only saguard writes accounts) and saguard_patches_total both say 1;
//   - saguard's cache lets the deleted pods go: saguard_cache_objects{kind="pods"} comes back
//     to the 50 live pods.
// saguard's resident memory at the steady state, at its peak during the rolls, and after
// them is printed (figures for the note, not asserted: memory targets live in bench/).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>

#include "e2e/support/dedicated_control_plane.h"
#include "e2e/support/install.h"
#include "e2e/support/kube_json.h"
#include "e2e/support/saguard_process.h"
#include "e2e/support/service_account_dir.h"
#include "integration/support/controlplane_env.h"
#include "integration/support/helpers.h"

namespace saguard::testing {
namespace {

using nlohmann::json;

constexpr int kReplicas = 50;
constexpr int kRolls = 5;

// VmRSS of a process in MiB (0 when it cannot be read).
double rssMiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmRSS:")) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

// A sample of saguard's /metrics: the value of `series` ("saguard_patches_total"), -1 when
// it is not there.
double metric(int port, const std::string& series) {
  const std::string text = httpGet(port, "/metrics");
  std::smatch m;
  const std::regex line("(^|\n)" + std::regex_replace(series, std::regex(R"([{}"])"), R"(\$&)") +
                        R"( ([0-9.e+]+))");
  return std::regex_search(text, m, line) ? std::stod(m[2]) : -1;
}

long serviceAccountWrites(const ControlPlane& plane) {
  long writes = 0;
  for (const char* verb : {"APPLY", "PATCH", "UPDATE"}) {
    writes += plane.apiRequestTotal(verb, "serviceaccounts");
  }
  return writes;
}

TEST(Churn, FiftyReplicasRolledFiveTimesNeverGetATokenAndTheAccountIsWrittenOnce) {
  DedicatedControlPlane own({.nodes = 3});
  ASSERT_TRUE(own.up()) << own.error();
  const ControlPlane& plane = own.plane();
  const std::string ns = "churn";
  ASSERT_EQ(plane.kubectl("create namespace " + ns).exitCode, 0);
  ASSERT_TRUE(eventually(
      30'000, [&] { return plane.kubectl("get serviceaccount default -n " + ns).exitCode == 0; }));
  ASSERT_EQ(plane.kubectl("create serviceaccount app -n " + ns).exitCode, 0);
  const long writesBefore = serviceAccountWrites(plane);

  installSaguard(plane);
  ServiceAccountDir tokens(saguardToken(plane), plane.caFile);
  const std::string dir = makeTempDir("churn");
  SaguardProcess saguard({.serviceAccountDir = tokens.path(),
                          .log = dir + "/run.log",
                          .flags = {"--log-level=info"},
                          .apiServerUrl = plane.apiServerUrl});
  ASSERT_TRUE(eventually(60'000, [&] { return saguard.ready() || !saguard.running(); }))
      << saguard.log();
  const int metricsPort = saguard.port("/metrics");
  ASSERT_NE(metricsPort, 0) << saguard.log();
  ASSERT_EQ(plane
                .kubectl("apply -f -",
                         "apiVersion: saguard.io/v1alpha1\nkind: ServiceAccountPolicy\n"
                         "metadata:\n  name: churn\nspec:\n  mode: Enforce\n"
                         "  namespaces:\n    selector:\n      matchLabels: "
                         "{kubernetes.io/metadata.name: churn}\n"
                         "  serviceAccounts:\n    names: [app]\n")
                .exitCode,
            0);
  ASSERT_TRUE(eventually(30'000, [&] {
    return trimmed(plane
                       .kubectl("get serviceaccount app -n " + ns +
                                " -o jsonpath={.automountServiceAccountToken}")
                       .out) == "false";
  })) << saguard.log();

  // Every pod event of the run, from beside the test.
  const std::string events = dir + "/pod-events.json";
  auto watcher = run(plane.kubectlPath + " --kubeconfig=" + plane.kubeconfig + " get pods -n " +
                     ns + " --watch --output-watch-events -o json > " + events + " 2>&1 & echo $!");
  ASSERT_EQ(watcher.exitCode, 0);
  const std::string watcherPid = trimmed(watcher.out);

  const std::string deployment =
      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: churn\n"
      "spec:\n  replicas: " +
      std::to_string(kReplicas) +
      "\n  selector: {matchLabels: {app: web}}\n"
      "  strategy: {rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}}\n"
      "  template:\n    metadata: {labels: {app: web}}\n"
      "    spec:\n      serviceAccountName: app\n      containers: [{name: web, image: web}]\n";
  ASSERT_EQ(plane.kubectl("apply -f -", deployment).exitCode, 0);
  const std::string rolloutStatus = "rollout status deployment/web -n " + ns + " --timeout=180s";
  ASSERT_EQ(plane.kubectl(rolloutStatus).exitCode, 0);
  auto cachedPods = [&] { return metric(metricsPort, "saguard_cache_objects{kind=\"pods\"}"); };
  EXPECT_TRUE(eventually(30'000, [&] { return cachedPods() == kReplicas; })) << cachedPods();
  const double steady = rssMiB(saguard.pid());

  double peak = steady;
  auto started = std::chrono::steady_clock::now();
  for (int roll = 1; roll <= kRolls; ++roll) {
    ASSERT_EQ(plane.kubectl("rollout restart deployment/web -n " + ns).exitCode, 0);
    auto status = plane.kubectl(rolloutStatus);
    ASSERT_EQ(status.exitCode, 0) << "roll " << roll << ": " << status.err;
    peak = std::max(peak, rssMiB(saguard.pid()));
  }
  const double rollSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // The rollout is done when the new pods are ready; the old ones go a moment later.
  EXPECT_TRUE(eventually(60'000, [&] {
    return listItems(plane, "pods -n " + ns).size() == static_cast<std::size_t>(kReplicas);
  }));
  EXPECT_TRUE(eventually(30'000, [&] { return cachedPods() == kReplicas; }))
      << "saguard's cache keeps " << cachedPods() << " pods, " << kReplicas << " live";
  const double after = rssMiB(saguard.pid());
  run("kill " + watcherPid);

  std::set<std::string> pods, withToken;
  for (const json& event : jsonStream(readFile(events))) {
    const json& pod = event.contains("object") ? event["object"] : event;
    if (!pod.contains("metadata")) continue;
    pods.insert(pod["metadata"].value("name", ""));
    if (holdsToken(pod)) withToken.insert(pod["metadata"].value("name", ""));
  }
  EXPECT_GE(pods.size(), static_cast<std::size_t>(kReplicas * (kRolls + 1)))
      << "the watch saw fewer pods than the rolls made";
  EXPECT_TRUE(withToken.empty()) << ::testing::PrintToString(withToken);
  EXPECT_EQ(serviceAccountWrites(plane) - writesBefore, 1);
  EXPECT_EQ(metric(metricsPort, "saguard_patches_total{result=\"success\"}"), 1);
  std::printf(
      "churn: %d replicas rolled %d times in %.1f s: %zu pods seen, %zu with a token; "
      "account writes %ld; saguard RSS %.1f MiB steady, %.1f MiB peak, %.1f MiB after\n",
      kReplicas, kRolls, rollSeconds, pods.size(), withToken.size(),
      serviceAccountWrites(plane) - writesBefore, steady, peak, after);
  saguard.stop(SIGTERM);
}

}  // namespace
}  // namespace saguard::testing
