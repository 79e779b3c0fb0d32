// saguard recovering from faults, run as deployed (the built binary, in-cluster style:
// token, CA and namespace files, KUBERNETES_SERVICE_HOST/PORT, the RBAC of
// manifests/rbac), each test asserting an end state:
//   - a watch resumed from a compacted resourceVersion: saguard relists and handles
//     what happened in the gap (an account created, a RoleBinding deleted);
//   - a leader that loses its Lease without dying (SIGSTOP past the lease duration):
//     it writes nothing after the new leader acquired the Lease, and exits;
//   - the token file rotated as the kubelet does (..data symlink swap) and the old
//     token invalidated: saguard keeps working without a restart;
//   - SIGTERM: exit status 0, with and without leader election.
// The processes are children of the test (SaguardProcess), so their exit status can be read.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "e2e/support/dedicated_control_plane.h"
#include "e2e/support/saguard_process.h"
#include "e2e/support/service_account_dir.h"
#include "integration/support/controlplane_env.h"
#include "integration/support/helpers.h"

namespace saguard::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// "true", "false", "unset", or "" when the account does not exist.
std::string automount(const ControlPlane& plane, const std::string& ns, const std::string& name) {
  auto r = plane.kubectl("get serviceaccount " + name + " -n " + ns + " -o json");
  if (r.exitCode != 0) return "";
  json sa = json::parse(r.out, nullptr, false);
  if (!sa.is_object() || !sa.contains("automountServiceAccountToken")) return "unset";
  return sa["automountServiceAccountToken"].get<bool>() ? "true" : "false";
}

void createAccount(const ControlPlane& plane, const std::string& ns, const std::string& name) {
  auto r = plane.kubectl("create -f -",
                         "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: " + name +
                             "\n  namespace: " + ns + "\nautomountServiceAccountToken: true\n");
  EXPECT_EQ(r.exitCode, 0) << r.err;
}

std::string createNamespace(const ControlPlane& plane, const std::string& prefix,
                            const std::string& label) {
  std::string name = prefix + "-" + randomSuffix();
  auto r =
      plane.kubectl("create -f -", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + name +
                                       "\n  labels:\n    " + label + ": \"on\"\n");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  return name;
}

// The namespace, RBAC and CRD saguard is deployed with.
void install(const ControlPlane& plane) {
  auto ns = plane.kubectl("apply -f " + source("manifests/manager/namespace.yaml"));
  ASSERT_EQ(ns.exitCode, 0) << ns.err;
  auto rbac = plane.kubectl("apply -k " + source("manifests/rbac"));
  ASSERT_EQ(rbac.exitCode, 0) << rbac.err;
  auto crd = plane.kubectl("apply -f " + source("crd/saguard.io_serviceaccountpolicies.yaml"));
  ASSERT_EQ(crd.exitCode, 0) << crd.err;
  auto established = plane.kubectl(
      "wait --for=condition=Established --timeout=60s crd/serviceaccountpolicies.saguard.io");
  ASSERT_EQ(established.exitCode, 0) << established.err;
}

// A token of saguard-system/saguard, valid for an hour.
std::string token(const ControlPlane& plane, const std::string& extra = "") {
  auto r = plane.kubectl("create token saguard -n saguard-system --duration=1h " + extra);
  EXPECT_EQ(r.exitCode, 0) << r.err;
  return trimmed(r.out);
}

// The time a log line starts with, as seconds since the epoch.
std::optional<double> lineTime(const std::string& line) {
  return parseMicroTime(line.substr(0, line.find(' ')));
}

// Writes (anything but GETs, the Lease's own requests and the start-up
// SelfSubjectReview) that a saguard debug log shows the API server answering:
// "PATCH https://.../serviceaccounts/x -> 200 (3 ms)".
std::vector<std::string> writeLines(const SaguardProcess& p) {
  std::vector<std::string> out;
  for (const auto& line : p.lines(" -> ")) {
    bool write =
        line.find(" PATCH ") != std::string::npos || line.find(" POST ") != std::string::npos ||
        line.find(" PUT ") != std::string::npos || line.find(" DELETE ") != std::string::npos;
    if (!write) continue;
    if (line.find("/apis/coordination.k8s.io/") != std::string::npos ||
        line.find("/selfsubjectreviews") != std::string::npos) {
      continue;
    }
    out.push_back(line);
  }
  return out;
}

std::string policyJson(const ControlPlane& plane, const std::string& name) {
  return plane.kubectl("get sap " + name + " -o json").out;
}

// Stops kube-apiserver and starts it again with the same flags on the same port;
// returns once /readyz answers ok.
bool restartApiServer(const ControlPlane& plane) {
  return plane.stopApiServer().exitCode == 0 && plane.startApiServer().exitCode == 0;
}

class FaultsRecoveryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { install(controlPlane()); }
  static std::string logPath(const std::string& what) {
    return "/tmp/saguard-faults-b-" + what + "-" + randomSuffix() + ".log";
  }
  // saguard against `plane`, with the token folder `tokens`, logging to logPath(what).
  static SaguardOptions saguardOn(const ControlPlane& plane, const ServiceAccountDir& tokens,
                                  const std::string& what, std::vector<std::string> flags = {}) {
    return {.serviceAccountDir = tokens.path(),
            .log = logPath(what),
            .flags = std::move(flags),
            .apiServerUrl = plane.apiServerUrl};
  }
};

// ---------------------------------------------------------------------------------------
// 4. SIGTERM: a clean exit, status 0.

TEST_F(FaultsRecoveryTest, SigtermExitsWithStatusZero) {
  const ControlPlane& plane = controlPlane();
  ServiceAccountDir tokens(token(plane), plane.caFile);
  SaguardProcess saguard(saguardOn(plane, tokens, "sigterm"));
  ASSERT_TRUE(eventually(60'000, [&] { return saguard.ready() || !saguard.running(); }))
      << saguard.log();
  ASSERT_TRUE(saguard.running()) << saguard.log();
  saguard.signal(SIGTERM);
  auto status = saguard.wait(20s);
  ASSERT_TRUE(status.has_value()) << "still running 20 s after SIGTERM\n" << saguard.log();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describeStatus(status) << "\n"
                                                               << saguard.log();
  EXPECT_TRUE(saguard.logs("received SIGTERM")) << saguard.log();
  EXPECT_TRUE(saguard.logs("stopped")) << saguard.log();
}

TEST_F(FaultsRecoveryTest, SigtermExitsWithStatusZeroAsTheLeaderAndReleasesTheLease) {
  const ControlPlane& plane = controlPlane();
  ServiceAccountDir tokens(token(plane), plane.caFile);
  const std::string lease = "faults-b-sigterm-" + randomSuffix();
  SaguardProcess saguard(saguardOn(plane, tokens, "sigterm-leader",
                                   {"--leader-elect", "--leader-election-namespace=saguard-system",
                                    "--leader-election-id=" + lease}));
  ASSERT_TRUE(eventually(60'000, [&] {
    return saguard.logs("became the leader") || !saguard.running();
  })) << saguard.log();
  saguard.signal(SIGTERM);
  auto status = saguard.wait(30s);
  ASSERT_TRUE(status.has_value()) << "still running 30 s after SIGTERM\n" << saguard.log();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describeStatus(status) << "\n"
                                                               << saguard.log();
  // Released: the holder is cleared so that a standby need not wait for expiry.
  auto got = plane.kubectl("get lease " + lease + " -n saguard-system -o json");
  ASSERT_EQ(got.exitCode, 0) << got.err;
  json spec = json::parse(got.out, nullptr, false)["spec"];
  EXPECT_EQ(spec.value("holderIdentity", ""), "") << got.out;
  plane.kubectl("delete lease " + lease + " -n saguard-system");
}

// ---------------------------------------------------------------------------------------
// 3. Token rotation, in-cluster style.

TEST_F(FaultsRecoveryTest, KeepsWorkingWhenTheTokenFileRotatesAndTheOldTokenIsRevoked) {
  const ControlPlane& plane = controlPlane();
  // The old token is bound to a Secret: deleting the Secret invalidates the token.
  const std::string secret = "faults-b-token-" + randomSuffix();
  ASSERT_EQ(plane.kubectl("create secret generic " + secret + " -n saguard-system").exitCode, 0);
  const std::string oldToken =
      token(plane, "--bound-object-kind Secret --bound-object-name " + secret);
  ASSERT_FALSE(oldToken.empty());
  ServiceAccountDir tokens(oldToken, plane.caFile);
  SaguardProcess saguard(saguardOn(plane, tokens, "rotation"));
  ASSERT_TRUE(eventually(60'000, [&] { return saguard.ready() || !saguard.running(); }))
      << saguard.log();

  const std::string label = "faults-b-rot-" + randomSuffix();
  const std::string policy = label;
  std::string ns = createNamespace(plane, "faults-b-rot", label);
  ASSERT_TRUE(eventually(30'000, [&] { return automount(plane, ns, "default") != ""; }));
  auto applied =
      plane.kubectl("apply -f -",
                    "apiVersion: saguard.io/v1alpha1\nkind: ServiceAccountPolicy\nmetadata:\n"
                    "  name: " +
                        policy +
                        // admission None: the test counts saguard's own patches
                        "\nspec:\n  admission: None\n  namespaces:\n    selector:\n"
                        "      matchLabels: {" +
                        label + ": \"on\"}\n");
  ASSERT_EQ(applied.exitCode, 0) << applied.err;
  ASSERT_TRUE(eventually(15'000, [&] { return automount(plane, ns, "default") == "false"; }))
      << saguard.log();

  // Rotate as the kubelet does, then revoke the old token.
  tokens.publish(token(plane));
  ASSERT_EQ(plane.kubectl("delete secret " + secret + " -n saguard-system").exitCode, 0);
  auto answers = [&](const std::string& token) {
    auto r = run("curl -s -o /dev/null -w '%{http_code}' --cacert " + plane.caFile + " -H " +
                 shellQuote("Authorization: Bearer " + token) + " " + plane.apiServerUrl + "/api");
    return std::atoi(r.out.c_str());
  };
  // The API server caches successful token reviews for a few seconds.
  ASSERT_TRUE(eventually(30'000, [&] { return answers(oldToken) == 401; }))
      << "the old token still works";
  const auto revoked = std::chrono::steady_clock::now();

  // A new non-compliant account: patched by the same process, with the new token.
  createAccount(plane, ns, "after-rotation");
  EXPECT_TRUE(eventually(30'000, [&] { return automount(plane, ns, "after-rotation") == "false"; }))
      << saguard.log();
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - revoked).count();
  std::printf(
      "[faults-b] token rotation: new account patched %.1f s after the old token was revoked; "
      "401-retries logged: %zu\n",
      took, saguard.count("401 with a token that has since rotated"));
  EXPECT_TRUE(saguard.running()) << "saguard exited: " << saguard.log();
  EXPECT_EQ(saguard.count("patched " + ns + "/after-rotation"), 1u) << saguard.log();
  EXPECT_EQ(saguard.count("patched " + ns + "/default"), 1u) << saguard.log();
  // Still healthy and ready, with the same process.
  EXPECT_EQ(saguard.probe("/readyz"), 200);
  std::string log = saguard.log();
  EXPECT_EQ(log.find(oldToken.substr(oldToken.size() - 20)), std::string::npos)
      << "the old token was logged";

  saguard.signal(SIGTERM);
  auto status = saguard.wait(20s);
  EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describeStatus(status);
  plane.kubectl("delete sap " + policy);
}

// ---------------------------------------------------------------------------------------
// 2. Lease loss without death.

TEST_F(FaultsRecoveryTest, ALeaderThatLosesItsLeaseWritesNothingAfterTheNewLeaderAcquiresIt) {
  const ControlPlane& plane = controlPlane();
  ServiceAccountDir tokens(token(plane), plane.caFile);
  const std::string lease = "faults-b-lease-" + randomSuffix();
  const std::vector<std::string> flags = {"--leader-elect",
                                          "--leader-election-namespace=saguard-system",
                                          "--leader-election-id=" + lease};
  SaguardProcess first(saguardOn(plane, tokens, "lease-1", flags));
  SaguardProcess second(saguardOn(plane, tokens, "lease-2", flags));
  auto leads = [](const SaguardProcess& p) { return p.logs("became the leader"); };
  ASSERT_TRUE(eventually(60'000, [&] { return leads(first) || leads(second); }))
      << first.log() << second.log();
  ASSERT_TRUE(eventually(60'000, [&] { return first.ready() && second.ready(); }));
  ASSERT_NE(leads(first), leads(second)) << "exactly one replica leads";
  SaguardProcess& oldLeader = leads(first) ? first : second;
  SaguardProcess& standby = leads(first) ? second : first;

  auto leaseSpec = [&] {
    auto r = plane.kubectl("get lease " + lease + " -n saguard-system -o json");
    json j = json::parse(r.out, nullptr, false);
    return j.is_object() ? j["spec"] : json::object();
  };
  const std::string oldHolder = leaseSpec().value("holderIdentity", "");
  ASSERT_FALSE(oldHolder.empty());

  const std::string label = "faults-b-ha-" + randomSuffix();
  std::string ns = createNamespace(plane, "faults-b-ha", label);
  ASSERT_TRUE(eventually(30'000, [&] { return automount(plane, ns, "default") != ""; }));
  auto applied =
      plane.kubectl("apply -f -",
                    "apiVersion: saguard.io/v1alpha1\nkind: ServiceAccountPolicy\nmetadata:\n"
                    "  name: " +
                        label +
                        // admission None: the test counts saguard's own patches
                        "\nspec:\n  admission: None\n  namespaces:\n    selector:\n"
                        "      matchLabels: {" +
                        label + ": \"on\"}\n");
  ASSERT_EQ(applied.exitCode, 0) << applied.err;
  ASSERT_TRUE(eventually(15'000, [&] { return automount(plane, ns, "default") == "false"; }))
      << oldLeader.log();
  ASSERT_TRUE(oldLeader.logs("patched " + ns + "/default"));

  // Freeze the leader: it neither renews nor dies. Work arrives meanwhile.
  oldLeader.signal(SIGSTOP);
  createAccount(plane, ns, "while-frozen");
  // The standby takes over once the record has not changed for the lease duration (15 s).
  ASSERT_TRUE(eventually(60'000, [&] {
    std::string holder = leaseSpec().value("holderIdentity", "");
    return !holder.empty() && holder != oldHolder;
  })) << standby.log();
  ASSERT_TRUE(eventually(20'000, [&] { return automount(plane, ns, "while-frozen") == "false"; }))
      << standby.log();

  // Thaw the old leader with work it would like to do: drift on an account it patched,
  // and a new account. Its watches deliver both as soon as it runs again.
  ASSERT_EQ(plane
                .kubectl("patch serviceaccount default -n " + ns +
                         " --type=merge -p '{\"automountServiceAccountToken\":true}'")
                .exitCode,
            0);
  createAccount(plane, ns, "after-thaw");
  oldLeader.signal(SIGCONT);
  const auto thawed = std::chrono::system_clock::now();

  auto status = oldLeader.wait(30s);
  ASSERT_TRUE(status.has_value())
      << "the old leader is still running 30 s after it lost the lease\n"
      << oldLeader.log();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) != 0)
      << "a leader that lost its lease exits non-zero: " << describeStatus(status);
  EXPECT_TRUE(oldLeader.logs("lost leadership")) << oldLeader.log();
  EXPECT_TRUE(eventually(20'000, [&] { return automount(plane, ns, "after-thaw") == "false"; }))
      << standby.log();
  EXPECT_TRUE(eventually(20'000, [&] { return automount(plane, ns, "default") == "false"; }))
      << standby.log();

  // The record: the new leader's acquireTime, and every write of the old one.
  json spec = leaseSpec();
  const std::string newHolder = spec.value("holderIdentity", "");
  auto acquired = parseMicroTime(spec.value("acquireTime", ""));
  ASSERT_TRUE(acquired.has_value()) << spec.dump();
  EXPECT_NE(newHolder, oldHolder);
  EXPECT_GE(spec.value("leaseTransitions", 0), 1) << spec.dump();

  std::optional<double> lastOldWrite;
  for (const auto& line : writeLines(oldLeader)) {
    auto t = lineTime(line);
    ASSERT_TRUE(t.has_value()) << line;
    lastOldWrite = lastOldWrite ? std::max(*lastOldWrite, *t) : *t;
    // The log line is written when the answer arrives, after the request was sent: a
    // line before the acquireTime proves the write was sent before it.
    EXPECT_LT(*t, *acquired) << "the old leader wrote after the new leader acquired the lease: "
                             << line;
  }
  ASSERT_TRUE(lastOldWrite.has_value()) << "the old leader never wrote: " << oldLeader.log();
  std::optional<double> firstNewWrite;
  for (const auto& line : writeLines(standby)) {
    auto t = lineTime(line);
    if (t && (!firstNewWrite || *t < *firstNewWrite)) firstNewWrite = t;
  }
  ASSERT_TRUE(firstNewWrite.has_value()) << standby.log();
  EXPECT_GE(*firstNewWrite, *acquired) << "the new leader wrote before it acquired the lease";

  const double thawedAt = std::chrono::duration<double>(thawed.time_since_epoch()).count();
  EXPECT_EQ(oldLeader.count("patched " + ns + "/after-thaw"), 0u) << oldLeader.log();
  EXPECT_EQ(oldLeader.count("patched " + ns + "/while-frozen"), 0u) << oldLeader.log();
  EXPECT_EQ(oldLeader.count("patched " + ns + "/default"), 1u) << oldLeader.log();
  EXPECT_EQ(standby.count("patched " + ns + "/while-frozen"), 1u) << standby.log();
  EXPECT_EQ(standby.count("patched " + ns + "/after-thaw"), 1u) << standby.log();
  std::printf(
      "[faults-b] lease loss: old leader's last write %.3f s before the new leader's acquireTime; "
      "new leader's first write %.3f s after it; old leader thawed %.3f s after it and exited "
      "(%s)\n",
      *acquired - *lastOldWrite, *firstNewWrite - *acquired, thawedAt - *acquired,
      describeStatus(status).c_str());

  standby.signal(SIGTERM);
  standby.wait(20s);
  plane.kubectl("delete sap " + label);
  plane.kubectl("delete lease " + lease + " -n saguard-system");
}

// ---------------------------------------------------------------------------------------
// 1. A watch resumed from a compacted resourceVersion.
//
// A dedicated control plane whose kube-apiserver has no watch cache, so that watches
// are served from etcd and a compacted resourceVersion is refused (410 Expired) exactly
// because etcd compacted it. saguard is frozen (SIGSTOP) while an account is created and
// a RoleBinding deleted, and etcd compacts to the current revision. Before the changes,
// kube-apiserver is restarted so that saguard's open watches are cut and the changes
// cannot wait for it in a socket buffer (saguard asks for 5-10 minute watches with
// timeoutSeconds, so --min-request-timeout does not end them). Thawed, saguard resumes
// its watches from a compacted version, gets 410 and must relist.

TEST_F(FaultsRecoveryTest, RelistsAfterACompactionGapAndHandlesWhatChangedInIt) {
  DedicatedControlPlane dedicated("--watch-cache=false");
  ASSERT_TRUE(dedicated.up()) << dedicated.error();
  const ControlPlane& plane = dedicated.plane();
  install(plane);
  if (HasFatalFailure()) return;
  ServiceAccountDir tokens(token(plane), plane.caFile);

  const std::string label = "faults-b-gap";
  std::string ns = createNamespace(plane, "faults-b-gap", label);
  ASSERT_TRUE(eventually(60'000, [&] { return automount(plane, ns, "default") != ""; }));
  createAccount(plane, ns, "bound");
  ASSERT_EQ(plane
                .kubectl("create rolebinding grant-bound --clusterrole=view --serviceaccount=" +
                         ns + ":bound -n " + ns)
                .exitCode,
            0);
  // Enforce, but only accounts that no binding grants anything: "bound" is spared
  // while grant-bound exists. Audit of "bound": reports grant-bound as a finding.
  auto applied = plane.kubectl(
      "apply -f -",
      "apiVersion: saguard.io/v1alpha1\nkind: ServiceAccountPolicy\nmetadata:\n  name: "
      "gap-enforce\nspec:\n"
      "  namespaces:\n    selector:\n      matchLabels: {" +
          label +
          ": \"on\"}\n"
          "  serviceAccounts:\n    unboundOnly: true\n"
          "---\n"
          "apiVersion: saguard.io/v1alpha1\nkind: ServiceAccountPolicy\nmetadata:\n  "
          "name: gap-audit\nspec:\n"
          "  mode: Audit\n  namespaces:\n    selector:\n      matchLabels: {" +
          label +
          ": \"on\"}\n"
          "  serviceAccounts:\n    names: [bound]\n  reportBindings: true\n");
  ASSERT_EQ(applied.exitCode, 0) << applied.err;

  SaguardProcess saguard(saguardOn(plane, tokens, "gap"));
  ASSERT_TRUE(eventually(60'000, [&] { return saguard.ready() || !saguard.running(); }))
      << saguard.log();
  ASSERT_TRUE(eventually(15'000, [&] { return automount(plane, ns, "default") == "false"; }))
      << saguard.log();
  ASSERT_TRUE(eventually(
      15'000,
      [&] { return policyJson(plane, "gap-audit").find("grant-bound") != std::string::npos; }))
      << policyJson(plane, "gap-audit") << saguard.log();
  ASSERT_EQ(automount(plane, ns, "bound"), "true")
      << "a bound account is not selected with unboundOnly";
  ASSERT_EQ(saguard.count("is gone"), 0u) << saguard.log();

  // The gap.
  saguard.signal(SIGSTOP);
  // Cut the open watches first: events sent on a live connection would wait in the
  // frozen process's socket buffer and reach it after the thaw without any relist.
  ASSERT_TRUE(restartApiServer(plane));
  ASSERT_EQ(plane.kubectl("delete rolebinding grant-bound -n " + ns).exitCode, 0);
  createAccount(plane, ns, "created-in-gap");
  const std::int64_t revision = plane.etcdRevision();
  ASSERT_GT(revision, 0);
  plane.compactEtcd(revision);
  const auto thawed = std::chrono::steady_clock::now();
  saguard.signal(SIGCONT);

  // Relisted, because the version it resumed from is gone.
  EXPECT_TRUE(eventually(60'000, [&] {
    return saguard.logs("reflector serviceaccounts: resourceVersion") &&
           saguard.logs("reflector rolebindings: resourceVersion");
  })) << saguard.log();
  for (const auto& line : saguard.lines("is gone")) std::printf("[faults-b] %s\n", line.c_str());
  const std::vector<std::string> reflectors = {"serviceaccounts",     "rolebindings",
                                               "clusterrolebindings", "pods",
                                               "namespaces",          "serviceaccountpolicies"};
  auto relists = [&](const std::string& reflector) {
    return saguard.count("reflector " + reflector + ": resourceVersion");
  };
  for (const auto& reflector : reflectors) {
    EXPECT_TRUE(eventually(30'000, [&] { return relists(reflector) >= 1; }))
        << reflector << " did not relist";
  }
  // The end state: the account created in the gap is patched, and so is the account
  // whose binding was deleted in the gap; the audit finding about the binding is gone.
  EXPECT_TRUE(eventually(30'000, [&] { return automount(plane, ns, "created-in-gap") == "false"; }))
      << saguard.log();
  EXPECT_TRUE(eventually(30'000, [&] { return automount(plane, ns, "bound") == "false"; }))
      << saguard.log();
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - thawed).count();
  EXPECT_TRUE(eventually(30'000, [&] {
    json p = json::parse(policyJson(plane, "gap-audit"), nullptr, false);
    return p.is_object() && p["status"]["summary"].value("bindings", -1) == 0 &&
           p["status"].dump().find("grant-bound") == std::string::npos;
  })) << policyJson(plane, "gap-audit");
  std::printf(
      "[faults-b] compaction gap: compacted at revision %lld; both changes handled %.1f s after "
      "the thaw\n",
      static_cast<long long>(revision), took);
  // No extra writes: one patch per account, ever.
  EXPECT_EQ(saguard.count("patched " + ns + "/default"), 1u) << saguard.log();
  EXPECT_EQ(saguard.count("patched " + ns + "/bound"), 1u) << saguard.log();
  EXPECT_EQ(saguard.count("patched " + ns + "/created-in-gap"), 1u) << saguard.log();
  std::size_t accountPatches = 0;
  for (const auto& line : writeLines(saguard)) {
    if (line.find(" PATCH ") != std::string::npos &&
        line.find("/serviceaccounts/") != std::string::npos)
      ++accountPatches;
  }
  EXPECT_EQ(accountPatches, 3u) << saguard.log();
  // Exactly one relist per reflector: a Gone answered by one listing, not a loop.
  for (const auto& reflector : reflectors) EXPECT_EQ(relists(reflector), 1u) << reflector;

  saguard.signal(SIGTERM);
  auto status = saguard.wait(20s);
  EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describeStatus(status);
}

}  // namespace
}  // namespace saguard::testing
