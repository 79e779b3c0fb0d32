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
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "e2e/support/saguard_process.h"
#include "e2e/support/service_account_dir.h"
#include "integration/support/controlplane_env.h"
#include "integration/support/helpers.h"

namespace saguard::testing {
namespace {

// A loopback TCP port that is in use (listening) while the object lives.
class BusyPort {
 public:
  BusyPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd_, 1) != 0)
      return;
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

class StartupTest : public ::testing::Test {
 protected:
  StartupTest()
      : account_("not-a-real-token", controlPlane().caFile), dir_(makeTempDir("startup")) {}

  // Runs `saguard run FLAGS` and waits (up to 20 s) for it to end: its wait status, or
  // nullopt when it still runs (it hung).
  std::optional<int> runToEnd(std::vector<std::string> flags, std::string apiServerUrl = "") {
    const auto started = std::chrono::steady_clock::now();
    SaguardProcess saguard({.serviceAccountDir = account_.path(),
                            .log = dir_ + "/run.log",
                            .flags = flags,
                            .apiServerUrl = std::move(apiServerUrl)});
    std::optional<int> status = saguard.wait(std::chrono::seconds(20));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::string line;
    for (const auto& f : flags) line += " " + f;
    std::printf("[ startup  ] saguard run%s: %s after %.2f s\n", line.c_str(),
                describeStatus(status).c_str(), seconds);
    log_ = saguard.log();
    if (!status) saguard.stop(SIGKILL);
    return status;
  }

  void expectFailedWith(std::optional<int> status, const std::string& message) {
    EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 1)
        << describeStatus(status) << " (still running = it hung); log:\n"
        << log_;
    EXPECT_NE(log_.find(message), std::string::npos) << "expected \"" << message << "\" in:\n"
                                                     << log_;
  }

  ServiceAccountDir account_;
  std::string dir_;
  std::string log_;
};

TEST_F(StartupTest, MissingKubeconfigExits) {
  expectFailedWith(runToEnd({"--kubeconfig=/nonexistent/kubeconfig"}),
                   "kubeconfig /nonexistent/kubeconfig: cannot read");
}

TEST_F(StartupTest, UnreadableInClusterTokenExits) {
  std::filesystem::remove(account_.path() + "/token");
  expectFailedWith(runToEnd({}), "cannot read " + account_.path() + "/token");
}

TEST_F(StartupTest, MetricsPortInUseExits) {
  BusyPort busy;
  ASSERT_GT(busy.port(), 0);
  const std::string address = "127.0.0.1:" + std::to_string(busy.port());
  expectFailedWith(
      runToEnd({"--kubeconfig=" + controlPlane().kubeconfig, "--metrics-bind-address=" + address}),
      "--metrics-bind-address " + address + ":");
}

TEST_F(StartupTest, ProbePortInUseExits) {
  BusyPort busy;
  ASSERT_GT(busy.port(), 0);
  const std::string address = "127.0.0.1:" + std::to_string(busy.port());
  expectFailedWith(runToEnd({"--kubeconfig=" + controlPlane().kubeconfig,
                             "--health-probe-bind-address=" + address}),
                   "--health-probe-bind-address " + address + ":");
}

TEST_F(StartupTest, FlagOutOfRangeExits) {
  expectFailedWith(runToEnd({"--kubeconfig=" + controlPlane().kubeconfig, "--workers=0"}),
                   "--workers: must be at least 1");
}

// Not fatal: an API server that does not answer is asked again until SIGTERM, which
// ends the run cleanly (status 0).
TEST_F(StartupTest, UnreachableApiServerIsRetriedAndSigtermStillEndsIt) {
  SaguardProcess saguard({.serviceAccountDir = account_.path(),
                          .log = dir_ + "/unreachable.log",
                          .apiServerUrl = "https://127.0.0.1:" + std::to_string(closedPort())});
  // The second attempt comes 1 s after the first.
  EXPECT_TRUE(eventually(15'000, [&] {
    return saguard.count("did not answer who saguard is") >= 2;
  })) << saguard.log();
  EXPECT_TRUE(saguard.running());
  std::optional<int> status = saguard.stop(SIGTERM);
  EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << describeStatus(status) << "\n"
      << saguard.log();
  EXPECT_TRUE(saguard.logs("received SIGTERM, shutting down")) << saguard.log();
}

}  // namespace
}  // namespace saguard::testing
