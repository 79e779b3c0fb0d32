// Security properties of the built binary against the local control plane:
//   - at the most verbose log level, through a reconcile that patches, API errors (404,
//     403) and shutdown, the log never carries the bearer token (nor any of its JWT
//     segments) in-cluster, nor a line of the client key with a kubeconfig;
//   - in-cluster, the API server is verified against ca.crt: a server that CA did not
//     sign is refused with a clear TLS error and no request goes through;
//   - a kubeconfig that says insecure-skip-tls-verify is honoured with a warning;
//   - the rendered manifests, parsed object by object: a locked-down Deployment.
// operator_test.cpp covers the in-cluster run's token (whole, and its last 20 bytes) at
// debug level; this file adds trace level, the JWT segments, the error paths and the
// kubeconfig identity.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "e2e/support/saguard_process.h"
#include "e2e/support/service_account_dir.h"
#include "integration/support/controlplane_env.h"
#include "integration/support/helpers.h"

namespace saguard::testing {
namespace {

using nlohmann::json;

std::string automount(const std::string& ns, const std::string& name) {
  auto r = kubectl("get serviceaccount " + name + " -n " + ns + " -o json");
  if (r.exitCode != 0) return "";
  json sa = json::parse(r.out, nullptr, false);
  if (sa.is_discarded()) return "";
  if (!sa.contains("automountServiceAccountToken")) return "unset";
  return sa["automountServiceAccountToken"].get<bool>() ? "true" : "false";
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, sep)) out.push_back(part);
  return out;
}

// The token, each of its JWT segments and their first 24 characters (a truncated
// leak) must not appear in `log`.
void expectNoToken(const std::string& log, const std::string& token, const std::string& what) {
  ASSERT_GT(token.size(), 40u);
  EXPECT_EQ(log.find(token), std::string::npos) << what << ": the bearer token is in the log";
  auto segments = split(token, '.');
  ASSERT_EQ(segments.size(), 3u) << "not a JWT";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    ASSERT_GE(segments[i].size(), 24u);
    EXPECT_EQ(log.find(segments[i]), std::string::npos)
        << what << ": JWT segment " << i << " is in the log";
    // The header segment starts like every RS256 JWT header; the others are unique.
    if (i > 0) {
      EXPECT_EQ(log.find(segments[i].substr(0, 24)), std::string::npos)
          << what << ": the start of JWT segment " << i << " is in the log";
    }
  }
}

// No line of the PEM body of `keyPem` (and not its BEGIN line) appears in `log`.
void expectNoKey(const std::string& log, const std::string& keyPem, const std::string& what) {
  int lines = 0;
  for (const std::string& raw : split(keyPem, '\n')) {
    std::string line = trimmed(raw);
    if (line.empty() || line.starts_with("-----END")) continue;
    ++lines;
    EXPECT_EQ(log.find(line), std::string::npos)
        << what << ": a line of the client key is in the log: " << line;
  }
  EXPECT_GT(lines, 2) << "no key read";
}

class SecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_EQ(kubectl("apply -f " + source("manifests/manager/namespace.yaml")).exitCode, 0);
    auto rbac = kubectl("apply -k " + source("manifests/rbac"));
    ASSERT_EQ(rbac.exitCode, 0) << rbac.err;
    s_dir = makeTempDir("security");
    ASSERT_FALSE(s_dir.empty());
    auto token = kubectl("create token saguard -n saguard-system --duration=1h");
    ASSERT_EQ(token.exitCode, 0) << token.err;
    s_token = trimmed(token.out);
    s_account = std::make_unique<ServiceAccountDir>(s_token, controlPlane().caFile);
  }

  static void TearDownTestSuite() { s_account.reset(); }

  // Runs saguard with `flags` through: a 404 (the CRD is not installed yet), a policy
  // that makes it patch a ServiceAccount, and SIGTERM. Returns the log.
  static std::string runThroughPatchAndError(const std::string& saDir, const std::string& logFile,
                                             const std::string& flags, const std::string& name) {
    kubectl("delete crd serviceaccountpolicies.saguard.io --ignore-not-found --wait=true");
    std::vector<std::string> all = {"--log-level=trace"};
    if (!flags.empty()) all.push_back(flags);
    SaguardProcess saguard({.serviceAccountDir = saDir, .log = logFile, .flags = all});
    EXPECT_TRUE(eventually(30'000,
                           [&] {
                             std::string log = saguard.log();
                             return log.find("serviceaccountpolicies") != std::string::npos &&
                                    log.find("-> 404") != std::string::npos;
                           }))
        << "no 404 while the CRD is missing:\n"
        << saguard.log();
    EXPECT_EQ(kubectl("apply -f " + source("crd/saguard.io_serviceaccountpolicies.yaml")).exitCode,
              0);
    kubectl("wait --for=condition=Established --timeout=30s crd/serviceaccountpolicies.saguard.io");
    std::string ns = freshNamespace(name, {{name, "on"}});
    EXPECT_TRUE(eventually(10'000, [&] { return automount(ns, "default") != ""; }));
    auto applied = kubectl(
        "apply -f -",
        "apiVersion: saguard.io/v1alpha1\nkind: ServiceAccountPolicy\nmetadata:\n  name: " + name +
            "\nspec:\n  namespaces:\n    selector:\n      matchLabels: {" + name +
            ": \"on\"}\n  serviceAccounts:\n    names: [default]\n");
    EXPECT_EQ(applied.exitCode, 0) << applied.err;
    EXPECT_TRUE(eventually(60'000, [&] { return automount(ns, "default") == "false"; }))
        << saguard.log();
    EXPECT_TRUE(eventually(5'000, [&] {
      return saguard.log().find("patched " + ns + "/default") != std::string::npos;
    })) << saguard.log();
    saguard.stop(SIGTERM);
    kubectl("delete sap " + name + " --ignore-not-found");
    std::string log = saguard.log();
    EXPECT_NE(log.find("stopped"), std::string::npos) << "no clean shutdown:\n" << log;
    return log;
  }

  static inline std::string s_dir;
  static inline std::string s_token;
  static inline std::unique_ptr<ServiceAccountDir> s_account;
};

TEST_F(SecurityTest, InClusterTraceLogCarriesNoTokenThroughPatchErrorsAndShutdown) {
  std::string log =
      runThroughPatchAndError(s_account->path(), s_dir + "/incluster.log", "", "sec-incluster");
  ASSERT_FALSE(HasFailure()) << log;
  // Request lines, 200 and 201 (the informers sync by watch, logged when the stream ends).
  EXPECT_GT(countOf(log, " -> 20"), 5) << "the request lines are not in the log";
  expectNoToken(log, s_token, "in-cluster");
}

// An account that may do nothing: every list is a 403, logged with the server's reason.
TEST_F(SecurityTest, InClusterForbiddenAnswersCarryNoToken) {
  std::string ns = freshNamespace("sec-nobody");
  ASSERT_EQ(kubectl("create serviceaccount nobody -n " + ns).exitCode, 0);
  auto token = kubectl("create token nobody -n " + ns + " --duration=1h");
  ASSERT_EQ(token.exitCode, 0) << token.err;
  std::string nobody = trimmed(token.out);
  ServiceAccountDir nobodyAccount(nobody, controlPlane().caFile);
  SaguardProcess saguard({.serviceAccountDir = nobodyAccount.path(),
                          .log = s_dir + "/nobody.log",
                          .flags = {"--log-level=trace"}});
  EXPECT_TRUE(eventually(30'000, [&] { return countOf(saguard.log(), "-> 403") >= 3; }))
      << saguard.log();
  saguard.stop(SIGTERM);
  std::string log = saguard.log();
  EXPECT_NE(log.find("stopped"), std::string::npos) << log;
  expectNoToken(log, nobody, "forbidden");
}

// The admin kubeconfig of the control plane: a client certificate and key (files).
TEST_F(SecurityTest, KubeconfigTraceLogCarriesNoClientKey) {
  const ControlPlane& cp = controlPlane();
  std::string log = runThroughPatchAndError(s_account->path(), s_dir + "/kubeconfig.log",
                                            "--kubeconfig=" + cp.kubeconfig, "sec-kubeconfig");
  EXPECT_NE(log.find("talking to " + cp.apiServerUrl), std::string::npos) << log;
  expectNoKey(log, readFile(cp.adminKeyFile), "kubeconfig");
  // The same key embedded as client-key-data: not its base64 text either.
  auto flat =
      kubectl("config view --raw --flatten --minify -o jsonpath={.users[0].user.client-key-data}");
  ASSERT_EQ(flat.exitCode, 0) << flat.err;
  std::string keyData = trimmed(flat.out);
  if (!keyData.empty()) {
    for (std::size_t at = 0; at + 32 <= keyData.size(); at += 32) {
      EXPECT_EQ(log.find(keyData.substr(at, 32)), std::string::npos)
          << "client-key-data is in the log";
    }
  }
}

// ca.crt names a CA that did not sign the API server's certificate: every connection is
// refused at the handshake, with the reason, and no request is answered.
TEST_F(SecurityTest, InClusterRefusesAServerThatCaCrtDidNotSign) {
  std::string other = s_dir + "/other-ca";
  auto made =
      run("mkdir -p " + other +
          " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
          other + "/ca.key -out " + other + "/ca.crt -days 1 -subj /CN=not-the-cluster-ca 2>&1");
  ASSERT_EQ(made.exitCode, 0) << made.out;
  ServiceAccountDir wrongCa(s_token, other + "/ca.crt");
  SaguardProcess saguard({.serviceAccountDir = wrongCa.path(),
                          .log = s_dir + "/wrong-ca.log",
                          .flags = {"--log-level=trace"}});
  const std::string refused =
      "TLS handshake with " + controlPlane().apiServerUrl + " failed: certificate verify failed";
  EXPECT_TRUE(eventually(30'000, [&] { return countOf(saguard.log(), refused) >= 3; }))
      << saguard.log();
  saguard.stop(SIGTERM);
  std::string log = saguard.log();
  // The debug line of every answered request is "METHOD URL -> CODE (N ms)".
  std::smatch answered;
  EXPECT_FALSE(std::regex_search(log, answered, std::regex(" -> [0-9]{3} \\(")))
      << "a request was answered over an unverified connection: " << answered.str();
  EXPECT_EQ(log.find("running as ServiceAccount"), std::string::npos) << log;
  expectNoToken(log, s_token, "wrong CA");
}

// A kubeconfig may turn verification off (as kubectl's does); saguard says so loudly.
TEST_F(SecurityTest, KubeconfigInsecureSkipTlsVerifyIsAWarning) {
  const ControlPlane& cp = controlPlane();
  std::string path = s_dir + "/insecure.kubeconfig";
  std::ofstream(path)
      << "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: "
      << cp.apiServerUrl
      << "\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    "
         "client-certificate: "
      << cp.adminCertFile << "\n    client-key: " << cp.adminKeyFile
      << "\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n";
  SaguardProcess saguard({.serviceAccountDir = s_account->path(),
                          .log = s_dir + "/insecure.log",
                          .flags = {"--kubeconfig=" + path}});
  EXPECT_TRUE(eventually(20'000, [&] {
    return saguard.log().find("talking to") != std::string::npos;
  })) << saguard.log();
  saguard.stop(SIGTERM);
  std::string log = saguard.log();
  std::smatch warning;
  EXPECT_TRUE(std::regex_search(log, warning,
                                std::regex("warn[^\n]*TLS verification of " + cp.apiServerUrl +
                                           " is off[^\n]*insecure-skip-tls-verify")))
      << log;
  expectNoKey(log, readFile(cp.adminKeyFile), "insecure kubeconfig");
}

// ---- the rendered manifests, object by object ---------------------------------------

std::vector<json> renderedObjects() {
  auto rendered = kubectl("kustomize " + source("manifests/default"));
  EXPECT_EQ(rendered.exitCode, 0) << rendered.err;
  // A client-side dry run prints each object as JSON, one after the other.
  auto asJson = kubectl("create --dry-run=client -o json -f -", rendered.out);
  EXPECT_EQ(asJson.exitCode, 0) << asJson.err;
  std::vector<json> objects;
  std::istringstream in(asJson.out);
  while ((in >> std::ws).peek() != std::char_traits<char>::eof()) {
    json object;
    try {
      in >> object;
    } catch (const json::exception& e) {
      ADD_FAILURE() << "not JSON: " << e.what();
      break;
    }
    objects.push_back(std::move(object));
  }
  return objects;
}

const json* member(const json& object, std::initializer_list<const char*> path) {
  const json* at = &object;
  for (const char* key : path) {
    if (!at->is_object() || !at->contains(key)) return nullptr;
    at = &(*at)[key];
  }
  return at;
}

TEST_F(SecurityTest, RenderedDeploymentIsLockedDown) {
  std::vector<json> objects = renderedObjects();
  const json* deployment = nullptr;
  const json* account = nullptr;
  int deployments = 0;
  for (const json& o : objects) {
    std::string kind = o.value("kind", "");
    if (kind == "Deployment") {
      deployment = &o;
      ++deployments;
    }
    if (kind == "ServiceAccount") account = &o;
    if (kind == "ClusterRole" || kind == "Role") {
      for (const json& rule : o.value("rules", json::array())) {
        for (const char* list : {"apiGroups", "resources", "verbs"}) {
          for (const json& item : rule.value(list, json::array())) {
            EXPECT_NE(item, "*") << kind << " " << o["metadata"].value("name", "")
                                 << ": wildcard in " << list;
          }
        }
        for (const json& resource : rule.value("resources", json::array()))
          EXPECT_NE(resource, "secrets")
              << kind << " " << o["metadata"].value("name", "") << " grants secrets";
      }
    }
  }
  ASSERT_EQ(deployments, 1) << "the manifests render exactly one Deployment";
  ASSERT_NE(account, nullptr) << "no ServiceAccount";
  const json* pod = member(*deployment, {"spec", "template", "spec"});
  ASSERT_NE(pod, nullptr);

  // Pod level.
  const json* podSecurity = member(*pod, {"securityContext"});
  ASSERT_NE(podSecurity, nullptr) << "no pod securityContext";
  EXPECT_EQ(podSecurity->value("runAsNonRoot", false), true);
  EXPECT_NE(podSecurity->value("runAsUser", 0), 0) << "runAsUser 0 is root";
  const json* seccomp = member(*podSecurity, {"seccompProfile", "type"});
  ASSERT_NE(seccomp, nullptr) << "no seccompProfile";
  EXPECT_EQ(*seccomp, "RuntimeDefault");
  for (const char* host : {"hostNetwork", "hostPID", "hostIPC"})
    EXPECT_FALSE(pod->value(host, false)) << host;
  for (const json& volume : pod->value("volumes", json::array())) {
    EXPECT_FALSE(volume.contains("hostPath")) << "hostPath volume " << volume.value("name", "");
  }

  // Every container (init containers too).
  int containers = 0;
  for (const char* list : {"initContainers", "containers", "ephemeralContainers"}) {
    for (const json& c : pod->value(list, json::array())) {
      ++containers;
      std::string name = c.value("name", "?");
      const json* sc = member(c, {"securityContext"});
      ASSERT_NE(sc, nullptr) << name << ": no securityContext";
      EXPECT_EQ(sc->value("readOnlyRootFilesystem", false), true) << name;
      EXPECT_EQ(sc->value("allowPrivilegeEscalation", true), false) << name;
      EXPECT_EQ(sc->value("privileged", false), false) << name;
      EXPECT_NE(sc->value("runAsNonRoot", true), false) << name << " overrides runAsNonRoot";
      const json* drop = member(*sc, {"capabilities", "drop"});
      ASSERT_NE(drop, nullptr) << name << ": capabilities.drop missing";
      EXPECT_NE(std::find(drop->begin(), drop->end(), json("ALL")), drop->end())
          << name << ": does not drop ALL";
      const json* add = member(*sc, {"capabilities", "add"});
      EXPECT_TRUE(add == nullptr || add->empty()) << name << " adds capabilities";
    }
  }
  EXPECT_GE(containers, 1);

  // DESIGN: saguard calls the API, so it keeps its own token. The effective automount
  // (the pod's field, else its ServiceAccount's, else true) must be true, and the pod's
  // ServiceAccount must be the one the manifests define (with the RBAC bound to it).
  std::string accountName = pod->value("serviceAccountName", "default");
  EXPECT_EQ(accountName, (*account)["metadata"].value("name", ""))
      << "the pod runs as another account";
  EXPECT_EQ((*account)["metadata"].value("namespace", ""),
            (*deployment)["metadata"].value("namespace", ""));
  bool effective = pod->contains("automountServiceAccountToken")
                       ? (*pod)["automountServiceAccountToken"].get<bool>()
                   : account->contains("automountServiceAccountToken")
                       ? (*account)["automountServiceAccountToken"].get<bool>()
                       : true;
  EXPECT_TRUE(effective) << "saguard's pod would get no token and could not call the API";
}

}  // namespace
}  // namespace saguard::testing
