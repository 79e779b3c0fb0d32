// The controller end to end, in-process, against the real local control plane: the
// scenarios of the ServiceAccountPolicy issue. Every test selects only namespaces
// labelled with its own value of `saguard-test`, so it never touches what other tests
// in this binary create, and deletes its policies at the end.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "events/recorder.h"
#include "events/sink.h"
#include "integration/support/controlplane_env.h"
#include "integration/support/helpers.h"
#include "kube/config.h"
#include "kube/rest_client.h"
#include "reconcile/api_writer.h"
#include "reconcile/controller.h"
#include "reconcile/event_notifier.h"

namespace saguard::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// How long a change may take to be acted on. The figure is 2 s.
constexpr int kReactMs = 2000;

json getJson(const std::string& args) {
  return kubectlJson(args);
}

// automountServiceAccountToken of ns/name: "true", "false" or "unset" ("" if missing).
std::string automount(const std::string& ns, const std::string& name) {
  json sa = getJson("serviceaccount " + name + " -n " + ns);
  if (sa.is_discarded() || sa.is_null()) return "";
  if (!sa.contains("automountServiceAccountToken")) return "unset";
  return sa["automountServiceAccountToken"].get<bool>() ? "true" : "false";
}

std::string resourceVersion(const std::string& ns, const std::string& name) {
  json sa = getJson("serviceaccount " + name + " -n " + ns);
  return sa.is_object() ? sa["metadata"].value("resourceVersion", "") : "";
}

void createAccount(const std::string& ns, const std::string& name, const std::string& extra = "") {
  auto r =
      kubectl("create -f -", "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: " + name +
                                 "\n  namespace: " + ns + "\n" + extra);
  ASSERT_EQ(r.exitCode, 0) << r.err;
}

void waitForDefaultAccount(const std::string& ns) {
  ASSERT_TRUE(eventually(10'000, [&] { return automount(ns, "default") != ""; })) << ns;
}

// Writes to ServiceAccounts: merge patches (PATCH) and server-side applies, which the API
// server counts under their own verb, APPLY.
long accountWrites() {
  return apiRequestTotal("PATCH", "serviceaccounts") + apiRequestTotal("APPLY", "serviceaccounts");
}

// Events (events.k8s.io/v1) in ns with the given reason about the named object.
json eventsFor(const std::string& ns, const std::string& reason, const std::string& object) {
  json list = getJson("events.events.k8s.io -n " + ns);
  json out = json::array();
  if (!list.is_object()) return out;
  for (const auto& e : list["items"]) {
    if (e.value("reason", "") == reason && e["regarding"].value("name", "") == object)
      out.push_back(e);
  }
  return out;
}

json policyStatus(const std::string& name) {
  json p = getJson("serviceaccountpolicy " + name);
  return p.is_object() ? p.value("status", json::object()) : json::object();
}

bool hasFinding(const json& status, const std::string& reason, const std::string& name) {
  for (const auto& f : status.value("findings", json::array())) {
    if (f.value("reason", "") == reason && f.value("name", "") == name) return true;
  }
  return false;
}

std::string podManifest(const std::string& ns, const std::string& name, const std::string& sa,
                        const std::string& podAutomount = "") {
  std::string m = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  namespace: " + ns +
                  "\nspec:\n  serviceAccountName: " + sa + "\n";
  if (!podAutomount.empty()) m += "  automountServiceAccountToken: " + podAutomount + "\n";
  m += "  containers:\n  - name: app\n    image: registry.k8s.io/pause:3.10\n";
  return m;
}

bool podHasToken(const std::string& ns, const std::string& name) {
  json pod = getJson("pod " + name + " -n " + ns);
  for (const auto& v : pod["spec"].value("volumes", json::array())) {
    if (!v.contains("projected")) continue;
    for (const auto& s : v["projected"].value("sources", json::array())) {
      if (s.contains("serviceAccountToken")) return true;
    }
  }
  return false;
}

// One controller for the whole suite, as a real deployment runs one.
class ControllerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(waitForControllerManager());
    ASSERT_TRUE(installPolicyCrd());
    startController();
  }
  static void TearDownTestSuite() { stopController(); }

  static void startController() {
    auto config = kube::loadConfig({.kubeconfig = controlPlane().kubeconfig});
    ASSERT_TRUE(config.ok()) << config.error().describe();
    auto client = kube::makeRestClient(*config);
    ASSERT_TRUE(client.ok()) << client.error().describe();
    s_client = std::move(*client);
    s_sink = std::make_unique<events::ClientEventSink>(*s_client);
    events::RecorderOptions ro;
    ro.reportingInstance = "saguard-integration-test";
    auto recorder = events::makeRecorder(*s_sink, SteadyClock::instance(), ro);
    ASSERT_TRUE(recorder.ok()) << recorder.error().describe();
    s_recorder = std::move(*recorder);
    s_notifier = std::make_unique<reconcile::EventNotifier>(*s_recorder);
    s_writer = std::make_unique<reconcile::ApiWriter>(*s_client);
    reconcile::ControllerOptions options;
    options.workers = 2;
    auto controller = reconcile::Controller::create(*s_client, *s_writer, *s_notifier, options);
    ASSERT_TRUE(controller.ok()) << controller.error().describe();
    s_controller = std::move(*controller);
    s_controller->startInformers();
    ASSERT_TRUE(s_controller->waitForSync(30s)) << "caches did not sync";
    s_workers = std::thread([] { s_controller->runWorkers(); });
  }

  static void stopController() {
    if (s_controller) s_controller->stop();
    if (s_workers.joinable()) s_workers.join();
    s_controller.reset();
    s_recorder.reset();
    s_notifier.reset();
    s_writer.reset();
    s_sink.reset();
    s_client.reset();
  }

  void TearDown() override {
    for (const auto& p : policies_)
      kubectl("delete serviceaccountpolicy " + p + " --ignore-not-found");
  }

  // A namespace carrying this test's label.
  std::string labelledNamespace(const std::string& prefix) {
    return freshNamespace(prefix, {{"saguard-test", label()}});
  }
  // The test's name plus a suffix drawn once per process, so that a re-run against the
  // same control plane does not select the namespaces of an earlier run.
  std::string label() const {
    static const std::string run = std::to_string(std::random_device{}() % 100000);
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::string out;
    for (char c : name) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out.substr(0, 50) + "-" + run;
  }
  // Applies a policy whose namespace selector is this test's label; `specRest` is
  // further YAML under spec (indented two spaces).
  void applyPolicy(const std::string& name, const std::string& specRest) {
    std::string yaml =
        "apiVersion: saguard.io/v1alpha1\nkind: ServiceAccountPolicy\nmetadata:\n  name: " + name +
        "\nspec:\n  namespaces:\n    selector:\n      matchLabels:\n        saguard-test: " +
        label() + "\n" + specRest;
    auto r = kubectl("apply -f -", yaml);
    ASSERT_EQ(r.exitCode, 0) << r.err << "\n" << yaml;
    policies_.push_back(name);
  }

  std::vector<std::string> policies_;

  static inline std::unique_ptr<kube::Client> s_client;
  static inline std::unique_ptr<events::ClientEventSink> s_sink;
  static inline std::unique_ptr<events::QueuedEventRecorder> s_recorder;
  static inline std::unique_ptr<reconcile::EventNotifier> s_notifier;
  static inline std::unique_ptr<reconcile::ApiWriter> s_writer;
  static inline std::unique_ptr<reconcile::Controller> s_controller;
  static inline std::thread s_workers;
};

// The writer reads the resourceVersion of its patch's answer (asked for in protobuf):
// the reconciler waits for the cache to reach it. Not under any policy (no label).
TEST_F(ControllerTest, TheWriterReturnsTheStoredResourceVersion) {
  const std::string ns = freshNamespace("rc-writer");
  ASSERT_EQ(kubectl("create serviceaccount w -n " + ns).exitCode, 0);
  const std::string uid =
      trimmed(kubectl("get serviceaccount w -n " + ns + " -o jsonpath={.metadata.uid}").out);
  auto written = s_writer->disableAutomount(ns, "w", uid);
  ASSERT_TRUE(written.ok()) << written.error().describe();
  const auto stored = getJson("serviceaccount w -n " + ns);
  EXPECT_FALSE(written->empty());
  EXPECT_EQ(*written, stored["metadata"].value("resourceVersion", ""));
  EXPECT_EQ(stored.value("automountServiceAccountToken", true), false);
}

// 1. The default accounts of labelled namespaces; nothing else.
TEST_F(ControllerTest, DefaultAccountsOfLabelledNamespaces) {
  std::string a = labelledNamespace("rc-sel-a");
  std::string b = labelledNamespace("rc-sel-b");
  std::string other = freshNamespace("rc-sel-other");
  waitForDefaultAccount(a);
  waitForDefaultAccount(b);
  waitForDefaultAccount(other);
  createAccount(a, "builder");
  applyPolicy("rc-default-accounts", "  serviceAccounts:\n    names: [default]\n");
  EXPECT_TRUE(eventually(kReactMs, [&] {
    return automount(a, "default") == "false" && automount(b, "default") == "false";
  }));
  std::this_thread::sleep_for(500ms);  // give a wrong write the chance to happen
  EXPECT_EQ(automount(a, "builder"), "unset");
  EXPECT_EQ(automount(other, "default"), "unset");
  EXPECT_TRUE(
      eventually(5000, [&] { return eventsFor(a, "AutomountDisabled", "default").size() == 1; }));
}

// 2. A namespace created after the policy.
TEST_F(ControllerTest, NamespaceCreatedAfterPolicy) {
  applyPolicy("rc-later-namespace", "  serviceAccounts:\n    names: [default]\n");
  std::string ns = labelledNamespace("rc-later");
  EXPECT_TRUE(eventually(kReactMs + 10'000, [&] { return automount(ns, "default") == "false"; }));
  auto created = kubectl("create -f -", podManifest(ns, "after", "default"));
  ASSERT_EQ(created.exitCode, 0) << created.err;
  EXPECT_FALSE(podHasToken(ns, "after"));
}

// 3. Drift is reverted, with a DriftReverted Event.
TEST_F(ControllerTest, DriftIsReverted) {
  std::string ns = labelledNamespace("rc-drift");
  waitForDefaultAccount(ns);
  applyPolicy("rc-drift", "  serviceAccounts:\n    names: [default]\n");
  ASSERT_TRUE(eventually(kReactMs, [&] { return automount(ns, "default") == "false"; }));
  ASSERT_EQ(kubectl("patch serviceaccount default -n " + ns +
                    " --type=merge -p '{\"automountServiceAccountToken\":true}'")
                .exitCode,
            0);
  EXPECT_TRUE(eventually(kReactMs, [&] { return automount(ns, "default") == "false"; }));
  EXPECT_TRUE(
      eventually(5000, [&] { return eventsFor(ns, "DriftReverted", "default").size() == 1; }));
}

// 4. Exemptions and unboundOnly.
TEST_F(ControllerTest, ExemptionsAndUnboundOnly) {
  std::string ns = labelledNamespace("rc-exempt");
  waitForDefaultAccount(ns);
  createAccount(ns, "prometheus");
  createAccount(ns, "bound");
  createAccount(ns, "loose");
  auto rb = kubectl("create rolebinding bound-view --clusterrole=view --serviceaccount=" + ns +
                    ":bound -n " + ns);
  ASSERT_EQ(rb.exitCode, 0) << rb.err;
  applyPolicy("rc-exempt",
              "  serviceAccounts:\n    unboundOnly: true\n  exemptions:\n  - namespace: \"" + ns +
                  "\"\n    name: prom*\n    reason: reads pods\n");
  EXPECT_TRUE(eventually(kReactMs, [&] {
    return automount(ns, "loose") == "false" && automount(ns, "default") == "false";
  }));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(automount(ns, "prometheus"), "unset");
  EXPECT_EQ(automount(ns, "bound"), "unset");
}

// 5. Audit mode writes nothing to accounts; it reports.
TEST_F(ControllerTest, AuditWritesNothing) {
  std::string ns = labelledNamespace("rc-audit");
  waitForDefaultAccount(ns);
  std::string before = resourceVersion(ns, "default");
  applyPolicy("rc-audit", "  mode: Audit\n");
  EXPECT_TRUE(eventually(
      5000, [&] { return eventsFor(ns, "AutomountWouldBeDisabled", "default").size() == 1; }));
  EXPECT_TRUE(eventually(5000, [&] {
    return hasFinding(policyStatus("rc-audit"), "AutomountWouldBeDisabled", "default");
  }));
  EXPECT_EQ(resourceVersion(ns, "default"), before);
  EXPECT_EQ(automount(ns, "default"), "unset");
}

// 6. A ClusterRoleBinding of cluster-admin to ns/default is reported, and stops being
//    reported when it goes.
TEST_F(ControllerTest, RiskyBindingReportedAndCleared) {
  std::string ns = labelledNamespace("rc-crb");
  waitForDefaultAccount(ns);
  std::string crb = ns + "-debug";
  applyPolicy("rc-crb", "  serviceAccounts:\n    names: [default]\n");
  ASSERT_EQ(kubectl("create clusterrolebinding " + crb +
                    " --clusterrole=cluster-admin --serviceaccount=" + ns + ":default")
                .exitCode,
            0);
  EXPECT_TRUE(eventually(5000, [&] {
    return hasFinding(policyStatus("rc-crb"), "BindingGrantsSelectedAccount", crb);
  }));
  EXPECT_TRUE(eventually(
      5000, [&] { return eventsFor("default", "BindingGrantsSelectedAccount", crb).size() == 1; }));
  auto ev = eventsFor("default", "BindingGrantsSelectedAccount", crb);
  if (!ev.empty()) {
    EXPECT_EQ(ev[0]["type"], "Warning");
  }
  ASSERT_EQ(kubectl("delete clusterrolebinding " + crb).exitCode, 0);
  EXPECT_TRUE(eventually(5000, [&] {
    return !hasFinding(policyStatus("rc-crb"), "BindingGrantsSelectedAccount", crb);
  }));
}

// 7. Pods that predate the policy, and pods that ask for a token themselves.
TEST_F(ControllerTest, PodFindings) {
  std::string ns = labelledNamespace("rc-pods");
  waitForDefaultAccount(ns);
  ASSERT_EQ(kubectl("create -f -", podManifest(ns, "old", "default")).exitCode, 0);
  ASSERT_EQ(kubectl("create -f -", podManifest(ns, "wants-token", "default", "true")).exitCode, 0);
  applyPolicy("rc-pods", "  serviceAccounts:\n    names: [default]\n");
  EXPECT_TRUE(eventually(5000, [&] {
    json s = policyStatus("rc-pods");
    return hasFinding(s, "TokenMounted", "old") &&
           hasFinding(s, "PodOverridesPolicy", "wants-token");
  }));
  EXPECT_TRUE(eventually(5000, [&] { return eventsFor(ns, "TokenMounted", "old").size() == 1; }));
  EXPECT_TRUE(eventually(
      5000, [&] { return eventsFor(ns, "PodOverridesPolicy", "wants-token").size() == 1; }));
  EXPECT_EQ(policyStatus("rc-pods")["summary"].value("podsWithToken", -1), 2);
}

// 8. Overlapping Enforce and Audit policies: the account is enforced (README.md).
TEST_F(ControllerTest, EnforceAndAuditOverlap) {
  std::string ns = labelledNamespace("rc-overlap");
  waitForDefaultAccount(ns);
  applyPolicy("rc-overlap-audit", "  mode: Audit\n");
  applyPolicy("rc-overlap-enforce", "  mode: Enforce\n  serviceAccounts:\n    names: [default]\n");
  EXPECT_TRUE(eventually(kReactMs, [&] { return automount(ns, "default") == "false"; }));
  EXPECT_TRUE(eventually(5000, [&] {
    json audit = policyStatus("rc-overlap-audit");
    json enforce = policyStatus("rc-overlap-enforce");
    return audit.contains("summary") && enforce.contains("summary") &&
           enforce["summary"].value("compliant", 0) == 1 &&
           audit["summary"].value("compliant", 0) == 1;
  }));
}

// 9. A policy the schema accepts but that cannot be applied.
TEST_F(ControllerTest, UnappliablePolicyIsReadyFalseInvalid) {
  const std::string name = "rc-invalid-" + label().substr(label().rfind('-') + 1);
  std::string yaml =
      "apiVersion: saguard.io/v1alpha1\nkind: ServiceAccountPolicy\nmetadata:\n  name: " + name +
      "\nspec:\n"
      "  namespaces:\n    selector:\n      matchLabels:\n        \"bad key!\": x\n";
  auto r = kubectl("apply -f -", yaml);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  policies_.push_back(name);
  EXPECT_TRUE(eventually(5000, [&] {
    json s = policyStatus(name);
    return s.contains("conditions") && s["conditions"][0].value("status", "") == "False" &&
           s["conditions"][0].value("reason", "") == "Invalid";
  }));
  EXPECT_TRUE(
      eventually(5000, [&] { return eventsFor("default", "PolicyInvalid", name).size() == 1; }));
}

// 10. Everything but the one field survives the patch, byte for byte.
TEST_F(ControllerTest, PatchTouchesNothingElse) {
  std::string ns = labelledNamespace("rc-bytes");
  createAccount(ns, "rich",
                "  labels:\n    team: payments\n  annotations:\n    owner: alice@example.com\n"
                "secrets:\n- name: rich-secret\nimagePullSecrets:\n- name: registry-cred\n");
  json before = getJson("serviceaccount rich -n " + ns);
  applyPolicy("rc-bytes", "  serviceAccounts:\n    names: [rich]\n");
  ASSERT_TRUE(eventually(kReactMs, [&] { return automount(ns, "rich") == "false"; }));
  json after = getJson("serviceaccount rich -n " + ns);
  for (const char* field : {"secrets", "imagePullSecrets"})
    EXPECT_EQ(after[field].dump(), before[field].dump()) << field;
  for (const char* field :
       {"labels", "annotations", "uid", "name", "namespace", "creationTimestamp"}) {
    EXPECT_EQ(after["metadata"][field].dump(), before["metadata"][field].dump()) << field;
  }
}

// 11. 200 accounts, 50 non-compliant: exactly 50 writes, and none on a resync.
TEST_F(ControllerTest, ExactlyOneWritePerNonCompliantAccount) {
  std::string ns = labelledNamespace("rc-count");
  waitForDefaultAccount(ns);
  ASSERT_EQ(kubectl("patch serviceaccount default -n " + ns +
                    " --type=merge -p '{\"automountServiceAccountToken\":false}'")
                .exitCode,
            0);
  std::string manifest;
  for (int i = 0; i < 199; ++i) {
    manifest += "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa-" +
                std::to_string(i) + "\n  namespace: " + ns + "\n" +
                (i < 50 ? "" : "automountServiceAccountToken: false\n");
  }
  ASSERT_EQ(kubectl("create -f -", manifest).exitCode, 0);
  long before = accountWrites();
  applyPolicy("rc-count", "  mode: Enforce\n");
  ASSERT_TRUE(eventually(10'000, [&] {
    json s = policyStatus("rc-count");
    return s.contains("summary") && s["summary"].value("selected", 0) == 200 &&
           s["summary"].value("compliant", 0) == 200;
  })) << policyStatus("rc-count").dump();
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(accountWrites() - before, 50);

  // A resync: a new controller lists everything again and finds nothing to do.
  stopController();
  long afterFirst = accountWrites();
  startController();
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(accountWrites() - afterFirst, 0);
}

// ---- Issue 16: never fight a source of truth. managedFields and the last-applied
// annotation are produced by kubectl as each GitOps tool writes (field managers
// argocd-controller, kustomize-controller; client-side apply).

// An account as Git declares it; `field` "" leaves automountServiceAccountToken out.
std::string gitAccount(const std::string& ns, const std::string& name, const std::string& field) {
  std::string yaml = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: " + name +
                     "\n  namespace: " + ns + "\n  labels:\n    app: " + name + "\n";
  if (!field.empty()) yaml += "automountServiceAccountToken: " + field + "\n";
  return yaml;
}

// The tools' applies: Argo CD and Flux apply server-side with force (taking conflicting
// fields back is what their self-heal is), kubectl client-side.
void serverSideApply(const std::string& manager, const std::string& yaml) {
  auto r =
      kubectl("apply --server-side --force-conflicts --field-manager=" + manager + " -f -", yaml);
  ASSERT_EQ(r.exitCode, 0) << r.err;
}
void clientSideApply(const std::string& yaml) {
  auto r = kubectl("apply -f -", yaml);
  ASSERT_EQ(r.exitCode, 0) << r.err;
}

// The managers that own automountServiceAccountToken, "manager/Operation" in order.
std::vector<std::string> fieldOwners(const std::string& ns, const std::string& name) {
  json sa = getJson("serviceaccount " + name + " -n " + ns + " --show-managed-fields");
  std::vector<std::string> out;
  if (!sa.is_object()) return out;
  for (const auto& entry : sa["metadata"].value("managedFields", json::array())) {
    const json fields = entry.value("fieldsV1", json::object());
    if (fields.contains("f:automountServiceAccountToken"))
      out.push_back(entry.value("manager", "") + "/" + entry.value("operation", ""));
  }
  return out;
}

// Git declares true through each tool: saguard leaves all three alone for 60 s (no write
// at all: the resourceVersions do not move, saguard owns nothing), tells each once with
// a DeclaredByOwner Event naming the manager, and the policy's status shows the owners.
TEST_F(ControllerTest, AFieldDeclaredByGitOpsToolsIsNeverWritten) {
  std::string ns = labelledNamespace("rc-declared");
  serverSideApply("argocd-controller", gitAccount(ns, "argo", "true"));
  serverSideApply("kustomize-controller", gitAccount(ns, "flux", "true"));
  clientSideApply(gitAccount(ns, "csa", "true"));
  const std::vector<std::string> names = {"argo", "flux", "csa"};
  std::map<std::string, std::string> before;
  for (const auto& n : names) before[n] = resourceVersion(ns, n);
  applyPolicy("rc-declared", "  serviceAccounts:\n    names: [argo, flux, csa]\n");

  ASSERT_TRUE(eventually(5000, [&] {
    return policyStatus("rc-declared")
               .value("summary", json::object())
               .value("declaredByOwner", 0) == 3;
  })) << policyStatus("rc-declared").dump();
  const json status = policyStatus("rc-declared");
  std::map<std::string, std::string> findings;
  for (const auto& f : status["findings"]) {
    if (f.value("reason", "") == "DeclaredByOwner") findings[f["name"]] = f["message"];
  }
  ASSERT_EQ(findings.size(), 3u) << status.dump();
  EXPECT_TRUE(contains(findings["argo"], "argocd-controller")) << findings["argo"];
  EXPECT_TRUE(contains(findings["argo"], "RespectIgnoreDifferences=true")) << findings["argo"];
  EXPECT_TRUE(contains(findings["flux"], "kustomize-controller")) << findings["flux"];
  EXPECT_TRUE(contains(findings["csa"], "last-applied")) << findings["csa"];

  const auto started = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(60s);
  for (const auto& n : names) {
    EXPECT_EQ(resourceVersion(ns, n), before[n]) << n << " was written";
    EXPECT_EQ(automount(ns, n), "true") << n;
    for (const auto& owner : fieldOwners(ns, n)) EXPECT_FALSE(owner.starts_with("saguard/")) << n;
    const json events = eventsFor(ns, "DeclaredByOwner", n);
    ASSERT_EQ(events.size(), 1u) << n;
    EXPECT_EQ(events[0].value("type", ""), "Warning");
    EXPECT_EQ(events[0].value("series", json::object()).value("count", 1), 1) << events[0].dump();
  }
  EXPECT_TRUE(
      contains(eventsFor(ns, "DeclaredByOwner", "argo")[0].value("note", ""), "argocd-controller"));
  EXPECT_TRUE(contains(eventsFor(ns, "DeclaredByOwner", "flux")[0].value("note", ""),
                       "kustomize-controller"));
  std::printf(
      "[ figures ] declared by argocd-controller, kustomize-controller, client-side "
      "apply: 0 writes in %lld s\n",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::steady_clock::now() - started)
                                 .count()));
}

// A field Git does not declare is saguard's to set, with a server-side apply that makes
// saguard its owner; the tool's re-apply of the same configuration, client-side (three-way
// merge against last-applied) or server-side (as argocd-controller), does not remove it.
// A plain patch by another client is drift: reverted, and saguard owns the field again.
TEST_F(ControllerTest, AnUndeclaredFieldIsSetAndSurvivesTheToolsReapply) {
  std::string ns = labelledNamespace("rc-undeclared");
  clientSideApply(gitAccount(ns, "csa", ""));
  serverSideApply("argocd-controller", gitAccount(ns, "ssa", ""));
  applyPolicy("rc-undeclared", "  serviceAccounts:\n    names: [csa, ssa]\n");
  for (const char* n : {"csa", "ssa"}) {
    ASSERT_TRUE(eventually(kReactMs, [&] { return automount(ns, n) == "false"; })) << n;
    EXPECT_EQ(fieldOwners(ns, n), std::vector<std::string>{"saguard/Apply"}) << n;
  }
  const std::string csaBefore = resourceVersion(ns, "csa");
  const std::string ssaBefore = resourceVersion(ns, "ssa");
  clientSideApply(gitAccount(ns, "csa", ""));
  serverSideApply("argocd-controller", gitAccount(ns, "ssa", ""));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(automount(ns, "csa"), "false");
  EXPECT_EQ(automount(ns, "ssa"), "false");
  // Both re-applies changed nothing, and saguard had nothing to write back.
  EXPECT_EQ(resourceVersion(ns, "csa"), csaBefore);
  EXPECT_EQ(resourceVersion(ns, "ssa"), ssaBefore);

  // Someone's `kubectl patch`/`kubectl edit`: an Update owner, drift.
  ASSERT_EQ(kubectl("patch serviceaccount csa -n " + ns +
                    " --type=merge -p '{\"automountServiceAccountToken\":true}'")
                .exitCode,
            0);
  EXPECT_TRUE(eventually(kReactMs, [&] { return automount(ns, "csa") == "false"; }));
  EXPECT_TRUE(eventually(5000, [&] { return eventsFor(ns, "DriftReverted", "csa").size() == 1; }));
  EXPECT_EQ(fieldOwners(ns, "csa"), std::vector<std::string>{"saguard/Apply"});
  EXPECT_TRUE(eventsFor(ns, "DeclaredByOwner", "csa").empty());
}

// The fight that must not happen: Git is changed to declare true, the tools' self-heal
// applies it every round (Argo CD server-side with force, kubectl client-side), 100
// rounds. saguard writes once (false, before Git declared anything), reports the owner,
// and from then on writes nothing: no round finds drift to heal, and the objects'
// resourceVersions do not move.
TEST_F(ControllerTest, HundredRoundsOfSelfHealEndWithoutAWriteBySaguard) {
  std::string ns = labelledNamespace("rc-fight");
  serverSideApply("argocd-controller", gitAccount(ns, "argo", ""));
  clientSideApply(gitAccount(ns, "csa", ""));
  applyPolicy("rc-fight", "  serviceAccounts:\n    names: [argo, csa]\n");
  for (const char* n : {"argo", "csa"})
    ASSERT_TRUE(eventually(kReactMs, [&] { return automount(ns, n) == "false"; })) << n;

  // Git now says true; each tool syncs it.
  serverSideApply("argocd-controller", gitAccount(ns, "argo", "true"));
  clientSideApply(gitAccount(ns, "csa", "true"));
  for (const char* n : {"argo", "csa"}) {
    ASSERT_TRUE(eventually(5000, [&] { return eventsFor(ns, "DeclaredByOwner", n).size() == 1; }))
        << n;
  }
  const std::string argoSynced = resourceVersion(ns, "argo");
  const std::string csaSynced = resourceVersion(ns, "csa");
  int heals = 0;
  for (int round = 0; round < 100; ++round) {
    for (const char* n : {"argo", "csa"}) {
      if (automount(ns, n) == "true") continue;
      ++heals;  // out of sync: the tool heals it
      if (std::string(n) == "argo") {
        serverSideApply("argocd-controller", gitAccount(ns, "argo", "true"));
      } else {
        clientSideApply(gitAccount(ns, "csa", "true"));
      }
    }
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(heals, 0);
  EXPECT_EQ(resourceVersion(ns, "argo"), argoSynced);
  EXPECT_EQ(resourceVersion(ns, "csa"), csaSynced);
  EXPECT_EQ(fieldOwners(ns, "argo"), std::vector<std::string>{"argocd-controller/Apply"});
  EXPECT_EQ(eventsFor(ns, "DeclaredByOwner", "argo").size(), 1u);
  std::printf(
      "[ figures ] 100 self-heal rounds after the owner was reported: %d heals, 0 "
      "saguard writes\n",
      heals);
}

}  // namespace
}  // namespace saguard::testing
