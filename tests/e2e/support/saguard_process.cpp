#include "e2e/support/saguard_process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <sstream>
#include <string_view>
#include <thread>

#include "integration/support/controlplane_env.h"
#include "integration/support/helpers.h"

extern char** environ;

namespace saguard::testing {

SaguardProcess::SaguardProcess(SaguardOptions options) : log_(std::move(options.log)) {
  const std::string url =
      options.apiServerUrl.empty() ? controlPlane().apiServerUrl : options.apiServerUrl;
  const char* other = std::getenv("SAGUARD_E2E_BINARY");
  std::vector<std::string> args = {other != nullptr && *other != '\0' ? other : SAGUARD_BINARY,
                                   "run", "--metrics-bind-address=127.0.0.1:0",
                                   "--health-probe-bind-address=127.0.0.1:0", "--log-level=debug"};
  args.insert(args.end(), options.flags.begin(), options.flags.end());

  // The test's environment, without what would point saguard elsewhere than in-cluster
  // configuration does.
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
  env.push_back("KUBERNETES_SERVICE_PORT=" + url.substr(url.rfind(':') + 1));
  env.push_back("SAGUARD_SERVICEACCOUNT_DIR=" + options.serviceAccountDir);
  env.insert(env.end(), options.env.begin(), options.env.end());

  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  // Standard input from /dev/null; output and errors to the log.
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&files, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&files, 1, 2);
  pid_t pid = -1;
  const int error = posix_spawn(&pid, argv[0], &files, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&files);
  if (error != 0) {
    ADD_FAILURE() << "cannot start " << argv[0] << " (log " << log_
                  << "): " << std::strerror(error);
    return;
  }
  pid_ = pid;
}

SaguardProcess::~SaguardProcess() {
  if (running()) {
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGKILL);
    wait(std::chrono::seconds(10));
  }
  if (!::testing::Test::HasFailure()) std::remove(log_.c_str());
}

std::string SaguardProcess::log() const {
  return readFile(log_);
}

bool SaguardProcess::logs(const std::string& needle) const {
  return log().find(needle) != std::string::npos;
}

std::size_t SaguardProcess::count(const std::string& needle) const {
  return static_cast<std::size_t>(countOf(log(), needle));
}

std::vector<std::string> SaguardProcess::lines(const std::string& needle) const {
  std::vector<std::string> out;
  std::istringstream in(log());
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(needle) != std::string::npos) out.push_back(line);
  }
  return out;
}

int SaguardProcess::port(const std::string& what) const {
  std::smatch m;
  std::string text = log();
  std::regex re("serving " + what + " on port ([0-9]+)");
  return std::regex_search(text, m, re) ? std::stoi(m[1]) : 0;
}

int SaguardProcess::probe(const std::string& path) const {
  int p = port("/healthz and /readyz");
  if (p == 0) return 0;
  auto r =
      run("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:" + std::to_string(p) + path);
  return std::atoi(r.out.c_str());
}

bool SaguardProcess::running() {
  if (pid_ <= 0 || status_) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) status_ = status;
  return !status_;
}

void SaguardProcess::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

std::optional<int> SaguardProcess::wait(std::chrono::milliseconds timeout) {
  if (status_ || pid_ <= 0) return status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      status_ = status;
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::optional<int> SaguardProcess::stop(int sig, std::chrono::milliseconds timeout) {
  signal(sig);
  return wait(timeout);
}

std::string httpGet(int port, const std::string& path, int* code) {
  auto r = run("curl -s -w '\\n%{http_code}' http://127.0.0.1:" + std::to_string(port) + path);
  auto nl = r.out.rfind('\n');
  if (code != nullptr) *code = nl == std::string::npos ? 0 : std::atoi(r.out.c_str() + nl + 1);
  return nl == std::string::npos ? r.out : r.out.substr(0, nl);
}

std::string describeStatus(std::optional<int> status) {
  if (!status) return "still running";
  if (WIFEXITED(*status)) return "exit " + std::to_string(WEXITSTATUS(*status));
  if (WIFSIGNALED(*status)) return "killed by signal " + std::to_string(WTERMSIG(*status));
  return "status " + std::to_string(*status);
}

}  // namespace saguard::testing
