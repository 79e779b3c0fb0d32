// Faults, part A: the built saguard binary, run in-cluster style as its own ServiceAccount
// with the permissions of manifests/rbac, against a real local control plane that
// misbehaves: the API server killed and restarted, API Priority and Fairness rejecting
// its requests with 429, another client flipping an account back and forth, and saguard
// itself killed with SIGKILL in the middle of its work. Each test asserts the end state
// (every selected account has automountServiceAccountToken: false, the Events are right)
// and a bound on what saguard sent to get there, counted from its own request log
// (--log-level=debug writes one line per request with its method, path and answer) and
// its /metrics.
//
// saguard runs as ServiceAccount saguard-system/saguard-faults, bound to the manifests'
// ClusterRole saguard-manager: the same permissions as the shipped account, but an
// identity of its own, so that the FlowSchema of the APF test throttles only this file's
// saguard, not another test's on a shared control plane. Each test selects only its own
// namespaces (a label with a random value), and counts only Events whose
// reportingInstance (POD_NAME) is its own process's.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "e2e/support/dedicated_control_plane.h"
#include "e2e/support/saguard_process.h"
#include "e2e/support/service_account_dir.h"
#include "integration/support/controlplane_env.h"
#include "integration/support/helpers.h"

namespace saguard::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using SteadyTime = std::chrono::steady_clock;

constexpr const char* kIdentityNamespace = "saguard-system";
constexpr const char* kIdentity = "saguard-faults";

double secondsSince(SteadyTime::time_point t) {
  return std::chrono::duration<double>(SteadyTime::now() - t).count();
}

// curl as the admin of `c` (the kubectl round trip costs ~100 ms; this one a few ms).
std::string adminCurl(const ControlPlane& c, const std::string& args) {
  return "curl -s --cacert " + c.caFile + " --cert " + c.adminCertFile + " --key " +
         c.adminKeyFile + " " + args;
}

// Namespace, RBAC and CRD from the manifests, the ServiceAccount saguard-faults bound to
// the manifests' roles, and a folder with its token, the CA and the namespace (what the
// kubelet mounts into saguard's pod). Returns the folder; nullptr on failure (`error`
// says why).
std::unique_ptr<ServiceAccountDir> prepareIdentity(const ControlPlane& c, std::string& error) {
  for (const std::string& args :
       {"apply -f " + source("manifests/manager/namespace.yaml"),
        "apply -k " + source("manifests/rbac"),
        "apply -f " + source("crd/saguard.io_serviceaccountpolicies.yaml")}) {
    auto r = c.kubectl(args);
    if (r.exitCode != 0) {
      error = args + ": " + r.err;
      return nullptr;
    }
  }
  const std::string id = kIdentity;
  const std::string ns = kIdentityNamespace;
  auto applied = c.kubectl(
      "apply -f -",
      "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: " + id + "\n  namespace: " + ns +
          "\nautomountServiceAccountToken: true\n---\n"
          "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  "
          "name: " +
          id +
          "-manager\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n"
          "  name: saguard-manager\nsubjects:\n- kind: ServiceAccount\n  name: " +
          id + "\n  namespace: " + ns +
          "\n---\n"
          "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: " +
          id + "-leader-election\n  namespace: " + ns +
          "\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n"
          "  name: saguard-leader-election\nsubjects:\n- kind: ServiceAccount\n  name: " +
          id + "\n  namespace: " + ns + "\n");
  if (applied.exitCode != 0) {
    error = "identity: " + applied.err;
    return nullptr;
  }
  auto established = c.kubectl(
      "wait --for=condition=Established --timeout=30s crd/serviceaccountpolicies.saguard.io");
  if (established.exitCode != 0) {
    error = "CRD: " + established.err;
    return nullptr;
  }
  auto token = c.kubectl("create token " + id + " -n " + ns + " --duration=1h");
  if (token.exitCode != 0) {
    error = "token: " + token.err;
    return nullptr;
  }
  return std::make_unique<ServiceAccountDir>(token.out, c.caFile, ns);
}

// A namespace labelled faults=<label>; its name is "<prefix>-<random>".
std::string createNamespace(const ControlPlane& c, const std::string& prefix,
                            const std::string& label) {
  std::string name = prefix + "-" + randomSuffix();
  auto r = c.kubectl("create -f -", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + name +
                                        "\n  labels:\n    faults: \"" + label + "\"\n");
  if (r.exitCode != 0) ADD_FAILURE() << "creating namespace " << name << ": " << r.err;
  return name;
}

// `count` accounts "<prefix>-<i>" with automountServiceAccountToken: true, in one request
// per 100 (kubectl create of a List).
void createAccounts(const ControlPlane& c, const std::string& ns, const std::string& prefix,
                    int count) {
  for (int from = 0; from < count; from += 100) {
    json list = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", json::array()}};
    for (int i = from; i < std::min(count, from + 100); ++i) {
      list["items"].push_back(
          {{"apiVersion", "v1"},
           {"kind", "ServiceAccount"},
           {"metadata", {{"name", prefix + "-" + std::to_string(i)}, {"namespace", ns}}},
           {"automountServiceAccountToken", true}});
    }
    auto r = c.kubectl("create -f -", list.dump());
    if (r.exitCode != 0) ADD_FAILURE() << "creating accounts in " << ns << ": " << r.err;
  }
}

// The same, in the background: kubectl creates the items one by one (about 100 a
// second), so the accounts keep arriving while the caller goes on.
void createAccountsInBackground(const ControlPlane& c, const std::string& ns,
                                const std::string& prefix, int count,
                                const std::string& scratchDir) {
  json list = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", json::array()}};
  for (int i = 0; i < count; ++i) {
    list["items"].push_back(
        {{"apiVersion", "v1"},
         {"kind", "ServiceAccount"},
         {"metadata", {{"name", prefix + "-" + std::to_string(i)}, {"namespace", ns}}},
         {"automountServiceAccountToken", true}});
  }
  const std::string file = scratchDir + "/" + ns + "-accounts.json";
  std::ofstream(file) << list.dump();
  run(c.kubectlPath + " --kubeconfig=" + c.kubeconfig + " create -f " + file +
      " >/dev/null 2>&1 &");
}

// name -> "true" / "false" / "unset" for every ServiceAccount of `ns`; empty on error.
std::map<std::string, std::string> automountIn(const ControlPlane& c, const std::string& ns) {
  std::map<std::string, std::string> out;
  auto r = c.kubectl("get serviceaccounts -n " + ns + " -o json");
  if (r.exitCode != 0) return out;
  json list = json::parse(r.out, nullptr, false);
  if (list.is_discarded()) return out;
  for (const auto& sa : list["items"]) {
    std::string value = "unset";
    if (sa.contains("automountServiceAccountToken"))
      value = sa["automountServiceAccountToken"].get<bool>() ? "true" : "false";
    out[sa["metadata"]["name"].get<std::string>()] = value;
  }
  return out;
}

// Accounts of `ns` whose automountServiceAccountToken is not false.
int nonCompliantIn(const ControlPlane& c, const std::string& ns) {
  auto all = automountIn(c, ns);
  if (all.empty()) return -1;
  return static_cast<int>(
      std::count_if(all.begin(), all.end(), [](const auto& kv) { return kv.second != "false"; }));
}

// True once every account of `ns` has the field false and `expected` accounts exist.
bool allCompliant(const ControlPlane& c, const std::string& ns, int expected) {
  auto all = automountIn(c, ns);
  if (static_cast<int>(all.size()) < expected) return false;
  return std::all_of(all.begin(), all.end(), [](const auto& kv) { return kv.second == "false"; });
}

// An Enforce policy over every account of the namespaces labelled faults=<label>. No
// admission objects: these tests count saguard's own patches, which a mutating admission
// policy would make unnecessary for accounts created after it.
void applyPolicy(const ControlPlane& c, const std::string& name, const std::string& label) {
  auto r = c.kubectl(
      "apply -f -",
      "apiVersion: saguard.io/v1alpha1\nkind: ServiceAccountPolicy\nmetadata:\n  name: " + name +
          "\nspec:\n  mode: Enforce\n  admission: None\n  namespaces:\n    selector:\n"
          "      matchLabels: {faults: \"" +
          label + "\"}\n");
  if (r.exitCode != 0) ADD_FAILURE() << "policy " << name << ": " << r.err;
}

// Sum of every sample of `family` in Prometheus text whose labels contain all of `labels`.
double metricSum(const std::string& text, const std::string& family,
                 const std::vector<std::string>& labels = {}) {
  double sum = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with(family + "{") && !line.starts_with(family + " ")) continue;
    bool match = std::all_of(labels.begin(), labels.end(), [&](const std::string& l) {
      return line.find(l) != std::string::npos;
    });
    if (!match) continue;
    sum += std::atof(line.c_str() + line.rfind(' ') + 1);
  }
  return sum;
}

// One request line of saguard's debug log: "<time> debug PATCH https://host/path -> 429 (3 ms)",
// or "<time> debug GET https://host/path: <error>" (code 0) when no answer came.
struct RequestLine {
  double time = 0;  // seconds since the epoch (the time the answer, or the failure, came)
  std::string method;
  std::string path;  // with its query
  int code = 0;
};

std::vector<RequestLine> requestLines(const std::string& log) {
  static const std::regex re(
      R"(^(\S+) debug (GET|POST|PUT|PATCH|DELETE) https?://[^/\s]+(/\S*?)(?: -> ([0-9]{3}) \(|: ))");
  std::vector<RequestLine> out;
  std::istringstream in(log);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (!std::regex_search(line, m, re)) continue;
    RequestLine r;
    r.time = parseMicroTime(m[1]).value_or(0);
    r.method = m[2];
    r.path = m[3];
    r.code = m[4].matched ? std::stoi(m[4]) : 0;
    out.push_back(std::move(r));
  }
  return out;
}

std::string accountPath(const std::string& ns, const std::string& name) {
  return "/api/v1/namespaces/" + ns + "/serviceaccounts/" + name;
}

// Requests of `method` whose path starts with `prefix`, with `code` (-1: any).
int countRequests(const std::vector<RequestLine>& lines, const std::string& method,
                  const std::string& prefix, int code = -1) {
  return static_cast<int>(std::count_if(lines.begin(), lines.end(), [&](const RequestLine& r) {
    return r.method == method && r.path.starts_with(prefix) && (code < 0 || r.code == code);
  }));
}

// The events.k8s.io Events of `ns` that saguard process `instance` wrote.
std::vector<json> eventsOf(const ControlPlane& c, const std::string& ns,
                           const std::string& instance) {
  std::vector<json> out;
  auto r = c.kubectl("get events.events.k8s.io -n " + ns + " -o json");
  if (r.exitCode != 0) return out;
  json list = json::parse(r.out, nullptr, false);
  if (list.is_discarded()) return out;
  for (const auto& e : list["items"]) {
    if (e.value("reportingInstance", "") == instance) out.push_back(e);
  }
  return out;
}

// A saguard whose Events name `instance` as their reportingInstance.
std::string podEnv(const std::string& instance) {
  return "POD_NAME=" + instance;
}

bool crashed(const std::string& log) {
  for (const char* sign :
       {"terminate called", "Segmentation fault", "Aborted", "core dumped", "AddressSanitizer"}) {
    if (log.find(sign) != std::string::npos) return true;
  }
  return false;
}

class FaultsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    s_account = prepareIdentity(controlPlane(), error);
    ASSERT_NE(s_account, nullptr) << error;
    s_dir = makeTempDir("faults");
  }

  static void TearDownTestSuite() {
    s_account.reset();                           // the token
    if (!s_dir.empty()) run("rm -rf " + s_dir);  // the processes' logs and scratch files
    s_dir.clear();
  }

  void SetUp() override {
    if (!s_account) GTEST_SKIP() << "no identity (see SetUpTestSuite)";
  }

  // A saguard run as saguard-faults whose Events name `instance` (POD_NAME), logging to
  // s_dir/<log>.
  static SaguardOptions saguardAs(const std::string& instance, const std::string& log,
                                  std::vector<std::string> flags = {}) {
    return {.serviceAccountDir = s_account->path(),
            .log = s_dir + "/" + log,
            .flags = std::move(flags),
            .env = {podEnv(instance)}};
  }

  void TearDown() override {
    for (const auto& [cluster, policy] : policies_)
      cluster.kubectl("delete sap " + policy + " --ignore-not-found");
    for (const auto& [cluster, ns] : namespaces_)
      cluster.kubectl("delete namespace " + ns + " --wait=false");
  }

  // Remembered for TearDown: deleted even when the test fails half-way.
  std::string track(const ControlPlane& c, const std::string& ns) {
    namespaces_.emplace_back(c, ns);
    return ns;
  }
  void trackPolicy(const ControlPlane& c, const std::string& name) {
    policies_.emplace_back(c, name);
  }

  static inline std::unique_ptr<ServiceAccountDir> s_account;  // saguard-faults' token
  static inline std::string s_dir;
  std::vector<std::pair<ControlPlane, std::string>> namespaces_;
  std::vector<std::pair<ControlPlane, std::string>> policies_;
};

// 1. The API server is killed while saguard watches it, stays away long enough for every
// watch to fail and back off, and comes back on the same port (etcd keeps the data).
// Changes made right after it is back are reconciled within 10 s; saguard did not crash
// and tried again a bounded number of times during the outage. A control plane of the
// test's own: killing the shared API server would fail every other test running on it.
TEST_F(FaultsTest, ApiServerKilledAndRestartedChangesAfterRecoveryAreReconciled) {
  DedicatedControlPlane own;
  ASSERT_TRUE(own.up()) << own.error();
  const ControlPlane& c = own.plane();
  std::string error;
  auto account = prepareIdentity(c, error);
  ASSERT_NE(account, nullptr) << error;

  const std::string label = "restart-" + randomSuffix();
  std::string a = createNamespace(c, "faults-restart", label);
  createAccounts(c, a, "before", 3);
  applyPolicy(c, "faults-" + label, label);
  const std::string instance = "faults-restart-" + randomSuffix();
  SaguardProcess saguard({.serviceAccountDir = account->path(),
                          .log = s_dir + "/restart.log",
                          .apiServerUrl = c.apiServerUrl,
                          .env = {podEnv(instance)}});
  ASSERT_TRUE(eventually(60'000, [&] { return saguard.ready(); })) << saguard.log();
  ASSERT_TRUE(eventually(15'000, [&] { return allCompliant(c, a, 3); })) << saguard.log();
  int metricsPort = saguard.port("/metrics");
  ASSERT_NE(metricsPort, 0);

  // The outage: SIGKILL, as a crash or an OOM kill would.
  const double requestsBefore =
      metricSum(httpGet(metricsPort, "/metrics"), "rest_client_requests_total");
  const std::size_t logBefore = saguard.log().size();
  auto stop = c.stopApiServer(/*kill=*/true);
  ASSERT_EQ(stop.exitCode, 0) << stop.err;
  auto down = SteadyTime::now();
  // Fault injection, not an assertion: long enough for every informer's watch to fail
  // and its backoff to grow (800 ms, 1.6 s, 3.2 s, ...).
  std::this_thread::sleep_for(8s);
  ASSERT_TRUE(saguard.running()) << "saguard exited while the API server was down:\n"
                                 << saguard.log();
  const std::string outageLog = saguard.log().substr(logBefore);
  const double outageRequests =
      metricSum(httpGet(metricsPort, "/metrics"), "rest_client_requests_total") - requestsBefore;
  const double outageSeconds = secondsSince(down);
  const int retryLines = countOf(outageLog, "; retrying in ");

  auto start = c.startApiServer();
  ASSERT_EQ(start.exitCode, 0) << start.err;
  auto recovered = SteadyTime::now();

  // Right after recovery: drift on an account saguard fixed before, new accounts, and a
  // new namespace whose `default` account holds the field true.
  ASSERT_EQ(c.kubectl("patch serviceaccount before-0 -n " + a +
                      " --type=merge -p '{\"automountServiceAccountToken\":true}'")
                .exitCode,
            0);
  createAccounts(c, a, "after", 5);
  std::string b = createNamespace(c, "faults-restart-new", label);
  // Set true by a plain patch (drift). `kubectl apply` would declare the value (its
  // last-applied annotation), and saguard leaves a declared value to its owner (README
  // "Running with Argo CD / Flux / Helm").
  // The controller-manager, reconnecting after the outage, may not have made the
  // namespace's default account yet: made here if so (AlreadyExists otherwise, ignored).
  c.kubectl("create serviceaccount default -n " + b);
  ASSERT_EQ(c.kubectl("patch serviceaccount default -n " + b +
                      " --type=merge -p '{\"automountServiceAccountToken\":true}'")
                .exitCode,
            0);
  const double changesMadeAfter = secondsSince(recovered);
  const int remainingMs = std::max(0, 10'000 - static_cast<int>(changesMadeAfter * 1000));
  bool converged =
      eventually(remainingMs, [&] { return allCompliant(c, a, 8) && allCompliant(c, b, 1); });
  const double convergedAfter = secondsSince(recovered);
  EXPECT_TRUE(converged) << "not reconciled within 10 s of recovery: " << a << " "
                         << nonCompliantIn(c, a) << " left, " << b << " " << nonCompliantIn(c, b)
                         << " left\n"
                         << saguard.log().substr(logBefore);

  std::printf(
      "[faults] restart: outage %.1f s: %.0f requests (%d backoff lines) while down; changes made "
      "%.1f s "
      "after recovery, all compliant %.1f s after recovery\n",
      outageSeconds, outageRequests, retryLines, changesMadeAfter, convergedAfter);

  std::string log = saguard.log();
  EXPECT_TRUE(saguard.running()) << log;
  EXPECT_FALSE(crashed(log)) << log;
  // Six informers back off from 800 ms doubling: about 4 attempts each in 8 s (24 to 46
  // requests measured in all). A client that retried without backoff would send thousands.
  EXPECT_GT(outageRequests, 0) << "saguard did not notice the outage";
  EXPECT_LE(outageRequests, 100) << outageLog;
  // The drifted account: patched again as drift (DriftReverted), once.
  auto lines = requestLines(log);
  EXPECT_EQ(countRequests(lines, "PATCH", accountPath(a, "before-0"), 200), 2) << log;
  // The new namespace's `default` account is made non-compliant twice: by its creation and
  // by the drift patch above. saguard reacts within milliseconds, so it may patch the first
  // before kubectl sends the second (seen in CI once watches were read on their own
  // connection): one PATCH, or two of which the second reverts the drift. Never more.
  const int newDefaultPatches = countRequests(lines, "PATCH", accountPath(b, "default"), 200);
  EXPECT_GE(newDefaultPatches, 1) << log;
  EXPECT_LE(newDefaultPatches, 2) << log;
  if (newDefaultPatches == 2) {
    const std::string revert = "patched " + b + "/default: automountServiceAccountToken=false";
    const auto at = log.find(revert);
    ASSERT_NE(at, std::string::npos) << log;
    const auto second = log.find(revert, at + revert.size());
    ASSERT_NE(second, std::string::npos) << log;
    EXPECT_NE(log.substr(second, log.find('\n', second) - second).find("drift reverted"),
              std::string::npos)
        << log;
  }
  EXPECT_TRUE(eventually(5000, [&] {
    auto events = eventsOf(c, a, instance);
    return std::any_of(events.begin(), events.end(), [](const json& e) {
      return e.value("reason", "") == "DriftReverted" &&
             e["regarding"].value("name", "") == "before-0";
    });
  }));
  saguard.stop(SIGTERM);
}

// 2. API Priority and Fairness: saguard's identity gets a priority level of ~3 seats that
// rejects (429, Retry-After: 1) whatever does not fit, and other clients of the same
// identity keep the seats busy. saguard must still make every account compliant, wait as
// Retry-After says before repeating a rejected request, and write each account once.
TEST_F(FaultsTest, ThrottledByPriorityAndFairnessItBacksOffAndConverges) {
  const ControlPlane& c = controlPlane();
  const std::string label = "apf-" + randomSuffix();
  // The accounts exist before the namespace is selected: labelling it then hands
  // saguard all of them at once, so its workers all write at the same time.
  constexpr int kAccounts = 150;
  std::string ns = track(c, createNamespace(c, "faults-apf", "not-yet"));
  createAccounts(c, ns, "throttled", kAccounts);
  applyPolicy(c, "faults-" + label, label);
  trackPolicy(c, "faults-" + label);
  const std::string instance = "faults-apf-" + randomSuffix();
  // Many workers: more requests in flight than the priority level has seats.
  constexpr int kWorkers = 16;
  SaguardProcess saguard(saguardAs(instance, "apf.log", {"--workers=" + std::to_string(kWorkers)}));
  ASSERT_TRUE(eventually(60'000, [&] { return saguard.ready(); })) << saguard.log();
  int metricsPort = saguard.port("/metrics");

  const std::string level = "saguard-faults-" + label;
  auto apf = c.kubectl(
      "apply -f -",
      "apiVersion: flowcontrol.apiserver.k8s.io/v1\nkind: PriorityLevelConfiguration\nmetadata:\n"
      "  name: " +
          level +
          "\nspec:\n  type: Limited\n  limited:\n    nominalConcurrencyShares: 1\n"
          "    lendablePercent: 0\n    borrowingLimitPercent: 0\n    limitResponse: {type: "
          "Reject}\n---\n"
          "apiVersion: flowcontrol.apiserver.k8s.io/v1\nkind: FlowSchema\nmetadata:\n  name: " +
          level +
          "\nspec:\n  matchingPrecedence: 300\n  priorityLevelConfiguration: {name: " + level +
          "}\n"
          "  distinguisherMethod: {type: ByUser}\n  rules:\n  - subjects:\n    - kind: "
          "ServiceAccount\n"
          "      serviceAccount: {namespace: " +
          std::string(kIdentityNamespace) + ", name: " + kIdentity +
          "}\n    resourceRules:\n    - {verbs: [\"*\"], apiGroups: [\"*\"], resources: "
          "[\"*\"], namespaces: [\"*\"], clusterScope: true}\n    nonResourceRules:\n"
          "    - {verbs: [\"*\"], nonResourceURLs: [\"*\"]}\n");
  ASSERT_EQ(apf.exitCode, 0) << apf.err;
  struct Cleanup {
    const ControlPlane& c;
    std::string level;
    ~Cleanup() {
      c.kubectl("delete flowschema,prioritylevelconfiguration " + level + " --ignore-not-found");
    }
  } cleanup{c, level};
  // The API server applies the new configuration asynchronously: wait until a request as
  // saguard's identity is classified into it (the X-Kubernetes-PF-FlowSchema-UID header).
  const std::string uid =
      trimmed(c.kubectl("get flowschema " + level + " -o jsonpath='{.metadata.uid}'").out);
  const std::string asSaguard = "curl -s --cacert " + c.caFile +
                                " -H \"Authorization: Bearer $(cat " + s_account->path() +
                                "/token)\" ";
  ASSERT_TRUE(eventually(20'000, [&] {
    auto r = run(asSaguard + "-o /dev/null -D - " + c.apiServerUrl + "/api/v1/namespaces/" + ns +
                 "/serviceaccounts");
    return r.out.find(uid) != std::string::npos;
  })) << "the FlowSchema never took effect";

  // Other clients of the same identity keep the few seats busy while saguard starts: two
  // curls with 8 LISTs of every ServiceAccount in flight each (a LIST of hundreds of
  // objects is wide: several seats).
  const std::string stopFile = s_dir + "/apf-load.run";
  std::ofstream(stopFile) << "";
  // For 10 s: long enough that the API server's Retry-After grows past 1 s (it follows
  // the rejections of the priority level), short enough that the test stays short.
  std::string loop = "end=$(($(date +%s) + 10)); while [ -e " + stopFile +
                     " ] && [ $(date +%s) -lt $end ]; do " + asSaguard +
                     "--parallel --parallel-max 8 '" + c.apiServerUrl +
                     "/api/v1/serviceaccounts?n=[1-200]'; done";
  run("for i in 1 2; do (" + loop + ") >/dev/null 2>&1 & done");
  struct StopLoad {
    std::string file;
    ~StopLoad() { std::remove(file.c_str()); }
  } stopLoad{stopFile};

  const std::string before = httpGet(metricsPort, "/metrics");
  const std::size_t logBefore = saguard.log().size();
  auto started = SteadyTime::now();
  auto labelled = c.kubectl("label namespace " + ns + " --overwrite faults=" + label);
  ASSERT_EQ(labelled.exitCode, 0) << labelled.err;
  bool converged = eventually(90'000, [&] { return allCompliant(c, ns, kAccounts + 1); });
  const double took = secondsSince(started);
  std::remove(stopFile.c_str());
  EXPECT_TRUE(converged) << nonCompliantIn(c, ns) << " accounts left after " << took << " s";

  const std::string after = httpGet(metricsPort, "/metrics");
  const double requests = metricSum(after, "rest_client_requests_total") -
                          metricSum(before, "rest_client_requests_total");
  const double rejected = metricSum(after, "rest_client_requests_total", {"code=\"429\""}) -
                          metricSum(before, "rest_client_requests_total", {"code=\"429\""});
  std::string log = saguard.log();
  auto lines = requestLines(log.substr(logBefore));
  const std::string prefix = "/api/v1/namespaces/" + ns + "/serviceaccounts/";
  const int patches = countRequests(lines, "PATCH", prefix);
  const int patches429 = countRequests(lines, "PATCH", prefix, 429);
  const int patches200 = countRequests(lines, "PATCH", prefix, 200);

  // After each 429 on a path, the next request on that path came no sooner than the
  // Retry-After (1 s) said. The times are those of the answers: the retry's answer comes
  // at least Retry-After after the 429's.
  std::map<std::string, double> last429;
  int retries = 0;
  double shortestGap = 1e9;
  std::string tooSoon;
  for (const auto& r : lines) {
    std::string key = r.method + " " + r.path;
    if (auto it = last429.find(key); it != last429.end()) {
      double gap = r.time - it->second;
      ++retries;
      shortestGap = std::min(shortestGap, gap);
      if (gap < 0.95 && tooSoon.empty())
        tooSoon = key + " repeated " + std::to_string(gap) + " s after a 429";
      last429.erase(it);
    }
    if (r.code == 429) last429[key] = r.time;
  }
  std::printf(
      "[faults] apf: %d accounts compliant in %.1f s; %.0f requests (%.1f/s), %.0f answered 429; "
      "PATCH: %d sent, %d 429, %d 200; %d repeats after a 429, the shortest %.2f s later\n",
      kAccounts, took, requests, requests / took, rejected, patches, patches429, patches200,
      retries, retries > 0 ? shortestGap : 0.0);

  ASSERT_GT(rejected, 0) << "the priority level never rejected saguard: the test proved nothing";
  EXPECT_TRUE(tooSoon.empty()) << tooSoon;
  EXPECT_EQ(patches200, kAccounts + 1)
      << "exactly one successful write per account (and `default`)";
  // No tight loop: whoever got a 429 (a worker, the event writer, the status writer, an
  // informer) waited at least 1 s before the next request, so 429s come at most about
  // once a second per such client.
  EXPECT_LE(rejected / took, kWorkers + 8.0);
  EXPECT_TRUE(saguard.running()) << log;
  EXPECT_FALSE(crashed(log)) << log;
  saguard.stop(SIGTERM);
}

// 3. Another client sets automountServiceAccountToken back to true 100 times, every
// ~100 ms. saguard ends with false, writes about once per flip at most (no storm), and its
// Events about the account form a series instead of 100 Event objects.
TEST_F(FaultsTest, AccountFlippedHundredTimesConvergesWithBoundedPatchesAndOneEventSeries) {
  const ControlPlane& c = controlPlane();
  const std::string label = "flip-" + randomSuffix();
  std::string ns = track(c, createNamespace(c, "faults-flip", label));
  createAccounts(c, ns, "flip", 1);
  applyPolicy(c, "faults-" + label, label);
  trackPolicy(c, "faults-" + label);
  const std::string instance = "faults-flip-" + randomSuffix();
  SaguardProcess saguard(saguardAs(instance, "flip.log"));
  ASSERT_TRUE(eventually(60'000, [&] { return saguard.ready(); })) << saguard.log();
  ASSERT_TRUE(eventually(10'000, [&] { return allCompliant(c, ns, 2); })) << saguard.log();

  constexpr int kFlips = 100;
  const std::string path = accountPath(ns, "flip-0");
  auto flips =
      run("for i in $(seq 1 " + std::to_string(kFlips) + "); do " +
          adminCurl(c,
                    "-o /dev/null -w '%{http_code}\\n' -X PATCH -H 'Content-Type: "
                    "application/merge-patch+json' -d '{\"automountServiceAccountToken\":true}' " +
                        c.apiServerUrl + path) +
          "; sleep 0.1; done");
  ASSERT_EQ(countOf(flips.out, "200\n"), kFlips) << flips.out << flips.err;
  auto flipped = SteadyTime::now();
  EXPECT_TRUE(eventually(10'000, [&] { return allCompliant(c, ns, 2); })) << saguard.log();
  const double settled = secondsSince(flipped);

  // Events are written in the background: wait until the count stops moving.
  auto events = eventsOf(c, ns, instance);
  int lastTotal = -1;
  eventually(10'000, [&] {
    std::this_thread::sleep_for(500ms);
    events = eventsOf(c, ns, instance);
    int total = 0;
    for (const auto& e : events) total += e.contains("series") ? e["series"].value("count", 1) : 1;
    bool stable = total == lastTotal;
    lastTotal = total;
    return stable;
  });

  std::string log = saguard.log();
  auto lines = requestLines(log);
  const int patches = countRequests(lines, "PATCH", path);
  const int patched200 = countRequests(lines, "PATCH", path, 200);
  const int eventWrites =
      countRequests(lines, "POST", "/apis/events.k8s.io/v1/namespaces/" + ns + "/") +
      countRequests(lines, "PATCH", "/apis/events.k8s.io/v1/namespaces/" + ns + "/");
  int driftObjects = 0, driftCount = 0, otherObjects = 0;
  for (const auto& e : events) {
    if (e["regarding"].value("name", "") != "flip-0") continue;
    if (e.value("reason", "") == "DriftReverted") {
      ++driftObjects;
      driftCount += e.contains("series") ? e["series"].value("count", 1) : 1;
    } else {
      ++otherObjects;
    }
  }
  std::printf(
      "[faults] flip: %d flips -> %d PATCH requests (%d answered 200), %d drift reverts logged; "
      "compliant "
      "%.1f s after the last flip; Events: %d DriftReverted object(s) with series count %d, %d "
      "other, %d "
      "Event writes\n",
      kFlips, patches, patched200, countOf(log, "drift reverted"), settled, driftObjects,
      driftCount, otherObjects, eventWrites);

  // One write for the first fix, then at most one per flip.
  EXPECT_GE(patched200, 2);
  EXPECT_LE(patches, kFlips + 1 + 5);
  EXPECT_EQ(driftObjects, 1) << "the DriftReverted Events form one series";
  EXPECT_GE(driftCount, 2);
  EXPECT_LE(otherObjects, 1) << "one AutomountDisabled Event";
  // The spam filter (burst 25 per object, then one per 5 minutes) bounds the Event writes.
  EXPECT_LE(eventWrites, 30);
  EXPECT_FALSE(crashed(log)) << log;
  saguard.stop(SIGTERM);
}

// 4. saguard is killed with SIGKILL while it patches 200 new accounts, and started again
// (a new pod, so a new reportingInstance). Every account ends compliant, each was written
// once (no account patched by both processes), and each has at most one
// AutomountDisabled Event.
TEST_F(FaultsTest, KilledMidReconcileRestartConvergesWithoutDuplicateEvents) {
  const ControlPlane& c = controlPlane();
  const std::string label = "kill-" + randomSuffix();
  std::string ns = track(c, createNamespace(c, "faults-kill", label));
  applyPolicy(c, "faults-" + label, label);
  trackPolicy(c, "faults-" + label);
  const std::string first = "faults-kill-1-" + randomSuffix();
  const std::string second = "faults-kill-2-" + randomSuffix();
  auto killed = std::make_unique<SaguardProcess>(saguardAs(first, "kill-1.log"));
  ASSERT_TRUE(eventually(60'000, [&] { return killed->ready(); })) << killed->log();
  ASSERT_TRUE(eventually(10'000, [&] { return allCompliant(c, ns, 1); })) << killed->log();

  constexpr int kAccounts = 200;
  const std::string patchedLine = "patched " + ns + "/account-";
  createAccountsInBackground(c, ns, "account", kAccounts, s_dir);
  ASSERT_TRUE(eventually(30'000, [&] { return countOf(killed->log(), patchedLine) >= 10; }))
      << killed->log();
  killed->stop(SIGKILL);
  const std::string log1 = killed->log();
  killed.reset();
  auto atKill = automountIn(c, ns);  // the creation may still be going on
  const int compliantAtKill = static_cast<int>(std::count_if(
      atKill.begin(), atKill.end(), [](const auto& kv) { return kv.second == "false"; }));
  const int patchedBeforeKill = countOf(log1, patchedLine);

  auto restarted = SteadyTime::now();
  SaguardProcess saguard(saguardAs(second, "kill-2.log"));
  EXPECT_TRUE(eventually(40'000, [&] { return allCompliant(c, ns, kAccounts + 1); }))
      << nonCompliantIn(c, ns) << " left\n"
      << saguard.log();
  const double took = secondsSince(restarted);
  const std::string log2 = saguard.log();
  const int patchedAfterRestart = countOf(log2, patchedLine);

  // Both processes' Events: wait until the second's have all been written.
  std::vector<json> events;
  eventually(15'000, [&] {
    auto ev1 = eventsOf(c, ns, first);
    auto ev2 = eventsOf(c, ns, second);
    events = ev1;
    events.insert(events.end(), ev2.begin(), ev2.end());
    return static_cast<int>(ev2.size()) >= patchedAfterRestart;
  });
  std::map<std::string, int> perAccount;
  int disabled = 0, other = 0;
  for (const auto& e : events) {
    if (e.value("reason", "") == "AutomountDisabled") {
      ++disabled;
      ++perAccount[e["regarding"].value("name", "")];
    } else {
      ++other;
    }
  }
  int duplicated = 0;
  for (const auto& [name, n] : perAccount) duplicated += n > 1 ? 1 : 0;

  const auto lines1 = requestLines(log1);
  const auto lines2 = requestLines(log2);
  const std::string prefix = "/api/v1/namespaces/" + ns + "/serviceaccounts/account-";
  const int writes1 = countRequests(lines1, "PATCH", prefix, 200);
  const int writes2 = countRequests(lines2, "PATCH", prefix, 200);
  std::printf(
      "[faults] kill: killed after %d patches (%d/%d accounts compliant at the kill); restarted "
      "one patched "
      "%d more, all compliant %.1f s after the restart; PATCH 200: %d + %d; AutomountDisabled "
      "Events: %d "
      "(%d accounts with more than one), %d other Events\n",
      patchedBeforeKill, compliantAtKill, kAccounts + 1, patchedAfterRestart, took, writes1,
      writes2, disabled, duplicated, other);

  EXPECT_LT(compliantAtKill, kAccounts + 1)
      << "saguard finished before the kill: nothing was cut short";
  // Accounts the first process patched are compliant in the second's cache: not written
  // again. A patch in flight at the kill may have reached the server unlogged.
  EXPECT_LE(writes1 + writes2, kAccounts);
  EXPECT_GE(writes1 + writes2, kAccounts - 8);
  EXPECT_EQ(duplicated, 0);
  // The namespace's `default` account is selected too (kAccounts + 1 in all): when the
  // killed process had flushed every Event it queued, each of the kAccounts + 1 has one.
  EXPECT_LE(disabled, kAccounts + 1);
  EXPECT_GE(disabled, patchedAfterRestart);
  EXPECT_EQ(other, 0) << "no DriftReverted or other Events";
  EXPECT_FALSE(crashed(log2)) << log2;
  saguard.stop(SIGTERM);
}

}  // namespace
}  // namespace saguard::testing
