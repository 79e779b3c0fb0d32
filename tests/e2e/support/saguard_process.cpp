#include "e2e/support/saguard_process.h"

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <regex>
#include <thread>

#include "integration/support/controlplane_env.h"

namespace saguard::testing {

SaguardProcess::SaguardProcess(const std::string& saDir, const std::string& log, const std::string& flags,
                               const std::string& apiServerUrl, const std::string& env)
    : log_(log) {
  const std::string url = apiServerUrl.empty() ? controlPlane().apiServerUrl : apiServerUrl;
  std::string port = url.substr(url.rfind(':') + 1);
  // SAGUARD_E2E_BINARY runs another build (say, before a fix) under the same tests.
  const char* other = std::getenv("SAGUARD_E2E_BINARY");
  const std::string binary = other != nullptr && *other != '\0' ? other : SAGUARD_BINARY;
  auto r = run(env + " KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=" + port +
               " SAGUARD_SERVICEACCOUNT_DIR=" + saDir + " " + binary +
               " run --metrics-bind-address=127.0.0.1:0 --health-probe-bind-address=127.0.0.1:0 --log-level=debug " +
               flags + " >" + log + " 2>&1 & echo $!");
  pid_ = std::stoi(r.out);
}

SaguardProcess::~SaguardProcess() { stop(SIGKILL); }

std::string SaguardProcess::log() const {
  std::ifstream in(log_);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int SaguardProcess::port(const std::string& what) const {
  std::smatch m;
  std::string text = log();
  std::regex re("serving " + what + " on port ([0-9]+)");
  return std::regex_search(text, m, re) ? std::stoi(m[1]) : 0;
}

void SaguardProcess::stop(int signal) {
  if (pid_ <= 0) return;
  kill(pid_, signal);
  for (int i = 0; i < 300; ++i) {
    if (kill(pid_, 0) != 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  pid_ = 0;
}

bool SaguardProcess::alive() const { return pid_ > 0 && kill(pid_, 0) == 0; }

}  // namespace saguard::testing
