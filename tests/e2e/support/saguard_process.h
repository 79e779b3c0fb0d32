// The built saguard binary as a background process, configured in-cluster style: the
// token, CA and namespace files of SAGUARD_SERVICEACCOUNT_DIR and
// KUBERNETES_SERVICE_HOST/PORT pointing at a local control plane. Its standard output
// and error go to a log file that tests read (ports, "patched ..." lines, request lines
// at --log-level=debug).
#pragma once

#include <string>

namespace saguard::testing {

class SaguardProcess {
 public:
  // `apiServerUrl` empty: the control plane of controlPlane(). `env` is prepended to the
  // command line as is ("POD_NAME=x FOO=y"). The binary is the build's saguard, or
  // $SAGUARD_E2E_BINARY when set.
  SaguardProcess(const std::string& saDir, const std::string& log, const std::string& flags,
                 const std::string& apiServerUrl = "", const std::string& env = "");
  ~SaguardProcess();
  SaguardProcess(const SaguardProcess&) = delete;
  SaguardProcess& operator=(const SaguardProcess&) = delete;

  int pid() const { return pid_; }
  std::string log() const;
  // The port a server reported in the log ("serving /metrics on port N"), 0 until then.
  int port(const std::string& what) const;
  // Sends `signal` and waits (up to 15 s) for the process to exit. The exit status is not
  // available here (the shell that started it reaps it); tests read the log instead.
  void stop(int signal);
  bool alive() const;

 private:
  std::string log_;
  int pid_ = 0;
};

}  // namespace saguard::testing
