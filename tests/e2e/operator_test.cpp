// saguard as it is deployed: the built binary, running as its own ServiceAccount with
// exactly the permissions of manifests/rbac, configured in-cluster style (token, CA
// and namespace files, KUBERNETES_SERVICE_HOST/PORT) against the local control plane.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "e2e/support/saguard_process.h"
#include "e2e/support/service_account_dir.h"
#include "integration/support/controlplane_env.h"
#include "integration/support/helpers.h"

namespace saguard::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string automount(const std::string& ns, const std::string& name) {
  auto r = kubectl("get serviceaccount " + name + " -n " + ns + " -o json");
  if (r.exitCode != 0) return "";
  json sa = json::parse(r.out, nullptr, false);
  if (!sa.contains("automountServiceAccountToken")) return "unset";
  return sa["automountServiceAccountToken"].get<bool>() ? "true" : "false";
}

void createAccountWithAutomount(const std::string& ns, const std::string& name) {
  kubectl("create -f -", "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: " + name +
                             "\n  namespace: " + ns + "\nautomountServiceAccountToken: true\n");
}

class OperatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_EQ(kubectl("apply -f " + source("manifests/manager/namespace.yaml")).exitCode, 0);
    auto rbac = kubectl("apply -k " + source("manifests/rbac"));
    ASSERT_EQ(rbac.exitCode, 0) << rbac.err;
    s_dir = makeTempDir("e2e");  // the processes' logs
    auto token = kubectl("create token saguard -n saguard-system --duration=1h");
    ASSERT_EQ(token.exitCode, 0) << token.err;
    s_token = token.out;
    s_account = std::make_unique<ServiceAccountDir>(s_token, controlPlane().caFile);
  }

  static void TearDownTestSuite() {
    s_account.reset();
    ::rmdir(s_dir.c_str());  // kept when a failed test left its log there
  }

  // A saguard run as the ServiceAccount saguard-system/saguard, logging to s_dir/<log>.
  static SaguardOptions saguardAs(const std::string& log, std::vector<std::string> flags = {}) {
    return {.serviceAccountDir = s_account->path(),
            .log = s_dir + "/" + log,
            .flags = std::move(flags)};
  }

  static inline std::string s_dir;
  static inline std::string s_token;
  static inline std::unique_ptr<ServiceAccountDir> s_account;
};

TEST_F(OperatorTest, ServiceAccountCannotReadSecrets) {
  std::string as = " --as=system:serviceaccount:saguard-system:saguard";
  EXPECT_EQ(kubectl("auth can-i get secrets -A" + as).out, "no\n");
  EXPECT_EQ(kubectl("auth can-i list secrets -A" + as).out, "no\n");
  EXPECT_EQ(kubectl("auth can-i patch serviceaccounts -A" + as).out, "yes\n");
  EXPECT_EQ(kubectl("auth can-i update serviceaccounts -A" + as).out, "no\n");
  // spec.admission: exactly the verbs the keeper uses, on exactly its four kinds.
  for (const char* verb : {"get", "create", "update", "delete"}) {
    for (const char* kind : {"validatingadmissionpolicies", "validatingadmissionpolicybindings",
                             "mutatingadmissionpolicies", "mutatingadmissionpolicybindings"}) {
      EXPECT_EQ(kubectl(std::string("auth can-i ") + verb + " " + kind + as).out, "yes\n")
          << verb << " " << kind;
    }
  }
  EXPECT_EQ(kubectl("auth can-i patch validatingadmissionpolicies" + as).out, "no\n");
  EXPECT_EQ(kubectl("auth can-i list validatingadmissionpolicies" + as).out, "no\n");
  EXPECT_EQ(kubectl("auth can-i list mutatingadmissionpolicies" + as).out, "yes\n");
  EXPECT_EQ(kubectl("auth can-i create validatingwebhookconfigurations" + as).out, "no\n");
  auto list = kubectl("auth can-i --list" + as);
  EXPECT_EQ(list.out.find("secrets"), std::string::npos) << list.out;
  // No wildcard grants beyond the built-in discovery rules every account has.
  std::istringstream in(list.out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("*.")) ADD_FAILURE() << "wildcard resource: " << line;
  }
}

// Ready only once the caches have synced: the ServiceAccountPolicy informer cannot
// list before the CRD exists, so saguard starts unready and turns ready when it does.
TEST_F(OperatorTest, RunsInClusterStyleWithManifestPermissions) {
  kubectl("delete crd serviceaccountpolicies.saguard.io --ignore-not-found --wait=true");
  SaguardProcess saguard(saguardAs("run.log"));
  ASSERT_TRUE(eventually(20'000, [&] { return saguard.port("/healthz and /readyz") != 0; }))
      << saguard.log();
  int probe = saguard.port("/healthz and /readyz");
  int metrics = saguard.port("/metrics");
  int code = 0;
  EXPECT_EQ(httpGet(probe, "/healthz", &code), "ok");
  httpGet(probe, "/readyz", &code);
  EXPECT_EQ(code, 500) << "ready before the caches synced";

  ASSERT_EQ(kubectl("apply -f " + source("crd/saguard.io_serviceaccountpolicies.yaml")).exitCode,
            0);
  EXPECT_TRUE(eventually(60'000, [&] {
    httpGet(probe, "/readyz", &code);
    return code == 200;
  })) << saguard.log();

  // Scenario 1: the default accounts of labelled namespaces; others untouched.
  std::string a = freshNamespace("e2e-a", {{"e2e", "on"}});
  std::string other = freshNamespace("e2e-other");
  ASSERT_TRUE(eventually(
      10'000, [&] { return automount(a, "default") != "" && automount(other, "default") != ""; }));
  auto applied = kubectl(
      "apply -f -",
      "apiVersion: saguard.io/v1alpha1\nkind: ServiceAccountPolicy\nmetadata:\n  name: e2e\nspec:\n"
      "  namespaces:\n    selector:\n      matchLabels: {e2e: \"on\"}\n"
      "  serviceAccounts:\n    names: [default]\n");
  ASSERT_EQ(applied.exitCode, 0) << applied.err;
  EXPECT_TRUE(eventually(2000, [&] { return automount(a, "default") == "false"; }))
      << saguard.log();
  EXPECT_EQ(automount(other, "default"), "unset");

  // Scenario 2: a namespace created after the policy.
  std::string b = freshNamespace("e2e-b", {{"e2e", "on"}});
  EXPECT_TRUE(eventually(12'000, [&] { return automount(b, "default") == "false"; }));

  // Scenario 3: drift.
  ASSERT_EQ(kubectl("patch serviceaccount default -n " + a +
                    " --type=merge -p '{\"automountServiceAccountToken\":true}'")
                .exitCode,
            0);
  EXPECT_TRUE(eventually(2000, [&] { return automount(a, "default") == "false"; }));
  EXPECT_TRUE(eventually(5000, [&] {
    auto ev = kubectl("get events.events.k8s.io -n " + a + " -o json");
    return ev.out.find("\"DriftReverted\"") != std::string::npos;
  }));

  // Scenario 6: a ClusterRoleBinding of cluster-admin to a selected account.
  std::string crb = a + "-admin";
  ASSERT_EQ(kubectl("create clusterrolebinding " + crb +
                    " --clusterrole=cluster-admin --serviceaccount=" + a + ":default")
                .exitCode,
            0);
  // Binding findings come with the policy's status computation: after the scenarios
  // above (changes keep coming), at most --status-interval-ms (5 s) after the last one,
  // plus the write. 15 s leaves room for a loaded machine.
  EXPECT_TRUE(eventually(15'000, [&] {
    auto p = kubectl("get sap e2e -o json");
    return p.out.find(crb) != std::string::npos &&
           p.out.find("BindingGrantsSelectedAccount") != std::string::npos;
  }));
  EXPECT_TRUE(eventually(5000, [&] {
    auto ev = kubectl("get events.events.k8s.io -n default -o json");
    return ev.out.find(crb) != std::string::npos;
  }));
  kubectl("delete clusterrolebinding " + crb);
  EXPECT_TRUE(eventually(
      15'000, [&] { return kubectl("get sap e2e -o json").out.find(crb) == std::string::npos; }));

  // Metrics: every name the operator promises.
  std::string text = httpGet(metrics, "/metrics");
  for (const char* name :
       {"controller_runtime_reconcile_total", "controller_runtime_reconcile_time_seconds",
        "workqueue_depth", "workqueue_adds_total", "workqueue_retries_total",
        "workqueue_queue_duration_seconds", "workqueue_work_duration_seconds",
        "rest_client_requests_total", "saguard_policy_selected_accounts",
        "saguard_policy_compliant_accounts", "saguard_policy_pods_with_token",
        "saguard_policy_risky_bindings", "saguard_policy_declared_by_owner_accounts",
        "saguard_patches_total", "saguard_cache_objects", "controller_runtime_active_workers"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
  // The caches are counted at each scrape: the ServiceAccount cache is never empty here.
  EXPECT_TRUE(std::regex_search(
      text, std::regex("saguard_cache_objects\\{kind=\"[a-z]*serviceaccounts?\"\\} [1-9]")))
      << text;
  EXPECT_NE(text.find("saguard_policy_selected_accounts{policy=\"e2e\"}"), std::string::npos)
      << text;

  // The debug log never carries the token.
  saguard.stop(SIGTERM);
  std::string log = saguard.log();
  std::string token = s_token;
  token.erase(token.find_last_not_of("\n") + 1);
  EXPECT_EQ(log.find(token), std::string::npos) << "the bearer token appears in the log";
  EXPECT_EQ(log.find(token.substr(token.size() - 20)), std::string::npos)
      << "part of the token appears in the log";
  EXPECT_NE(log.find("stopped"), std::string::npos) << log;
  kubectl("delete sap e2e");
}

}  // namespace
}  // namespace saguard::testing

namespace saguard::testing {
namespace {

// spec.admission with the manifests' permissions: the policy's admission objects are
// made and refuse a pod that would hold a selected account's token; a restarted saguard
// rewrites none of them (same resourceVersions, no write in its log); deleting the policy
// deletes them.
TEST_F(OperatorTest, KeepsAdmissionObjectsAndRewritesNothingAfterARestart) {
  ASSERT_EQ(kubectl("apply -f " + source("crd/saguard.io_serviceaccountpolicies.yaml")).exitCode,
            0);
  ASSERT_EQ(kubectl("wait --for=condition=Established --timeout=30s "
                    "crd/serviceaccountpolicies.saguard.io")
                .exitCode,
            0);
  const std::string ns = freshNamespace("e2e-adm", {{"e2e-adm", "on"}});
  const std::string name = "e2e-adm-" + randomSuffix();
  const std::string objects = "validatingadmissionpolicy/saguard-" + name +
                              " validatingadmissionpolicybinding/saguard-" + name;
  auto versions = [&] {
    return kubectl("get " + objects + " -o jsonpath={.items[*].metadata.resourceVersion}").out;
  };
  std::string before;
  {
    SaguardProcess saguard(saguardAs("admission-1.log"));
    ASSERT_TRUE(eventually(60'000, [&] { return saguard.ready() || !saguard.running(); }))
        << saguard.log();
    auto applied = kubectl("apply -f -",
                           "apiVersion: saguard.io/v1alpha1\nkind: ServiceAccountPolicy\n"
                           "metadata:\n  name: " +
                               name +
                               "\nspec:\n  admission: Deny\n  namespaces:\n    selector:\n"
                               "      matchLabels: {e2e-adm: \"on\"}\n");
    ASSERT_EQ(applied.exitCode, 0) << applied.err;
    ASSERT_TRUE(eventually(
        20'000,
        [&] {
          return kubectl("get sap " + name +
                         " -o jsonpath='{.status.conditions[?(@.type==\"Admission\")].reason}'")
                     .out == "Kept";
        }))
        << saguard.log() << kubectl("get sap " + name + " -o yaml").out;
    // The API server acts on it: a pod that asks for the token itself is refused.
    EXPECT_TRUE(eventually(20'000, [&] {
      auto pod = kubectl("-n " + ns +
                         " run probe --image=registry.k8s.io/pause --dry-run=server "
                         "--overrides='{\"spec\":{\"automountServiceAccountToken\":true}}'");
      return pod.exitCode != 0 && contains(pod.err, "ServiceAccountPolicy " + name);
    }));
    before = versions();
    ASSERT_NE(before, "");
    saguard.stop(SIGTERM);
  }
  {
    SaguardProcess saguard(saguardAs("admission-2.log"));
    ASSERT_TRUE(eventually(60'000, [&] { return saguard.logs("policy " + name + ": evaluated"); }))
        << saguard.log();
    // Nothing to wait for when nothing should happen: the keeper runs right after the
    // evaluation logged above, in the same reconcile; two seconds is ample.
    std::this_thread::sleep_for(std::chrono::seconds(2));
    EXPECT_EQ(versions(), before);
    EXPECT_EQ(saguard.count("policy " + name + ": created"), 0u) << saguard.log();
    EXPECT_EQ(saguard.count("policy " + name + ": replaced"), 0u) << saguard.log();

    ASSERT_EQ(kubectl("delete sap " + name).exitCode, 0);
    EXPECT_TRUE(eventually(20'000, [&] {
      return kubectl("get " + objects + " --ignore-not-found -o name").out.empty();
    })) << saguard.log();
    saguard.stop(SIGTERM);
  }
}

// Two replicas with --leader-elect: only the leader writes; when it is killed with -9,
// the standby takes over after the lease expires and patches a new account.
TEST_F(OperatorTest, StandbyTakesOverWhenTheLeaderIsKilled) {
  ASSERT_EQ(kubectl("apply -f " + source("crd/saguard.io_serviceaccountpolicies.yaml")).exitCode,
            0);
  ASSERT_EQ(
      kubectl(
          "wait --for=condition=Established --timeout=30s crd/serviceaccountpolicies.saguard.io")
          .exitCode,
      0);
  const std::vector<std::string> flags = {"--leader-elect",
                                          "--leader-election-namespace=saguard-system",
                                          "--leader-election-id=e2e-lease"};
  SaguardProcess first(saguardAs("replica-1.log", flags));
  SaguardProcess second(saguardAs("replica-2.log", flags));
  auto leads = [](const SaguardProcess& p) {
    return p.log().find("became the leader") != std::string::npos;
  };
  ASSERT_TRUE(eventually(30'000, [&] { return leads(first) || leads(second); }));
  std::this_thread::sleep_for(2s);
  ASSERT_NE(leads(first), leads(second)) << "exactly one replica leads";
  SaguardProcess& leader = leads(first) ? first : second;
  SaguardProcess& standby = leads(first) ? second : first;

  std::string ns = freshNamespace("e2e-ha", {{"e2e-ha", "on"}});
  ASSERT_TRUE(eventually(10'000, [&] { return automount(ns, "default") != ""; }));
  ASSERT_EQ(kubectl("apply -f -",
                    "apiVersion: saguard.io/v1alpha1\nkind: ServiceAccountPolicy\nmetadata:\n  "
                    "name: e2e-ha\nspec:\n"
                    "  namespaces:\n    selector:\n      matchLabels: {e2e-ha: \"on\"}\n")
                .exitCode,
            0);
  EXPECT_TRUE(eventually(5000, [&] { return automount(ns, "default") == "false"; }));
  // The API server applies a patch before saguard reads the answer and logs it.
  EXPECT_TRUE(eventually(
      5000, [&] { return leader.log().find("patched " + ns + "/default") != std::string::npos; }));
  EXPECT_EQ(standby.log().find("patched "), std::string::npos) << "the standby wrote";

  // kill -9: no release; the standby must wait for the lease (15 s) to expire.
  leader.stop(SIGKILL);
  auto killed = std::chrono::steady_clock::now();
  createAccountWithAutomount(ns, "after-failover");
  EXPECT_TRUE(eventually(20'000, [&] { return automount(ns, "after-failover") == "false"; }))
      << standby.log();
  auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  std::printf(
      "[e2e] failover: the standby patched a new account %.1f s after the leader was killed\n",
      took);
  EXPECT_TRUE(leads(standby));
  EXPECT_TRUE(eventually(5000, [&] {
    return standby.log().find("patched " + ns + "/after-failover") != std::string::npos;
  })) << standby.log();
  standby.stop(SIGTERM);
  kubectl("delete sap e2e-ha");
}

// The rendered manifests: they render, and the pod is locked down.
TEST_F(OperatorTest, ManifestsRenderWithARestrictedPod) {
  auto rendered = kubectl("kustomize " + source("manifests/default"));
  ASSERT_EQ(rendered.exitCode, 0) << rendered.err;
  const std::string& y = rendered.out;
  for (const char* needle :
       {"kind: CustomResourceDefinition", "kind: ClusterRole", "kind: Deployment",
        "runAsNonRoot: true", "readOnlyRootFilesystem: true", "allowPrivilegeEscalation: false",
        "type: RuntimeDefault", "- ALL", "--leader-elect", "replicas: 2"}) {
    EXPECT_NE(y.find(needle), std::string::npos) << needle;
  }
  EXPECT_EQ(y.find("secrets"), std::string::npos) << "no rule may name secrets";
  EXPECT_EQ(y.find("'*'"), std::string::npos) << "no wildcard";
  EXPECT_EQ(y.find("\"*\""), std::string::npos) << "no wildcard";
  // The copy that kustomize reads is the CRD itself.
  EXPECT_EQ(readFile(source("manifests/crd/saguard.io_serviceaccountpolicies.yaml")),
            readFile(source("crd/saguard.io_serviceaccountpolicies.yaml")))
      << "run make manifests";
}

}  // namespace
}  // namespace saguard::testing
