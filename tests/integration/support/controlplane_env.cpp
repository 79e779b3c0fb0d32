#include "integration/support/controlplane_env.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "integration/support/helpers.h"

namespace saguard::testing {
namespace {

ControlPlane g_plane;
bool g_up = false;

std::string tempPath(const char* what) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp ? tmp : "/tmp") + "/saguard-" + what + "-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  int fd = mkstemp(buf.data());
  if (fd < 0) throw std::runtime_error("mkstemp failed for " + pattern);
  close(fd);
  return buf.data();
}

// Parses the `export KEY=VALUE` lines of up.sh's env file.
std::map<std::string, std::string> readEnvFile(const std::string& path) {
  std::map<std::string, std::string> vars;
  std::istringstream in(readFile(path));
  std::string line;
  while (std::getline(in, line)) {
    const std::string prefix = "export ";
    if (line.rfind(prefix, 0) != 0) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    vars[line.substr(prefix.size(), eq - prefix.size())] = line.substr(eq + 1);
  }
  return vars;
}

class ControlPlaneEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    const char* reuse = std::getenv("SAGUARD_CONTROLPLANE_DIR");
    if (reuse != nullptr && *reuse != '\0') {
      dir_ = reuse;
      owned_ = false;
    } else {
      dir_ = makeTempDir("cp");
      owned_ = true;
      // Auditing on, so that evidence-of-use tests can read what the API server records
      // (service accounts only: the rest of the tests add nothing to the log). Mutating
      // admission policies served and applied, as on a cluster where saguard keeps them (a
      // policy matches only what it selects: the other tests' objects are untouched).
      std::string up = "SAGUARD_CP_AUDIT=1 SAGUARD_CP_MUTATING_ADMISSION=1 SAGUARD_CP_NODES=0 " +
                       source("tests/controlplane/up.sh") + " " + dir_;
      std::fprintf(stderr, "[controlplane] starting: %s\n", up.c_str());
      auto started = std::chrono::steady_clock::now();
      int rc = std::system(up.c_str());
      ASSERT_EQ(rc, 0) << "tests/controlplane/up.sh " << dir_ << " failed (see its output above)";
      auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      std::fprintf(stderr, "[controlplane] ready in %.1f s\n", secs);
    }
    g_plane = ControlPlane::fromDir(dir_);
    ASSERT_FALSE(g_plane.kubeconfig.empty()) << dir_ << "/env has no KUBECONFIG";
    g_up = true;
  }

  void TearDown() override {
    g_up = false;
    if (!owned_) return;
    std::string down = source("tests/controlplane/down.sh") + " " + dir_;
    if (std::system(down.c_str()) != 0) std::fprintf(stderr, "[controlplane] down.sh failed\n");
  }

 private:
  std::string dir_;
  bool owned_ = false;
};

}  // namespace

ControlPlane ControlPlane::fromDir(const std::string& dir) {
  auto vars = readEnvFile(dir + "/env");
  ControlPlane plane;
  plane.dir = dir;
  plane.kubeconfig = vars["KUBECONFIG"];
  plane.kubectlPath = vars["KUBECTL"];
  plane.binDir = vars["BIN_DIR"];
  plane.apiServerUrl = vars["APISERVER_URL"];
  plane.etcdUrl = vars["ETCD_URL"];
  plane.caFile = vars["CONTROLPLANE_CA"];
  plane.adminCertFile = vars["CONTROLPLANE_ADMIN_CERT"];
  plane.adminKeyFile = vars["CONTROLPLANE_ADMIN_KEY"];
  plane.saSigningKeyFile = vars["CONTROLPLANE_SA_KEY"];
  plane.audit.logPath = vars["AUDIT_LOG_PATH"];
  plane.audit.webhookPort = vars["AUDIT_WEBHOOK_PORT"];
  plane.audit.webhookUrl = vars["AUDIT_WEBHOOK_URL"];
  plane.audit.webhookCertFile = vars["AUDIT_WEBHOOK_CERT"];
  plane.audit.webhookKeyFile = vars["AUDIT_WEBHOOK_KEY"];
  plane.audit.clientCaFile = vars["AUDIT_WEBHOOK_CLIENT_CA"];
  plane.audit.clientCertFile = vars["AUDIT_CLIENT_CERT"];
  plane.audit.clientKeyFile = vars["AUDIT_CLIENT_KEY"];
  plane.mutatingAdmission = vars["MUTATING_ADMISSION"] == "1";
  plane.nodes = vars["NODES"].empty() ? 0 : std::stoi(vars["NODES"]);
  return plane;
}

CommandResult ControlPlane::kubectl(const std::string& args, const std::string& input) const {
  return run(kubectlPath + " --kubeconfig=" + kubeconfig + " " + args, input);
}

std::string ControlPlane::apiServerPort() const {
  return apiServerUrl.substr(apiServerUrl.rfind(':') + 1);
}

std::int64_t ControlPlane::etcdRevision() const {
  auto r =
      run("curl -sf -X POST " + etcdUrl + "/v3/kv/range -d " + shellQuote(R"({"key":"AA=="})"));
  if (r.exitCode != 0) throw std::runtime_error("etcd range failed: " + r.err);
  auto answer = nlohmann::json::parse(r.out, nullptr, false);
  if (!answer.is_object() || !answer["header"].contains("revision")) {
    throw std::runtime_error("etcd range: no header.revision in " + r.out);
  }
  return std::stoll(answer["header"]["revision"].get<std::string>());
}

void ControlPlane::compactEtcd(std::int64_t revision) const {
  auto r = run("curl -sf -X POST " + etcdUrl + "/v3/kv/compaction -d " +
               shellQuote(R"({"revision":")" + std::to_string(revision) + R"(","physical":true})"));
  if (r.exitCode != 0) throw std::runtime_error("etcd compaction failed: " + r.err);
}

CommandResult ControlPlane::stopApiServer(bool kill) const {
  return run(source("tests/controlplane/apiserver.sh") + " stop " + (kill ? "--kill " : "") + dir);
}

CommandResult ControlPlane::startApiServer() const {
  return run(source("tests/controlplane/apiserver.sh") + " start " + dir);
}

const ControlPlane& controlPlane() {
  if (!g_up) throw std::logic_error("controlPlane() called outside a test");
  return g_plane;
}

CommandResult run(const std::string& commandLine, const std::string& input) {
  std::string inPath = tempPath("in");
  std::string errPath = tempPath("err");
  {
    std::ofstream in(inPath);
    in << input;
  }
  std::string full = "(" + commandLine + ") <" + inPath + " 2>" + errPath;
  CommandResult result;
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed: " + commandLine);
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) result.out.append(buf, n);
  int status = pclose(pipe);
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.err = readFile(errPath);
  std::remove(inPath.c_str());
  std::remove(errPath.c_str());
  return result;
}

CommandResult kubectl(const std::string& args, const std::string& input) {
  return controlPlane().kubectl(args, input);
}

std::string freshNamespace(const std::string& prefix,
                           const std::vector<std::pair<std::string, std::string>>& labels) {
  std::string name = prefix + "-" + randomSuffix();
  std::string manifest = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + name + "\n";
  if (!labels.empty()) {
    manifest += "  labels:\n";
    for (const auto& [k, v] : labels) manifest += "    " + k + ": \"" + v + "\"\n";
  }
  auto r = kubectl("create -f -", manifest);
  if (r.exitCode != 0) throw std::runtime_error("creating namespace " + name + ": " + r.err);
  return name;
}

bool installPolicyCrd() {
  if (kubectl("apply -f " + source("crd/saguard.io_serviceaccountpolicies.yaml")).exitCode != 0) {
    return false;
  }
  return kubectl(
             "wait --for=condition=Established --timeout=60s "
             "crd/serviceaccountpolicies.saguard.io")
             .exitCode == 0;
}

long apiRequestTotal(const std::string& verb, const std::string& resource) {
  return controlPlane().apiRequestTotal(verb, resource);
}

long ControlPlane::apiRequestTotal(const std::string& verb, const std::string& resource) const {
  const CommandResult r = kubectl("get --raw /metrics");
  long total = 0;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("apiserver_request_total{")) continue;
    if (line.find("verb=\"" + verb + "\"") == std::string::npos) continue;
    if (line.find("resource=\"" + resource + "\"") == std::string::npos) continue;
    total += std::stol(line.substr(line.rfind(' ') + 1));
  }
  return total;
}

nlohmann::json kubectlJson(const std::string& args) {
  const CommandResult r = kubectl("get -o json " + args);
  if (r.exitCode != 0) return nullptr;
  nlohmann::json parsed = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? nlohmann::json() : parsed;
}

bool waitForControllerManager(int timeoutMs) {
  std::string ns = freshNamespace("kcm-probe");
  bool ok = eventually(
      timeoutMs, [&] { return kubectl("get serviceaccount default -n " + ns).exitCode == 0; });
  kubectl("delete namespace " + ns + " --wait=false");
  return ok;
}

bool eventually(int timeoutMs, const std::function<bool()>& predicate) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  while (true) {
    if (predicate()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace saguard::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new saguard::testing::ControlPlaneEnvironment());
  return RUN_ALL_TESTS();
}
