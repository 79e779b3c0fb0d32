// The built saguard binary as a child process of the test, configured in-cluster style:
// SAGUARD_SERVICEACCOUNT_DIR names the folder with the token, ca.crt and namespace files
// (ServiceAccountDir), and KUBERNETES_SERVICE_HOST/PORT point at a local control plane.
// Its standard output and error go to a log file that tests read: the ports it serves on,
// "patched ..." lines, and one line per request at the default --log-level=debug.
//
// The process is spawned directly (posix_spawn, no shell), so the test reaps it and
// stop() and wait() return its real wait status (WIFEXITED, WEXITSTATUS, ...).
//
//   ServiceAccountDir account(token, controlPlane().caFile);
//   SaguardProcess saguard({.serviceAccountDir = account.path(), .log = dir + "/run.log",
//                           .flags = {"--leader-elect"}});
//   ASSERT_TRUE(eventually(60'000, [&] { return saguard.ready() || !saguard.running(); }));
//   auto status = saguard.stop(SIGTERM);   // nullopt: still running after the timeout
//   EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
//       << describeStatus(status);
//
// Not thread-safe: one test thread drives a process.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>  // WIFEXITED and friends, for the statuses below

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace saguard::testing {

struct SaguardOptions {
  // SAGUARD_SERVICEACCOUNT_DIR: the token, ca.crt and namespace files. Required.
  std::string serviceAccountDir;
  // Where standard output and error go (truncated at start). Required.
  std::string log;
  // Command-line flags after `run` and the defaults (--metrics-bind-address=127.0.0.1:0
  // --health-probe-bind-address=127.0.0.1:0 --log-level=debug), so they override them.
  std::vector<std::string> flags = {};
  // The API server: empty means controlPlane()'s. Only its port is used (the host is
  // 127.0.0.1, as KUBERNETES_SERVICE_HOST).
  std::string apiServerUrl = "";
  // Extra environment ("POD_NAME=x"), after the test's own environment minus KUBECONFIG,
  // KUBERNETES_SERVICE_* and SAGUARD_SERVICEACCOUNT_DIR.
  std::vector<std::string> env = {};
};

class SaguardProcess {
 public:
  // Starts `saguard run`: the build's binary, or $SAGUARD_E2E_BINARY when set (to run
  // another build, say one before a fix, under the same tests). A spawn failure is a
  // test failure (ADD_FAILURE) and leaves a process that is not running.
  explicit SaguardProcess(SaguardOptions options);
  // Kills the process if it still runs (SIGCONT then SIGKILL: a stopped process too) and
  // reaps it. Removes the log unless the current test has failed.
  ~SaguardProcess();
  SaguardProcess(const SaguardProcess&) = delete;
  SaguardProcess& operator=(const SaguardProcess&) = delete;

  pid_t pid() const { return pid_; }

  // The log so far, and queries on it.
  std::string log() const;
  bool logs(const std::string& needle) const;
  std::size_t count(const std::string& needle) const;
  std::vector<std::string> lines(const std::string& needle) const;  // the lines with `needle`
  // The port a server reported ("serving /metrics on port N"), 0 until then.
  int port(const std::string& what) const;

  // HTTP status of GET `path` on the health-probe port (0 when it does not answer yet).
  int probe(const std::string& path) const;
  bool ready() const { return probe("/readyz") == 200; }

  // Whether the process runs; reaps it when it has exited.
  bool running();
  // Sends `sig` if the process runs.
  void signal(int sig);
  // Waits up to `timeout` for the process to exit: its wait status, or nullopt when it
  // still runs (or never started).
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // signal() then wait().
  std::optional<int> stop(int sig, std::chrono::milliseconds timeout = std::chrono::seconds(20));

 private:
  std::string log_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// "exit 0", "killed by signal 9", "still running": for failure messages.
std::string describeStatus(std::optional<int> status);

// GET http://127.0.0.1:`port``path` (a port() of the process): the body; `code`, when
// given, gets the HTTP status (0 when nothing answered).
std::string httpGet(int port, const std::string& path, int* code = nullptr);

}  // namespace saguard::testing
