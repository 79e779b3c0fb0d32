// Evidence of use, end to end: the built saguard, run as deployed (in-cluster style, the
// RBAC of manifests/rbac), receiving the audit events of the local control plane's API
// server (tests/controlplane/up.sh with SAGUARD_CP_AUDIT=1: a policy that logs service
// accounts at Metadata, the webhook backend pointed at saguard with a 1 s batch wait, and
// the log backend). The kubelet's part is played by TokenRequests bound to real Pods
// (integration/support/pod_token.h), exactly what the kubelet asks for.
//   - a pod that calls the API marks its account used within 5 s, attributed to the pod;
//     an account whose pods never call stays unused; the leader writes the last-used day;
//   - evidence that reaches a standby replica reaches the leader (through the store), and
//     a restarted saguard knows what the last one learned;
//   - unusedFor disables only the unused account, and only once the window has passed;
//   - `saguard audit --audit-log` on the API server's own log gives the verdicts the live
//     store gives.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "e2e/support/install.h"
#include "e2e/support/saguard_process.h"
#include "e2e/support/service_account_dir.h"
#include "integration/support/controlplane_env.h"
#include "integration/support/helpers.h"
#include "integration/support/pod_token.h"

namespace saguard::testing {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kStoreLabel = "app.kubernetes.io/managed-by=saguard";

// An account and a pod that runs as it (Pending forever: no scheduler); the pod's uid.
std::string accountWithPod(const ControlPlane& plane, const std::string& ns,
                           const std::string& account) {
  auto sa = plane.kubectl("create serviceaccount " + account + " -n " + ns);
  EXPECT_EQ(sa.exitCode, 0) << sa.err;
  auto pod =
      plane.kubectl("create -o jsonpath={.metadata.uid} -f -",
                    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + account +
                        "-pod\n  namespace: " + ns + "\nspec:\n  serviceAccountName: " + account +
                        "\n  containers:\n  - name: app\n    image: app\n");
  EXPECT_EQ(pod.exitCode, 0) << pod.err;
  return trimmed(pod.out);
}

// The account's record in saguard's store (the ConfigMaps saguard-token-use-*), or null.
json storedUse(const ControlPlane& plane, const std::string& ns, const std::string& account) {
  auto r =
      plane.kubectl(std::string("get configmaps -n saguard-system -l ") + kStoreLabel + " -o json");
  if (r.exitCode != 0) return nullptr;
  json list = json::parse(r.out, nullptr, false);
  if (!list.is_object()) return nullptr;
  for (const auto& cm : list.value("items", json::array())) {
    const json data = cm.value("data", json::object());
    auto it = data.find(ns + "." + account);
    if (it != data.end() && it->is_string())
      return json::parse(it->get<std::string>(), nullptr, false);
  }
  return nullptr;
}

std::string annotation(const ControlPlane& plane, const std::string& ns,
                       const std::string& account) {
  auto r = plane.kubectl("get serviceaccount " + account + " -n " + ns +
                         " -o 'jsonpath={.metadata.annotations.saguard\\.io/token-last-used}'");
  return r.exitCode == 0 ? trimmed(r.out) : "";
}

std::string automount(const ControlPlane& plane, const std::string& ns,
                      const std::string& account) {
  auto r = plane.kubectl("get serviceaccount " + account + " -n " + ns +
                         " -o jsonpath={.automountServiceAccountToken}");
  return r.exitCode == 0 ? trimmed(r.out) : "?";
}

class EvidenceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { installSaguard(controlPlane()); }

  void SetUp() override {
    if (!controlPlane().audit.enabled()) {
      GTEST_SKIP() << "the control plane was started without SAGUARD_CP_AUDIT=1";
    }
  }

  // saguard with the audit webhook receiver on the port up.sh pointed the API server at.
  static std::vector<std::string> webhookFlags() {
    const ControlPlaneAudit& audit = controlPlane().audit;
    return {"--audit-webhook-bind-address=127.0.0.1:" + audit.webhookPort,
            "--audit-webhook-cert-file=" + audit.webhookCertFile,
            "--audit-webhook-key-file=" + audit.webhookKeyFile,
            "--audit-webhook-client-ca-file=" + audit.clientCaFile,
            "--evidence-sync-interval-ms=500"};
  }
  static std::string logPath(const std::string& what) {
    return "/tmp/saguard-evidence-" + what + "-" + randomSuffix() + ".log";
  }
};

TEST_F(EvidenceTest, APodThatCallsMarksItsAccountUsedWithinSecondsAndAttributedToIt) {
  const ControlPlane& plane = controlPlane();
  ServiceAccountDir tokens(saguardToken(plane), plane.caFile);
  SaguardProcess saguard({.serviceAccountDir = tokens.path(),
                          .log = logPath("webhook"),
                          .flags = webhookFlags(),
                          .apiServerUrl = plane.apiServerUrl});
  ASSERT_TRUE(eventually(60'000, [&] { return saguard.ready() || !saguard.running(); }))
      << saguard.log();
  ASSERT_TRUE(saguard.logs("receiving audit events on port " + plane.audit.webhookPort))
      << saguard.log();

  const std::string ns = freshNamespace("evidence");
  const std::string callerUid = accountWithPod(plane, ns, "caller");
  accountWithPod(plane, ns, "idle");
  const std::string token = podBoundToken(plane, ns, "caller", "caller-pod", callerUid);

  const auto called = Clock::now();
  EXPECT_EQ(callApiWithToken(plane, token, "/api/v1/namespaces/" + ns + "/configmaps"), 403);
  json use;
  ASSERT_TRUE(eventually(5'000,
                         [&] {
                           use = storedUse(plane, ns, "caller");
                           return use.is_object();
                         }))
      << "no record of caller's use 5 s after its call\n"
      << saguard.log();
  const double seconds = std::chrono::duration<double>(Clock::now() - called).count();
  std::printf("[ evidence ] use recorded in the store %.2f s after the call\n", seconds);
  ASSERT_TRUE(use["pods"].is_array() && !use["pods"].empty()) << use.dump();
  EXPECT_EQ(use["pods"][0][0], callerUid) << use.dump();
  EXPECT_EQ(use["pods"][0][1], "caller-pod") << use.dump();
  EXPECT_EQ(use["accesses"][0][0], "list") << use.dump();
  EXPECT_EQ(use["accesses"][0][1], "configmaps") << use.dump();
  EXPECT_EQ(use["accesses"][0][2], true) << "a 403 is kept apart: " << use.dump();
  EXPECT_GT(use["lastRefused"].get<std::int64_t>(), 0) << use.dump();

  // The leader writes the day once.
  ASSERT_TRUE(eventually(10'000, [&] { return !annotation(plane, ns, "caller").empty(); }))
      << saguard.log();
  EXPECT_EQ(annotation(plane, ns, "caller").size(), 10u);  // YYYY-MM-DD
  EXPECT_EQ(callApiWithToken(plane, token, "/api/v1/namespaces/" + ns + "/pods"), 403);
  ASSERT_TRUE(eventually(5'000, [&] {
    json again = storedUse(plane, ns, "caller");
    return again.is_object() && again["accesses"].size() >= 2;
  }));
  EXPECT_EQ(saguard.count("token-last-used annotation"), 0u);  // never refused: it leads
  const auto patches = saguard.lines("/serviceaccounts/caller -> ");
  std::size_t annotationWrites = 0;
  for (const auto& line : patches) annotationWrites += line.find("PATCH") != std::string::npos;
  EXPECT_EQ(annotationWrites, 1u) << "one write per account per day";

  // The account whose pod never calls: no record, no annotation.
  EXPECT_TRUE(storedUse(plane, ns, "idle").is_null());
  EXPECT_EQ(annotation(plane, ns, "idle"), "");

  // A human's request is not evidence of anything.
  EXPECT_EQ(saguard.count("malformed input"), 0u) << saguard.log();
}

// The API server's own log, read offline, gives the verdicts the live store gives.
TEST_F(EvidenceTest, AuditOfTheLogFileAgreesWithTheLiveStore) {
  const ControlPlane& plane = controlPlane();
  ServiceAccountDir tokens(saguardToken(plane), plane.caFile);
  SaguardProcess saguard({.serviceAccountDir = tokens.path(),
                          .log = logPath("offline"),
                          .flags = webhookFlags(),
                          .apiServerUrl = plane.apiServerUrl});
  ASSERT_TRUE(eventually(60'000, [&] { return saguard.ready() || !saguard.running(); }))
      << saguard.log();
  const std::string ns = freshNamespace("evidence-offline");
  const std::string uid = accountWithPod(plane, ns, "caller");
  accountWithPod(plane, ns, "idle");
  const std::string token = podBoundToken(plane, ns, "caller", "caller-pod", uid);
  EXPECT_EQ(callApiWithToken(plane, token, "/api/v1/namespaces/" + ns + "/secrets"), 403);
  ASSERT_TRUE(eventually(5'000, [&] { return storedUse(plane, ns, "caller").is_object(); }));

  auto audit = [&](const std::string& extra) {
    auto r = run(std::string(SAGUARD_BINARY) + " audit --kubeconfig " + plane.kubeconfig + " -n " +
                 ns + " -o json --unused-window 1m " + extra);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    json out = json::parse(r.out, nullptr, false);
    std::vector<std::string> verdicts;
    for (const auto& pod : out.value("pods", json::array())) {
      verdicts.push_back(pod.value("pod", "") + "=" + pod.value("verdict", "") +
                         " lastUsed:" + (pod["lastUsed"].is_null() ? "none" : "yes") + " " +
                         pod.value("accesses", json::array()).dump());
    }
    return verdicts;
  };
  const auto live = audit("");
  const auto offline = audit("--evidence-namespace '' --audit-log " + plane.audit.logPath);
  EXPECT_EQ(live, offline);
  ASSERT_EQ(live.size(), 2u);
  EXPECT_NE(live[0].find("caller-pod=needed lastUsed:yes"), std::string::npos) << live[0];
  EXPECT_NE(live[0].find("list secrets (403)"), std::string::npos) << live[0];
  for (const auto& line : live) std::printf("[ evidence ] %s\n", line.c_str());
}

// A legacy token Secret: the API server itself labels it kubernetes.io/legacy-token-last-used
// when the token is used, and `saguard audit` counts that label (read as metadata only).
TEST_F(EvidenceTest, AuditCountsTheLegacyTokenLastUsedLabel) {
  const ControlPlane& plane = controlPlane();
  const std::string ns = freshNamespace("evidence-legacy");
  accountWithPod(plane, ns, "legacy");
  accountWithPod(plane, ns, "quiet");
  auto secret = plane.kubectl(
      "create -f -",
      "apiVersion: v1\nkind: Secret\nmetadata:\n  name: legacy-token\n  namespace: " + ns +
          "\n  annotations:\n    kubernetes.io/service-account.name: legacy\n"
          "type: kubernetes.io/service-account-token\n");
  ASSERT_EQ(secret.exitCode, 0) << secret.err;
  std::string token;
  ASSERT_TRUE(eventually(10'000, [&] {
    auto r = plane.kubectl("get secret legacy-token -n " + ns + " -o jsonpath={.data.token}");
    if (r.exitCode != 0 || trimmed(r.out).empty()) return false;
    token = trimmed(run("base64 -d", trimmed(r.out)).out);
    return !token.empty();
  }));
  EXPECT_EQ(callApiWithToken(plane, token, "/api/v1/namespaces/" + ns + "/configmaps"), 403);
  ASSERT_TRUE(eventually(10'000, [&] {
    auto r =
        plane.kubectl("get secret legacy-token -n " + ns +
                      " -o 'jsonpath={.metadata.labels.kubernetes\\.io/legacy-token-last-used}'");
    return r.exitCode == 0 && !trimmed(r.out).empty();
  }));

  // Only the label: no store, an empty log.
  const std::string empty = makeTempDir("evidence-legacy") + "/audit.log";
  std::ofstream{empty}.flush();
  auto r = run(std::string(SAGUARD_BINARY) + " audit --kubeconfig " + plane.kubeconfig + " -n " +
               ns + " -o json --evidence-namespace '' --audit-log " + empty);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  json out = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(out.is_object()) << r.out;
  std::map<std::string, json> byPod;
  for (const auto& pod : out.value("pods", json::array())) byPod[pod.value("pod", "")] = pod;
  ASSERT_TRUE(byPod.count("legacy-pod")) << r.out;
  EXPECT_EQ(byPod["legacy-pod"]["verdict"], "needed") << r.out;
  EXPECT_FALSE(byPod["legacy-pod"]["lastUsed"].is_null()) << r.out;
  EXPECT_TRUE(byPod["quiet-pod"]["lastUsed"].is_null()) << r.out;
}

// Evidence that reaches a standby replica reaches the leader (through the store), unusedFor
// waits for the window, and a saguard started afresh knows what the last ones learned.
// Timeline, from the accounts' creation (T0):
//   T0       a leader with no audit source of its own (all it knows comes from the store) and
//            a standby that receives the webhook; a policy: unusedFor 1m
//   ~T0+5    the caller's pod calls: the standby hears it, the leader writes the day
//   T0..T0+50  neither account is disabled (the window has not passed since their creation)
//   T0+50    the caller calls again; both replicas stop
//   ~T0+55   a fresh saguard, no audit source: it must disable `idle` once T0+60 has passed,
//            and must not disable `caller` before T0+110 (which it would at once if it did
//            not know the call at T0+50)
TEST_F(EvidenceTest, StandbyEvidenceReachesTheLeaderAndARestartKeepsIt) {
  const ControlPlane& plane = controlPlane();
  const std::string ns = freshNamespace("evidence-window");
  const std::string uid = accountWithPod(plane, ns, "caller");
  accountWithPod(plane, ns, "idle");
  const auto t0 = Clock::now();
  auto since = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  const std::string token = podBoundToken(plane, ns, "caller", "caller-pod", uid);

  ServiceAccountDir tokens(saguardToken(plane), plane.caFile);
  const std::string lease = "evidence-" + randomSuffix();
  const std::vector<std::string> noSource = {"--audit-log-path=/nonexistent/audit.log",
                                             "--evidence-sync-interval-ms=500"};
  std::vector<std::string> leaderFlags = noSource;
  leaderFlags.push_back("--leader-elect");
  leaderFlags.push_back("--leader-election-id=" + lease);
  auto leader =
      std::make_unique<SaguardProcess>(SaguardOptions{.serviceAccountDir = tokens.path(),
                                                      .log = logPath("leader"),
                                                      .flags = leaderFlags,
                                                      .apiServerUrl = plane.apiServerUrl});
  ASSERT_TRUE(eventually(60'000, [&] {
    return leader->logs("acquired lease saguard-system/" + lease) || !leader->running();
  })) << leader->log();
  std::vector<std::string> standbyFlags = webhookFlags();
  standbyFlags.push_back("--leader-elect");
  standbyFlags.push_back("--leader-election-id=" + lease);
  auto standby =
      std::make_unique<SaguardProcess>(SaguardOptions{.serviceAccountDir = tokens.path(),
                                                      .log = logPath("standby"),
                                                      .flags = standbyFlags,
                                                      .apiServerUrl = plane.apiServerUrl});
  ASSERT_TRUE(eventually(60'000, [&] {
    return standby->logs("receiving audit events") || !standby->running();
  })) << standby->log();
  auto applied = plane.kubectl(
      "apply -f -",
      "apiVersion: saguard.io/v1alpha1\nkind: ServiceAccountPolicy\nmetadata:\n  name: " + ns +
          "\nspec:\n  mode: Enforce\n  namespaces:\n    selector:\n      matchLabels:\n"
          "        kubernetes.io/metadata.name: " +
          ns + "\n  serviceAccounts:\n    names: [caller, idle]\n    unusedFor: 1m\n");
  ASSERT_EQ(applied.exitCode, 0) << applied.err;

  EXPECT_EQ(callApiWithToken(plane, token, "/api/v1/namespaces/" + ns + "/configmaps"), 403);
  ASSERT_TRUE(eventually(15'000, [&] { return !annotation(plane, ns, "caller").empty(); }))
      << "the leader never wrote the day the standby heard\n"
      << leader->log();
  while (since() < 50) {
    EXPECT_EQ(automount(plane, ns, "idle"), "") << "disabled before its window, at " << since();
    EXPECT_EQ(automount(plane, ns, "caller"), "");
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  const std::int64_t before = storedUse(plane, ns, "caller").value("lastUsed", std::int64_t{0});
  EXPECT_EQ(callApiWithToken(plane, token, "/api/v1/namespaces/" + ns + "/pods"), 403);
  const double lastCall = since();
  ASSERT_TRUE(eventually(
      10'000,
      [&] { return storedUse(plane, ns, "caller").value("lastUsed", std::int64_t{0}) > before; }))
      << "the second call never reached the store\n"
      << standby->log();
  EXPECT_EQ(leader->stop(SIGTERM).value_or(-1), 0);
  EXPECT_EQ(standby->stop(SIGTERM).value_or(-1), 0);
  leader.reset();
  standby.reset();

  SaguardProcess fresh({.serviceAccountDir = tokens.path(),
                        .log = logPath("fresh"),
                        .flags = noSource,
                        .apiServerUrl = plane.apiServerUrl});
  ASSERT_TRUE(eventually(60'000, [&] { return fresh.ready() || !fresh.running(); })) << fresh.log();
  std::optional<double> idleDisabled;
  while (since() < lastCall + 55) {
    if (!idleDisabled && automount(plane, ns, "idle") == "false") idleDisabled = since();
    ASSERT_EQ(automount(plane, ns, "caller"), "") << "the restarted saguard forgot the call at "
                                                  << lastCall << " s (now " << since() << " s)\n"
                                                  << fresh.log();
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  ASSERT_TRUE(idleDisabled) << "the idle account kept its token\n" << fresh.log();
  std::printf(
      "[ evidence ] idle disabled %.1f s after its creation; caller kept its token %.1f s "
      "after its last call\n",
      *idleDisabled, since() - lastCall);
  // The window runs from the account's creationTimestamp, whole seconds rounded down, and
  // t0 is read once kubectl has returned: the window may end up to ~2 s before t0 + 60.
  EXPECT_GE(*idleDisabled, 58.0);
  plane.kubectl("delete serviceaccountpolicy " + ns);
}

}  // namespace
}  // namespace saguard::testing
