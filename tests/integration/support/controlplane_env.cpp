#include "integration/support/controlplane_env.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace saguard::testing {
namespace {

ControlPlane g_plane;
bool g_up = false;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

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
      char pattern[] = "/tmp/saguard-cp-XXXXXX";
      char* made = mkdtemp(pattern);
      ASSERT_NE(made, nullptr) << "mkdtemp failed";
      dir_ = made;
      owned_ = true;
      std::string up = std::string(SAGUARD_SOURCE_DIR) + "/tests/controlplane/up.sh " + dir_;
      std::fprintf(stderr, "[controlplane] starting: %s\n", up.c_str());
      auto started = std::chrono::steady_clock::now();
      int rc = std::system(up.c_str());
      ASSERT_EQ(rc, 0) << "tests/controlplane/up.sh " << dir_ << " failed (see its output above)";
      auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      std::fprintf(stderr, "[controlplane] ready in %.1f s\n", secs);
    }
    auto vars = readEnvFile(dir_ + "/env");
    g_plane.dir = dir_;
    g_plane.kubeconfig = vars["KUBECONFIG"];
    g_plane.kubectl = vars["KUBECTL"];
    g_plane.binDir = vars["BIN_DIR"];
    g_plane.apiServerUrl = vars["APISERVER_URL"];
    g_plane.etcdUrl = vars["ETCD_URL"];
    g_plane.caFile = vars["CONTROLPLANE_CA"];
    g_plane.adminCertFile = vars["CONTROLPLANE_ADMIN_CERT"];
    g_plane.adminKeyFile = vars["CONTROLPLANE_ADMIN_KEY"];
    g_plane.saSigningKeyFile = vars["CONTROLPLANE_SA_KEY"];
    ASSERT_FALSE(g_plane.kubeconfig.empty()) << dir_ << "/env has no KUBECONFIG";
    g_up = true;
  }

  void TearDown() override {
    g_up = false;
    if (!owned_) return;
    std::string down = std::string(SAGUARD_SOURCE_DIR) + "/tests/controlplane/down.sh " + dir_;
    if (std::system(down.c_str()) != 0) std::fprintf(stderr, "[controlplane] down.sh failed\n");
  }

 private:
  std::string dir_;
  bool owned_ = false;
};

}  // namespace

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
  const auto& cp = controlPlane();
  return run(cp.kubectl + " --kubeconfig=" + cp.kubeconfig + " " + args, input);
}

std::string freshNamespace(const std::string& prefix,
                           const std::vector<std::pair<std::string, std::string>>& labels) {
  static std::mt19937_64 rng(std::random_device{}());
  static const char* alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string name = prefix + "-";
  for (int i = 0; i < 6; ++i) name += alphabet[rng() % 36];
  std::string manifest = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + name + "\n";
  if (!labels.empty()) {
    manifest += "  labels:\n";
    for (const auto& [k, v] : labels) manifest += "    " + k + ": \"" + v + "\"\n";
  }
  auto r = kubectl("create -f -", manifest);
  if (r.exitCode != 0) throw std::runtime_error("creating namespace " + name + ": " + r.err);
  return name;
}

bool waitForControllerManager(int timeoutMs) {
  std::string ns = freshNamespace("kcm-probe");
  bool ok = eventually(timeoutMs, [&] { return kubectl("get serviceaccount default -n " + ns).exitCode == 0; });
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
