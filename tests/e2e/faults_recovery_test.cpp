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
// The processes are forked and exec'd directly so that their exit status can be read.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/support/controlplane_env.h"

extern char** environ;

namespace saguard::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string source(const std::string& relative) {
  return std::string(SAGUARD_SOURCE_DIR) + "/" + relative;
}

std::string readWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string shellQuote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string trimmed(std::string s) {
  s.erase(s.find_last_not_of(" \n\r\t") + 1);
  return s;
}

std::string randomSuffix() {
  static std::mt19937_64 rng(std::random_device{}());
  static const char* alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (int i = 0; i < 6; ++i) s += alphabet[rng() % 36];
  return s;
}

// "2026-11-30T13:02:21.123456Z" (the log's and the Lease's MicroTime format) -> seconds
// since the epoch; nullopt when it does not parse.
std::optional<double> parseMicroTime(const std::string& text) {
  std::tm tm{};
  int micros = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%6dZ", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &micros) != 7) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(timegm(&tm)) + micros / 1e6;
}

// A control plane to talk to: the shared one, or a dedicated one started by a test.
struct Plane {
  std::string dir;
  std::string kubeconfig;
  std::string kubectl;
  std::string apiServerUrl;
  std::string etcdUrl;
  std::string caFile;

  static Plane shared() {
    const auto& cp = controlPlane();
    return {cp.dir, cp.kubeconfig, cp.kubectlPath, cp.apiServerUrl, cp.etcdUrl, cp.caFile};
  }
  static Plane fromEnvFile(const std::string& dir) {
    std::map<std::string, std::string> vars;
    std::istringstream in(readWholeFile(dir + "/env"));
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("export ", 0) != 0) continue;
      auto eq = line.find('=');
      if (eq != std::string::npos) vars[line.substr(7, eq - 7)] = line.substr(eq + 1);
    }
    return {dir,
            vars["KUBECONFIG"],
            vars["KUBECTL"],
            vars["APISERVER_URL"],
            vars["ETCD_URL"],
            vars["CONTROLPLANE_CA"]};
  }

  CommandResult kube(const std::string& args, const std::string& input = "") const {
    return run(kubectl + " --kubeconfig=" + kubeconfig + " " + args, input);
  }
  std::string port() const { return apiServerUrl.substr(apiServerUrl.rfind(':') + 1); }

  // "true", "false", "unset", or "" when the account does not exist.
  std::string automount(const std::string& ns, const std::string& name) const {
    auto r = kube("get serviceaccount " + name + " -n " + ns + " -o json");
    if (r.exitCode != 0) return "";
    json sa = json::parse(r.out, nullptr, false);
    if (!sa.is_object() || !sa.contains("automountServiceAccountToken")) return "unset";
    return sa["automountServiceAccountToken"].get<bool>() ? "true" : "false";
  }
  void createAccount(const std::string& ns, const std::string& name) const {
    auto r =
        kube("create -f -", "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: " + name +
                                "\n  namespace: " + ns + "\nautomountServiceAccountToken: true\n");
    EXPECT_EQ(r.exitCode, 0) << r.err;
  }
  std::string createNamespace(const std::string& prefix, const std::string& label) const {
    std::string name = prefix + "-" + randomSuffix();
    auto r = kube("create -f -", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + name +
                                     "\n  labels:\n    " + label + ": \"on\"\n");
    EXPECT_EQ(r.exitCode, 0) << r.err;
    return name;
  }
  // The namespace, RBAC and CRD saguard is deployed with.
  void install() const {
    auto ns = kube("apply -f " + source("manifests/manager/namespace.yaml"));
    ASSERT_EQ(ns.exitCode, 0) << ns.err;
    auto rbac = kube("apply -k " + source("manifests/rbac"));
    ASSERT_EQ(rbac.exitCode, 0) << rbac.err;
    auto crd = kube("apply -f " + source("crd/saguard.io_serviceaccountpolicies.yaml"));
    ASSERT_EQ(crd.exitCode, 0) << crd.err;
    auto established = kube(
        "wait --for=condition=Established --timeout=60s crd/serviceaccountpolicies.saguard.io");
    ASSERT_EQ(established.exitCode, 0) << established.err;
  }
  std::string token(const std::string& extra = "") const {
    auto r = kube("create token saguard -n saguard-system --duration=1h " + extra);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    return trimmed(r.out);
  }
};

// The service-account folder as the kubelet lays it out: the files are symlinks into
// ..data, itself a symlink to a timestamped folder; an update writes a new folder and
// renames a new ..data symlink over the old one, so readers see the old set or the new
// set, never a mix.
class TokenDir {
 public:
  TokenDir(const std::string& token, const std::string& caFile) {
    char pattern[] = "/tmp/saguard-faults-b-XXXXXX";
    dir_ = mkdtemp(pattern);
    ca_ = readWholeFile(caFile);
    publish(token);
    for (const char* file : {"token", "ca.crt", "namespace"}) {
      EXPECT_EQ(symlink((std::string("..data/") + file).c_str(), (dir_ + "/" + file).c_str()), 0);
    }
  }
  ~TokenDir() { run("rm -rf " + shellQuote(dir_)); }
  const std::string& path() const { return dir_; }

  // Writes `token` the way the kubelet rotates it.
  void publish(const std::string& token) {
    std::string data = "..v" + std::to_string(++generation_);
    std::string full = dir_ + "/" + data;
    EXPECT_EQ(mkdir(full.c_str(), 0755), 0);
    std::ofstream(full + "/token") << token;
    std::ofstream(full + "/ca.crt") << ca_;
    std::ofstream(full + "/namespace") << "saguard-system";
    std::string tmp = dir_ + "/..data_tmp";
    unlink(tmp.c_str());
    EXPECT_EQ(symlink(data.c_str(), tmp.c_str()), 0);
    EXPECT_EQ(rename(tmp.c_str(), (dir_ + "/..data").c_str()), 0);
  }

 private:
  std::string dir_;
  std::string ca_;
  int generation_ = 0;
};

// One saguard process, forked and exec'd (not through a shell) so that waitFor() can
// read its exit status. Output goes to a log file.
class RunningSaguard {
 public:
  RunningSaguard(const Plane& plane, const TokenDir& tokens, const std::string& logPath,
                 const std::vector<std::string>& flags)
      : log_(logPath) {
    std::vector<std::string> args = {SAGUARD_BINARY, "run", "--metrics-bind-address=127.0.0.1:0",
                                     "--health-probe-bind-address=127.0.0.1:0",
                                     "--log-level=debug"};
    args.insert(args.end(), flags.begin(), flags.end());
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string_view v(*e);
      if (v.starts_with("KUBECONFIG=") || v.starts_with("KUBERNETES_SERVICE_") ||
          v.starts_with("SAGUARD_SERVICEACCOUNT_DIR=")) {
        continue;
      }
      env.emplace_back(v);
    }
    env.push_back("KUBERNETES_SERVICE_HOST=127.0.0.1");
    env.push_back("KUBERNETES_SERVICE_PORT=" + plane.port());
    env.push_back("SAGUARD_SERVICEACCOUNT_DIR=" + tokens.path());
    // Everything the child needs is built before fork(): after it, only
    // async-signal-safe calls.
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    const char* path = log_.c_str();
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd < 0) _exit(126);
      dup2(fd, 1);
      dup2(fd, 2);
      int devnull = open("/dev/null", O_RDONLY);
      if (devnull >= 0) dup2(devnull, 0);
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
  }
  // Kills the process if it still runs; keeps the log only when the test failed.
  ~RunningSaguard() {
    if (running()) {
      kill(pid_, SIGCONT);
      kill(pid_, SIGKILL);
      waitFor(10s);
    }
    if (!::testing::Test::HasFailure()) std::remove(log_.c_str());
  }
  RunningSaguard(const RunningSaguard&) = delete;
  RunningSaguard& operator=(const RunningSaguard&) = delete;

  pid_t pid() const { return pid_; }
  std::string log() const { return readWholeFile(log_); }
  bool logs(const std::string& needle) const { return log().find(needle) != std::string::npos; }
  std::size_t count(const std::string& needle) const {
    std::string text = log();
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
  }
  int port(const std::string& what) const {
    std::smatch m;
    std::string text = log();
    std::regex re("serving " + what + " on port ([0-9]+)");
    return std::regex_search(text, m, re) ? std::stoi(m[1]) : 0;
  }
  void signal(int sig) {
    if (running()) kill(pid_, sig);
  }
  // Reaps the process if it has exited.
  bool running() {
    if (pid_ <= 0 || status_) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) status_ = status;
    return !status_;
  }

  // Waits up to `timeout` for the process to exit; its wait status, or nullopt if it
  // is still running.
  std::optional<int> waitFor(std::chrono::milliseconds timeout) {
    if (status_) return status_;
    if (pid_ <= 0) return std::nullopt;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      int status = 0;
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        status_ = status;
        return status_;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(20ms);
    }
  }

  // HTTP status of GET path on the probe port (0 when it does not answer).
  int probe(const std::string& path) const {
    int p = port("/healthz and /readyz");
    if (p == 0) return 0;
    auto r =
        run("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:" + std::to_string(p) + path);
    return std::atoi(r.out.c_str());
  }
  bool ready() const { return probe("/readyz") == 200; }

  // The log lines that contain `needle`.
  std::vector<std::string> lines(const std::string& needle) const {
    std::vector<std::string> out;
    std::istringstream in(log());
    std::string line;
    while (std::getline(in, line)) {
      if (line.find(needle) != std::string::npos) out.push_back(line);
    }
    return out;
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

std::string describeStatus(std::optional<int> status) {
  if (!status) return "still running";
  if (WIFEXITED(*status)) return "exit " + std::to_string(WEXITSTATUS(*status));
  if (WIFSIGNALED(*status)) return "killed by signal " + std::to_string(WTERMSIG(*status));
  return "status " + std::to_string(*status);
}

// The time a log line starts with, as seconds since the epoch.
std::optional<double> lineTime(const std::string& line) {
  return parseMicroTime(line.substr(0, line.find(' ')));
}

// Writes (anything but GETs, the Lease's own requests and the start-up
// SelfSubjectReview) that a saguard debug log shows the API server answering:
// "PATCH https://.../serviceaccounts/x -> 200 (3 ms)".
std::vector<std::string> writeLines(const RunningSaguard& p) {
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

std::string policyJson(const Plane& plane, const std::string& name) {
  return plane.kube("get sap " + name + " -o json").out;
}

class FaultsRecoveryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { Plane::shared().install(); }
  static std::string logPath(const std::string& what) {
    return "/tmp/saguard-faults-b-" + what + "-" + randomSuffix() + ".log";
  }
};

// ---------------------------------------------------------------------------------------
// 4. SIGTERM: a clean exit, status 0.

TEST_F(FaultsRecoveryTest, SigtermExitsWithStatusZero) {
  Plane plane = Plane::shared();
  TokenDir tokens(plane.token(), plane.caFile);
  RunningSaguard saguard(plane, tokens, logPath("sigterm"), {});
  ASSERT_TRUE(eventually(60'000, [&] { return saguard.ready() || !saguard.running(); }))
      << saguard.log();
  ASSERT_TRUE(saguard.running()) << saguard.log();
  saguard.signal(SIGTERM);
  auto status = saguard.waitFor(20s);
  ASSERT_TRUE(status.has_value()) << "still running 20 s after SIGTERM\n" << saguard.log();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describeStatus(status) << "\n"
                                                               << saguard.log();
  EXPECT_TRUE(saguard.logs("received SIGTERM")) << saguard.log();
  EXPECT_TRUE(saguard.logs("stopped")) << saguard.log();
}

TEST_F(FaultsRecoveryTest, SigtermExitsWithStatusZeroAsTheLeaderAndReleasesTheLease) {
  Plane plane = Plane::shared();
  TokenDir tokens(plane.token(), plane.caFile);
  const std::string lease = "faults-b-sigterm-" + randomSuffix();
  RunningSaguard saguard(plane, tokens, logPath("sigterm-leader"),
                         {"--leader-elect", "--leader-election-namespace=saguard-system",
                          "--leader-election-id=" + lease});
  ASSERT_TRUE(eventually(60'000, [&] {
    return saguard.logs("became the leader") || !saguard.running();
  })) << saguard.log();
  saguard.signal(SIGTERM);
  auto status = saguard.waitFor(30s);
  ASSERT_TRUE(status.has_value()) << "still running 30 s after SIGTERM\n" << saguard.log();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describeStatus(status) << "\n"
                                                               << saguard.log();
  // Released: the holder is cleared so that a standby need not wait for expiry.
  auto got = plane.kube("get lease " + lease + " -n saguard-system -o json");
  ASSERT_EQ(got.exitCode, 0) << got.err;
  json spec = json::parse(got.out, nullptr, false)["spec"];
  EXPECT_EQ(spec.value("holderIdentity", ""), "") << got.out;
  plane.kube("delete lease " + lease + " -n saguard-system");
}

// ---------------------------------------------------------------------------------------
// 3. Token rotation, in-cluster style.

TEST_F(FaultsRecoveryTest, KeepsWorkingWhenTheTokenFileRotatesAndTheOldTokenIsRevoked) {
  Plane plane = Plane::shared();
  // The old token is bound to a Secret: deleting the Secret invalidates the token.
  const std::string secret = "faults-b-token-" + randomSuffix();
  ASSERT_EQ(plane.kube("create secret generic " + secret + " -n saguard-system").exitCode, 0);
  const std::string oldToken =
      plane.token("--bound-object-kind Secret --bound-object-name " + secret);
  ASSERT_FALSE(oldToken.empty());
  TokenDir tokens(oldToken, plane.caFile);
  RunningSaguard saguard(plane, tokens, logPath("rotation"), {});
  ASSERT_TRUE(eventually(60'000, [&] { return saguard.ready() || !saguard.running(); }))
      << saguard.log();

  const std::string label = "faults-b-rot-" + randomSuffix();
  const std::string policy = label;
  std::string ns = plane.createNamespace("faults-b-rot", label);
  ASSERT_TRUE(eventually(30'000, [&] { return plane.automount(ns, "default") != ""; }));
  auto applied =
      plane.kube("apply -f -",
                 "apiVersion: saguard.io/v1alpha1\nkind: ServiceAccountPolicy\nmetadata:\n"
                 "  name: " +
                     policy +
                     "\nspec:\n  namespaces:\n    selector:\n"
                     "      matchLabels: {" +
                     label + ": \"on\"}\n");
  ASSERT_EQ(applied.exitCode, 0) << applied.err;
  ASSERT_TRUE(eventually(15'000, [&] { return plane.automount(ns, "default") == "false"; }))
      << saguard.log();

  // Rotate as the kubelet does, then revoke the old token.
  tokens.publish(plane.token());
  ASSERT_EQ(plane.kube("delete secret " + secret + " -n saguard-system").exitCode, 0);
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
  plane.createAccount(ns, "after-rotation");
  EXPECT_TRUE(eventually(30'000, [&] { return plane.automount(ns, "after-rotation") == "false"; }))
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
  auto status = saguard.waitFor(20s);
  EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describeStatus(status);
  plane.kube("delete sap " + policy);
}

// ---------------------------------------------------------------------------------------
// 2. Lease loss without death.

TEST_F(FaultsRecoveryTest, ALeaderThatLosesItsLeaseWritesNothingAfterTheNewLeaderAcquiresIt) {
  Plane plane = Plane::shared();
  TokenDir tokens(plane.token(), plane.caFile);
  const std::string lease = "faults-b-lease-" + randomSuffix();
  const std::vector<std::string> flags = {"--leader-elect",
                                          "--leader-election-namespace=saguard-system",
                                          "--leader-election-id=" + lease};
  RunningSaguard first(plane, tokens, logPath("lease-1"), flags);
  RunningSaguard second(plane, tokens, logPath("lease-2"), flags);
  auto leads = [](const RunningSaguard& p) { return p.logs("became the leader"); };
  ASSERT_TRUE(eventually(60'000, [&] { return leads(first) || leads(second); }))
      << first.log() << second.log();
  ASSERT_TRUE(eventually(60'000, [&] { return first.ready() && second.ready(); }));
  ASSERT_NE(leads(first), leads(second)) << "exactly one replica leads";
  RunningSaguard& oldLeader = leads(first) ? first : second;
  RunningSaguard& standby = leads(first) ? second : first;

  auto leaseSpec = [&] {
    auto r = plane.kube("get lease " + lease + " -n saguard-system -o json");
    json j = json::parse(r.out, nullptr, false);
    return j.is_object() ? j["spec"] : json::object();
  };
  const std::string oldHolder = leaseSpec().value("holderIdentity", "");
  ASSERT_FALSE(oldHolder.empty());

  const std::string label = "faults-b-ha-" + randomSuffix();
  std::string ns = plane.createNamespace("faults-b-ha", label);
  ASSERT_TRUE(eventually(30'000, [&] { return plane.automount(ns, "default") != ""; }));
  auto applied =
      plane.kube("apply -f -",
                 "apiVersion: saguard.io/v1alpha1\nkind: ServiceAccountPolicy\nmetadata:\n"
                 "  name: " +
                     label +
                     "\nspec:\n  namespaces:\n    selector:\n"
                     "      matchLabels: {" +
                     label + ": \"on\"}\n");
  ASSERT_EQ(applied.exitCode, 0) << applied.err;
  ASSERT_TRUE(eventually(15'000, [&] { return plane.automount(ns, "default") == "false"; }))
      << oldLeader.log();
  ASSERT_TRUE(oldLeader.logs("patched " + ns + "/default"));

  // Freeze the leader: it neither renews nor dies. Work arrives meanwhile.
  oldLeader.signal(SIGSTOP);
  plane.createAccount(ns, "while-frozen");
  // The standby takes over once the record has not changed for the lease duration (15 s).
  ASSERT_TRUE(eventually(60'000, [&] {
    std::string holder = leaseSpec().value("holderIdentity", "");
    return !holder.empty() && holder != oldHolder;
  })) << standby.log();
  ASSERT_TRUE(eventually(20'000, [&] { return plane.automount(ns, "while-frozen") == "false"; }))
      << standby.log();

  // Thaw the old leader with work it would like to do: drift on an account it patched,
  // and a new account. Its watches deliver both as soon as it runs again.
  ASSERT_EQ(plane
                .kube("patch serviceaccount default -n " + ns +
                      " --type=merge -p '{\"automountServiceAccountToken\":true}'")
                .exitCode,
            0);
  plane.createAccount(ns, "after-thaw");
  oldLeader.signal(SIGCONT);
  const auto thawed = std::chrono::system_clock::now();

  auto status = oldLeader.waitFor(30s);
  ASSERT_TRUE(status.has_value())
      << "the old leader is still running 30 s after it lost the lease\n"
      << oldLeader.log();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) != 0)
      << "a leader that lost its lease exits non-zero: " << describeStatus(status);
  EXPECT_TRUE(oldLeader.logs("lost leadership")) << oldLeader.log();
  EXPECT_TRUE(eventually(20'000, [&] { return plane.automount(ns, "after-thaw") == "false"; }))
      << standby.log();
  EXPECT_TRUE(eventually(20'000, [&] { return plane.automount(ns, "default") == "false"; }))
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
  standby.waitFor(20s);
  plane.kube("delete sap " + label);
  plane.kube("delete lease " + lease + " -n saguard-system");
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

class DedicatedPlane {
 public:
  explicit DedicatedPlane(const std::string& apiServerArgs) {
    char pattern[] = "/tmp/saguard-faults-b-cp-XXXXXX";
    dir_ = mkdtemp(pattern);
    auto up = run("SAGUARD_CP_APISERVER_ARGS=" + shellQuote(apiServerArgs) + " " +
                  source("tests/controlplane/up.sh") + " " + dir_);
    up_ = up.exitCode == 0;
    upError_ = up.err;
    if (up_) plane_ = Plane::fromEnvFile(dir_);
  }
  ~DedicatedPlane() {
    run(source("tests/controlplane/down.sh") + " " + dir_);
    run("rm -rf " + shellQuote(dir_));
  }
  bool up() const { return up_; }
  const std::string& upError() const { return upError_; }
  const Plane& plane() const { return plane_; }

  std::string etcd(const std::string& path, const std::string& body) const {
    auto r = run("curl -sf -X POST " + plane_.etcdUrl + path + " -d " + shellQuote(body));
    EXPECT_EQ(r.exitCode, 0) << path << ": " << r.err;
    return r.out;
  }
  std::int64_t etcdRevision() const {
    json j = json::parse(etcd("/v3/kv/range", R"({"key":"AA=="})"), nullptr, false);
    if (!j.is_object()) return 0;
    return std::stoll(j["header"].value("revision", "0"));
  }
  void compact(std::int64_t revision) const {
    etcd("/v3/kv/compaction",
         R"({"revision":")" + std::to_string(revision) + R"(","physical":true})");
  }

  // Stops kube-apiserver and starts it again with the same command line (same port);
  // records the new pid for down.sh. Returns once /readyz answers ok.
  bool restartApiServer() const {
    const std::string pidFile = dir_ + "/apiserver.pid";
    const pid_t pid = static_cast<pid_t>(std::stol(readWholeFile(pidFile)));
    std::string raw = readWholeFile("/proc/" + std::to_string(pid) + "/cmdline");
    if (raw.empty()) return false;
    std::string commandLine, arg;
    for (char c : raw) {
      if (c != '\0') {
        arg += c;
        continue;
      }
      commandLine += (commandLine.empty() ? "" : " ") + shellQuote(arg);
      arg.clear();
    }
    kill(pid, SIGTERM);
    if (!eventually(30'000, [&] { return kill(pid, 0) != 0; })) {
      kill(pid, SIGKILL);
      eventually(10'000, [&] { return kill(pid, 0) != 0; });
    }
    auto started = run(commandLine + " >>" + shellQuote(dir_ + "/apiserver.log") +
                       " 2>&1 </dev/null & echo $!");
    if (started.exitCode != 0) return false;
    std::ofstream(pidFile, std::ios::trunc) << trimmed(started.out) << "\n";
    return eventually(120'000, [&] {
      auto r = plane_.kube("get --raw /readyz");
      return r.exitCode == 0 && r.out == "ok";
    });
  }

 private:
  std::string dir_;
  bool up_ = false;
  std::string upError_;
  Plane plane_;
};

TEST_F(FaultsRecoveryTest, RelistsAfterACompactionGapAndHandlesWhatChangedInIt) {
  DedicatedPlane dedicated("--watch-cache=false");
  ASSERT_TRUE(dedicated.up()) << dedicated.upError();
  const Plane& plane = dedicated.plane();
  plane.install();
  if (HasFatalFailure()) return;
  TokenDir tokens(plane.token(), plane.caFile);

  const std::string label = "faults-b-gap";
  std::string ns = plane.createNamespace("faults-b-gap", label);
  ASSERT_TRUE(eventually(60'000, [&] { return plane.automount(ns, "default") != ""; }));
  plane.createAccount(ns, "bound");
  ASSERT_EQ(plane
                .kube("create rolebinding grant-bound --clusterrole=view --serviceaccount=" + ns +
                      ":bound -n " + ns)
                .exitCode,
            0);
  // Enforce, but only accounts that no binding grants anything: "bound" is spared
  // while grant-bound exists. Audit of "bound": reports grant-bound as a finding.
  auto applied =
      plane.kube("apply -f -",
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

  RunningSaguard saguard(plane, tokens, logPath("gap"), {});
  ASSERT_TRUE(eventually(60'000, [&] { return saguard.ready() || !saguard.running(); }))
      << saguard.log();
  ASSERT_TRUE(eventually(15'000, [&] { return plane.automount(ns, "default") == "false"; }))
      << saguard.log();
  ASSERT_TRUE(eventually(
      15'000,
      [&] { return policyJson(plane, "gap-audit").find("grant-bound") != std::string::npos; }))
      << policyJson(plane, "gap-audit") << saguard.log();
  ASSERT_EQ(plane.automount(ns, "bound"), "true")
      << "a bound account is not selected with unboundOnly";
  ASSERT_EQ(saguard.count("is gone"), 0u) << saguard.log();

  // The gap.
  saguard.signal(SIGSTOP);
  // Cut the open watches first: events sent on a live connection would wait in the
  // frozen process's socket buffer and reach it after the thaw without any relist.
  ASSERT_TRUE(dedicated.restartApiServer());
  ASSERT_EQ(plane.kube("delete rolebinding grant-bound -n " + ns).exitCode, 0);
  plane.createAccount(ns, "created-in-gap");
  const std::int64_t revision = dedicated.etcdRevision();
  ASSERT_GT(revision, 0);
  dedicated.compact(revision);
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
  EXPECT_TRUE(eventually(30'000, [&] { return plane.automount(ns, "created-in-gap") == "false"; }))
      << saguard.log();
  EXPECT_TRUE(eventually(30'000, [&] { return plane.automount(ns, "bound") == "false"; }))
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
  auto status = saguard.waitFor(20s);
  EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describeStatus(status);
}

}  // namespace
}  // namespace saguard::testing
