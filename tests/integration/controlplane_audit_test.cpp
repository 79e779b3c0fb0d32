// The facts about the API server's audit that saguard's evidence of use relies on, checked
// on the real kube-apiserver of the shared control plane (started with SAGUARD_CP_AUDIT=1:
// service accounts at level Metadata, RequestReceived omitted, nothing else recorded; see
// tests/controlplane/up.sh). Each test plays the kubelet (a token bound to a real Pod,
// pod_token.h) and reads DIR/audit.log, the log backend's JSON lines. The webhook backend
// sends the same events; what it does was checked by hand (tests/controlplane/README.md).
//
// Requests are told apart by their requestURI: each carries a labelSelector of its own.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "integration/support/controlplane_env.h"
#include "integration/support/helpers.h"
#include "integration/support/pod_token.h"

namespace saguard::testing {
namespace {

using nlohmann::json;

constexpr char kPodNameKey[] = "authentication.kubernetes.io/pod-name";
constexpr char kPodUidKey[] = "authentication.kubernetes.io/pod-uid";
constexpr char kCredentialIdKey[] = "authentication.kubernetes.io/credential-id";

// Every event in the audit log so far. A line being written when the file is read does
// not parse and is left out (the next read has it whole).
std::vector<json> auditEvents() {
  std::vector<json> events;
  std::istringstream in(readFile(controlPlane().audit.logPath));
  std::string line;
  while (std::getline(in, line)) {
    auto event = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (event.is_object()) events.push_back(std::move(event));
  }
  return events;
}

std::vector<json> eventsFor(const std::string& requestUri) {
  std::vector<json> found;
  for (auto& event : auditEvents()) {
    if (event.value("requestURI", "") == requestUri) found.push_back(std::move(event));
  }
  return found;
}

// Waits up to `timeoutMs` for an event of `requestUri` at `stage`; returns how long it took
// in milliseconds, or -1 when none came.
double waitForEvent(const std::string& requestUri, const std::string& stage,
                    int timeoutMs = 5'000) {
  auto started = std::chrono::steady_clock::now();
  bool found = eventually(timeoutMs, [&] {
    for (const auto& event : eventsFor(requestUri)) {
      if (event.value("stage", "") == stage) return true;
    }
    return false;
  });
  if (!found) return -1;
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
      .count();
}

// A path that no other request uses: `base` with a labelSelector of its own.
std::string uniquePath(const std::string& base, const std::string& what) {
  return base + (base.find('?') == std::string::npos ? "?" : "&") + "labelSelector=probe%3D" +
         what + "-" + randomSuffix();
}

std::string todayUtc(int offsetDays = 0) {
  std::time_t now = std::time(nullptr) + std::time_t{offsetDays} * 24 * 3600;
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[16];
  std::strftime(text, sizeof text, "%Y-%m-%d", &utc);
  return text;
}

// A fresh namespace with an account `app` that may read ConfigMaps (not Secrets), a pod
// `web` running as it, and a token bound to that pod.
struct PodAccount {
  std::string ns;
  std::string account = "app";
  std::string pod = "web";
  std::string podUid;
  std::string token;

  std::string username() const { return "system:serviceaccount:" + ns + ":" + account; }
  std::string configMaps() const { return "/api/v1/namespaces/" + ns + "/configmaps"; }
};

PodAccount makePodAccount(const std::string& prefix) {
  PodAccount a;
  a.ns = freshNamespace(prefix);
  auto made = kubectl("create serviceaccount " + a.account + " -n " + a.ns);
  if (made.exitCode != 0) throw std::runtime_error("serviceaccount: " + made.err);
  made =
      kubectl("create role read-configmaps --verb=get,list,watch --resource=configmaps -n " + a.ns);
  if (made.exitCode != 0) throw std::runtime_error("role: " + made.err);
  made =
      kubectl("create rolebinding read-configmaps --role=read-configmaps --serviceaccount=" + a.ns +
              ":" + a.account + " -n " + a.ns);
  if (made.exitCode != 0) throw std::runtime_error("rolebinding: " + made.err);
  made = kubectl("create -o jsonpath='{.metadata.uid}' -f -",
                 "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + a.pod +
                     "\n  namespace: " + a.ns + "\nspec:\n  serviceAccountName: " + a.account +
                     "\n  containers:\n  - name: app\n    image: registry.k8s.io/pause:3.10\n");
  if (made.exitCode != 0) throw std::runtime_error("pod: " + made.err);
  a.podUid = trimmed(made.out);
  // RBAC authorizes from an informer cache: wait until it knows the binding, so the first
  // request is not refused (impersonated requests are the admin's: not in the log).
  if (!eventually(10'000, [&] {
        return kubectl("auth can-i list configmaps -n " + a.ns + " --as " + a.username())
                   .exitCode == 0;
      })) {
    throw std::runtime_error("the RoleBinding in " + a.ns + " never took effect");
  }
  a.token = podBoundToken(controlPlane(), a.ns, a.account, a.pod, a.podUid);
  return a;
}

class ControlPlaneAudit : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!controlPlane().audit.enabled()) {
      GTEST_SKIP() << "the control plane in " << controlPlane().dir
                   << " was started without SAGUARD_CP_AUDIT=1";
    }
  }
};

// One request, one event: RequestReceived is omitted, ResponseComplete carries the account,
// the pod the token is bound to, the token's ID, what was asked and the answer.
TEST_F(ControlPlaneAudit, PodBoundTokenRequestIsOneResponseCompleteEvent) {
  PodAccount a = makePodAccount("audit-pod");
  std::string path = uniquePath(a.configMaps(), "list");
  ASSERT_EQ(callApiWithToken(controlPlane(), a.token, path), 200);
  double ms = waitForEvent(path, "ResponseComplete");
  ASSERT_GE(ms, 0) << "no ResponseComplete event for " << path << " within 5 s";
  std::fprintf(stderr, "[audit] the event was in the log %.0f ms after the response\n", ms);
  // A later request's event is in the log: anything this request caused is there too.
  std::string marker = uniquePath(a.configMaps(), "marker");
  ASSERT_EQ(callApiWithToken(controlPlane(), a.token, marker), 200);
  ASSERT_GE(waitForEvent(marker, "ResponseComplete"), 0);

  auto events = eventsFor(path);
  ASSERT_EQ(events.size(), 1u) << json(events).dump(2);
  const json& event = events[0];
  EXPECT_EQ(event.value("stage", ""), "ResponseComplete");
  EXPECT_EQ(event.value("level", ""), "Metadata");
  EXPECT_FALSE(event.value("auditID", "").empty());
  EXPECT_EQ(event["user"].value("username", ""), a.username());
  const json& extra = event["user"]["extra"];
  EXPECT_EQ(extra.value(kPodNameKey, json::array()), json::array({a.pod})) << extra.dump();
  EXPECT_EQ(extra.value(kPodUidKey, json::array()), json::array({a.podUid})) << extra.dump();
  auto credential = extra.value(kCredentialIdKey, json::array());
  ASSERT_EQ(credential.size(), 1u) << extra.dump();
  EXPECT_EQ(credential[0].get<std::string>().rfind("JTI=", 0), 0u) << credential[0];
  EXPECT_EQ(event["objectRef"].value("resource", ""), "configmaps");
  EXPECT_EQ(event["objectRef"].value("namespace", ""), a.ns);
  EXPECT_EQ(event.value("verb", ""), "list");
  EXPECT_EQ(event["responseStatus"].value("code", 0), 200);
}

// Refused requests are evidence too: the token was used, even if for too much.
TEST_F(ControlPlaneAudit, ForbiddenRequestIsLoggedWith403) {
  PodAccount a = makePodAccount("audit-forbidden");
  std::string path = uniquePath("/api/v1/namespaces/" + a.ns + "/secrets", "forbidden");
  ASSERT_EQ(callApiWithToken(controlPlane(), a.token, path), 403);
  ASSERT_GE(waitForEvent(path, "ResponseComplete"), 0) << "no event for " << path;
  auto events = eventsFor(path);
  ASSERT_EQ(events.size(), 1u) << json(events).dump(2);
  EXPECT_EQ(events[0]["responseStatus"].value("code", 0), 403);
  EXPECT_EQ(events[0].value("verb", ""), "list");
  EXPECT_EQ(events[0]["objectRef"].value("resource", ""), "secrets");
  EXPECT_EQ(events[0]["user"].value("username", ""), a.username());
  EXPECT_EQ(events[0]["annotations"].value("authorization.k8s.io/decision", ""), "forbid");
}

// A long-running request logs when its response starts and again when it ends.
TEST_F(ControlPlaneAudit, WatchLogsResponseStartedAndResponseComplete) {
  PodAccount a = makePodAccount("audit-watch");
  std::string path = uniquePath(a.configMaps() + "?watch=1&timeoutSeconds=1", "watch");
  ASSERT_EQ(callApiWithToken(controlPlane(), a.token, path), 200);
  ASSERT_GE(waitForEvent(path, "ResponseComplete"), 0) << "no ResponseComplete for " << path;
  auto events = eventsFor(path);
  ASSERT_EQ(events.size(), 2u) << json(events).dump(2);
  EXPECT_EQ(events[0].value("stage", ""), "ResponseStarted");
  EXPECT_EQ(events[1].value("stage", ""), "ResponseComplete");
  for (const auto& event : events) {
    EXPECT_EQ(event.value("verb", ""), "watch");
    EXPECT_EQ(event.value("auditID", ""), events[0].value("auditID", "x"));
    EXPECT_EQ(event["user"]["extra"].value(kPodUidKey, json::array()), json::array({a.podUid}));
  }
}

// Only service accounts are recorded: the admin's requests (and whatever the controller
// manager does with its client certificate) never reach the log.
TEST_F(ControlPlaneAudit, AdminRequestIsNotLogged) {
  PodAccount a = makePodAccount("audit-admin");
  std::string adminPath = uniquePath(a.configMaps(), "admin");
  auto admin = kubectl("get --raw " + shellQuote(adminPath));
  ASSERT_EQ(admin.exitCode, 0) << admin.err;
  std::string marker = uniquePath(a.configMaps(), "marker");
  ASSERT_EQ(callApiWithToken(controlPlane(), a.token, marker), 200);
  ASSERT_GE(waitForEvent(marker, "ResponseComplete"), 0) << "no event for " << marker;

  EXPECT_TRUE(eventsFor(adminPath).empty()) << json(eventsFor(adminPath)).dump(2);
  for (const auto& event : auditEvents()) {
    auto groups = event["user"].value("groups", json::array());
    EXPECT_NE(std::find(groups.begin(), groups.end(), "system:serviceaccounts"), groups.end())
        << "an event of a user who is not a service account: " << event.dump();
  }
}

// A long-lived Secret token, used once, gets the label kubernetes.io/legacy-token-last-used
// (today's UTC date): the API server writes it while it authenticates the request. Its
// audit event names the Secret, and has no pod and no credential ID.
TEST_F(ControlPlaneAudit, LegacySecretTokenGetsLastUsedLabel) {
  PodAccount a = makePodAccount("audit-legacy");
  std::string secret = "app-token";
  auto made = kubectl("create -f -",
                      "apiVersion: v1\nkind: Secret\nmetadata:\n  name: " + secret +
                          "\n  namespace: " + a.ns +
                          "\n  annotations:\n    kubernetes.io/service-account.name: " + a.account +
                          "\ntype: kubernetes.io/service-account-token\n");
  ASSERT_EQ(made.exitCode, 0) << made.err;
  std::string token;
  ASSERT_TRUE(eventually(
      10'000,
      [&] {
        token = kubectl("get secret " + secret + " -n " + a.ns +
                        " -o go-template='{{if .data.token}}{{.data.token | base64decode}}{{end}}'")
                    .out;
        return !token.empty();
      }))
      << "the token controller did not fill data.token of " << secret << " within 10 s";
  auto label = [&] {
    return kubectl("get secret " + secret + " -n " + a.ns +
                   " -o jsonpath='{.metadata.labels.kubernetes\\.io/legacy-token-last-used}'")
        .out;
  };
  EXPECT_EQ(label(), "") << "labelled before any use";

  std::string path = uniquePath(a.configMaps(), "legacy");
  ASSERT_EQ(callApiWithToken(controlPlane(), token, path), 200);
  auto used = std::chrono::steady_clock::now();
  std::string lastUsed;
  ASSERT_TRUE(eventually(30'000, [&] {
    lastUsed = label();
    return !lastUsed.empty();
  })) << "no kubernetes.io/legacy-token-last-used label 30 s after the token was used";
  std::fprintf(
      stderr, "[audit] legacy-token-last-used=%s seen %.0f ms after the request\n",
      lastUsed.c_str(),
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - used).count());
  // Today in UTC; yesterday when midnight passed between the request and the read.
  EXPECT_TRUE(lastUsed == todayUtc() || lastUsed == todayUtc(-1)) << lastUsed;

  ASSERT_GE(waitForEvent(path, "ResponseComplete"), 0) << "no event for " << path;
  json event = eventsFor(path).at(0);
  EXPECT_EQ(event["user"].value("username", ""), a.username());
  EXPECT_FALSE(event["user"].contains("extra")) << event["user"].dump();
  EXPECT_EQ(event["annotations"].value("authentication.k8s.io/legacy-token-manual-secret", ""),
            secret);
  EXPECT_EQ(event["annotations"].value("authentication.k8s.io/legacy-token", ""), a.username());
}

}  // namespace
}  // namespace saguard::testing
