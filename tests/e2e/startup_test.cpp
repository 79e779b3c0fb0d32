// How `saguard run` ends when it cannot start: each start-up error it can be given is
// provoked on the built binary, which must exit with status 1 and the one log line that
// says what to fix, and not hang (issue 20: a thread parked in sigwait() kept every failed
// start-up alive until a SIGTERM). Each run is bounded by `timeout 20`, whose status 124
// would mean a hang; the time each took is printed, not asserted.
//
// Which start-up conditions are fatal (README "Running it"):
//   fatal, exit 1:   a flag value out of range, a kubeconfig or in-cluster file that cannot
//                    be read, a bind address already in use (metrics or probes)
//   retried:         an API server that does not answer (down, unreachable, overloaded):
//                    saguard asks it who it is every 1-30 s until it answers, /readyz says
//                    not ready meanwhile, and SIGTERM still ends it with status 0
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "integration/support/controlplane_env.h"

namespace saguard::testing {
namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct Ended {
  int status = -1;  // the shell's exit status: 124 = killed by timeout
  std::string log;  // standard output and error
  double seconds = 0;
};

// Runs `env saguard run FLAGS` in the foreground under `timeout 20`.
Ended runSaguard(const std::string& flags, const std::string& env = "") {
  const auto started = std::chrono::steady_clock::now();
  auto r = run("timeout -s KILL 20 env " + env + " " + SAGUARD_BINARY +
               " run --metrics-bind-address=0 --health-probe-bind-address=0 " + flags + " 2>&1");
  Ended ended{r.exitCode, r.out,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()};
  std::printf("[ startup  ] saguard run %s: status %d after %.2f s\n", flags.c_str(), ended.status, ended.seconds);
  return ended;
}

// A loopback TCP port that is in use (listening) while the object lives.
class BusyPort {
 public:
  BusyPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd_, 1) != 0) return;
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~BusyPort() { close(fd_); }
  BusyPort(const BusyPort&) = delete;
  BusyPort& operator=(const BusyPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A loopback port that nothing listens on (bound, then released).
int closedPort() {
  BusyPort probe;
  return probe.port();
}

// An in-cluster service-account folder (token, ca.crt, namespace) for the local control
// plane; `withToken` false leaves the token file out.
std::string serviceAccountDir(bool withToken) {
  std::string dir = run("mktemp -d /tmp/saguard-startup-XXXXXX").out;
  dir.erase(dir.find_last_not_of('\n') + 1);
  if (withToken) std::ofstream(dir + "/token") << "not-a-real-token";
  std::ofstream(dir + "/ca.crt") << readFile(controlPlane().caFile);
  std::ofstream(dir + "/namespace") << "default";
  return dir;
}

std::string inCluster(const std::string& dir, int port) {
  return "KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=" + std::to_string(port) +
         " SAGUARD_SERVICEACCOUNT_DIR=" + dir;
}

void expectFailedWith(const Ended& ended, const std::string& message) {
  EXPECT_EQ(ended.status, 1) << "124 means it hung; log:\n" << ended.log;
  EXPECT_NE(ended.log.find(message), std::string::npos) << "expected \"" << message << "\" in:\n" << ended.log;
}

TEST(StartupTest, MissingKubeconfigExits) {
  expectFailedWith(runSaguard("--kubeconfig /nonexistent/kubeconfig"),
                   "kubeconfig /nonexistent/kubeconfig: cannot read");
}

TEST(StartupTest, UnreadableInClusterTokenExits) {
  const std::string dir = serviceAccountDir(false);
  const std::string url = controlPlane().apiServerUrl;
  const int port = std::stoi(url.substr(url.rfind(':') + 1));
  expectFailedWith(runSaguard("", inCluster(dir, port)), "cannot read " + dir + "/token");
}

TEST(StartupTest, MetricsPortInUseExits) {
  BusyPort busy;
  ASSERT_GT(busy.port(), 0);
  const std::string address = "127.0.0.1:" + std::to_string(busy.port());
  expectFailedWith(runSaguard("--kubeconfig " + controlPlane().kubeconfig + " --metrics-bind-address=" + address),
                   "--metrics-bind-address " + address + ":");
}

TEST(StartupTest, ProbePortInUseExits) {
  BusyPort busy;
  ASSERT_GT(busy.port(), 0);
  const std::string address = "127.0.0.1:" + std::to_string(busy.port());
  expectFailedWith(
      runSaguard("--kubeconfig " + controlPlane().kubeconfig + " --health-probe-bind-address=" + address),
      "--health-probe-bind-address " + address + ":");
}

TEST(StartupTest, FlagOutOfRangeExits) {
  expectFailedWith(runSaguard("--kubeconfig " + controlPlane().kubeconfig + " --workers 0"),
                   "--workers: must be at least 1");
}

// Not fatal: an API server that does not answer is asked again until SIGTERM, which
// ends the run cleanly (status 0).
TEST(StartupTest, UnreachableApiServerIsRetriedAndSigtermStillEndsIt) {
  const std::string dir = serviceAccountDir(true);
  const std::string log = dir + "/saguard.log";
  const std::string script =
      "env " + inCluster(dir, closedPort()) + " " + SAGUARD_BINARY +
      " run --metrics-bind-address=0 --health-probe-bind-address=0 >" + log + " 2>&1 & pid=$!; " +
      // Wait (up to 15 s) for the second attempt, then stop it.
      "for i in $(seq 150); do [ $(grep -c 'did not answer who saguard is' " + log +
      ") -ge 2 ] && break; sleep 0.1; done; kill -TERM $pid; wait $pid; echo $?\n";
  std::ofstream(dir + "/run.sh") << script;
  auto r = run("timeout -s KILL 30 bash " + dir + "/run.sh");
  const std::string text = readFile(log);
  EXPECT_EQ(r.out, "0\n") << text;
  EXPECT_NE(text.find("did not answer who saguard is"), std::string::npos) << text;
  EXPECT_NE(text.find("received SIGTERM, shutting down"), std::string::npos) << text;
}

}  // namespace
}  // namespace saguard::testing
